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
from dataclasses import dataclass, field

import numpy as np

from .. import activations, fit
from ..errors import InputError, UnsupportedModelError
from ..model import Activation, Dense, Model
from ..templates_text import say
from . import formulas as F
from . import training_formulas as T
from .batch import predicted_index, predicted_indices, true_index
from .keras_eval import LossRule
from .layout import Block, Chart, Region, SheetPlan, WholeNumberRule, paragraph, text, text_row
from .placement import ColumnPlacer, WeightRefs
from .spec import TrainingSpec, WorkbookSpec
from .steps import chain

TITLE = "Training"
LEFT = 4  # bands start in column D: A holds the step's name, B its number
# Cells the sheet may hold: LibreOffice recalculates about this many in BUDGET_SECONDS here
# (benchmarks/run.py, the training rows); beyond it the export refuses the sheet.
CELL_BUDGET = 1_500_000
BUDGET_SECONDS = 20
FD_STEP = 1e-5  # h of the central difference beside the first gradient
COPY_CELLS = 64  # a band shows its batch's inputs and targets when they are this small


# --- what is trained, and how ------------------------------------------------------------


def loss_kind(model: Model, loss: str) -> LossRule:
    """The loss as tf.keras 2.15's `fit` computes it (gate2xlsx.fit.loss_and_grad)."""
    act = fit._output_act(model).name
    logits = act in fit.LOGIT_OUTPUTS and loss != "mse"
    if loss == "mse":
        return LossRule(loss, "mse", "mean squared error: mean of (p - y)^2")
    if loss == "binary_crossentropy":
        if logits:
            return LossRule(loss, "bce_logits", f"binary cross-entropy from the logits z (tf.keras "
                            f"reads the {act}'s input); its gradient is sigmoid(z) - y")  # fmt: skip
        return LossRule(loss, "bce_clip_eps", "binary cross-entropy of p clipped to "
                        "[1e-7, 1-1e-7], 1e-7 added inside LN")  # fmt: skip
    if logits:
        return LossRule(loss, "cce_logits", f"categorical cross-entropy from the logits z "
                        f"(tf.keras reads the {act}'s input); its gradient is softmax(z) - y")  # fmt: skip
    raise UnsupportedModelError(
        "the Training sheet computes categorical cross-entropy from a softmax or sigmoid "
        f"output's logits, as tf.keras does; this model's output activation is {act}"
    )


def check_trainable(model: Model, spec: WorkbookSpec) -> None:
    fit.check_trainable(model)
    if model.layers and not isinstance(model.layers[-1], (Dense, Activation)):
        raise UnsupportedModelError("the Training sheet needs a Dense or Activation last layer")
    y = spec.rows.y
    if y is None or not len(y):
        raise InputError("the Training sheet needs rows with targets: give --gate or --data "
                         "with a label column")  # fmt: skip
    if np.asarray(y).reshape(len(y), -1).shape[1] != model.n_outputs:
        raise InputError(f"the rows' targets have {np.asarray(y).reshape(len(y), -1).shape[1]} "
                         f"columns but the model has {model.n_outputs} outputs")  # fmt: skip


# --- the plan ------------------------------------------------------------------------------


@dataclass
class Band:
    """One step's blocks that the next step (or the top of the sheet) reads."""

    weights: list[Block]
    grads: list[Block] = field(default_factory=list)
    m: list[Block] = field(default_factory=list)
    v: list[Block] = field(default_factory=list)
    alpha: Block | None = None
    loss: Block | None = None
    hits: Block | None = None
    size: int = 0


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
    plan = _Planner(model, refs, spec, spec.training)
    return plan.build()


