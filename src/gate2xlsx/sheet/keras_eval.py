"""How Keras's `model.evaluate` computes loss and "accuracy", as spreadsheet formulas.

Measured against tf.keras 2.15 and Keras 3 (see tests/test_workbook_eval.py):
- tf.keras 2.4+ and Keras 3 on TensorFlow hand cross-entropy the *logits* when the output
  comes from a sigmoid or softmax (`_keras_logits`): binary cross-entropy of a softmax model
  is then the sigmoid cross-entropy of the pre-softmax values z, not of the probabilities.
- otherwise tf.keras clips probabilities to [1e-7, 1 - 1e-7] (float32) and adds 1e-7 inside
  LN; Keras 3 (torch, jax, numpy) clips without adding.
- categorical cross-entropy renormalises probabilities to sum 1, then clips.
- the loss is the mean over rows of the per-row mean (binary, mse) or sum (categorical).
- "accuracy" is binary_accuracy (p > 0.5) for one output, categorical_accuracy (argmax) else.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import losses
from ..model import Model, final_activation
from . import formulas as F

EPS = float(np.float32(1e-7))
ONE_MINUS_EPS = float(np.float32(1) - np.float32(1e-7))


def _version(model: Model) -> tuple[int, int]:
    parts = (model.source.keras_version or "").split(".")
    try:
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        return 3, 0


def _tensorflow_logits(model: Model) -> bool:
    """Whether Keras took the logits path: TensorFlow backend, tf.keras 2.4 or later."""
    backend = (model.source.backend or "tensorflow").lower()
    return backend == "tensorflow" and _version(model) >= (2, 4)


@dataclass(frozen=True)
class LossRule:
    """How Keras evaluates a loss, as formulas (its kind picks the clipping it applies)."""

    loss: str
    kind: str  # bce_logits, bce_clip, bce_clip_eps, cce_logits, cce_clip, mse
    description: str

    def row_formula(self, p: str, z: str | None, y: str, n: int) -> str:
        """The loss of one row (p probabilities, z logits, y targets, n outputs)."""
        if self.kind == "bce_logits":
            return F.bce_from_logits(z, y, n)
        if self.kind == "bce_clip":
            return F.bce_clipped(p, y, n, EPS, ONE_MINUS_EPS)
        if self.kind == "bce_clip_eps":
            return F.bce_clipped(p, y, n, EPS, ONE_MINUS_EPS, eps=1e-7)
        if self.kind == "cce_logits":
            return F.cce_from_logits(z, y)
        if self.kind == "cce_clip":
            return F.cce_clipped(p, y, EPS, ONE_MINUS_EPS)
        return F.mse(p, y, n)

    def row_values(self, p: np.ndarray, z: np.ndarray | None, y: np.ndarray) -> np.ndarray:
        """What row_formula computes for each row, in NumPy (the cells' cached values)."""
        n = p.shape[1]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if self.kind == "bce_logits":
                terms = np.maximum(z, 0) - z * y + np.log(1 + np.exp(-np.abs(z)))
                return terms.sum(axis=1) / n
            if self.kind in ("bce_clip", "bce_clip_eps"):
                c = np.clip(p, EPS, ONE_MINUS_EPS)
                e = 1e-7 if self.kind == "bce_clip_eps" else 0.0
                return -(y * np.log(c + e) + (1 - y) * np.log(1 - c + e)).sum(axis=1) / n
            if self.kind == "cce_logits":
                top = z.max(axis=1, keepdims=True)
                lse = top[:, 0] + np.log(np.exp(z - top).sum(axis=1))
                return y.sum(axis=1) * lse - (y * z).sum(axis=1)
            if self.kind == "cce_clip":
                c = np.clip(p / p.sum(axis=1, keepdims=True), EPS, ONE_MINUS_EPS)
                return -(y * np.log(c)).sum(axis=1)
            return ((p - y) ** 2).sum(axis=1) / n

    @property
    def needs_logits(self) -> bool:
        return self.kind.endswith("_logits")


def loss_rule(model: Model, loss: str) -> LossRule:
    """How Keras evaluated `loss` for this model (which formula, and why, in words)."""
    loss = losses.require(loss)
    act = final_activation(model)
    tf_logits = _tensorflow_logits(model)
    if loss == "mse":
        return LossRule(loss, "mse", "mean squared error: mean of (y - p)^2")
    if loss == "categorical_crossentropy":
        if tf_logits and act == "softmax":
            return LossRule(
                loss,
                "cce_logits",
                "categorical cross-entropy from the logits z "
                "(TensorFlow Keras reads the softmax's input): LN(SUM(EXP(z))) - y.z",
            )
        return LossRule(
            loss,
            "cce_clip",
            "categorical cross-entropy: -SUM(y * LN(p)), p "
            "renormalised and clipped to [1e-7, 1-1e-7]",
        )
    if tf_logits and act in ("sigmoid", "softmax"):
        return LossRule(
            loss,
            "bce_logits",
            f"binary cross-entropy from the logits z (TensorFlow "
            f"Keras reads the {act}'s input): mean of max(z,0) - z*y + LN(1+EXP(-|z|))",
        )
    if _version(model) < (3, 0) and model.source.keras_version:
        return LossRule(
            loss,
            "bce_clip_eps",
            "binary cross-entropy of p clipped to [1e-7, 1-1e-7], "
            "1e-7 added inside LN as tf.keras does",
        )
    return LossRule(loss, "bce_clip", "binary cross-entropy of p clipped to [1e-7, 1-1e-7]")


def accuracy_name(n_outputs: int) -> str:
    return "binary accuracy (p > 0.5)" if n_outputs == 1 else "categorical accuracy (argmax)"
