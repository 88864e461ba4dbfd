"""The Model's layers as Keras layer classes, configs and weight lists: what both Keras
writers (legacy HDF5 and the Keras 3 archive) put in their files. Refuses, by layer, what
no Keras class can say."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import UnsupportedModelError
from ...ir import activations
from ...ir.families.dense import Activation, Dense, Identity, PReLU
from ...ir.families.normalization import BatchNorm, Rescaling
from ...ir.layer import Act, Layer
from ...ir.model import Chain, Model

# Activation strings both tf.keras 2.15 and Keras 3 resolve (parameter-free forms only).
PORTABLE_ACTIVATIONS = {
    "linear",
    "relu",
    "sigmoid",
    "tanh",
    "softmax",
    "elu",
    "selu",
    "softplus",
    "softsign",
    "exponential",
    "silu",
    "gelu",
    "mish",
    "log_softmax",
}
# Activations a Keras layer class expresses (LeakyReLU, ReLU, ELU, ThresholdedReLU).
LAYER_ACTIVATIONS = {"leaky_relu", "relu6", "relu", "elu", "thresholded_relu"}
_KERAS_NAMES = {"silu": "swish"}  # tf.keras 2.15 knows "swish"; Keras 3 accepts both


@dataclass
class KerasLayer:
    """One Keras layer to write: class, config (without name, dtype, input shape), weights in
    order."""

    class_name: str
    name: str
    config: dict[str, Any]
    weights: list[tuple[str, np.ndarray]] = field(default_factory=list)


def keras_layers(chain: Chain) -> list[KerasLayer]:
    """A chain's layers as Keras layer classes and configs; refuses what Keras cannot say."""
    return [out for layer in chain.layers for out in _keras_layer(layer)]


def layer_as_keras(layer: Layer) -> list[KerasLayer]:
    """One vector layer (the dense and normalization families) as the Keras layers that
    compute it (one, or two for an activation no Keras string names)."""
    return _keras_layer(layer)


def portable(act: Any) -> bool:
    """Whether a Keras activation string says `act` (with its parameters) in both Kerases."""
    return act.name in PORTABLE_ACTIVATIONS and _default_params(act)


def activation_string(layer: Layer, act: Any) -> str:
    return _activation_string(layer, act)


def activation_layer(layer: Activation) -> KerasLayer:
    return _activation_layer(layer)


def _keras_layer(layer: Layer) -> list[KerasLayer]:
    if isinstance(layer, Dense):
        return _dense(layer)
    single = _single_layer(layer)
    return [] if single is None else [single]


def _dense(layer: Dense) -> list[KerasLayer]:
    """A Dense layer; an activation no Keras string names (leaky_relu, relu6) follows as its own
    layer."""
    act, after = layer.activation, []
    if not (act.name in PORTABLE_ACTIVATIONS and _default_params(act)):
        if act.name not in LAYER_ACTIVATIONS:
            raise _unsupported(layer, f"activation {act.name}{act.kwargs or ''}")
        follow = _activation_layer(Activation(f"{layer.name}_activation", "Activation", act))
        after, act = [follow], Act("linear")
    weights = [(k, p.values) for k, p in layer.weights().items()]
    return [
        KerasLayer(
            "Dense",
            layer.name,
            {
                "units": int(layer.kernel.values.shape[1]),
                "activation": _activation_string(layer, act),
                "use_bias": layer.bias is not None,
                **_DENSE_DEFAULTS,
            },
            weights,
        ),
        *after,
    ]


def _single_layer(layer: Layer) -> KerasLayer | None:
    if isinstance(layer, Activation):
        return _activation_layer(layer)
    if isinstance(layer, BatchNorm):
        cfg = {
            "axis": -1,
            "momentum": 0.99,
            "epsilon": float(layer.epsilon),
            "center": layer.beta is not None,
            "scale": layer.gamma is not None,
        }
        return KerasLayer(
            "BatchNormalization",
            layer.name,
            cfg,
            [(k, p.values) for k, p in layer.weights().items()],
        )
    if isinstance(layer, PReLU):
        return KerasLayer(
            "PReLU", layer.name, {"shared_axes": None}, [("alpha", layer.alpha.values.reshape(-1))]
        )
    if isinstance(layer, Rescaling):
        return KerasLayer("Rescaling", layer.name, {"scale": layer.scale, "offset": layer.offset})
    if isinstance(layer, Identity):
        if layer.class_name == "InputLayer":
            return None
        if layer.class_name == "Flatten":
            return KerasLayer("Flatten", layer.name, {"data_format": "channels_last"})
        return KerasLayer("Dropout", layer.name, {"rate": 0.0, "noise_shape": None, "seed": None})
    raise _unsupported(layer, "its kind")


_DENSE_DEFAULTS: dict[str, Any] = {
    "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
    "bias_initializer": {"class_name": "Zeros", "config": {}},
    "kernel_regularizer": None,
    "bias_regularizer": None,
    "activity_regularizer": None,
    "kernel_constraint": None,
    "bias_constraint": None,
}


def _activation_string(layer: Layer, act: Any) -> str:
    if act.name in PORTABLE_ACTIVATIONS and _default_params(act):
        return _KERAS_NAMES.get(act.name, act.name)
    raise _unsupported(layer, f"activation {act.name}{act.kwargs or ''}")


def _default_params(act: Any) -> bool:
    defaults = activations.get(act.name).defaults
    return all(defaults.get(k) == v for k, v in act.kwargs.items())


def _activation_layer(layer: Activation) -> KerasLayer:
    act, kw = layer.activation, layer.activation.kwargs
    if act.name == "leaky_relu":
        return KerasLayer("LeakyReLU", layer.name, {"alpha": float(kw.get("alpha", 0.3))})
    if act.name == "thresholded_relu":
        return KerasLayer("ThresholdedReLU", layer.name, {"theta": float(kw.get("theta", 1.0))})
    if act.name == "elu" and not _default_params(act):
        return KerasLayer("ELU", layer.name, {"alpha": float(kw["alpha"])})
    if act.name == "relu6":
        return KerasLayer(
            "ReLU", layer.name, {"max_value": 6.0, "negative_slope": 0.0, "threshold": 0.0}
        )
    if act.name == "relu" and not _default_params(act):
        return KerasLayer(
            "ReLU",
            layer.name,
            {
                "max_value": kw.get("max_value"),
                "negative_slope": float(kw.get("negative_slope") or 0.0),
                "threshold": float(kw.get("threshold") or 0.0),
            },
        )
    return KerasLayer("Activation", layer.name, {"activation": _activation_string(layer, act)})


def _unsupported(layer: Layer, what: str) -> UnsupportedModelError:
    return UnsupportedModelError(
        f"layer {layer.name!r} ({layer.class_name or type(layer).__name__}): {what} cannot be "
        "saved "
        "as a Keras file; supported: Dense, Activation, LeakyReLU, ReLU, ELU, ThresholdedReLU, "
        f"BatchNormalization, PReLU, Rescaling, Dropout, Flatten with activations "
        f"{', '.join(sorted(PORTABLE_ACTIVATIONS))}"
    )


def model_name(model: Model) -> str:
    """The model's name as Keras accepts it (letters, digits, underscores)."""
    return "".join(c if c.isalnum() or c == "_" else "_" for c in model.name) or "sequential"


def unique(name: str, layers: list[KerasLayer]) -> str:
    """`name`, lengthened until no layer has it (for the InputLayer Keras adds)."""
    taken = {layer.name for layer in layers}
    while name in taken:
        name += "_"
    return name