class _Planner:
    def __init__(self, model: Model, refs: WeightRefs, spec: WorkbookSpec, how: TrainingSpec):
        self.model, self.start, self.spec, self.how = model, refs, spec, how
        self.s = how.settings
        self.rule = loss_kind(model, self.s.loss or "binary_crossentropy")
        self.x = np.asarray(spec.rows.x, dtype=np.float64)
        self.y = np.asarray(spec.rows.y, dtype=np.float64).reshape(len(self.x), -1)
        self.work = copy.deepcopy(model)  # trained in float64 as the sheet computes
        self.params = [
            (layer, key)
            for layer in self.work.layers
            if isinstance(layer, Dense)
            for key in layer.weights()
        ]
        self.optimizer = fit.Optimizer(
            self.s, [layer.weights()[key].values.shape for layer, key in self.params], np.float64
        )
        self.sheet = SheetPlan(TITLE, widths={1: 30, 2: 12, 3: 3})
        self.names: dict[str, str] = {}

    # the settings --------------------------------------------------------------------------

    def settings(self, row: int) -> int:
        s = self.s
        shown = [("learning_rate", s.lr, "the step size (edit me: the whole training reruns)")]
        if s.optimizer == "adam":
            shown += [("beta_1", s.beta_1, "decay of the mean of gradients (Adam's m)"),
                      ("beta_2", s.beta_2, "decay of the mean of squared gradients (Adam's v)"),
                      ("epsilon", s.epsilon, "added to SQRT(v) before dividing")]  # fmt: skip
        else:
            nesterov = " (Nesterov)" if s.nesterov else ""
            shown.append(("momentum", s.momentum, f"SGD momentum{nesterov}: 0 is plain SGD"))
        self.sheet.add(text(TITLE, row, 1, "Settings", "layer"))
        for offset, (name, value, note) in enumerate(shown, start=1):
            self.sheet.add(
                text(TITLE, row + offset, 1, name, "step"),
                Region(Block(TITLE, row + offset, 2), "weight", values=[[value]], name=name),
                text(TITLE, row + offset, 3, note, "note"),
            )
            self.names[name] = name
        row += len(shown) + 1
        switch = Block(TITLE, row, 2)
        self.sheet.add(
            text(TITLE, row, 1, "use_trained (0 or 1)", "step"),
            Region(switch, "weight", values=[[int(self.how.use_trained)]], name="use_trained"),
            text(TITLE, row, 3, say("use_trained_note"), "note"),
        )
        self.sheet.validations.append(WholeNumberRule(switch, 0, 1, say("use_trained_note")))
        lines = [
            f"optimizer: {s.optimizer}; loss: {self.rule.loss} ({self.rule.description})",
            f"{s.epochs} epochs of {self.steps_per_epoch} steps: batches of {s.batch_size} "
            f"rows in order (shuffle=False), {len(self.x)} rows",
        ]
        for offset, line in enumerate(lines, start=1):
            self.sheet.add(text(TITLE, row + offset, 1, line, "note"))
        return row + len(lines) + 2

    @property
    def steps_per_epoch(self) -> int:
        return -(-len(self.x) // self.s.batch_size)

    def batches(self) -> list[tuple[int, int, int, int]]:
        """(step 1-based, epoch 1-based, first row, rows) of every step, in order."""
        found, t = [], 0
        for epoch in range(1, self.s.epochs + 1):
            for start in range(0, len(self.x), self.s.batch_size):
                t += 1
                found.append((t, epoch, start, min(self.s.batch_size, len(self.x) - start)))
        return found

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

    def shapes(self) -> list[tuple[int, int]]:
        return [_grid_shape(layer.weights()[key].values) for layer, key in self.params]

    # the rows, the epochs --------------------------------------------------------------------

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
        per_epoch = self.steps_per_epoch
        groups = [bands[e * per_epoch : (e + 1) * per_epoch] for e in range(epochs)]

        def loss_formula(i: int, j: int) -> str:
            pairs = [(band.loss.cell(on=TITLE), band.size) for band in groups[i]]
            return F.formula(T.weighted_mean(pairs, count))

        def accuracy_formula(i: int, j: int) -> str:
            hits = T.total([band.hits.cell(on=TITLE) for band in groups[i]])
            return F.formula(f"({hits})/{count}")

        self.sheet.widths[3] = 14
        self.sheet.add(
            text(TITLE, top, 1, "Per epoch, as Keras's history reports it", "layer"),
            text_row(TITLE, top + 2, 1, ["epoch", "train_loss", "train_accuracy"]),
            Region(Block(TITLE, top + 3, 1, epochs, 1), "header",
                   values=[[e + 1] for e in range(epochs)]),
            Region(loss, "summary", cell_formula=loss_formula, name="train_loss",
                   results=np.array(self.history_loss).reshape(-1, 1)),
            Region(accuracy, "percent", cell_formula=accuracy_formula, name="train_accuracy",
                   results=np.array(self.history_accuracy).reshape(-1, 1)),
        )  # fmt: skip
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

    # the bands ---------------------------------------------------------------------------------

    def _bands(self, top: int, rows_table: tuple[Block, Block]) -> tuple[list[Band], Band]:
        bands: list[Band] = []
        self.history_loss, self.history_accuracy = [], []
        totals = [0.0, 0.0]
        prev: Band | None = None
        for t, epoch, start, size in self.batches():
            band = self._band(top, rows_table, prev, (t, epoch, start, size))
            bands.append(band)
            totals[0] += self.batch_loss * size
            totals[1] += self.batch_hits
            if start + size == len(self.x):
                self.history_loss.append(totals[0] / len(self.x))
                self.history_accuracy.append(totals[1] / len(self.x))
                totals = [0.0, 0.0]
            if t == 1:
                self._budget(self.sheet.regions)
            top += self._height(size) + 1
            prev = band
        final = self._weight_blocks(top, prev, labelled=False)
        self.sheet.add(
            text(TITLE, top, 1, "after the last step: the trained weights", "layer"),
        )
        self.after_bands = top + max(rows for rows, _ in self.shapes()) + 2
        return bands, final

    def _height(self, size: int) -> int:
        return max(size, *(rows for rows, _ in self.shapes()))

    def _weight_blocks(self, top: int, prev: Band | None, labelled: bool) -> Band:
        """A band's first blocks: the weights at the start of its step, each shaped as Keras
        stores it; the first band reads the Weights sheet, every later one updates the last."""
        placer = ColumnPlacer(TITLE, self.header_row, top, 1, LEFT, labelled=labelled)
        placer.heading("Weights at the start of the step", [])
        blocks = []
        for q, ((layer, key), (rows, cols)) in enumerate(zip(self.params, self.shapes())):
            block = placer.step(f"{layer.name} {key}", cols, rows)
            body = self._start_cell(layer, key) if prev is None else self._update(prev, q)
            values = np.array(layer.weights()[key].values, dtype=np.float64).reshape(rows, cols)
            placer.regions.append(
                Region(block, "computed", cell_formula=lambda i, j, body=body: F.formula(body(i, j)),
                       results=values, fill_down=True)
            )  # fmt: skip
            blocks.append(block)
        self.sheet.add(*placer.regions)
        self.col = placer.col
        return Band(blocks)

    def _start_cell(self, layer, key):
        source = self.start.block(layer, key)
        return lambda i, j: F.reference(source.cell(i, j, absolute=True, on=TITLE))

    def _update(self, prev: Band, q: int):
        w, g, m = prev.weights[q], prev.grads[q], prev.m[q]
        if self.s.optimizer == "adam":
            v, alpha = prev.v[q], prev.alpha.cell(absolute=True, on=TITLE)
            return lambda i, j: T.adam_step(
                w.cell(i, j, on=TITLE), m.cell(i, j, on=TITLE), v.cell(i, j, on=TITLE), alpha,
                "epsilon",
            )  # fmt: skip
        return lambda i, j: T.sgd_step(
            w.cell(i, j, on=TITLE), g.cell(i, j, on=TITLE), m.cell(i, j, on=TITLE),
            "learning_rate", "momentum", self.s.nesterov,
        )  # fmt: skip

    def _band(self, top: int, rows_table: tuple[Block, Block], prev: Band | None,
              where: tuple[int, int, int, int]) -> Band:  # fmt: skip
        """One step: weights, forward pass, loss, backpropagation, optimizer state."""
        t, epoch, start, size = where
        first = prev is None
        band = self._weight_blocks(top, prev, labelled=first)
        self.sheet.add(
            text(TITLE, top, 1, f"step {t}: epoch {epoch}, rows {start + 1}-{start + size}",
                 "step"),
            Region(Block(TITLE, top, 2), "header", values=[[t]]),
        )  # fmt: skip
        placer = ColumnPlacer(TITLE, self.header_row, top, size, self.col, labelled=first)
        xb, yb = self.x[start : start + size], self.y[start : start + size]
        x, y = self._batch(placer, rows_table, start, size)
        placer.values[x] = xb
        record: dict[str, Block] = {}
        outputs: dict[str, Block] = {}
        refs = _refs_for(self.params, band.weights, self.start)
        p = chain(self.work, refs, placer, x, mode="mmult", record=record, outputs=outputs)
        found = fit.backprop(self.work, self.rule.loss, xb, yb)
        if first:  # the gradient check shows the kernel weight with the largest gradient (a
            # bias at 0 would sit on relu's kink for inputs of 0, where no difference works)
            kernels = [n for n, (_, key) in enumerate(self.params) if key == "kernel"]
            q = max(kernels, key=lambda n: float(np.abs(found.grads[n]).max()))
            shape = self.shapes()[q]
            at = np.unravel_index(int(np.argmax(np.abs(found.grads[q]))), shape)
            self.checked = (q, (int(at[0]), int(at[1])))
            self.first_gradient = float(np.reshape(found.grads[q], shape)[at])
        z = record[self.work.layers[-1].name]
        band.loss, band.hits = self._scored(placer, p, z, y, found, yb)
        self._backward(placer, band, found, (x, y, p, z), record, outputs)
        self.optimizer.apply([layer.weights()[key].values for layer, key in self.params],
                             found.grads)  # fmt: skip
        self._state(placer, band, prev, t)
        band.size = size
        self.sheet.add(*placer.regions)
        return band

    def _batch(self, placer: ColumnPlacer, rows_table: tuple[Block, Block], start: int,
               size: int) -> tuple[Block, Block]:  # fmt: skip
        """The batch's inputs and targets: copied into the band when small, else the rows
        table's own cells."""
        xt, yt = rows_table
        x = Block(TITLE, xt.top + start, xt.left, size, xt.cols)
        y = Block(TITLE, yt.top + start, yt.left, size, yt.cols)
        if size * (x.cols + y.cols) > COPY_CELLS:
            return x, y
        copies = []
        placer.heading("The batch", [])
        for label, source, values in (("x", x, self.x), ("y (target)", y, self.y)):
            block = placer.step(label, source.cols)
            placer.regions.append(
                Region(block, "computed", results=values[start : start + size],
                       cell_formula=lambda i, j, s=source, b=block: F.formula(
                           F.reference(s.cell(i, j, on=TITLE))))
            )  # fmt: skip
            copies.append(block)
        return copies[0], copies[1]

    def _scored(self, placer, p: Block, z: Block, y: Block, found: fit.Backprop,
                yb: np.ndarray) -> tuple[Block, Block]:  # fmt: skip
        """Each row's loss and whether its prediction is right; the batch's loss and hits."""
        k = p.cols
        placer.heading("Loss", [])
        rows, self.batch_loss = self._row_losses(placer, p, z, y, found, yb)
        hits = placer.step("correct", 1)
        truth = yb[:, 0] if k == 1 else np.argmax(yb, axis=1)
        right = (predicted_indices(found.outs[-1]) == truth).astype(np.int64)
        placer.regions.append(
            Region(hits, "result", results=right.reshape(-1, 1), fill_down=True,
                   cell_formula=lambda i, j: F.formula(F.same(
                       predicted_index(p.row(i, on=TITLE), k), true_index(y, i, k))))
        )  # fmt: skip
        batch_loss = placer.step("batch loss (mean)", 1, rows=1)
        batch_hits = placer.step("rows right", 1, rows=1)
        self.batch_hits = int(right.sum())
        placer.regions += [
            Region(batch_loss, "summary", results=[[self.batch_loss]],
                   cell_formula=lambda i, j: F.formula(F.average(rows.ref(absolute=False)))),
            Region(batch_hits, "computed", results=[[self.batch_hits]],
                   cell_formula=lambda i, j: F.formula(T.column_sum(hits.ref(absolute=False)))),
        ]  # fmt: skip
        return batch_loss, batch_hits

    def _backward(self, placer, band: Band, found: fit.Backprop, batch, record, outputs) -> None:
        """From the loss's gradient back to every weight's gradient (fit.backprop's order)."""
        x, y, p, z = batch
        layers, k = self.work.layers, p.cols
        placer.heading("Backpropagation", [])
        kind, scale = self.rule.kind, p.rows * (1 if kind_is_categorical(self.rule) else k)
        label = "dL/dz (the loss's gradient at the logits)" if found.at_logits else "dL/dp"
        g = placer.step(label, k)
        at = found.local[-1] if found.at_logits else found.upstream[-1]
        placer.regions.append(Region(g, "computed", results=at, fill_down=True,
            cell_formula=lambda i, j: F.formula(T.loss_gradient(
                kind, p.cell(i, j, on=TITLE), z.cell(i, j, on=TITLE), y.cell(i, j, on=TITLE),
                {"z": z.row(i, on=TITLE), "y": y.row(i, on=TITLE)}, scale))))  # fmt: skip
        grads: dict[int, Block] = {}
        index = {(layer.name, key): q for q, (layer, key) in enumerate(self.params)}
        for i in range(len(layers) - 1, -1, -1):
            layer = layers[i]
            inp = outputs[layers[i - 1].name] if i > 0 else x
            if not (found.at_logits and i == len(layers) - 1):
                g = self._vjp(placer, layer, record[layer.name], outputs[layer.name], g,
                              found.local[i])  # fmt: skip
            if not isinstance(layer, Dense):
                continue
            for key in layer.weights():
                q = index[(layer.name, key)]
                grads[q] = self._gradient(placer, layer, key, inp, g, found.grads[q])
            if any(isinstance(before, Dense) for before in layers[:i]):
                kernel = band.weights[index[(layer.name, "kernel")]]
                ga = placer.step(f"dL/d(input of {layer.name}) = SUMPRODUCT(dL/dz, W row)", inp.cols)
                placer.regions.append(Region(ga, "computed", results=found.upstream[i - 1],
                    fill_down=True, cell_formula=lambda e, j, g=g, kernel=kernel: F.formula(
                        T.products(g.row(e, on=TITLE), kernel.row(j, on=TITLE)))))  # fmt: skip
                g = ga
        band.grads = [grads[q] for q in range(len(self.params))]

    def _vjp(self, placer, layer, pre: Block, out: Block, g: Block, values) -> Block:
        """dL/dz from dL/da through the layer's activation (the table's vjp formula)."""
        act = layer.activation
        template = activations.get(act.name).vjp_formula
        if act.name == "linear":
            return g
        gz = placer.step(f"{layer.name}: dL/dz through {act.name}", g.cols)

        def cell(i: int, j: int) -> str:
            return F.formula(F.render(template, {
                "x": pre.cell(i, j, on=TITLE), "y": out.cell(i, j, on=TITLE),
                "g": g.cell(i, j, on=TITLE), "g_row": g.row(i, on=TITLE),
                "y_row": out.row(i, on=TITLE)}))  # fmt: skip

        placer.regions.append(
            Region(gz, "computed", cell_formula=cell, results=values, fill_down=True)
        )
        return gz

    def _gradient(self, placer, layer, key: str, inp: Block, g: Block, values) -> Block:
        """dL/dW = SUMPRODUCT(input column, dL/dz column); dL/db = SUM(dL/dz column)."""
        if key == "bias":
            block = placer.step(f"{layer.name} bias gradient = SUM(dL/dz)", g.cols, rows=1)
            body = lambda i, j: T.column_sum(g.column(j, on=TITLE))  # noqa: E731
        else:
            block = placer.step(f"{layer.name} kernel gradient = SUMPRODUCT(x, dL/dz)", g.cols,
                                rows=inp.cols)  # fmt: skip
            body = lambda i, j: T.products(inp.column(i, on=TITLE), g.column(j, on=TITLE))  # noqa: E731
        placer.regions.append(
            Region(block, "computed", results=np.reshape(values, (block.rows, block.cols)),
                   cell_formula=lambda i, j: F.formula(body(i, j)))
        )  # fmt: skip
        return block

    def _state(self, placer, band: Band, prev: Band | None, t: int) -> None:
        """The optimizer's state after the step: SGD's velocity, or Adam's m, v and step size."""
        adam = self.s.optimizer == "adam"
        placer.heading("Optimizer state after the step", [])
        kinds = [("m", self.optimizer.m), ("v", self.optimizer.v)] if adam else [
            ("velocity", self.optimizer.m)]  # fmt: skip
        for name, state in kinds:
            for q, (layer, key) in enumerate(self.params):
                g = band.grads[q]
                block = placer.step(f"{layer.name} {key}: {name}", g.cols, rows=g.rows)
                before = None if prev is None else (prev.m if name != "v" else prev.v)[q]
                body = _state_formula(name, before, g)
                placer.regions.append(
                    Region(block, "computed", results=np.array(state[q]).reshape(g.rows, g.cols),
                           cell_formula=lambda i, j, body=body: F.formula(body(i, j)),
                           fill_down=True)
                )  # fmt: skip
                (band.v if name == "v" else band.m).append(block)
        if adam:
            band.alpha = placer.step("step size alpha", 1, rows=1)
            b1, b2, lr = (np.float64(self.s.beta_1), np.float64(self.s.beta_2),
                          np.float64(self.s.lr))  # fmt: skip
            alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
            step = Block(TITLE, band.weights[0].top, 2).cell(on=TITLE)
            placer.regions.append(Region(band.alpha, "computed", results=[[float(alpha)]],
                cell_formula=lambda i, j: F.formula(T.adam_alpha(
                    "learning_rate", "beta_1", "beta_2", step))))  # fmt: skip

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
                raise UnsupportedModelError(f"the model already has a weight named {name!r}, the "
                                            "name the Training sheet gives a trained weight")  # fmt: skip
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
                Region(trained, "output", name=name, results=values,
                       cell_formula=lambda i, j, b=last: F.formula(F.reference(b.cell(i, j, on=TITLE)))),
                Region(used, "computed", results=shown,
                       cell_formula=lambda i, j, a=trained, b=start: F.formula(T.switch(
                           "use_trained", a.cell(i, j, on=TITLE), b.cell(i, j, absolute=True, on=TITLE)))),
            )  # fmt: skip
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
            f"ABS({cells[0]}-{cells[1]})",
        ]
        values = [self.first_gradient, estimate, abs(self.first_gradient - estimate)]
        labels = [f"backprop: dL/d {layer.name} {key}[{i + 1},{j + 1}]",
                  f"finite difference, h = {FD_STEP:g}", "difference"]  # fmt: skip
        self.sheet.add(
            text(TITLE, row - 1, 1, "Gradient check (step 1)", "layer"),
            text(TITLE, row - 1, 3, say("gradient_check_note"), "note"),
        )
        for n, (label, body, value) in enumerate(zip(labels, formulas, values)):
            self.sheet.add(
                text(TITLE, row + n, 1, label, "step"),
                Region(Block(TITLE, row + n, 2), "stored" if n == 2 else "computed",
                       results=[[value]], cell_formula=lambda _i, _j, b=body: F.formula(b)),
            )  # fmt: skip

    def _moved_forward(self, top: int, first: Band, rows_table, h: float) -> tuple[Block, float]:
        """The first batch's loss block (and value) with the checked weight moved by h."""
        q, (ci, cj) = self.checked
        layer, key = self.params[q]
        sign = "+" if h > 0 else "-"
        self.sheet.add(text(TITLE, top, 1, f"gradient check: step 1 with {layer.name} {key}"
                            f"[{ci + 1},{cj + 1}] {sign} h", "step"))  # fmt: skip
        size = first.size
        placer = ColumnPlacer(TITLE, self.header_row, top, size, LEFT, labelled=False)
        source = first.weights[q]
        moved = placer.step("moved weight", source.cols, rows=source.rows)
        model = copy.deepcopy(self.model)
        param = _layer(model, layer.name).weights()[key]
        param.values = param.values.copy()
        param.values.reshape(source.rows, source.cols)[ci, cj] += h

        def cell(i: int, j: int) -> str:
            shift = f"{sign}{F.number(abs(h))}" if (i, j) == (ci, cj) else ""
            return F.formula(source.cell(i, j, on=TITLE) + shift)

        placer.regions.append(Region(moved, "computed", cell_formula=cell,
                                     results=param.values.reshape(moved.rows, moved.cols)))
        xt, yt = rows_table
        x = Block(TITLE, xt.top, xt.left, size, xt.cols)
        y = Block(TITLE, yt.top, yt.left, size, yt.cols)
        placer.values[x] = self.x[:size]
        weights = [moved if n == q else b for n, b in enumerate(first.weights)]
        record: dict[str, Block] = {}
        p = chain(model, _refs_for(self.params, weights, self.start), placer, x, record=record)
        found = fit.backprop(model, self.rule.loss, self.x[:size], self.y[:size])
        rows, value = self._row_losses(placer, p, record[model.layers[-1].name], y, found,
                                       self.y[:size])  # fmt: skip
        loss = placer.step("batch loss", 1, rows=1)
        placer.regions.append(Region(loss, "summary", results=[[value]],
            cell_formula=lambda i, j: F.formula(F.average(rows.ref(absolute=False)))))  # fmt: skip
        self.sheet.add(*placer.regions)
        return loss, value

    def _row_losses(self, placer, p: Block, z: Block, y: Block, found: fit.Backprop,
                    yb: np.ndarray) -> tuple[Block, float]:  # fmt: skip
        """Each row's loss (the Truth table's formula); its block and the batch's mean."""
        rule, k = self.rule, p.cols
        logits = z if rule.needs_logits else None
        values = rule.row_values(found.outs[-1], found.pres[-1], yb)
        rows = placer.step("loss of row", 1)
        placer.regions.append(
            Region(rows, "computed", results=values.reshape(-1, 1), fill_down=True,
                   cell_formula=lambda i, j: F.formula(rule.row_formula(
                       p.row(i, on=TITLE), logits.row(i, on=TITLE) if logits else None,
                       y.row(i, on=TITLE), k)))
        )  # fmt: skip
        return rows, float(values.mean())

    def _budget(self, regions: list[Region]) -> None:
        """Refuse, after planning the first step, a sheet past the recalculation budget."""
        per_step = sum(r.block.rows * r.block.cols for r in regions if r.cell_formula)
        steps = len(self.batches())
        if per_step * steps > CELL_BUDGET:
            fit_epochs = CELL_BUDGET // (per_step * self.steps_per_epoch)
            raise InputError(
                f"the Training sheet would hold about {per_step * steps:,} formula cells "
                f"({per_step:,} per step x {steps:,} steps), past its budget of "
                f"{CELL_BUDGET:,} (about {BUDGET_SECONDS} s of LibreOffice recalculation); "
                f"{fit_epochs} epochs fit: give --epochs {max(fit_epochs, 1)} or fewer"
            )


