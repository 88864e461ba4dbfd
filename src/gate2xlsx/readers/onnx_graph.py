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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..activations import TABLE
from ..errors import InputError, UnsupportedModelError
from ..graph import Graph, Node, Port, made_shapes
from ..maps import Conv, GlobalPool, Merge, Pool, Rearrange
from ..model import Act, Activation, BatchNorm, Dense, Layer, Param, Rescaling

Shape = tuple[int, ...]

ACTIVATIONS = {  # op type -> (activation, {our parameter: (ONNX attribute, default)})
    "Relu": ("relu", {}),
    "Sigmoid": ("sigmoid", {}),
    "Tanh": ("tanh", {}),
    "Softplus": ("softplus", {}),
    "Softsign": ("softsign", {}),
    "LeakyRelu": ("leaky_relu", {"alpha": ("alpha", 0.01)}),
    "Elu": ("elu", {"alpha": ("alpha", 1.0)}),
    "Selu": (
        "selu",
        {
            "selu_alpha": ("alpha", 1.67326319217681884765625),
            "scale": ("gamma", 1.05070102214813232421875),
        },
    ),  # fmt: skip
    "HardSigmoid": ("hard_sigmoid", {"slope": ("alpha", 0.2)}),
    "Softmax": ("softmax", {}),
    "LogSoftmax": ("log_softmax", {}),
}
PASS_THROUGH = {"Identity", "Dropout", "Cast", "ZipMap"}
LABEL_OPS = {"ArgMax", "ArrayFeatureExtractor"}
ARITHMETIC = {"Add", "Sub", "Mul", "Div", "Pow", "Erf", "Tanh", "Sqrt", "Neg"}
SPATIAL = {"Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"}
SUPPORTED = {
    "": set(ACTIVATIONS) | PASS_THROUGH | ARITHMETIC | SPATIAL | LABEL_OPS
    | {"Gemm", "MatMul", "Gelu", "BatchNormalization", "Flatten", "Reshape", "Concat",
       "Constant", "Greater", "Where", "ReduceMean", "Transpose"},
    "ai.onnx.ml": {"ZipMap", "ArrayFeatureExtractor"},
}  # fmt: skip
FLOAT_TYPES = {1, 11}  # TensorProto FLOAT, DOUBLE


@dataclass
class Tensor:
    """A value the IR computes: the IR tensor's name and whether it holds an ONNX (C, ...)
    tensor channels last."""

    name: str
    channels_last: bool = False


@dataclass
class Const:
    values: np.ndarray


class Labels:
    """The class-label branch (ArgMax, ArrayFeatureExtractor and what reshapes their result)."""


@dataclass
class Above:
    """Greater(x, threshold): only ever read by a Where, torch's Softplus threshold."""

    x: str
    threshold: float


def check_operators(model, path: Path) -> None:
    """Every operator the graph uses must be known: all the others named in one message."""
    unknown = sorted({
        f"{n.domain}:{n.op_type}" if n.domain not in ("", "ai.onnx") else n.op_type
        for n in model.graph.node
        if n.op_type not in SUPPORTED.get("" if n.domain == "ai.onnx" else n.domain, set())
    })  # fmt: skip
    if unknown:
        known = ", ".join(sorted(SUPPORTED[""] - {"Constant", "Greater", "Where"} - LABEL_OPS))
        raise UnsupportedModelError(
            f"the graph uses operators gate2xlsx does not compute: {', '.join(unknown)} "
            f"(it computes {known}, and skl2onnx's ArgMax / ArrayFeatureExtractor label)",
            path=path,
        )


