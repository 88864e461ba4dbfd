"""The Training sheet: gradient descent unrolled in live formulas, one band of rows per step.

Each band is one optimisation step (one mini-batch, in row order as Keras with shuffle=False):
the weights at the start of the step (the first band reads the Weights sheet, every later one
computes the previous band's update), the batch's forward pass, the loss, backpropagation
down to every weight's gradient, and the optimizer's state. The band after the last step holds
the trained weights. Above the bands: the editable settings (`learning_rate`, `momentum`,
`beta_1`, `beta_2`, `epsilon`), the switch `use_trained`, the trained weights
(`trained_<layer>_<weight>`), the weights every other sheet computes with, a finite-difference
check of the first gradient, and `train_loss` / `train_accuracy` per epoch, as Keras's history
reports them. Cached values come from gate2xlsx.fit run in float64, the sheet's arithmetic.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from .. import fit
from ..errors import InputError, UnsupportedModelError
from ..model import Activation, Dense, Model
from ..templates_text import say
from . import formulas as F
from . import training_formulas as T
from .keras_eval import LossRule
from .layout import Block, Chart, Region, SheetPlan, WholeNumberRule, paragraph, text, text_row
from .placement import ColumnPlacer, WeightRefs
from .spec import WorkbookSpec
from .steps import chain
from .training_band import LEFT, TITLE, Band, BandPlanner, _layer, _refs_for

FD_STEP = 1e-5  # h of the central difference beside the first gradient


# --- what is trained, and how ------------------------------------------------------------


def loss_kind(model: Model, loss: str) -> LossRule:
    """The loss as tf.keras 2.15's `fit` computes it (gate2xlsx.fit.loss_form)."""
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


# --- the plan ------------------------------------------------------------------------------


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
    plan = _Planner(model, refs, spec, spec.training, rule)
    with np.errstate(all="ignore"):  # a diverging run's cells show #NUM!, as the sheet's will
        return plan.build()


