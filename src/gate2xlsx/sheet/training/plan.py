"""The Training sheet: gradient descent unrolled in live formulas, one band of rows per step.

Each band is one optimisation step (one mini-batch, in row order as Keras with shuffle=False):
the weights at the start of the step (the first band reads the Weights sheet, every later one
computes the previous band's update), the batch's forward pass, the loss, backpropagation
down to every weight's gradient, and the optimizer's state. The band after the last step holds
the trained weights. Above the bands: the editable settings (`learning_rate`, and the
optimizer's own: `momentum`, `beta_1`, `beta_2`, `epsilon`, `rho`), the switch `use_trained`,
the trained weights (`trained_<layer>_<weight>`), the weights every other sheet computes with,
a finite-difference check of the first gradient, and `train_loss` / `train_accuracy` per epoch,
as Keras's history reports them. Cached values come from gate2xlsx.ir.fit run in float64, the
sheet's arithmetic. Each part is drawn by functions over one state (training_state.Run).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import InputError, UnsupportedModelError
from ...ir import fit
from ...ir.families.dense import Activation, Dense
from ...ir.model import Model
from ...templates_text import say
from ..keras_eval import LossRule
from ..layout import SheetPlan, paragraph, text
from ..placement import WeightRefs
from ..spec import WorkbookSpec
from .band import draw_bands
from .check import gradient_check
from .state import TITLE, new_run
from .top import draw_epochs, draw_settings, rows_table, weights_area


def loss_kind(model: Model, loss: str) -> LossRule:
    """The loss as tf.keras 2.15's `fit` computes it (gate2xlsx.ir.fit.loss_form)."""
    act = fit.output_activation(model).name
    rule = LossRule(loss, fit.loss_form(model, loss), act)
    if not rule.trainable:
        raise UnsupportedModelError(
            "the Training sheet computes categorical cross-entropy from a softmax or sigmoid "
            f"output's logits, as tf.keras does; this model's output activation is {act}"
        )
    return rule


def check_trainable(model: Model, spec: WorkbookSpec) -> None:
    fit.check_trainable(model)
    if model.layers and not isinstance(model.layers[-1], (Dense, Activation)):
        raise UnsupportedModelError("the Training sheet needs a Dense or Activation last layer")
    y = spec.rows.y
    if y is None or not len(y):
        raise InputError(
            "the Training sheet needs rows with targets: give --gate or --data with a label column"
        )
    if np.asarray(y).reshape(len(y), -1).shape[1] != model.n_outputs:
        raise InputError(
            f"the rows' targets have {np.asarray(y).reshape(len(y), -1).shape[1]} "
            f"columns but the model has {model.n_outputs} outputs"
        )


@dataclass
class Trained:
    """What the export hands on: the sheet, the weights the other sheets read, and the model
    with the weights the sheet's training reaches (for their cached values)."""

    sheet: SheetPlan
    refs: WeightRefs
    model: Model


def training_plan(model: Model, refs: WeightRefs, spec: WorkbookSpec) -> Trained:
    """The Training sheet for `spec.training`, starting from the Weights sheet (`refs`)."""
    assert spec.training is not None
    check_trainable(model, spec)
    rule = loss_kind(model, spec.training.settings.loss or "binary_crossentropy")
    run = new_run(model, refs, spec, rule)
    with np.errstate(all="ignore"):  # a diverging run's cells show #NUM!, as the sheet's will
        run.sheet.add(text(TITLE, 1, 1, say("training_title", model=spec.title), "title"))
        paragraph(run.sheet, 2, say("training_intro"))
        weights_top = draw_settings(run, 4)
        check_row = weights_top + sum(rows + 2 for rows, _ in run.shapes()) + 1
        tables_top = check_row + 5
        rows = rows_table(run, tables_top)
        run.header_row = tables_top + max(len(run.x), run.s.epochs) + 5
        bands, final = draw_bands(run, run.header_row + 4, rows)
        draw_epochs(run, tables_top, bands, rows)
        in_use = weights_area(run, weights_top, final)
        gradient_check(run, check_row, bands[0], rows)
    run.sheet.freeze = None
    return Trained(run.sheet, in_use, run.work)
