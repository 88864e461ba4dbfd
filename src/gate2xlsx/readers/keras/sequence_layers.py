"""Embedding, SimpleRNN, GRU, LSTM, Bidirectional and TimeDistributed configs and their stored
weights -> the recurrent and embedding families' layers (or a vector layer, for what
TimeDistributed wraps). Every setting that would change what the layer computes and that
gate2xlsx does not compute is refused by name.
"""

from __future__ import annotations

from pathlib import Path

from ...errors import InputError, UnsupportedModelError
from ...ir.families.dense import Activation, Dense, Identity
from ...ir.families.embeddings import Embedding
from ...ir.families.pooling import GlobalPool
from ...ir.families.recurrent import (
    CLASS_CELLS,
    GATES,
    MERGE_MODES,
    Bidirectional,
    Recurrent,
    split_gates,
)
from ...ir.layer import Layer, Param
from .config import SEQUENCE_CLASSES, LayerSpec, RawWeight
from .layers import activation_of, build_layer, weights_for

__all__ = ["SEQUENCE_CLASSES", "masked_reads", "sequence_layer"]
# What TimeDistributed may wrap: layers on the last axis, the same at every step.
STEPWISE_CLASSES = {"Dense", "Activation", "Dropout", "BatchNormalization", "LeakyReLU", "ReLU",
                    "ELU", "Softmax", "PReLU"}  # fmt: skip


def sequence_layer(spec: LayerSpec, raw: list[RawWeight], shapes: list[tuple],
                   keras_version: str, path: Path) -> Layer:  # fmt: skip
    """The layer from its config and weights; `shapes`: what it reads (a recurrent layer: the
    sequence, then its initial states)."""
    cls, shape = spec.class_name, shapes[0]
    if cls == "Embedding":
        return _embedding(spec, raw, shape, path)
    if cls in CLASS_CELLS:
        return _recurrent(spec, raw, shape, keras_version, path, states=shapes[1:])
    inner = _inner(spec, "layer", path)
    if cls == "TimeDistributed":
        if inner.class_name not in STEPWISE_CLASSES or len(shape) < 2:
            raise UnsupportedModelError(
                f"layer {spec.name!r} (TimeDistributed) wraps {inner.class_name} on {shape}; "
                f"gate2xlsx computes TimeDistributed around {', '.join(sorted(STEPWISE_CLASSES))} "
                "on a sequence",
                path=path,
            )
        return build_layer(LayerSpec(inner.class_name, spec.name, inner.config, spec.owner),
                           raw, shape[-1], keras_version, path)  # fmt: skip
    return _bidirectional(spec, inner, raw, shapes, keras_version, path)


def _inner(spec: LayerSpec, key: str, path: Path) -> LayerSpec:
    entry = spec.config.get(key)
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        raise InputError(f"layer {spec.name!r} ({spec.class_name}) has no {key} config", path=path)
    return LayerSpec(str(entry.get("class_name")), spec.name, entry["config"], spec.owner)


def _embedding(spec: LayerSpec, raw: list, shape: tuple, path: Path) -> Embedding:
    cfg = spec.config
    if len(shape) != 1:
        raise UnsupportedModelError(
            f"layer {spec.name!r} (Embedding) reads shape {shape}; gate2xlsx looks up one "
            "sequence of token ids (t,)",
            path=path,
        )
    weights = weights_for(spec, raw, path)
    table = weights["embeddings"].values
    expected = (cfg.get("input_dim"), cfg.get("output_dim"))
    if table.ndim != 2 or None not in expected and table.shape != tuple(expected):
        raise InputError(
            f"layer {spec.name!r} (Embedding): embeddings of shape {table.shape} do not fit "
            f"input_dim {expected[0]} and output_dim {expected[1]}",
            path=path,
        )
    return Embedding(spec.name, "Embedding", embeddings=weights["embeddings"],
                     mask_zero=bool(cfg.get("mask_zero", False)))  # fmt: skip


_REFUSED = {  # setting -> why it changes the outputs
    "stateful": "the state carries over from one batch to the next",
    "time_major": "the time axis comes first",
}


