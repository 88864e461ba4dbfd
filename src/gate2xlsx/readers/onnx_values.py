"""What the ONNX translation (onnx_graph.py) knows: the operators it reads, the values a name
can stand for, and the attribute helpers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import UnsupportedModelError

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
    "ThresholdedRelu": ("thresholded_relu", {"theta": ("alpha", 1.0)}),
    "HardSwish": ("hard_silu", {}),
    "Exp": ("exponential", {}),
    "Mish": ("mish", {}),
    "Softmax": ("softmax", {}),
    "LogSoftmax": ("log_softmax", {}),
}
# operator -> the IR merge op: of a tensor with a constant or a tensor; of tensors only
ARITHMETIC_OPS = {"Add": "add", "Sub": "subtract", "Mul": "multiply"}
MERGE_OPS = {"Sum": "add", "Max": "maximum", "Min": "minimum", "Mean": "average"}
PASS_THROUGH = {"Identity", "Dropout", "Cast", "ZipMap"}
LABEL_OPS = {"ArgMax", "ArrayFeatureExtractor"}
ARITHMETIC = {"Add", "Sub", "Mul", "Div", "Pow", "Erf", "Tanh", "Sqrt", "Neg"}
SPATIAL = {"Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"}
SUPPORTED = {
    "": set(ACTIVATIONS) | PASS_THROUGH | ARITHMETIC | SPATIAL | LABEL_OPS | set(MERGE_OPS)
    | {"Gemm", "MatMul", "Gelu", "BatchNormalization", "Flatten", "Reshape", "Concat",
       "Constant", "Greater", "Where", "ReduceMean", "Transpose", "Pad", "PRelu", "Clip"},
    "ai.onnx.ml": {"ZipMap", "ArrayFeatureExtractor", "Scaler"},
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
    """A constant operand (an initializer or a Constant's value)."""

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
            f"(it computes {known}; of ai.onnx.ml, Scaler and the classifier's ZipMap and "
            "ArrayFeatureExtractor)",
            path=path,
        )


def attributes(node) -> dict:
    """A node's attributes by name, as Python values."""
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def pair(values: tuple) -> tuple[int, int]:
    values = tuple(int(v) for v in values)
    return (values[0], 1) if len(values) == 1 else values[:2]  # type: ignore[return-value]
