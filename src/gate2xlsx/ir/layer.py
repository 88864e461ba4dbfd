"""What every layer shares: a name, the class it came from, its stored weights (`Param`) and
its NumPy forward pass. The graph (graph.py) holds layers; the families (ir/families) define
them, so this base sits below both."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from . import activations

Shape = tuple[int, ...]  # a tensor's shape, without the batch axis


@dataclass(eq=False)
class Param:
    """One stored weight array and the dataset path it came from (for the Weights sheet)."""

    values: np.ndarray
    path: str = ""
    dtype: str = "float32"

    def __post_init__(self) -> None:
        self.values = np.asarray(self.values, dtype=np.float64)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Param):
            return NotImplemented
        return (
            self.values.shape == other.values.shape
            and np.array_equal(self.values, other.values)
            and self.path == other.path
            and self.dtype == other.dtype
        )

    def __repr__(self) -> str:
        return f"Param(shape={self.values.shape}, path={self.path!r})"


@dataclass(eq=False)
class Layer:
    """Base of every layer: a name (unique in the model) and the Keras class it came from."""

    name: str
    class_name: str = ""
    kind: ClassVar[str] = "layer"

    def weights(self) -> dict[str, Param]:
        """The layer's stored weights, in Keras's storage order."""
        return {}

    def settings(self) -> dict[str, float]:
        """Scalar parameters shown as named, editable cells (LeakyReLU's alpha, BN's epsilon)."""
        return {}

    def units(self, n_in: int) -> int:
        return n_in

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return vars(self) == vars(other)


@dataclass(frozen=True)
class Act:
    """An activation: a name from the activation table and its parameters."""

    name: str
    params: tuple[tuple[str, float | None], ...] = ()

    @classmethod
    def of(cls, name: str, **params: float | None) -> Act:
        return cls(name, tuple(sorted(params.items())))

    @property
    def kwargs(self) -> dict[str, float | None]:
        return dict(self.params)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return activations.get(self.name).numpy(x, **self.kwargs)


LINEAR = Act("linear")


def layer_label(index: int, layer: Layer) -> str:
    """How messages name a layer: "layer 3 'dense_1' (Dense)", `index` counted from 1."""
    return f"layer {index} {layer.name!r} ({layer.class_name or type(layer).__name__})"