class Translation:
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
        raw = node.name or node.op_type
        if raw.startswith("n") and raw[1:].isdigit():  # the dynamo exporter's n0, n1, ...
            raw = node.op_type.lower()
        return self._claim(raw)

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

    def _last(self, t: Tensor, node) -> Tensor:
        """t channels last (a map or sequence the convolutions read)."""
        if t.channels_last:
            return t
        rank = self._rank(t)
        if rank not in (2, 3):
            raise UnsupportedModelError(
                f"node {node.name!r} ({node.op_type}) reads shape {self.shapes[t.name]}; "
                "gate2xlsx convolves (C, L) and (C, H, W) tensors",
                path=self.path,
            )
        order = (2, 3, 1) if rank == 3 else (2, 1)
        layer = Rearrange(self._claim(f"{t.name}_channels_last"), "Transpose", op="permute",
                          arg=order)  # fmt: skip
        return self._add(layer, [t], channels_last=True)

    def _first(self, t: Tensor) -> Tensor:
        """t in ONNX's own order (channels first)."""
        if not t.channels_last:
            return t
        rank = self._rank(t)
        order = (3, 1, 2) if rank == 3 else (2, 1)
        layer = Rearrange(self._claim(f"{t.name}_channels_first"), "Transpose", op="permute",
                          arg=order)  # fmt: skip
        return self._add(layer, [t])

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
            to = _attrs(node).get("to")
            if to not in FLOAT_TYPES:
                raise UnsupportedModelError(
                    f"node {node.name!r} casts to element type {to}; gate2xlsx computes floats",
                    path=self.path,
                )
        self._set(node, self.values.get(node.input[0]))

    def _activation(self, node) -> None:
        name, params = ACTIVATIONS[node.op_type]
        attrs = _attrs(node)
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
        tanh = _attrs(node).get("approximate", b"none") in (b"tanh", "tanh")
        self._set(node, self._act(node, Act.of("gelu", approximate=1.0 if tanh else 0.0),
                                  self._tensor(node)))  # fmt: skip

    def _op_Gemm(self, node) -> None:
        attrs = _attrs(node)
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

    def _op_Add(self, node) -> None:
        self._arithmetic(node, "add")

    def _op_Sub(self, node) -> None:
        self._arithmetic(node, "subtract")

    def _op_Mul(self, node) -> None:
        self._arithmetic(node, "multiply")

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
        if op == "add" and self._bias(node, x, c):
            return
        if c.size != 1:
            raise UnsupportedModelError(
                f"node {node.name!r} ({node.op_type}) combines a tensor with a constant of shape "
                f"{list(c.shape)}; gate2xlsx adds a bias after a MatMul, or a single number",
                path=self.path,
            )
        v = float(c.reshape(-1)[0])
        scale, offset = {"add": (1.0, v), "multiply": (v, 0.0),
                         "subtract": (-1.0, v) if k == 1 else (1.0, -v)}[op]  # fmt: skip
        layer = Rescaling(self._layer_name(node), node.op_type, scale=scale, offset=offset)
        self._set(node, self._add(layer, [x], x.channels_last))

    def _bias(self, node, x: Tensor, c: np.ndarray) -> bool:
        """Add(MatMul(x, W), b): the bias of that Dense (MatMul's result read by nothing else)."""
        last = self.nodes[-1].layer if self.nodes else None
        if not (isinstance(last, Dense) and last.name == x.name and last.bias is None):
            return False
        units = last.kernel.values.shape[1]
        if c.size not in (1, units) or self.uses[node.input[0]] != 1:
            return False
        name = node.input[1] if node.input[1] in self.values else node.input[0]
        last.bias = Param(np.broadcast_to(c.reshape(-1), (units,)).astype(np.float64), name)
        self._set(node, x)
        return True

    def _op_Div(self, node) -> None:
        raise UnsupportedModelError(
            f"node {node.name!r} (Div) is not part of a pattern gate2xlsx knows (the TorchScript "
            "GELU)",
            path=self.path,
        )

    _op_Pow = _op_Erf = _op_Sqrt = _op_Neg = _op_Div

    def _op_Greater(self, node) -> None:
        x, t = self._tensor(node), self._const(node, 1)
        if t is None or t.size != 1:
            raise UnsupportedModelError(f"node {node.name!r} (Greater) compares two tensors",
                                        path=self.path)  # fmt: skip
        self._set(node, Above(x.name, float(t.reshape(-1)[0])))

    def _op_Where(self, node) -> None:
        """torch's Softplus(threshold=t): x where x > t, else softplus(x). Above t (20) the two
        differ by less than e^-t (2e-9), so the sheet computes softplus throughout."""
        cond, x, soft = (self.values.get(name) for name in node.input)
        made = next((n.layer for n in self.nodes if isinstance(soft, Tensor)
                     and n.layer.name == soft.name), None)  # fmt: skip
        if (isinstance(cond, Above) and isinstance(x, Tensor) and cond.x == x.name
                and isinstance(made, Activation) and made.activation.name == "softplus"
                and cond.threshold >= 15):  # fmt: skip
            return self._set(node, soft)
        raise UnsupportedModelError(
            f"node {node.name!r} (Where) is not torch's Softplus threshold", path=self.path
        )

    def _op_BatchNormalization(self, node) -> None:
        attrs = _attrs(node)
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

    def _op_Flatten(self, node) -> None:
        axis = _attrs(node).get("axis", 1)
        x = self._first(self._tensor(node))
        if axis != 1:
            raise UnsupportedModelError(
                f"node {node.name!r} (Flatten) flattens from axis {axis}; gate2xlsx keeps the "
                "batch axis",
                path=self.path,
            )
        self._set(node, self._flat(node, x, (int(np.prod(self.shapes[x.name])),)))

    def _op_Reshape(self, node) -> None:
        """To a constant shape that keeps the batch axis first (-1 or 0): a flatten or a
        reshape of each row; (N, 1) to (N,) changes nothing the sheet shows."""
        x, target = self._first(self._tensor(node)), self._const(node, 1)
        size = int(np.prod(self.shapes[x.name]))
        dims = [int(d) for d in target.reshape(-1)] if target is not None else []
        rest = dims[1:]
        if rest.count(-1) == 1 and all(d > 0 for d in rest if d != -1):
            rest[rest.index(-1)] = size // max(int(np.prod([d for d in rest if d != -1])), 1)
        if dims[:1] in ([-1], [0]) and rest and min(rest) > 0 and int(np.prod(rest)) == size:
            return self._set(node, self._flat(node, x, tuple(rest)))
        if dims in ([-1], [-1, 1]) and node.output[0] in self.outputs:
            # skl2onnx's regressor output: each row's values, one after another (a single
            # target keeps its shape; several come out one per row): the sheet shows each
            # input row's values in a row, as predict returns them
            return self._set(node, x)
        raise UnsupportedModelError(
            f"node {node.name!r} (Reshape) to {dims or 'a computed shape'} does not keep the "
            f"batch axis of shape {list(self.shapes[x.name])}",
            path=self.path,
        )

    def _op_Transpose(self, node) -> None:
        x = self._first(self._tensor(node))
        perm = [int(p) for p in _attrs(node).get("perm", [])]
        if perm[:1] != [0] or sorted(perm) != list(range(self._rank(x) + 1)):
            raise UnsupportedModelError(f"node {node.name!r} (Transpose) moves the batch axis",
                                        path=self.path)  # fmt: skip
        layer = Rearrange(self._layer_name(node), "Transpose", op="permute", arg=tuple(perm[1:]))
        self._set(node, self._add(layer, [x]))

    def _flat(self, node, x: Tensor, shape: Shape) -> Tensor:
        if self.shapes[x.name] == shape:
            return x
        op = "flatten" if len(shape) == 1 else "reshape"
        return self._add(Rearrange(self._layer_name(node), node.op_type, op=op,
                                   arg=() if op == "flatten" else shape), [x])  # fmt: skip

    def _op_Concat(self, node) -> None:
        reads = [self._tensor(node, k) for k in range(len(node.input))]
        rank = self._rank(reads[0])
        axis = _attrs(node).get("axis", 1)
        axis = axis + rank + 1 if axis < 0 else axis
        if any(t.channels_last for t in reads) and axis == 1 and rank > 1:
            reads = [self._last(t, node) for t in reads]
            ours, last = -1, True
        else:
            reads = [self._first(t) for t in reads]
            ours, last = axis - 1, False
        if ours == rank - 1:
            ours = -1
        if axis == 0:
            raise UnsupportedModelError(f"node {node.name!r} (Concat) joins along the batch",
                                        path=self.path)  # fmt: skip
        layer = Merge(self._layer_name(node), "Concat", op="concatenate", axis=ours)
        self._set(node, self._add(layer, reads, last))

    # --- convolutions and pooling ---------------------------------------------------------

    def _op_Conv(self, node) -> None:
        attrs = _attrs(node)
        x = self._last(self._tensor(node), node)
        w, b = self._const(node, 1), self._const(node, 2)
        if w is None:
            raise UnsupportedModelError(f"node {node.name!r} (Conv) reads a computed kernel",
                                        path=self.path)  # fmt: skip
        rank = w.ndim - 2
        cin = self.shapes[x.name][-1]
        group = int(attrs.get("group", 1))
        depthwise = group > 1
        if depthwise and not (group == cin and w.shape[1] == 1):
            raise UnsupportedModelError(
                f"node {node.name!r} (Conv) has group {group}; gate2xlsx computes group 1 and "
                "depthwise (group = input channels)",
                path=self.path,
            )
        # (cout, cin/group, k...) -> (k..., cin, cout); depthwise: (k..., cin, multiplier)
        kernel = np.moveaxis(w, (0, 1), (-1, -2))
        if depthwise:
            kernel = np.moveaxis(w.reshape(cin, -1, *w.shape[2:]), (0, 1), (-2, -1))
        x = self._padded(node, x, attrs, kernel.shape[:rank])
        strides = tuple(attrs.get("strides", [1] * rank))
        dilation = tuple(attrs.get("dilations", [1] * rank))
        note = " (stored out x in x kh x kw; shown as grids)"
        bias = Param(b, node.input[2]) if b is not None else None
        layer = Conv(self._layer_name(node), "Conv", kernel=Param(kernel, node.input[1] + note),
                     bias=bias, strides=_pair(strides), dilation=_pair(dilation),
                     depthwise=depthwise)  # fmt: skip
        self._set(node, self._add(layer, [x], True))

    def _padded(self, node, x: Tensor, attrs: dict, kernel: Shape) -> Tensor:
        """Explicit zero padding, as its own Rearrange (the convolution then pads nothing)."""
        if attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET", b"VALID", "VALID"):
            raise UnsupportedModelError(f"node {node.name!r} ({node.op_type}) uses auto_pad "
                                        f"{attrs['auto_pad']}; gate2xlsx reads explicit pads",
                                        path=self.path)  # fmt: skip
        pads = list(attrs.get("pads", [0] * 2 * len(kernel)))
        if not any(pads):
            return x
        rank = len(kernel)
        pairs = tuple((int(pads[i]), int(pads[i + rank])) for i in range(rank))
        layer = Rearrange(self._claim(f"{node.name or 'conv'}_pad"), "Pad", op="pad", arg=pairs)
        return self._add(layer, [x], True)

    def _pool(self, node, op: str) -> None:
        attrs = _attrs(node)
        x = self._last(self._tensor(node), node)
        kernel = tuple(attrs.get("kernel_shape", []))
        rank = len(kernel)
        strides = tuple(attrs.get("strides", [1] * rank))
        problems = [
            what for what, bad in (
                ("padding", any(attrs.get("pads", [0]))),
                ("ceil_mode", attrs.get("ceil_mode", 0)),
                ("dilations", any(d != 1 for d in attrs.get("dilations", [1]))),
                ("auto_pad", attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", b"VALID")),
            ) if bad
        ]  # fmt: skip
        if problems:
            raise UnsupportedModelError(
                f"node {node.name!r} ({node.op_type}) uses {', '.join(problems)}; gate2xlsx "
                "pools unpadded windows",
                path=self.path,
            )
        layer = Pool(self._layer_name(node), node.op_type, op=op, pool=_pair(kernel),
                     strides=_pair(strides), rank=rank)  # fmt: skip
        self._set(node, self._add(layer, [x], True))

    def _op_MaxPool(self, node) -> None:
        if len(node.output) > 1 and node.output[1]:
            raise UnsupportedModelError(f"node {node.name!r} (MaxPool) returns indices",
                                        path=self.path)  # fmt: skip
        self._pool(node, "max")

    def _op_AveragePool(self, node) -> None:
        self._pool(node, "average")

    def _global(self, node, op: str) -> None:
        x = self._last(self._tensor(node), node)
        layer = GlobalPool(self._layer_name(node), node.op_type, op=op, keepdims=True)
        self._set(node, self._add(layer, [x], True))

    def _op_GlobalAveragePool(self, node) -> None:
        self._global(node, "average")

    def _op_GlobalMaxPool(self, node) -> None:
        self._global(node, "max")

    def _op_ReduceMean(self, node) -> None:
        attrs = _attrs(node)
        x = self._tensor(node)
        axes = attrs.get("axes")
        if axes is None and self._const(node, 1) is not None:
            axes = [int(a) for a in self._const(node, 1).reshape(-1)]
        rank = self._rank(x) + 1
        axes = sorted(a + rank if a < 0 else a for a in (axes or []))
        if axes != list(range(2, rank)) or not attrs.get("keepdims", 1) or rank < 3:
            raise UnsupportedModelError(
                f"node {node.name!r} (ReduceMean) averages axes {axes}; gate2xlsx averages "
                "over all spatial axes (a global average pool)",
                path=self.path,
            )
        self._global(node, "average")

    # --- TorchScript's GELU ---------------------------------------------------------------

    def _gelu(self, index: int, node) -> bool:
        """A run of arithmetic on one tensor x (Mul, Div, Pow, Add, Erf, Tanh with constants)
        that computes GELU, exact or tanh, is one gelu activation. Found by evaluating the
        run on sample values: no pattern to keep in step with the exporter."""
        start = next((self.values.get(n) for n in node.input
                      if isinstance(self.values.get(n), Tensor)), None)  # fmt: skip
        if start is None:
            return False
        run = _arithmetic_run(self.graph.node, index, start, self.values)
        probe = np.linspace(-6, 6, 121)
        for end in range(len(run), 3, -1):
            out = _evaluate(run[:end], self.values, start, probe)
            inner = [n.output[0] for _, n in run[: end - 1]]
            read_inside = Counter(name for _, n in run[:end] for name in n.input)
            if out is None or any(self.uses[name] != read_inside[name] for name in inner):
                continue
            for approximate in (0.0, 1.0):
                want = TABLE["gelu"].numpy(probe, approximate=approximate)
                if np.allclose(out, want, rtol=1e-6, atol=1e-6):
                    return self._fold_gelu(run[:end], start, approximate)
        return False

    def _fold_gelu(self, run: list, start: Tensor, approximate: float) -> bool:
        last = run[-1][1]
        module = last.name.strip("/").split("/")[0] or "gelu"
        layer = Activation(self._claim(f"{module}_Gelu"), "Gelu",
                           activation=Act.of("gelu", approximate=approximate))  # fmt: skip
        self.values[last.output[0]] = self._add(layer, [start], start.channels_last)
        self.done.update(i for i, _ in run)
        return True


def _arithmetic_run(nodes, index: int, start: Tensor, values: dict) -> list:
    """The nodes from `index` on that compute only from `start` and constants, in order."""
    inside = {name for name, v in values.items() if v is start}
    run = []
    for i in range(index, len(nodes)):
        node = nodes[i]
        if node.op_type == "Constant":
            continue
        reads = [n for n in node.input if n]
        known = all(n in inside or isinstance(values.get(n), Const) for n in reads)
        if node.op_type not in ARITHMETIC or not known or not any(n in inside for n in reads):
            break
        run.append((i, node))
        inside.add(node.output[0])
    return run


def _evaluate(run: list, values: dict, start: Tensor, probe: np.ndarray) -> np.ndarray | None:
    env = {name: probe for name, v in values.items() if v is start}

    ops = {
        "Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide,
        "Pow": np.power, "Tanh": np.tanh, "Sqrt": np.sqrt, "Neg": np.negative,
        "Erf": np.vectorize(math.erf),
    }  # fmt: skip
    for _, node in run:
        args = [env[n] if n in env else values[n].values.astype(np.float64) for n in node.input]
        env[node.output[0]] = ops[node.op_type](*args)
    result = np.asarray(env[run[-1][1].output[0]], dtype=np.float64)
    return result if result.shape == probe.shape else None


def _attrs(node) -> dict:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _pair(values: tuple) -> tuple[int, int]:
    values = tuple(int(v) for v in values)
    return (values[0], 1) if len(values) == 1 else values[:2]  # type: ignore[return-value]
