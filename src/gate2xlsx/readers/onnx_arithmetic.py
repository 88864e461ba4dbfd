"""The ONNX operators that do arithmetic: Add, Sub and Mul of two tensors (merges), of a tensor
and a number (Rescaling) or a vector (a per-feature affine, BatchNorm.affine), a MatMul's
bias folded into its Dense; Sum, Max, Min, Mean; skl2onnx's Scaler. A mixin of
onnx_graph.Translation."""

from __future__ import annotations

import numpy as np

from ..errors import UnsupportedModelError
from ..maps import Merge
from ..model import BatchNorm, Dense, Param, Rescaling
from .onnx_values import Tensor, attributes


class ArithmeticOps:
    """Needs the Translation's _tensor, _const, _add, _last, _layer_name, _set, _rank, shapes,
    values, nodes, uses."""

    def _merge(self, node, op: str) -> None:
        """Sum, Max, Min, Mean of tensors of one shape, cell by cell."""
        reads = [self._tensor(node, k) for k in range(len(node.input))]
        if any(t.channels_last != reads[0].channels_last for t in reads):
            reads = [self._last(t, node) for t in reads]
        if len({self.shapes[t.name] for t in reads}) != 1:
            raise UnsupportedModelError(f"node {node.name!r} ({node.op_type}) broadcasts "
                                        "tensors of different shapes", path=self.path)  # fmt: skip
        layer = Merge(self._layer_name(node), node.op_type, op=op)
        self._set(node, self._add(layer, reads, reads[0].channels_last))

    def _arithmetic(self, node, op: str) -> None:
        values = [self.values.get(name) for name in node.input]
        if all(isinstance(v, Tensor) for v in values):
            a, b = values
            if a.channels_last != b.channels_last:
                a, b = self._last(a, node), self._last(b, node)
            layer = Merge(self._layer_name(node), node.op_type, op=op)
            return self._set(node, self._add(layer, [a, b], a.channels_last))
        k = 0 if isinstance(values[0], Tensor) else 1
        x, c = self._tensor(node, k), self._const(node, 1 - k)
        if c is None:
            raise UnsupportedModelError(f"node {node.name!r} ({node.op_type}) reads no tensor",
                                        path=self.path)  # fmt: skip
        if op == "add" and self._folded(node, x, c, node.input[1 - k], node.input[k]):
            return None
        if c.size == 1:
            v = float(c.reshape(-1)[0])
            scale, offset = {"add": (1.0, v), "multiply": (v, 0.0),
                             "subtract": (-1.0, v) if k == 1 else (1.0, -v)}[op]  # fmt: skip
            layer = Rescaling(self._layer_name(node), node.op_type, scale=scale, offset=offset)
            return self._set(node, self._add(layer, [x], x.channels_last))
        width = self.shapes[x.name][-1]
        if self._rank(x) != 1 or c.size != width or (op == "subtract" and k == 1):
            raise UnsupportedModelError(
                f"node {node.name!r} ({node.op_type}) combines a tensor with a constant of shape "
                f"{list(c.shape)}; gate2xlsx reads a bias after a MatMul, a single number, or "
                "one number per feature of a vector",
                path=self.path,
            )
        role = {"add": "beta", "multiply": "gamma", "subtract": "moving_mean"}[op]
        self._set(node, self._affine(node, x, **{role: (c, node.input[1 - k])}))
        return None

    def _affine(self, node, x: Tensor, **given: tuple[np.ndarray, str]) -> Tensor:
        """(x - moving_mean) * gamma + beta, feature by feature (BatchNorm.affine)."""
        width = self.shapes[x.name][-1]
        params = {key: Param(np.broadcast_to(np.asarray(v).reshape(-1), (width,)).copy(), name)
                  for key, (v, name) in given.items()}  # fmt: skip
        layer = BatchNorm.affine(self._layer_name(node), node.op_type, width, **params)
        return self._add(layer, [x])

    def _op_Scaler(self, node) -> None:
        """ai.onnx.ml's Scaler (StandardScaler through skl2onnx): (x - offset) * scale."""
        found = attributes(node)
        x = self._tensor(node)
        offset = np.asarray(found.get("offset", [0.0]), dtype=np.float64)
        scale = np.asarray(found.get("scale", [1.0]), dtype=np.float64)
        self._set(node, self._affine(node, x, moving_mean=(offset, "offset"),
                                     gamma=(scale, "scale")))  # fmt: skip

    def _folded(self, node, x: Tensor, c: np.ndarray, const: str, read: str) -> bool:
        """Add(MatMul(x, W), b) is that Dense's bias; Add(Mul(x, s), b) that affine's beta,
        when nothing else reads the first result."""
        last = self.nodes[-1].layer if self.nodes else None
        if last is None or last.name != x.name or self.uses[read] != 1:
            return False
        width = self.shapes[x.name][-1]
        if c.size not in (1, width):
            return False
        values = Param(np.broadcast_to(c.reshape(-1), (width,)).astype(np.float64), const)
        if isinstance(last, Dense) and last.bias is None:
            last.bias = values
        elif isinstance(last, BatchNorm) and last.epsilon == 0.0 and last.beta is None:
            last.beta = values
        else:
            return False
        self._set(node, x)
        return True

    def _op_Div(self, node) -> None:
        raise UnsupportedModelError(
            f"node {node.name!r} (Div) is not part of a pattern gate2xlsx knows (the TorchScript "
            "GELU)",
            path=self.path,
        )

    _op_Pow = _op_Erf = _op_Sqrt = _op_Neg = _op_Div