class _Planner(BandPlanner):
    """The top of the sheet, above the bands BandPlanner lays out."""

    def settings(self, row: int) -> int:
        s = self.s
        shown = [("learning_rate", s.lr, "the step size (edit me: the whole training reruns)")]
        if s.optimizer == "adam":
            shown += [
                ("beta_1", s.beta_1, "decay of the mean of gradients (Adam's m)"),
                ("beta_2", s.beta_2, "decay of the mean of squared gradients (Adam's v)"),
                ("epsilon", s.epsilon, "added to SQRT(v) before dividing"),
            ]
        elif s.optimizer == "rmsprop":
            shown += [
                ("rho", s.rho, "decay of the mean of squared gradients (RMSprop's v)"),
                ("momentum", s.momentum, "momentum of the steps: 0 is plain RMSprop"),
                ("epsilon", s.epsilon, "added to v inside SQRT before dividing"),
            ]
        else:
            nesterov = " (Nesterov)" if s.nesterov else ""
            shown.append(("momentum", s.momentum, f"SGD momentum{nesterov}: 0 is plain SGD"))
        self.sheet.add(text(TITLE, row, 1, "Settings", "layer"))
        for offset, (name, value, note) in enumerate(shown, start=1):
            self.sheet.add(
                text(TITLE, row + offset, 1, name, "step"),
                Region(
                    Block(TITLE, row + offset, 2),
                    "input_small" if value < 1e-3 else "weight",
                    values=[[value]],
                    name=name,
                ),  # fmt: skip
                text(TITLE, row + offset, 3, note, "note"),
            )
            self.names[name] = name
        row += len(shown) + 1
        switch = Block(TITLE, row, 2)
        self.sheet.add(
            text(TITLE, row, 1, "use_trained (0 or 1)", "step"),
            Region(switch, "choice", values=[[int(self.how.use_trained)]], name="use_trained"),
            text(TITLE, row, 3, say("use_trained_note"), "note"),
        )
        self.sheet.validations.append(WholeNumberRule(switch, 0, 1, say("use_trained_note")))
        lines = [
            f"optimizer: {s.optimizer}; loss: {self.rule.loss} ({self.rule.gradient_description})",
            f"{s.epochs} epochs of {self.steps_per_epoch} steps: batches of {s.batch_size} "
            f"rows in order (shuffle=False), {len(self.x)} rows",
        ]
        for offset, line in enumerate(lines, start=1):
            self.sheet.add(text(TITLE, row + offset, 1, line, "note"))
        return row + len(lines) + 2

    def build(self) -> Trained:
        sheet = self.sheet
        sheet.add(text(TITLE, 1, 1, say("training_title", model=self.spec.title), "title"))
        paragraph(sheet, 2, say("training_intro"))
        weights_top = self.settings(4)
        check_row = weights_top + sum(rows + 2 for rows, _ in self.shapes()) + 1
        tables_top = check_row + 5
        rows_table = self._rows_table(tables_top)
        self.header_row = tables_top + max(len(self.x), self.s.epochs) + 5
        bands, final = self._bands(self.header_row + 4, rows_table)
        self._epochs(tables_top, bands, rows_table)
        self.in_use = self._weights_area(weights_top, final)
        self._gradient_check(check_row, bands[0], rows_table)
        sheet.freeze = None
        return Trained(sheet, self.in_use, self.work)

    def _rows_table(self, top: int) -> tuple[Block, Block]:
        """The rows trained on (editable), right of the epoch table: inputs, then targets."""
        n, k = self.x.shape[1], self.y.shape[1]
        x = Block(TITLE, top + 3, 6, len(self.x), n)
        y = Block(TITLE, top + 3, x.right + 2, len(self.x), k)
        self.sheet.add(
            text(TITLE, top, x.left, "Training rows (edit me)", "layer"),
            text(TITLE, top + 1, x.left, "x", "step"),
            text_row(TITLE, top + 2, x.left, self.spec.inputs),
            Region(x, "input", values=self.x),
            text(TITLE, top + 1, y.left, "y (target)", "step"),
            text_row(TITLE, top + 2, y.left, [str(j + 1) for j in range(k)]),
            Region(y, "input", values=self.y),
        )
        return x, y

    def _epochs(self, top: int, bands: list[Band], rows_table: tuple[Block, Block]) -> None:
        """`train_loss` and `train_accuracy`, one row per epoch, and their chart."""
        epochs, count = self.s.epochs, len(self.x)
        loss = Block(TITLE, top + 3, 2, epochs, 1)
        accuracy = Block(TITLE, top + 3, 3, epochs, 1)
        last = [bands[(e + 1) * self.steps_per_epoch - 1] for e in range(epochs)]

        def loss_formula(i: int, j: int) -> str:
            return F.formula(T.share(last[i].loss_sum.cell(on=TITLE), count))

        def accuracy_formula(i: int, j: int) -> str:
            return F.formula(T.share(last[i].hits_sum.cell(on=TITLE), count))

        self.sheet.add(
            text(TITLE, top, 1, "Per epoch, as Keras's history reports it", "layer"),
            text_row(TITLE, top + 2, 1, ["epoch", "train_loss", "train_accuracy"]),
            Region(
                Block(TITLE, top + 3, 1, epochs, 1),
                "header",
                values=[[e + 1] for e in range(epochs)],
            ),
            Region(
                loss,
                "summary",
                cell_formula=loss_formula,
                name="train_loss",
                results=np.array(self.history_loss).reshape(-1, 1),
            ),
            Region(
                accuracy,
                "percent",
                cell_formula=accuracy_formula,
                name="train_accuracy",
                results=np.array(self.history_accuracy).reshape(-1, 1),
            ),
        )
        anchor = F.cell(top, rows_table[1].right + 2)
        self.sheet.charts.append(
            Chart(
                "Loss and accuracy per epoch",
                Block(TITLE, loss.top, 2, epochs, 2),
                Block(TITLE, loss.top, 1, epochs, 1),
                anchor,
                series_in_rows=False,
                y_title="loss, accuracy",
                series_names=["train_loss", "train_accuracy"],
                line=True,
                x_title="epoch",
            )
        )

    # the top of the sheet ----------------------------------------------------------------------

    def _weights_area(self, top: int, final: Band) -> WeightRefs:
        """The trained weights (named), and the weights every other sheet computes with."""
        refs = WeightRefs(dict(self.start.entries), set(self.start.addressed))
        taken = {name for name, _ in self.start.entries.values()}
        row = top
        for q, (layer, key) in enumerate(self.params):
            rows, cols = self.shapes()[q]
            name = "trained_" + self.start.name(layer, key)
            if name in taken:
                raise UnsupportedModelError(
                    f"the model already has a weight named {name!r}, the "
                    "name the Training sheet gives a trained weight"
                )
            trained = Block(TITLE, row + 1, 2, rows, cols)
            used = Block(TITLE, row + 1, trained.right + 2, rows, cols)
            start = self.start.block(layer, key)
            last, values = final.weights[q], np.reshape(layer.weights()[key].values, (rows, cols))
            given = _layer(self.model, layer.name).weights()[key].values
            shown = values if self.how.use_trained else np.reshape(given, (rows, cols))
            self.sheet.add(
                text(TITLE, row, 1, f"{layer.name} {key}", "step"),
                text(TITLE, row, trained.left, f"{name} (after training)", "note"),
                text(TITLE, row, used.left, "in use by the other sheets", "note"),
                Region(
                    trained,
                    "output",
                    name=name,
                    results=values,
                    cell_formula=lambda i, j, b=last: F.formula(
                        F.reference(b.cell(i, j, on=TITLE))
                    ),
                ),
                Region(
                    used,
                    "computed",
                    results=shown,
                    cell_formula=lambda i, j, a=trained, b=start: F.formula(
                        F.switch(
                            "use_trained",
                            a.cell(i, j, on=TITLE),
                            b.cell(i, j, absolute=True, on=TITLE),
                        )
                    ),
                ),
            )
            refs.entries[(layer.name, key)] = (self.start.name(layer, key), used)
            refs.addressed.add((layer.name, key))
            row += rows + 2
        return refs

    def _gradient_check(self, row: int, first: Band, rows_table: tuple[Block, Block]) -> None:
        """The first step's gradient of one weight (the largest) beside a central difference of
        the batch loss (the first batch forward again with that weight moved by +h and -h)."""
        q, (i, j) = self.checked
        layer, key = self.params[q]
        top, found = self.after_bands, []
        for h in (FD_STEP, -FD_STEP):
            found.append(self._moved_forward(top, first, rows_table, h))
            top += self._height(first.size) + 2
        (plus, plus_value), (minus, minus_value) = found
        backprop = first.grads[q].cell(i, j, on=TITLE)
        estimate = (plus_value - minus_value) / (2 * FD_STEP)
        cells = [Block(TITLE, row + n, 2).cell(on=TITLE) for n in range(3)]
        formulas = [
            F.reference(backprop),
            T.central_difference(plus.cell(on=TITLE), minus.cell(on=TITLE), F.number(FD_STEP)),
            T.absolute_difference(cells[0], cells[1]),
        ]
        values = [self.first_gradient, estimate, abs(self.first_gradient - estimate)]
        labels = [
            f"backprop: dL/d {layer.name} {key}[{i + 1},{j + 1}]",
            f"finite difference, h = {FD_STEP:g}",
            "difference",
        ]
        self.sheet.add(
            text(TITLE, row - 1, 1, "Gradient check (step 1)", "layer"),
            text(TITLE, row - 1, 3, say("gradient_check_note"), "note"),
        )
        for n, (label, body, value) in enumerate(zip(labels, formulas, values)):
            self.sheet.add(
                text(TITLE, row + n, 1, label, "step"),
                Region(
                    Block(TITLE, row + n, 2),
                    "tiny" if n == 2 else "precise",
                    results=[[value]],
                    cell_formula=lambda _i, _j, b=body: F.formula(b),
                ),
            )

    def _moved_forward(self, top: int, first: Band, rows_table, h: float) -> tuple[Block, float]:
        """The first batch's loss block (and value) with the checked weight moved by h."""
        q, (ci, cj) = self.checked
        layer, key = self.params[q]
        sign = "+" if h > 0 else "-"
        self.sheet.add(
            text(
                TITLE,
                top,
                1,
                f"gradient check: step 1 with {layer.name} {key}[{ci + 1},{cj + 1}] {sign} h",
                "step",
            )
        )
        size = first.size
        placer = ColumnPlacer(TITLE, self.header_row, top, size, LEFT, labelled=False)
        source = first.weights[q]
        moved = placer.step("moved weight", source.cols, rows=source.rows)
        model = copy.deepcopy(self.model)
        param = _layer(model, layer.name).weights()[key]
        param.values = param.values.copy()
        param.values.reshape(source.rows, source.cols)[ci, cj] += h

        def cell(i: int, j: int) -> str:
            ref = source.cell(i, j, on=TITLE)
            return F.formula(T.moved(ref, h) if (i, j) == (ci, cj) else F.reference(ref))

        placer.regions.append(
            Region(
                moved,
                "computed",
                cell_formula=cell,
                results=param.values.reshape(moved.rows, moved.cols),
            )
        )
        xt, yt = rows_table
        x = Block(TITLE, xt.top, xt.left, size, xt.cols)
        y = Block(TITLE, yt.top, yt.left, size, yt.cols)
        placer.values[x] = self.x[:size]
        weights = [moved if n == q else b for n, b in enumerate(first.weights)]
        record: dict[str, Block] = {}
        p = chain(model, _refs_for(self.params, weights, self.start), placer, x, record=record)
        found = fit.backprop(model, self.rule.loss, self.x[:size], self.y[:size])
        rows, value = self._row_losses(
            placer, p, record[model.layers[-1].name], y, found, self.y[:size]
        )
        loss = placer.step("batch loss", 1, rows=1)
        placer.regions.append(
            Region(
                loss,
                "summary",
                results=[[value]],
                cell_formula=lambda i, j: F.formula(F.average(rows.ref(absolute=False))),
            )
        )
        self.sheet.add(*placer.regions)
        return loss, value
