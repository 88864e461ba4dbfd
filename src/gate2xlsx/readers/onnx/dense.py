"""The ONNX operators of the dense family: Gemm and MatMul -> Dense, the activation operators
(formats.onnx_operators' table) and Clip -> Activation, PRelu, BatchNormalization. Each a
handler over the translation's State."""

from __future__ import annotations

import math

import numpy as np

from ...formats.onnx_operators import ACTIVATIONS
from ...ir.families.dense import Activation, Dense, PReLU
from ...ir.families.normalization import BatchNorm
from ...ir.layer import Act, Param
from .state import State
from .values import Tensor, attributes


def activation(s: State, node) -> None:
    """An activation operator, its attributes its parameters."""
    row, found = ACTIVATIONS[node.op_type], attributes(node)
    x = s.tensor(node)
    axis = found.get("axis", -1)
    if row.last_axis and (axis not in (-1, s.rank(x)) or x.channels_last):
        raise s.refused(node, f"normalises axis {axis}; gate2xlsx computes it over the last "
                              "axis")  # fmt: skip
    for name, value in row.fixed.items():
        if not math.isclose(found.get(name, value), value):
            raise s.refused(node, f"has {name} {found[name]}; gate2xlsx computes {name} "
                                  f"{value:g}")  # fmt: skip
    s.bind(node, _act(s, node, Act.of(row.activation, **row.parameters(found)), x))


def clip(s: State, node) -> None:
    """Clip(x, 0, m): relu capped at m (relu6 for 6), the only clip an activation is."""
    x, low, high = s.tensor(node), s.const(node, 1), s.const(node, 2)
    if low is None or high is None or float(low.reshape(-1)[0]) != 0.0:
        raise s.refused(node, "must clip to [0, a constant]")
    top = float(high.reshape(-1)[0])
    act = Act.of("relu6") if top == 6.0 else Act.of("relu", max_value=top)
    s.bind(node, _act(s, node, act, x))


def _act(s: State, node, act: Act, x: Tensor) -> Tensor:
    layer = Activation(s.layer_name(node), node.op_type, activation=act)
    return s.add(layer, [x], x.channels_last)


def gemm(s: State, node) -> None:
    """alpha * x @ B (transposed with transB) + beta * C, B and C constants."""
    found = attributes(node)
    x, w, c = s.channels_first(s.tensor(node)), s.const(node, 1), s.const(node, 2)
    if found.get("transA", 0) or w is None or w.ndim != 2 or s.rank(x) != 1:
        raise s.refused(node, "must multiply the input rows by a constant matrix (transA 0)")
    alpha, beta = float(found.get("alpha", 1.0)), float(found.get("beta", 1.0))
    trans = bool(found.get("transB", 0))
    kernel = (w.T if trans else w) * alpha
    note = " (stored transposed, unit x input; shown input down, unit across)" if trans else ""
    scaled = f" x alpha {alpha:g}" if alpha != 1.0 else ""
    bias = None
    if c is not None:
        values = np.broadcast_to(np.asarray(c, dtype=np.float64).reshape(-1) * beta,
                                 (kernel.shape[1],))  # fmt: skip
        bias = Param(values.copy(), node.input[2] + (f" x beta {beta:g}" if beta != 1 else ""))
    layer = Dense(s.layer_name(node), "Gemm",
                  kernel=Param(kernel, node.input[1] + note + scaled), bias=bias)  # fmt: skip
    s.bind(node, s.add(layer, [x]))


def matmul(s: State, node) -> None:
    """x @ W, W a constant matrix (a following Add of a vector is folded in as the bias)."""
    x, w = s.channels_first(s.tensor(node)), s.const(node, 1)
    if w is None or w.ndim != 2 or s.rank(x) != 1:
        raise s.refused(node, "must multiply the input rows by a constant matrix")
    layer = Dense(s.layer_name(node), "MatMul", kernel=Param(w, node.input[1]))
    s.bind(node, s.add(layer, [x]))


def prelu(s: State, node) -> None:
    x, slope = s.tensor(node), s.const(node, 1)
    width = s.shapes[x.name][-1]  # the features, or a map's channels
    if slope is None or slope.size not in (1, width) or (x.channels_last is False
                                                        and s.rank(x) > 1):  # fmt: skip
        raise s.refused(node, "needs one constant slope per feature or channel")
    alpha = Param(np.broadcast_to(slope.reshape(-1), (width,)).copy(), node.input[1])
    layer = PReLU(s.layer_name(node), "PRelu", alpha=alpha)
    s.bind(node, s.add(layer, [x], x.channels_last))


def batch_normalization(s: State, node) -> None:
    """Inference-mode BatchNormalization over the channels (a map's read channels last)."""
    found = attributes(node)
    if found.get("training_mode", 0):
        raise s.refused(node, "is in training mode")
    x = s.tensor(node)
    if s.rank(x) > 1:
        x = s.channels_last(x, node)
    gamma, beta, mean, var = (s.const(node, k) for k in range(1, 5))
    if any(v is None for v in (gamma, beta, mean, var)):
        raise s.refused(node, "reads computed statistics")
    names = node.input[1:5]
    layer = BatchNorm(s.layer_name(node), "BatchNormalization",
                      gamma=Param(gamma, names[0]), beta=Param(beta, names[1]),
                      moving_mean=Param(mean, names[2]), moving_variance=Param(var, names[3]),
                      epsilon=float(found.get("epsilon", 1e-5)))  # fmt: skip
    s.bind(node, s.add(layer, [x], x.channels_last))