def kind_is_categorical(rule: LossRule) -> bool:
    return rule.kind.startswith("cce")


def _layer(model: Model, name: str):
    return next(layer for layer in model.layers if layer.name == name)


def _grid_shape(values: np.ndarray) -> tuple[int, int]:
    return (values.shape[0], values.shape[1]) if values.ndim == 2 else (1, values.size)


def _refs_for(params, blocks: list[Block], start: WeightRefs) -> WeightRefs:
    """The weights a band's forward pass reads: its own blocks, by address."""
    refs = WeightRefs(dict(start.entries), set(start.addressed))
    for (layer, key), block in zip(params, blocks):
        refs.entries[(layer.name, key)] = (start.name(layer, key), block)
        refs.addressed.add((layer.name, key))
    return refs


def _state_formula(name: str, before: Block | None, g: Block):
    def prior(i: int, j: int) -> str:
        return "0" if before is None else before.cell(i, j, on=TITLE)

    if name == "velocity":
        return lambda i, j: T.sgd_velocity(prior(i, j), g.cell(i, j, on=TITLE), "learning_rate",
                                           "momentum")  # fmt: skip
    if name == "m":
        return lambda i, j: T.adam_m(prior(i, j), g.cell(i, j, on=TITLE), "beta_1")
    return lambda i, j: T.adam_v(prior(i, j), g.cell(i, j, on=TITLE), "beta_2")