def _recurrent(spec: LayerSpec, raw: list, shape: tuple, keras_version: str, path: Path,
               states: list[tuple] = ()) -> Recurrent:  # fmt: skip
    cls, cfg = spec.class_name, spec.config
    cell = CLASS_CELLS[cls]
    if len(shape) != 2:
        raise UnsupportedModelError(
            f"layer {spec.name!r} ({cls}) reads shape {shape}; it needs a sequence (t, c)",
            path=path,
        )
    for key, why in _REFUSED.items():
        if cfg.get(key):
            raise UnsupportedModelError(
                f"layer {spec.name!r} ({cls}) has {key}=True ({why}); gate2xlsx computes "
                "recurrent layers without it",
                path=path,
            )
    weights = weights_for(spec, raw, path)
    units = int(cfg.get("units") or weights["recurrent_kernel"].values.shape[0])
    bias = weights.get("bias")
    reset_after = bool(cfg.get("reset_after", bias is not None and bias.values.ndim == 2))
    _check_shapes(spec, weights, shape[-1], units, cell, reset_after, path)
    wanted = [(units,)] * (2 if cell == "lstm" else 1)
    if states and [tuple(s) for s in states] != wanted:
        raise UnsupportedModelError(
            f"layer {spec.name!r} ({cls}) starts from states of shapes {list(states)}; "
            f"its initial_state is {len(wanted)} vector(s) of {units}",
            path=path,
        )
    params = _split(weights, cell, reset_after)
    act = activation_of(cfg.get("activation", "tanh"), spec, keras_version, path)
    gate_act = activation_of(cfg.get("recurrent_activation", "sigmoid"), spec, keras_version,
                             path)  # fmt: skip
    return Recurrent(spec.name, cls, cell=cell, params=params, activation=act,
                     recurrent_activation=gate_act,
                     return_sequences=bool(cfg.get("return_sequences", False)),
                     go_backwards=bool(cfg.get("go_backwards", False)),
                     return_state=bool(cfg.get("return_state", False)),
                     zero_output_for_mask=bool(cfg.get("zero_output_for_mask", False)),
                     reset_after=reset_after)  # fmt: skip


def _check_shapes(spec: LayerSpec, weights: dict, channels: int, units: int, cell: str,
                  reset_after: bool, path: Path) -> None:  # fmt: skip
    width = len(GATES[cell]) * units
    wanted = {"kernel": (channels, width), "recurrent_kernel": (units, width),
              "bias": (2, width) if cell == "gru" and reset_after else (width,)}  # fmt: skip
    for key, param in weights.items():
        if param.values.shape != wanted[key]:
            raise InputError(
                f"layer {spec.name!r} ({spec.class_name}): {key} of shape {param.values.shape} "
                f"does not fit {units} units reading {channels} channels (expected "
                f"{wanted[key]})",
                path=path,
            )


def _split(weights: dict[str, Param], cell: str, reset_after: bool) -> dict[str, Param]:
    """Keras's packed weights -> one Param per gate (sequences.Recurrent's keys)."""
    parts: dict[str, Param] = {}
    for key, param in weights.items():
        if key == "bias" and param.values.ndim == 2:  # GRU reset_after: input, recurrent bias
            parts.update(_per_gate("recurrent_bias", param, cell, row=1))
            parts.update(_per_gate("bias", param, cell, row=0))
        else:
            parts.update(_per_gate(key, param, cell))
    return dict(sorted(parts.items(), key=lambda kv: _order(kv[0], cell)))


def _per_gate(key: str, param: Param, cell: str, row: int | None = None) -> dict[str, Param]:
    """One Param per gate, its path saying which columns of the stored array it is."""
    values = param.values if row is None else param.values[row]
    if cell == "simple" and row is None:
        return {key: param}
    gates = GATES[cell]
    units = values.shape[-1] // len(gates)
    lead = "" if row is None and values.ndim == 1 else f"{row if row is not None else ':'}, "
    return {
        (key if cell == "simple" else f"{key}_{g}"): Param(
            part, f"{param.path} [{lead}{k * units}:{(k + 1) * units}]", param.dtype)
        for k, (g, part) in enumerate(zip(gates, split_gates(values, cell)))
    }  # fmt: skip


