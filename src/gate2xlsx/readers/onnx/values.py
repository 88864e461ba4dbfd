"""What an ONNX name can stand for while the graph is translated (a tensor the IR computes, a
constant, the class-label branch, a comparison), and the attribute helpers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Shape = tuple[int, ...]
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


def attributes(node) -> dict:
    """A node's attributes by name, as Python values."""
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def pair(values: tuple) -> tuple[int, int]:
    values = tuple(int(v) for v in values)
    return (values[0], 1) if len(values) == 1 else values[:2]  # type: ignore[return-value]
