"""The ONNX operators that do arithmetic: Add, Sub and Mul of two tensors (merges), of a tensor
and a number (Rescaling) or a vector (a per-feature affine, BatchNorm.affine), a MatMul's
bias folded into its Dense; Sum, Max, Min, Mean; skl2onnx's Scaler. Each a handler over the
translation's State."""

from __future__ import annotations

import numpy as np

from ...formats.onnx_operators import BINARY_MERGES, MERGES
from ...ir.families.dense import Dense
from ...ir.families.merges import Merge
from ...ir.families.normalization import BatchNorm, Rescaling
from ...ir.layer import Param
from .state import State
from .values import Tensor, attributes


def merge(s: State, node) -> None:
    """Sum, Max, Min, Mean of tensors of one shape, cell by cell."""
    reads = [s.tensor(node, k) for k in range(len(node.input))]
    if any(t.channels_last != reads[0].channels_last for t in reads):
        reads = [s.channels_last(t, node) for t in reads]
    if len({s.shapes[t.name] for t in reads}) != 1:
        raise s.refused(node, "broadcasts tensors of different shapes")
    layer = Merge(s.layer_name(node), node.op_type, op=MERGES[node.op_type])
    s.bind(node, s.add(layer, reads, reads[0].channels_last))


def arithmetic(s: State, node) -> None:
    """Add, Sub, Mul: of two tensors a merge; with a constant a rescaling, an affine, or the
    bias of the Dense before."""
    op = BINARY_MERGES[node.op_type]
    values = [s.values.get(name) for name in node.input]
    if all(isinstance(v, Tensor) for v in values):
        a, b = values
        if a.channels_last != b.channels_last:
            a, b = s.channels_last(a, node), s.channels_last(b, node)
        layer = Merge(s.layer_name(node), node.op_type, op=op)
        return s.bind(node, s.add(layer, [a, b], a.channels_last))
    k = 0 if isinstance(values[0], Tensor) else 1
    x, c = s.tensor(node, k), s.const(node, 1 - k)
    if c is None:
        raise s.refused(node, "reads no tensor")
    if op == "add" and _folded(s, node, x, c, node.input[1 - k], node.input[k]):
        return None
    if c.size == 1:
        v = float(c.reshape(-1)[0])
        scale, offset = {"add": (1.0, v), "multiply": (v, 0.0),
                         "subtract": (-1.0, v) if k == 1 else (1.0, -v)}[op]  # fmt: skip
        layer = Rescaling(s.layer_name(node), node.op_type, scale=scale, offset=offset)
        return s.bind(node, s.add(layer, [x], x.channels_last))
    width = s.shapes[x.name][-1]
    if s.rank(x) != 1 or c.size != width or (op == "subtract" and k == 1):
        raise s.refused(node, f"combines a tensor with a constant of shape {list(c.shape)}; "
                              "gate2xlsx reads a bias after a MatMul, a single number, or one "
                              "number per feature of a vector")  # fmt: skip
    role = {"add": "beta", "multiply": "gamma", "subtract": "moving_mean"}[op]
    s.bind(node, _affine(s, node, x, **{role: (c, node.input[1 - k])}))
    return None


def _affine(s: State, node, x: Tensor, **given: tuple[np.ndarray, str]) -> Tensor:
    """(x - moving_mean) * gamma + beta, feature by feature (BatchNorm.affine)."""
    width = s.shapes[x.name][-1]
    params = {key: Param(np.broadcast_to(np.asarray(v).reshape(-1), (width,)).copy(), name)
              for key, (v, name) in given.items()}  # fmt: skip
    layer = BatchNorm.affine(s.layer_name(node), node.op_type, width, **params)
    return s.add(layer, [x])


def scaler(s: State, node) -> None:
    """ai.onnx.ml's Scaler (StandardScaler through skl2onnx): (x - offset) * scale."""
    found = attributes(node)
    x = s.tensor(node)
    offset = np.asarray(found.get("offset", [0.0]), dtype=np.float64)
    scale = np.asarray(found.get("scale", [1.0]), dtype=np.float64)
    s.bind(node, _affine(s, node, x, moving_mean=(offset, "offset"), gamma=(scale, "scale")))


def _folded(s: State, node, x: Tensor, c: np.ndarray, const: str, read: str) -> bool:
    """Add(MatMul(x, W), b) is that Dense's bias; Add(Mul(x, s), b) that affine's beta, when
    nothing else reads the first result."""
    last = s.nodes[-1].layer if s.nodes else None
    if last is None or last.name != x.name or s.uses[read] != 1:
        return False
    width = s.shapes[x.name][-1]
    if c.size not in (1, width):
        return False
    values = Param(np.broadcast_to(c.reshape(-1), (width,)).astype(np.float64), const)
    if isinstance(last, Dense) and last.bias is None:
        last.bias = values
    elif isinstance(last, BatchNorm) and last.epsilon == 0.0 and last.beta is None:
        last.beta = values
    else:
        return False
    s.bind(node, x)
    return True