def _order(key: str, cell: str) -> tuple[int, int]:
    """Gate by gate (Keras's order), each gate's kernel, recurrent kernel and biases."""
    base, _, gate = key.rpartition("_") if cell != "simple" else (key, "", "h")
    kinds = ("kernel", "recurrent_kernel", "bias", "recurrent_bias")
    return GATES[cell].index(gate or "h"), kinds.index(base)


def _bidirectional(spec: LayerSpec, inner: LayerSpec, raw: list, shapes: list[tuple],
                   keras_version: str, path: Path) -> Bidirectional:  # fmt: skip
    shape = shapes[0]
    mode = spec.config.get("merge_mode", "concat")
    if inner.config.get("return_state") or len(shapes) > 1:
        raise UnsupportedModelError(
            f"layer {spec.name!r} (Bidirectional) with return_state or an initial_state; "
            "gate2xlsx computes Bidirectional on its sequence alone",
            path=path,
        )
    if inner.class_name not in CLASS_CELLS or mode not in MERGE_MODES:
        raise UnsupportedModelError(
            f"layer {spec.name!r} (Bidirectional) wraps {inner.class_name} with merge_mode "
            f"{mode!r}; gate2xlsx computes it around SimpleRNN, GRU or LSTM with merge_mode "
            f"{', '.join(MERGE_MODES)}",
            path=path,
        )
    back = (_inner(spec, "backward_layer", path) if spec.config.get("backward_layer")
            else LayerSpec(inner.class_name, spec.name, {
                **inner.config, "go_backwards": not inner.config.get("go_backwards", False)},
                spec.owner))  # fmt: skip
    if len(raw) % 2:
        raise InputError(f"layer {spec.name!r} (Bidirectional) has an odd number of weights",
                         path=path)  # fmt: skip
    half = len(raw) // 2  # Keras stores the forward layer's weights, then the backward's
    sides = (("forward", inner, raw[:half]), ("backward", back, raw[half:]))
    layers = [_recurrent(LayerSpec(s.class_name, f"{spec.name}_{side}", s.config, spec.owner),
                         part, shape, keras_version, path)
              for side, s, part in sides]  # fmt: skip
    return Bidirectional(spec.name, "Bidirectional", forward_layer=layers[0],
                         backward_layer=layers[1], merge_mode=mode)  # fmt: skip


def masked_reads(layer: Layer, reads: list[str], masks: dict[str, str], path: Path) -> list[str]:
    """Keras's masks, made explicit: an Embedding with mask_zero masks its output with its
    token ids (`masks`: tensor -> the ids tensor); a recurrent layer or an average pooling
    reading a masked sequence computes with the mask (its last read becomes the ids); layers
    on the last axis pass it on; anything else reading it is refused by name."""
    if isinstance(layer, Embedding):
        if layer.mask_zero:
            masks[layer.name] = reads[0]
        return reads
    ids = masks.get(reads[0])
    if ids is None:
        return reads
    if isinstance(layer, (Recurrent, Bidirectional)):
        sides = [layer] if isinstance(layer, Recurrent) else list(layer.sides().values())
        for inner in sides:
            inner.masked = True
            if isinstance(layer, Bidirectional):  # Keras: the sides output zeros for padding
                inner.zero_output_for_mask = inner.return_sequences
        if sides[0].return_sequences:
            masks[layer.name] = ids
        return [*reads, ids]
    if isinstance(layer, GlobalPool) and layer.op == "average":
        layer.masked = True
        return [*reads, ids]
    if isinstance(layer, (Identity, Dense, Activation)):
        masks[layer.name] = ids
        return reads
    raise UnsupportedModelError(
        f"layer {layer.name!r} ({layer.class_name}) reads a sequence masked by an Embedding "
        "with mask_zero=True; gate2xlsx computes the mask in SimpleRNN, GRU, LSTM, "
        "Bidirectional and GlobalAveragePooling1D (and passes it through Dense, Activation "
        "and Dropout)",
        path=path,
    )
