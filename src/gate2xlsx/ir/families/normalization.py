"""Normalisation: BatchNormalization at inference, Normalization (and its inverse),
Rescaling; per-feature affines on the last axis."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..layer import Layer, Param


@dataclass(eq=False)
class BatchNorm(Layer):
    """y = gamma * (x - moving_mean) / sqrt(moving_variance + epsilon) + beta."""

    gamma: Param | None = None
    beta: Param | None = None
    moving_mean: Param = None  # type: ignore[assignment]
    moving_variance: Param = None  # type: ignore[assignment]
    epsilon: float = 1e-3
    kind: ClassVar[str] = "batchnorm"

    @classmethod
    def affine(cls, name: str, class_name: str, width: int, **given: Param) -> BatchNorm:
        """A scaler's per-feature affine (StandardScaler, MinMaxScaler, ONNX's Scaler) as a
        BatchNorm with epsilon 0: a missing mean is 0 and a missing variance 1, so nothing
        but the given numbers enters the arithmetic."""
        found = {"moving_mean": Param(np.zeros(width), "(none: 0)"),
                 "moving_variance": Param(np.ones(width), "(none: 1)"), **given}  # fmt: skip
        return cls(name, class_name, epsilon=0.0, **found)

    def settings(self) -> dict[str, float]:
        return {"epsilon": self.epsilon}

    def weights(self) -> dict[str, Param]:
        found = {
            "gamma": self.gamma,
            "beta": self.beta,
            "moving_mean": self.moving_mean,
            "moving_variance": self.moving_variance,
        }
        return {k: v for k, v in found.items() if v is not None}

    def forward(self, x: np.ndarray) -> np.ndarray:
        y = (x - self.moving_mean.values) / np.sqrt(self.moving_variance.values + self.epsilon)
        if self.gamma is not None:
            y = y * self.gamma.values
        if self.beta is not None:
            y = y + self.beta.values
        return y


@dataclass(eq=False)
class Normalization(Layer):
    """(x - mean) / max(sqrt(variance), 1e-7), or its inverse when `invert` is set."""

    mean: Param = None  # type: ignore[assignment]
    variance: Param = None  # type: ignore[assignment]
    count: Param | None = None
    invert: bool = False
    kind: ClassVar[str] = "normalization"

    def weights(self) -> dict[str, Param]:
        found = {"mean": self.mean, "variance": self.variance}
        if self.count is not None:
            found["count"] = self.count
        return found

    def forward(self, x: np.ndarray) -> np.ndarray:
        mean = self.mean.values.reshape(-1)
        std = np.maximum(np.sqrt(self.variance.values.reshape(-1)), 1e-7)
        return mean + x * std if self.invert else (x - mean) / std


@dataclass(eq=False)
class Rescaling(Layer):
    """y = x * scale + offset, with constant scale and offset from the config."""

    scale: float = 1.0
    offset: float = 0.0
    kind: ClassVar[str] = "rescaling"

    def settings(self) -> dict[str, float]:
        return {"scale": self.scale, "offset": self.offset}

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x * self.scale + self.offset
