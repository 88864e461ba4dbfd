"""An ONNX graph -> the IR graph: each operator translated, through one table of handlers
(HANDLERS, keyed by operator), to the IR layers that compute it.

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

from pathlib import Path

from ...errors import InputError, UnsupportedModelError
from ...formats.onnx_operators import ACTIVATIONS, BINARY_MERGES, GLOBAL_POOLS, MERGES, POOLS
from ...ir.graph import Graph, Port
from . import arithmetic, convolution, dense, layout, patterns
from .state import State
from .values import FLOAT_TYPES, Const, Labels, Tensor, attributes

__all__ = ["Translation", "check_operators"]


class Translation(State):
    """The IR graph, built node by node from an ONNX graph through HANDLERS."""

    def run(self) -> Graph:
        for value in self.graph.input:
            if value.name not in self.values:
                self._input(value)
        if not self.ports:
            raise InputError("the graph has no input", path=self.path)
        for index, node in enumerate(self.graph.node):
            if index not in self.done:
                self.index = index
                _handler(self, node)(self, node)
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
        name = self.claim(value.name or "input")
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
        return self.channels_first(value).name


def _handler(s: State, node):
    """The node's handler: its operator's, or the label branch's for what reads labels."""
    reads = [s.values.get(name) for name in node.input if name]
    if (reads and all(isinstance(v, (Labels, Const)) for v in reads)
            and any(isinstance(v, Labels) for v in reads)):  # fmt: skip
        return labels
    return HANDLERS[node.op_type]


def labels(s: State, node) -> None:
    """ArgMax, ArrayFeatureExtractor and what reads them: the class label, which the sheet
    shows itself; the extractor's constant is the class names."""
    if node.op_type == "ArrayFeatureExtractor":
        classes = s.const(node, 0)
        if classes is not None:
            s.class_names = [c.decode() if isinstance(c, bytes) else str(c)
                             for c in classes.reshape(-1)]  # fmt: skip
    for name in node.output:
        s.values[name] = Labels()


def passed(s: State, node) -> None:
    """Identity, Dropout (at inference), ZipMap: the input, unchanged."""
    s.bind(node, s.values.get(node.input[0]))


def cast(s: State, node) -> None:
    to = attributes(node).get("to")
    if to not in FLOAT_TYPES:
        raise UnsupportedModelError(
            f"node {node.name!r} casts to element type {to}; gate2xlsx computes floats",
            path=s.path,
        )
    passed(s, node)


def constant(s: State, node) -> None:
    """Its value was read with the initializers (onnx_file.initializers)."""


HANDLERS = {
    "Constant": constant, "ArgMax": labels, "ArrayFeatureExtractor": labels,
    "Identity": passed, "Dropout": passed, "ZipMap": passed, "Cast": cast,
    **dict.fromkeys(ACTIVATIONS, dense.activation), "Clip": dense.clip,
    "Gemm": dense.gemm, "MatMul": dense.matmul, "PRelu": dense.prelu,
    "BatchNormalization": dense.batch_normalization,
    **dict.fromkeys(BINARY_MERGES, arithmetic.arithmetic),
    **dict.fromkeys(MERGES, arithmetic.merge), "Scaler": arithmetic.scaler,
    # a TorchScript GELU's run starts with one of these
    "Mul": patterns.gelu_or(arithmetic.arithmetic), "Div": patterns.gelu_or(patterns.alone),
    "Pow": patterns.gelu_or(patterns.alone), "Erf": patterns.alone, "Sqrt": patterns.alone,
    "Neg": patterns.alone, "Greater": patterns.greater, "Where": patterns.where,
    "Flatten": layout.flatten, "Reshape": layout.reshape, "Transpose": layout.transpose,
    "Pad": layout.pad, "Concat": layout.concat,
    "Conv": convolution.conv, **dict.fromkeys(POOLS, convolution.pool),
    **dict.fromkeys(GLOBAL_POOLS, convolution.global_pool),
    "ReduceMean": convolution.reduce_mean,
}  # fmt: skip
ML_OPERATORS = {"ZipMap", "ArrayFeatureExtractor", "Scaler"}  # of ai.onnx.ml
SUPPORTED = {"": set(HANDLERS) - {"Scaler"}, "ai.onnx.ml": ML_OPERATORS}  # Scaler: ml's only
# read as parts of a pattern or of the classifier's label, not named as what is computed
UNNAMED = {"Constant", "Greater", "Where", "ArgMax", "ArrayFeatureExtractor"}


def check_operators(model, path: Path) -> None:
    """Every operator the graph uses must be known: all the others named in one message."""
    unknown = sorted({
        f"{n.domain}:{n.op_type}" if n.domain not in ("", "ai.onnx") else n.op_type
        for n in model.graph.node
        if n.op_type not in SUPPORTED.get("" if n.domain == "ai.onnx" else n.domain, set())
    })  # fmt: skip
    if unknown:
        known = ", ".join(sorted(SUPPORTED[""] - UNNAMED))
        raise UnsupportedModelError(
            f"the graph uses operators gate2xlsx does not compute: {', '.join(unknown)} "
            f"(it computes {known}; of ai.onnx.ml, Scaler and the classifier's ZipMap and "
            "ArrayFeatureExtractor)",
            path=path,
        )
