"""The ONNX convolutions and poolings: Conv, MaxPool, AveragePool, GlobalAveragePool,
GlobalMaxPool (and ReduceMean over the spatial axes). They compute channels last (the IR's
maps), so each permutes ONNX's channels-first tensor first. Each a handler over the
translation's State."""

from __future__ import annotations

import numpy as np

from ...formats.onnx_operators import GLOBAL_POOLS, POOLS
from ...ir.families.convolution import Conv, geometry
from ...ir.families.pooling import GlobalPool, Pool, Rearrange
from ...ir.layer import Param
from .state import State
from .values import Shape, Tensor, attributes, pair


def conv(s: State, node) -> None:
    """Group 1 or depthwise, the kernel constant; explicit pads a Rearrange before it."""
    found = attributes(node)
    x = s.channels_last(s.tensor(node), node)
    w, b = s.const(node, 1), s.const(node, 2)
    if w is None:
        raise s.refused(node, "reads a computed kernel")
    rank = w.ndim - 2
    cin = s.shapes[x.name][-1]
    group = int(found.get("group", 1))
    depthwise = group > 1
    if depthwise and not (group == cin and w.shape[1] == 1):
        raise s.refused(node, f"has group {group}; gate2xlsx computes group 1 and depthwise "
                              "(group = input channels)")  # fmt: skip
    # (cout, cin/group, k...) -> (k..., cin, cout); depthwise: (k..., cin, multiplier)
    kernel = np.moveaxis(w, (0, 1), (-1, -2))
    if depthwise:
        kernel = np.moveaxis(w.reshape(cin, -1, *w.shape[2:]), (0, 1), (-2, -1))
    x = _padded(s, node, x, found, kernel.shape[:rank])
    strides = tuple(found.get("strides", [1] * rank))
    dilation = tuple(found.get("dilations", [1] * rank))
    note = " (stored out x in x kh x kw; shown as grids)"
    bias = Param(b, node.input[2]) if b is not None else None
    layer = Conv(s.layer_name(node), "Conv", kernel=Param(kernel, node.input[1] + note),
                 bias=bias, strides=pair(strides), dilation=pair(dilation),
                 depthwise=depthwise)  # fmt: skip
    s.bind(node, s.add(layer, [x], True))


def _padded(s: State, node, x: Tensor, found: dict, kernel: Shape) -> Tensor:
    """Explicit zero padding, as its own Rearrange (the convolution then pads nothing)."""
    if found.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET", b"VALID", "VALID"):
        raise s.refused(node, f"uses auto_pad {found['auto_pad']}; gate2xlsx reads explicit "
                              "pads")  # fmt: skip
    pads = list(found.get("pads", [0] * 2 * len(kernel)))
    if not any(pads):
        return x
    rank = len(kernel)
    pairs = tuple((int(pads[i]), int(pads[i + rank])) for i in range(rank))
    layer = Rearrange(s.claim(f"{node.name or 'conv'}_pad"), "Pad", op="pad", arg=pairs)
    return s.add(layer, [x], True)


def pool(s: State, node) -> None:
    """MaxPool, AveragePool: unpadded windows, or padded exactly as Keras's 'same'."""
    found = attributes(node)
    if node.op_type == "MaxPool" and len(node.output) > 1 and node.output[1]:
        raise s.refused(node, "returns indices")
    x = s.channels_last(s.tensor(node), node)
    kernel = tuple(found.get("kernel_shape", []))
    rank = len(kernel)
    strides = tuple(found.get("strides", [1] * rank))
    padding = _pool_padding(s, x, found, kernel, strides)
    problems = [
        what for what, bad in (
            ("padding other than Keras's 'same'", padding is None),
            ("ceil_mode", found.get("ceil_mode", 0)),
            ("dilations", any(d != 1 for d in found.get("dilations", [1]))),
            ("auto_pad", found.get("auto_pad", b"NOTSET") not in (b"NOTSET", b"VALID")),
            ("count_include_pad", padding == "same" and found.get("count_include_pad", 0)),
        ) if bad
    ]  # fmt: skip
    if problems:
        raise s.refused(node, f"uses {', '.join(problems)}; gate2xlsx pools unpadded windows, "
                              "or padded as Keras's 'same'")  # fmt: skip
    layer = Pool(s.layer_name(node), node.op_type, op=POOLS[node.op_type], pool=pair(kernel),
                 strides=pair(strides), padding=padding, rank=rank)  # fmt: skip
    s.bind(node, s.add(layer, [x], True))


def _pool_padding(s: State, x: Tensor, found: dict, kernel: Shape, strides: Shape) -> str | None:
    """ "valid" without pads, "same" when the pads are exactly Keras's same geometry (the
    pooled cells are then the same), else None."""
    pads = [int(p) for p in found.get("pads", [])]
    if not any(pads):
        return "valid"
    rank, sizes = len(kernel), s.shapes[x.name][:-1]
    for axis, (n, k, st) in enumerate(zip(sizes, kernel, strides)):
        out, before = geometry(n, k, st, 1, "same")
        after = max((out - 1) * st + k - n, 0) - before
        if (pads[axis], pads[axis + rank]) != (before, after):
            return None
    return "same"


def global_pool(s: State, node) -> None:
    _global(s, node, GLOBAL_POOLS[node.op_type])


def _global(s: State, node, op: str) -> None:
    x = s.channels_last(s.tensor(node), node)
    layer = GlobalPool(s.layer_name(node), node.op_type, op=op, keepdims=True)
    s.bind(node, s.add(layer, [x], True))


def reduce_mean(s: State, node) -> None:
    """Over all the spatial axes, kept: a global average pool."""
    found = attributes(node)
    x = s.tensor(node)
    axes = found.get("axes")
    if axes is None and s.const(node, 1) is not None:
        axes = [int(a) for a in s.const(node, 1).reshape(-1)]
    rank = s.rank(x) + 1
    axes = sorted(a + rank if a < 0 else a for a in (axes or []))
    if axes != list(range(2, rank)) or not found.get("keepdims", 1) or rank < 3:
        raise s.refused(node, f"averages axes {axes}; gate2xlsx averages over all spatial axes "
                              "(a global average pool)")  # fmt: skip
    _global(s, node, "average")
