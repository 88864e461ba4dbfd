"""The ONNX operators that are one IR concept each: activations, merges and poolings, spelled
once for the reader (operator -> IR) and the writer (IR -> operator) alike.

An activation operator's attributes map to the activation's parameters; an absent attribute
means ONNX's default, which is not always ours (LeakyRelu's alpha is 0.01). SELU's defaults
are our constants as float32, as ONNX stores them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..ir.activations import SELU_ALPHA, SELU_SCALE


@dataclass(frozen=True)
class Attribute:
    """An operator's attribute that is one of the activation's parameters."""

    name: str  # ONNX's
    ours: str  # the activation's parameter
    default: float  # what an absent attribute means
    words: tuple[str, ...] = ()  # a string attribute: the parameter is the word's index

    def read(self, found: dict) -> float:
        """The parameter, from a node's attributes by name."""
        value = found.get(self.name)
        if not self.words:
            return float(self.default if value is None else value)
        word = value.decode() if isinstance(value, bytes) else value
        return float(self.words.index(word)) if word in self.words else self.default

    def written(self, value: float):
        return self.words[int(value)] if self.words else float(value)


@dataclass(frozen=True)
class ActivationOp:
    """An ONNX operator that computes one activation."""

    operator: str
    activation: str
    attributes: tuple[Attribute, ...] = ()
    last_axis: bool = False  # over one axis: written as -1, read only as the last
    # attributes read only at this value (gate2xlsx computes nothing else), never written
    fixed: dict[str, float] = field(default_factory=dict)

    def parameters(self, found: dict) -> dict[str, float]:
        """The activation's parameters, from a node's attributes by name."""
        return {a.ours: a.read(found) for a in self.attributes}

    def written(self, params: dict) -> dict:
        """The node's attributes for the activation's parameters (the given ones)."""
        given = {a.name: a.written(params[a.ours]) for a in self.attributes
                 if params.get(a.ours) is not None}  # fmt: skip
        return {**given, "axis": -1} if self.last_axis else given


def _float32(value: float) -> float:
    return float(np.float32(value))


ACTIVATION_OPS = [
    ActivationOp("Relu", "relu"),
    ActivationOp("Sigmoid", "sigmoid"),
    ActivationOp("Tanh", "tanh"),
    ActivationOp("Softplus", "softplus"),
    ActivationOp("Softsign", "softsign"),
    ActivationOp("LeakyRelu", "leaky_relu", (Attribute("alpha", "alpha", 0.01),)),
    ActivationOp("Elu", "elu", (Attribute("alpha", "alpha", 1.0),)),
    ActivationOp("Selu", "selu", (Attribute("alpha", "selu_alpha", _float32(SELU_ALPHA)),
                                  Attribute("gamma", "scale", _float32(SELU_SCALE)))),
    ActivationOp("HardSigmoid", "hard_sigmoid", (Attribute("alpha", "slope", 0.2),),
                 fixed={"beta": 0.5}),
    ActivationOp("ThresholdedRelu", "thresholded_relu", (Attribute("alpha", "theta", 1.0),)),
    ActivationOp("HardSwish", "hard_silu"),
    ActivationOp("Exp", "exponential"),
    ActivationOp("Mish", "mish"),
    ActivationOp("Gelu", "gelu", (Attribute("approximate", "approximate", 0.0,
                                            words=("none", "tanh")),)),
    ActivationOp("Softmax", "softmax", last_axis=True),
    ActivationOp("LogSoftmax", "log_softmax", last_axis=True),
]  # fmt: skip
ACTIVATIONS = {op.operator: op for op in ACTIVATION_OPS}  # by operator
OPERATOR_OF = {op.activation: op for op in ACTIVATION_OPS}  # by activation

# operator -> the IR merge: of two operands (tensors, or a tensor and a constant) ...
BINARY_MERGES = {"Add": "add", "Sub": "subtract", "Mul": "multiply"}
# ... and of any number of tensors of one shape
MERGES = {"Sum": "add", "Max": "maximum", "Min": "minimum", "Mean": "average"}
POOLS = {"MaxPool": "max", "AveragePool": "average"}  # operator -> the IR pooling op
GLOBAL_POOLS = {"GlobalMaxPool": "max", "GlobalAveragePool": "average"}


def merge_operator(op: str, count: int) -> str:
    """The operator for the IR merge `op` of `count` tensors: the two-operand one for two
    (what exporters write and the reader reads), else the one of many."""
    binary = {ours: theirs for theirs, ours in BINARY_MERGES.items()}
    many = {ours: theirs for theirs, ours in MERGES.items()}
    return binary[op] if count == 2 and op in binary else many.get(op) or binary[op]


def operator(table: dict[str, str], op: str) -> str:
    """The operator of `table` (POOLS, GLOBAL_POOLS) for the IR op."""
    return next(theirs for theirs, ours in table.items() if ours == op)
