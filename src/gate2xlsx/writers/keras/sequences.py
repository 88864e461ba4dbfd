"""Embedding, SimpleRNN, GRU, LSTM and Bidirectional as Keras layers: configs both Kerases read
and the weights packed back as Keras stores them. A weight's key may name the sub-layer that
holds it (`cell/kernel`, `forward_layer/cell/kernel`): Keras 3's weights file nests them so."""

from __future__ import annotations

from typing import Any

from ...errors import UnsupportedModelError
from ...ir.families.embeddings import Embedding
from ...ir.families.recurrent import Bidirectional, Recurrent
from ...ir.layer import Act, Layer
from .layers import KerasLayer, portable

CLASSES = {"simple": "SimpleRNN", "gru": "GRU", "lstm": "LSTM"}
HARD_SIGMOID_SLOPE = {False: 0.2, True: 1 / 6}  # tf.keras's, Keras 3's


def sequence_layer(layer: Layer, keras3: bool) -> list[KerasLayer] | None:
    if isinstance(layer, Embedding):
        vocabulary, width = layer.embeddings.values.shape
        config = {"input_dim": int(vocabulary), "output_dim": int(width),
                  "mask_zero": layer.mask_zero}  # fmt: skip
        return [KerasLayer("Embedding", layer.name, config,
                           [("embeddings", layer.embeddings.values)])]  # fmt: skip
    if isinstance(layer, Recurrent):
        config = _config(layer, keras3)
        return [KerasLayer(CLASSES[layer.cell], layer.name, config, _weights(layer, "cell/"))]
    if isinstance(layer, Bidirectional):
        inner = layer.forward_layer
        config = {"name": inner.name, "trainable": True, "dtype": "float32",
                  **_config(inner, keras3)}  # fmt: skip
        # tf.keras 2.15 names the module too; Keras 3 finds the wrapped class by it
        wrapped = {"module": "keras.layers", "class_name": CLASSES[inner.cell], "config": config,
                   "registered_name": None}  # fmt: skip
        weights = [w for side in ("forward", "backward")
                   for w in _weights(layer.sides()[side], f"{side}_layer/cell/")]  # fmt: skip
        config = {"layer": wrapped, "merge_mode": layer.merge_mode}
        return [KerasLayer("Bidirectional", layer.name, config, weights)]
    return None


def _config(layer: Recurrent, keras3: bool) -> dict[str, Any]:
    config: dict[str, Any] = {
        "units": layer.size,
        "activation": _activation(layer, layer.activation, keras3),
        "use_bias": layer.param("bias", layer.gates[0]) is not None,
        "return_sequences": layer.return_sequences,
        "return_state": layer.return_state,
        "go_backwards": layer.go_backwards,
        "stateful": False,
        "unroll": False,
    }
    if layer.cell != "simple":
        config["recurrent_activation"] = _activation(layer, layer.recurrent_activation, keras3)
    if layer.cell == "gru":
        config["reset_after"] = layer.reset_after
    return config


def _activation(layer: Recurrent, act: Act, keras3: bool) -> str:
    if act.name == "hard_sigmoid":
        slope = act.kwargs.get("slope", 0.2)
        if abs(slope - HARD_SIGMOID_SLOPE[keras3]) < 1e-12:
            return "hard_sigmoid"
    elif portable(act):
        return act.name
    raise UnsupportedModelError(
        f"layer {layer.name!r} ({layer.class_name}): activation {act.name}{act.kwargs or ''} "
        f"has no name in {'Keras 3' if keras3 else 'tf.keras'}"
    )


def _weights(layer: Recurrent, prefix: str) -> list[tuple[str, Any]]:
    return [(prefix + key, values) for key, values in layer.packed()]
