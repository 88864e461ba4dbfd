"""Dense layers and activations: x @ kernel + bias, one function per unit (Activation,
Softmax, ReLU, LeakyReLU, PReLU, ...), and the identities (Dropout, Flatten on a vector)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import activations
from ..layer import LINEAR, Act, Layer, Param


@dataclass(eq=False)
class Dense(Layer):
    """x @ kernel + bias, then the activation."""

    kernel: Param = None  # type: ignore[assignment]
    bias: Param | None = None
    activation: Act = LINEAR
    kind: ClassVar[str] = "dense"

    def weights(self) -> dict[str, Param]:
        found = {"kernel": self.kernel}
        if self.bias is not None:
            found["bias"] = self.bias
        return found

    def units(self, n_in: int) -> int:
        return self.kernel.values.shape[1]

    def forward(self, x: np.ndarray) -> np.ndarray:
        z = x @ self.kernel.values
        if self.bias is not None:
            z = z + self.bias.values
        return self.activation(z)


@dataclass(eq=False)
class Activation(Layer):
    """Activation, Softmax, ReLU, LeakyReLU, ELU, ThresholdedReLU: no weights, one function."""

    activation: Act = LINEAR
    kind: ClassVar[str] = "activation"

    def settings(self) -> dict[str, float]:
        """The parameters the activation's formula reads (ReLU's unused threshold 0 is not one)."""
        steps = activations.get(self.activation.name).formula_steps(**self.activation.kwargs)
        used = {
            key for step in steps for key in self.activation.kwargs if f"{{{key}}}" in step.template
        }
        return {k: v for k, v in self.activation.kwargs.items() if k in used and v is not None}

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self.activation(x)


@dataclass(eq=False)
class PReLU(Layer):
    """max(x, 0) + alpha * min(x, 0), with a learned alpha per unit."""

    alpha: Param = None  # type: ignore[assignment]
    kind: ClassVar[str] = "prelu"

    def weights(self) -> dict[str, Param]:
        return {"alpha": self.alpha}

    def forward(self, x: np.ndarray) -> np.ndarray:
        alpha = self.alpha.values.reshape(-1)
        return np.maximum(x, 0) + alpha * np.minimum(x, 0)


@dataclass(eq=False)
class Identity(Layer):
    """Layers that do nothing at inference on a vector: Dropout and friends, Flatten, Reshape,
    InputLayer."""

    kind: ClassVar[str] = "identity"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x
