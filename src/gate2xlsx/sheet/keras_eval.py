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
The forms themselves (NumPy and formulas) are the loss table's (ir/losses.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ir import losses
from ..ir.model import Model, final_activation
from . import formulas as F


def _version(model: Model) -> tuple[int, int]:
    parts = (model.source.keras_version or "").split(".")
    try:
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        return 3, 0


def keras_of(model: Model) -> losses.Keras:
    """What the Keras that saved `model` does in `evaluate`: the logits path on the TensorFlow
    backend from tf.keras 2.4 on, and 1e-7 inside LN before Keras 3."""
    backend = (model.source.backend or "tensorflow").lower()
    tensorflow_logits = backend == "tensorflow" and _version(model) >= (2, 4)
    logits_of = losses.TF_EVALUATE_LOGITS if tensorflow_logits else {}
    return losses.Keras(logits_of, _version(model) < (3, 0) and bool(model.source.keras_version))


@dataclass(frozen=True)
class LossRule:
    """A loss as one Keras computes it on a model's output: the loss table's form, drawn."""

    loss: str
    form: losses.Form
    output: str  # the output activation, named in the notes

    @property
    def description(self) -> str:
        return self.form.about.format(act=self.output)

    @property
    def gradient_description(self) -> str | None:
        about = self.form.about_gradient
        return None if about is None else about.format(act=self.output)

    @property
    def needs_logits(self) -> bool:
        return self.form.logits

    @property
    def trainable(self) -> bool:
        return self.form.gradient_formula is not None

    def row_formula(self, p: str, z: str | None, y: str, n: int) -> str:
        """The loss of one row (p probabilities, z logits, y targets, n outputs)."""
        rows = {"p": p, "y": y, "n": n, **({} if z is None else {"z": z})}
        return F.render(self.form.formula, {**losses.CONSTANTS, **rows})

    def row_values(self, p: np.ndarray, z: np.ndarray | None, y: np.ndarray) -> np.ndarray:
        """What row_formula computes for each row, in NumPy (the cells' cached values)."""
        return self.form.rows(p, z, y)

    def scale(self, rows: int, outputs: int) -> int:
        return losses.get(self.loss).scale(rows, outputs)

    def gradient_formula(self, cells: dict[str, str], rows: dict[str, str], scale: int) -> str:
        """dLoss/d(cell) of one output cell for the batch's mean loss (w.r.t. z for a logits
        form, else p). cells: its "p", "z" and "y"; rows: its row's "z" and "y" ranges."""
        assert self.form.gradient_formula is not None
        values = {**losses.CONSTANTS, **cells, "z_row": rows["z"], "y_row": rows["y"]}
        return F.render(self.form.gradient_formula, {**values, "scale": scale})


def loss_rule(model: Model, loss: str) -> LossRule:
    """How Keras evaluated `loss` for this model (which formula, and why, in words)."""
    act = final_activation(model)
    return LossRule(losses.require(loss), losses.choose(loss, act, keras_of(model)), act)


def accuracy_name(n_outputs: int) -> str:
    return "binary accuracy (p > 0.5)" if n_outputs == 1 else "categorical accuracy (argmax)"
