"""The ONNX operators whose result depends on the order of axes: Flatten, Reshape, Transpose,
Pad, Concat. They read ONNX's channels-first order (a tensor computed channels last is
permuted back first). Each a handler over the translation's State."""

from __future__ import annotations

import numpy as np

from ...ir.families.merges import Merge
from ...ir.families.pooling import Rearrange
from .state import State
from .values import Shape, Tensor, attributes


def flatten(s: State, node) -> None:
    axis = attributes(node).get("axis", 1)
    x = s.channels_first(s.tensor(node))
    if axis != 1:
        raise s.refused(node, f"flattens from axis {axis}; gate2xlsx keeps the batch axis")
    s.bind(node, _flat(s, node, x, (int(np.prod(s.shapes[x.name])),)))


def reshape(s: State, node) -> None:
    """To a constant shape that keeps the batch axis first (-1, 0, or the input's fixed batch
    size, as an export without dynamic axes writes it): a flatten or a reshape of each row;
    skl2onnx's regressor output reshape changes nothing the sheet shows."""
    x, target = s.channels_first(s.tensor(node)), s.const(node, 1)
    size = int(np.prod(s.shapes[x.name]))
    dims = [int(d) for d in target.reshape(-1)] if target is not None else []
    rest = dims[1:]
    if rest.count(-1) == 1 and all(d > 0 for d in rest if d != -1):
        rest[rest.index(-1)] = size // max(int(np.prod([d for d in rest if d != -1])), 1)
    batch = dims[:1] in ([-1], [0]) or (dims[:1] == [s.batch] and s.batch is not None)
    if batch and rest and min(rest) > 0 and int(np.prod(rest)) == size:
        return s.bind(node, _flat(s, node, x, tuple(rest)))
    if dims in ([-1], [-1, 1]) and node.output[0] in s.outputs:
        # skl2onnx's regressor output: each row's values, one after another (a single target
        # keeps its shape; several come out one per row): the sheet shows each input row's
        # values in a row, as predict returns them
        return s.bind(node, x)
    raise s.refused(node, f"to {dims or 'a computed shape'} does not keep the batch axis of "
                          f"shape {list(s.shapes[x.name])}")  # fmt: skip


def _flat(s: State, node, x: Tensor, shape: Shape) -> Tensor:
    if s.shapes[x.name] == shape:
        return x
    op = "flatten" if len(shape) == 1 else "reshape"
    return s.add(Rearrange(s.layer_name(node), node.op_type, op=op,
                           arg=() if op == "flatten" else shape), [x])  # fmt: skip


def transpose(s: State, node) -> None:
    x = s.channels_first(s.tensor(node))
    perm = [int(p) for p in attributes(node).get("perm", [])]
    if perm[:1] != [0] or sorted(perm) != list(range(s.rank(x) + 1)):
        raise s.refused(node, "moves the batch axis")
    layer = Rearrange(s.layer_name(node), "Transpose", op="permute", arg=tuple(perm[1:]))
    s.bind(node, s.add(layer, [x]))


def pad(s: State, node) -> None:
    """Zero padding of the spatial axes (torch's ZeroPad2d, F.pad; our writer's ZeroPadding):
    a Rearrange pad, which pads every axis but the last."""
    found = attributes(node)
    x, pads, value, axes = s.tensor(node), s.const(node, 1), s.const(node, 2), s.const(node, 3)
    mode = found.get("mode", b"constant")
    rank = s.rank(x)
    nonzero = value is not None and value.size and float(value.reshape(-1)[0]) != 0.0
    if pads is None or mode not in (b"constant", "constant") or axes is not None or nonzero:
        raise s.refused(node, "must pad with zeros by constant amounts")
    pads = [int(p) for p in pads.reshape(-1)]
    pairs = list(zip(pads[1 : rank + 1], pads[rank + 2 :]))  # without the batch axis
    if pads[0] or pads[rank + 1] or min(pads) < 0:
        raise s.refused(node, "pads the batch axis or crops")
    if x.channels_last:  # ONNX's (C, H, W) pads as the IR's (H, W, C)
        pairs = pairs[1:] + pairs[:1]
    elif pairs[-1] != (0, 0) and rank > 1:
        x = s.channels_last(x, node)
        pairs = pairs[1:] + pairs[:1]
    if pairs[-1] != (0, 0) or rank < 2:
        raise s.refused(node, "pads the channels")
    layer = Rearrange(s.layer_name(node), "Pad", op="pad", arg=tuple(pairs[:-1]))
    s.bind(node, s.add(layer, [x], x.channels_last))


def concat(s: State, node) -> None:
    """Along an axis but the batch; maps computed channels last join there on the channels."""
    reads = [s.tensor(node, k) for k in range(len(node.input))]
    rank = s.rank(reads[0])
    axis = attributes(node).get("axis", 1)
    axis = axis + rank + 1 if axis < 0 else axis
    if any(t.channels_last for t in reads) and axis == 1 and rank > 1:
        reads = [s.channels_last(t, node) for t in reads]
        ours, last = -1, True
    else:
        reads = [s.channels_first(t) for t in reads]
        ours, last = axis - 1, False
    if ours == rank - 1:
        ours = -1
    if axis == 0:
        raise s.refused(node, "joins along the batch")
    layer = Merge(s.layer_name(node), "Concat", op="concatenate", axis=ours)
    s.bind(node, s.add(layer, reads, last))
