"""Merges, the layers that join a graph's branches: Add, Subtract, Multiply, Average,
Maximum, Minimum, Concatenate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..layer import Layer, Shape

MERGE_OPS = ("add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate")


@dataclass(eq=False)
class Merge(Layer):
    """Add, Subtract, Multiply, Average, Maximum, Minimum (cell by cell) and Concatenate (on
    `axis`, counted without the batch axis)."""

    op: str = "add"
    axis: int = -1
    kind: ClassVar[str] = "merge"

    def sources(self, shapes: list[Shape]) -> np.ndarray:
        """Concatenate: for each output element, (input number, flat index) coded as
        number * 2**32 + index."""
        parts = [np.arange(int(np.prod(s))).reshape(s) + (i << 32) for i, s in enumerate(shapes)]
        return np.concatenate(parts, axis=self.axis)

    def output_shape(self, *shapes: Shape) -> Shape:
        if self.op == "concatenate":
            return tuple(self.sources(list(shapes)).shape)
        return shapes[0]

    def forward(self, *xs: np.ndarray) -> np.ndarray:
        if self.op == "concatenate":
            return np.concatenate(xs, axis=self.axis + 1 if self.axis >= 0 else self.axis)
        if self.op == "subtract":
            return xs[0] - xs[1]
        stacked = np.stack(xs)
        reduce = {"add": np.sum, "multiply": np.prod, "average": np.mean,
                  "maximum": np.max, "minimum": np.min}[self.op]  # fmt: skip
        return reduce(stacked, axis=0)
