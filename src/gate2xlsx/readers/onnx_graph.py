"""An ONNX graph -> the Model: each operator translated to the IR layer that computes it.

ONNX tensors are channels first (N, C, H, W); the IR's maps are channels last (H, W, C). A
tensor keeps ONNX's order until a convolution or pooling reads it, which first permutes it
(an IR Rearrange); anything that depends on the order (Flatten, Reshape, Concat, the graph's
outputs) reads it permuted back. So `input` and `output` hold exactly what the framework
takes and returns.

What is translated (anything else is refused by name, every unknown operator in one message):
- Gemm and MatMul (+ Add) -> Dense, the kernel shown input down, unit across (a Gemm with
  transB stores its transpose: the Weights sheet says so);
- the activation operators -> Activation layers (a TorchScript GELU, written out as
  Div/Erf/Mul/Add, is recognised by evaluating it), BatchNormalization -> BatchNorm;
- Flatten, Reshape to a constant shape, Identity, Dropout, Cast to float;
- Add / Sub / Mul of two tensors and Concat -> merges; of a tensor and a scalar -> Rescaling;
- Conv, MaxPool, AveragePool, GlobalAveragePool / GlobalMaxPool (and ReduceMean over the
  spatial axes) -> the IR's convolution and pooling layers;
- skl2onnx's classifier tail: ZipMap passes the probabilities on; ArgMax and
  ArrayFeatureExtractor make the label, which the sheet shows itself (the class names go to
  the sheet).
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np

from ..errors import InputError, UnsupportedModelError
from ..graph import Graph, Node, Port, made_shapes
from ..model import Act, Activation, BatchNorm, Dense, Layer, Param, PReLU
from .onnx_arithmetic import ArithmeticOps
from .onnx_layout import LayoutOps
from .onnx_patterns import PatternOps
from .onnx_values import (
    ACTIVATIONS,
    ARITHMETIC_OPS,
    FLOAT_TYPES,
    LABEL_OPS,
    MERGE_OPS,
    PASS_THROUGH,
    Above,
    Const,
    Labels,
    Shape,
    Tensor,
    attributes,
    check_operators,
)

__all__ = ["Translation", "check_operators"]


class Translation(ArithmeticOps, LayoutOps, PatternOps):
    """The IR graph, built node by node from an ONNX graph."""

    def __init__(self, model, arrays: dict[str, np.ndarray], path: Path):
        self.path, self.graph = path, model.graph
        self.values: dict[str, Tensor | Const | Labels | Above] = {
            k: Const(v) for k, v in arrays.items()
        }
        self.ports: list[Port] = []
        self.nodes: list[Node] = []
        self.shapes: dict[str, Shape] = {}
        self.taken: set[str] = set()
        self.done: set[int] = set()
        self.class_names: list[str] | None = None
        self.batch: int | None = None  # the inputs' batch size, when the file fixes it
        self.outputs = {o.name for o in model.graph.output}
        self.uses = Counter(name for node in model.graph.node for name in node.input)
        self.uses.update(o.name for o in model.graph.output)

    # --- the graph's ends -----------------------------------------------------------------

    def run(self) -> Graph:
        for value in self.graph.input:
            if value.name not in self.values:
                self._input(value)
        if not self.ports:
            raise InputError("the graph has no input", path=self.path)
        for index, node in enumerate(self.graph.node):
            if index not in self.done:
                self._node(index, node)
        outputs = [self._output(o.name) for o in self.graph.output]
        outputs = [name for name in outputs if name is not None]
        if not outputs:
            raise UnsupportedModelError("the graph computes no numeric output", path=self.path)
        return Graph(self.ports, self.nodes, outputs)

    def _input(self, value) -> None:
        kind = value.type.tensor_type
        if kind.elem_type not in FLOAT_TYPES:
            raise UnsupportedModelError(
                f"input {value.name!r} holds element type {kind.elem_type}; gate2xlsx reads "
                "float inputs",
                path=self.path,
            )
        dims = [d.dim_value if d.HasField("dim_value") else None for d in kind.shape.dim]
        if len(dims) < 2 or any(d is None or d <= 0 for d in dims[1:]):
            raise UnsupportedModelError(
                f"input {value.name!r} has shape {dims}; gate2xlsx needs every axis but the "
                "batch fixed",
                path=self.path,
            )
        name = self._claim(value.name or "input")
        shape = tuple(dims[1:])
        self.ports.append(Port(name, shape))
        self.batch = dims[0] if self.batch in (None, dims[0]) else None
        self.shapes[name] = shape
        self.values[value.name] = Tensor(name)

    def _output(self, name: str) -> str | None:
        value = self.values.get(name)
        if isinstance(value, Labels):
            return None
        if not isinstance(value, Tensor):
            raise UnsupportedModelError(f"output {name!r} is not computed from the input",
                                        path=self.path)  # fmt: skip
        return self._first(value).name

    # --- helpers --------------------------------------------------------------------------

    def _claim(self, raw: str) -> str:
        base = raw.strip("/").replace("/", "_").removeprefix("node_") or "layer"
        name, n = base, 2
        while name.lower() in self.taken:
            name, n = f"{base}_{n}", n + 1
        self.taken.add(name.lower())
        return name

    def _layer_name(self, node) -> str:
        """The node's name, unless it says nothing (dynamo's n0, n1, ...) or names another
        operator (skl2onnx calls its output Sigmoid "Relu1")."""
        raw = node.name or node.op_type
        generic = raw.startswith("n") and raw[1:].isdigit()
        misleading = node.op_type in ACTIVATIONS and node.op_type.lower() not in raw.lower()
        return self._claim(node.op_type if generic or misleading else raw)

    def _add(self, layer: Layer, reads: list[Tensor], channels_last: bool = False) -> Tensor:
        given = [self.shapes[t.name] for t in reads]
        try:
            made = made_shapes(layer, given)
        except ValueError as exc:
            raise UnsupportedModelError(
                f"node {layer.name!r} ({layer.class_name}) does not fit the shapes it reads "
                f"{given}: {exc}",
                path=self.path,
            ) from None
        if any(len(s) > 3 or min(s, default=1) <= 0 for s in made.values()):
            raise UnsupportedModelError(
                f"node {layer.name!r} ({layer.class_name}) makes shape {made[layer.name]}; "
                "gate2xlsx computes vectors, sequences and maps",
                path=self.path,
            )
        self.shapes.update(made)
        self.nodes.append(Node(layer, tuple(t.name for t in reads)))
        return Tensor(layer.name, channels_last)

    def _tensor(self, node, k: int = 0) -> Tensor:
        value = self.values.get(node.input[k]) if k < len(node.input) else None
        if not isinstance(value, Tensor):
            raise UnsupportedModelError(
                f"node {node.name!r} ({node.op_type}) reads {node.input[k]!r} as a constant "
                "where gate2xlsx computes a tensor",
                path=self.path,
            )
        return value

    def _const(self, node, k: int) -> np.ndarray | None:
        if k >= len(node.input) or not node.input[k]:
            return None
        value = self.values.get(node.input[k])
        return value.values if isinstance(value, Const) else None

    def _rank(self, t: Tensor) -> int:
        return len(self.shapes[t.name])

    def _set(self, node, value) -> None:
        self.values[node.output[0]] = value

    # --- the operators --------------------------------------------------------------------

    def _node(self, index: int, node) -> None:
        op = node.op_type
        if op == "Constant":
            return
        reads = [self.values.get(name) for name in node.input if name]
        if op in LABEL_OPS or (reads and all(isinstance(v, (Labels, Const)) for v in reads)
                               and any(isinstance(v, Labels) for v in reads)):  # fmt: skip
            return self._labels(node)
        if op in PASS_THROUGH:
            return self._pass(node)
        if op in ("Mul", "Div", "Pow") and self._gelu(index, node):
            return None
        if op in ACTIVATIONS:
            return self._activation(node)
        if op in ARITHMETIC_OPS:
            return self._arithmetic(node, ARITHMETIC_OPS[op])
        if op in MERGE_OPS:
            return self._merge(node, MERGE_OPS[op])
        return getattr(self, f"_op_{op}")(node)

    def _labels(self, node) -> None:
        if node.op_type == "ArrayFeatureExtractor":
            classes = self._const(node, 0)
            if classes is not None:
                self.class_names = [c.decode() if isinstance(c, bytes) else str(c)
                                    for c in classes.reshape(-1)]  # fmt: skip
        for name in node.output:
            self.values[name] = Labels()

    def _pass(self, node) -> None:
        if node.op_type == "Cast":
            to = attributes(node).get("to")
            if to not in FLOAT_TYPES:
                raise UnsupportedModelError(
                    f"node {node.name!r} casts to element type {to}; gate2xlsx computes floats",
                    path=self.path,
                )
        self._set(node, self.values.get(node.input[0]))

    def _activation(self, node) -> None:
        name, params = ACTIVATIONS[node.op_type]
        attrs = attributes(node)
        x = self._tensor(node)
        if name in ("softmax", "log_softmax"):
            axis = attrs.get("axis", -1)
            if axis not in (-1, self._rank(x)) or x.channels_last:
                raise UnsupportedModelError(
                    f"node {node.name!r} ({node.op_type}) normalises axis {axis}; gate2xlsx "
                    "computes it over the last axis",
                    path=self.path,
                )
        if name == "hard_sigmoid" and not math.isclose(attrs.get("beta", 0.5), 0.5):
            raise UnsupportedModelError(
                f"node {node.name!r} (HardSigmoid) has beta {attrs['beta']}; gate2xlsx "
                "computes beta 0.5",
                path=self.path,
            )
        kwargs = {ours: float(attrs.get(theirs, default))
                  for ours, (theirs, default) in params.items()}  # fmt: skip
        self._set(node, self._act(node, Act.of(name, **kwargs), x))

    def _act(self, node, act: Act, x: Tensor) -> Tensor:
        layer = Activation(self._layer_name(node), node.op_type, activation=act)
        return self._add(layer, [x], x.channels_last)

    def _op_Gelu(self, node) -> None:
        tanh = attributes(node).get("approximate", b"none") in (b"tanh", "tanh")
        self._set(node, self._act(node, Act.of("gelu", approximate=1.0 if tanh else 0.0),
                                  self._tensor(node)))  # fmt: skip

    def _op_Gemm(self, node) -> None:
        attrs = attributes(node)
        x, w, c = self._first(self._tensor(node)), self._const(node, 1), self._const(node, 2)
        if attrs.get("transA", 0) or w is None or w.ndim != 2 or self._rank(x) != 1:
            raise UnsupportedModelError(
                f"node {node.name!r} (Gemm) must multiply the input rows by a constant matrix "
                "(transA 0)",
                path=self.path,
            )
        alpha, beta = float(attrs.get("alpha", 1.0)), float(attrs.get("beta", 1.0))
        trans = bool(attrs.get("transB", 0))
        kernel = (w.T if trans else w) * alpha
        note = " (stored transposed, unit x input; shown input down, unit across)" if trans else ""
        scaled = f" x alpha {alpha:g}" if alpha != 1.0 else ""
        bias = None
        if c is not None:
            values = np.broadcast_to(np.asarray(c, dtype=np.float64).reshape(-1) * beta,
                                     (kernel.shape[1],))  # fmt: skip
            bias = Param(values.copy(), node.input[2] + (f" x beta {beta:g}" if beta != 1 else ""))
        layer = Dense(self._layer_name(node), "Gemm",
                      kernel=Param(kernel, node.input[1] + note + scaled), bias=bias)  # fmt: skip
        self._set(node, self._add(layer, [x]))

    def _op_MatMul(self, node) -> None:
        x, w = self._first(self._tensor(node)), self._const(node, 1)
        if w is None or w.ndim != 2 or self._rank(x) != 1:
            raise UnsupportedModelError(
                f"node {node.name!r} (MatMul) must multiply the input rows by a constant matrix",
                path=self.path,
            )
        layer = Dense(self._layer_name(node), "MatMul", kernel=Param(w, node.input[1]))
        self._set(node, self._add(layer, [x]))

    def _op_Clip(self, node) -> None:
        """Clip(x, 0, m): relu capped at m (relu6 for 6), the only clip an activation is."""
        x, low, high = self._tensor(node), self._const(node, 1), self._const(node, 2)
        if low is None or high is None or float(low.reshape(-1)[0]) != 0.0:
            raise UnsupportedModelError(f"node {node.name!r} (Clip) must clip to [0, a constant]",
                                        path=self.path)  # fmt: skip
        top = float(high.reshape(-1)[0])
        act = Act.of("relu6") if top == 6.0 else Act.of("relu", max_value=top)
        self._set(node, self._act(node, act, x))

    def _op_PRelu(self, node) -> None:
        x, slope = self._tensor(node), self._const(node, 1)
        width = self.shapes[x.name][-1]  # the features, or a map's channels
        if slope is None or slope.size not in (1, width) or (x.channels_last is False
                                                            and self._rank(x) > 1):  # fmt: skip
            raise UnsupportedModelError(f"node {node.name!r} (PRelu) needs one constant slope "
                                        "per feature or channel", path=self.path)  # fmt: skip
        alpha = Param(np.broadcast_to(slope.reshape(-1), (width,)).copy(), node.input[1])
        layer = PReLU(self._layer_name(node), "PRelu", alpha=alpha)
        self._set(node, self._add(layer, [x], x.channels_last))

    def _op_BatchNormalization(self, node) -> None:
        attrs = attributes(node)
        if attrs.get("training_mode", 0):
            raise UnsupportedModelError(f"node {node.name!r} (BatchNormalization) is in "
                                        "training mode", path=self.path)  # fmt: skip
        x = self._tensor(node)
        if self._rank(x) > 1:
            x = self._last(x, node)
        gamma, beta, mean, var = (self._const(node, k) for k in range(1, 5))
        if any(v is None for v in (gamma, beta, mean, var)):
            raise UnsupportedModelError(f"node {node.name!r} (BatchNormalization) reads "
                                        "computed statistics", path=self.path)  # fmt: skip
        names = node.input[1:5]
        layer = BatchNorm(self._layer_name(node), "BatchNormalization",
                          gamma=Param(gamma, names[0]), beta=Param(beta, names[1]),
                          moving_mean=Param(mean, names[2]), moving_variance=Param(var, names[3]),
                          epsilon=float(attrs.get("epsilon", 1e-5)))  # fmt: skip
        self._set(node, self._add(layer, [x], x.channels_last))
