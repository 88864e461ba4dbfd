"""The Training sheet's bands: one optimisation step each, laid out side by side in
columns (weights, forward pass, loss, backpropagation, optimizer state) over the rows of its
batch. Cached values come from gate2xlsx.fit run in float64, step by step as the sheet computes."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from .. import fit
from ..errors import InputError
from ..model import Dense, Model
from . import formulas as F
from . import training_formulas as T
from .batch import predicted_index, predicted_indices, true_index
from .keras_eval import LossRule
from .layout import Block, Region, SheetPlan, text
from .placement import ColumnPlacer, WeightRefs
from .spec import TrainingSpec, WorkbookSpec
from .steps import chain
from .training_backward import BackwardSteps

TITLE = "Training"
LEFT = 4  # bands start in column D: A holds the step's name, B its number
# Cells the sheet may hold: LibreOffice recalculates about this many in BUDGET_SECONDS here
# (benchmarks/bench_training.py: about 45,000 cells a second); past it the export refuses.
CELL_BUDGET = 1_000_000
BUDGET_SECONDS = 25
COPY_CELLS = 64  # a band shows its batch's inputs and targets when they are this small


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
    loss_sum: Block | None = None  # the epoch's running sums, up to and including this batch
    hits_sum: Block | None = None
    size: int = 0


class BandPlanner(BackwardSteps):
    """Every band of the sheet, and the NumPy run that gives their cached values."""

    def __init__(
        self, model: Model, refs: WeightRefs, spec: WorkbookSpec, how: TrainingSpec, rule: LossRule
    ):
        self.model, self.start, self.spec, self.how = model, refs, spec, how
        self.s = how.settings
        self.rule = rule
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
        self.sheet = SheetPlan(TITLE, widths={1: 30, 2: 12, 3: 14})
        self.names: dict[str, str] = {}

    # the settings --------------------------------------------------------------------------

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

    def shapes(self) -> list[tuple[int, int]]:
        return [_grid_shape(layer.weights()[key].values) for layer, key in self.params]

    # the rows, the epochs --------------------------------------------------------------------

    # the bands ---------------------------------------------------------------------------------

    def _bands(self, top: int, rows_table: tuple[Block, Block]) -> tuple[list[Band], Band]:
        bands: list[Band] = []
        self.history_loss, self.history_accuracy = [], []
        self.running = {"loss_sum": 0.0, "hits_sum": 0.0}
        prev: Band | None = None
        for t, epoch, start, size in self.batches():
            band = self._band(top, rows_table, prev, (t, epoch, start, size))
            bands.append(band)
            if start + size == len(self.x):
                self.history_loss.append(self.running["loss_sum"] / len(self.x))
                self.history_accuracy.append(self.running["hits_sum"] / len(self.x))
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
                Region(
                    block,
                    "computed",
                    cell_formula=lambda i, j, body=body: F.formula(body(i, j)),
                    results=values,
                    fill_down=True,
                )
            )
            blocks.append(block)
        self.sheet.add(*placer.regions)
        self.col = placer.col
        return Band(blocks)

    def _start_cell(self, layer, key):
        source = self.start.block(layer, key)
        return lambda i, j: F.reference(source.cell(i, j, absolute=True, on=TITLE))

    def _band(
        self,
        top: int,
        rows_table: tuple[Block, Block],
        prev: Band | None,
        where: tuple[int, int, int, int],
    ) -> Band:
        """One step: weights, forward pass, loss, backpropagation, optimizer state."""
        t, epoch, start, size = where
        first = prev is None
        band = self._weight_blocks(top, prev, labelled=first)
        self.sheet.add(
            text(
                TITLE, top, 1, f"step {t}: epoch {epoch}, rows {start + 1}-{start + size}", "step"
            ),
            Region(Block(TITLE, top, 2), "header", values=[[t]]),
        )
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
        self._epoch_sums(placer, band, prev if start > 0 else None, size)
        self._backward(placer, band, found, (x, y, p, z), record, outputs)
        self.optimizer.apply(
            [layer.weights()[key].values for layer, key in self.params], found.grads
        )
        self._state(placer, band, prev, t)
        band.size = size
        self.sheet.add(*placer.regions)
        return band

    def _batch(
        self, placer: ColumnPlacer, rows_table: tuple[Block, Block], start: int, size: int
    ) -> tuple[Block, Block]:
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
                Region(
                    block,
                    "computed",
                    results=values[start : start + size],
                    cell_formula=lambda i, j, s=source, b=block: F.formula(
                        F.reference(s.cell(i, j, on=TITLE))
                    ),
                )
            )
            copies.append(block)
        return copies[0], copies[1]

    def _scored(
        self, placer, p: Block, z: Block, y: Block, found: fit.Backprop, yb: np.ndarray
    ) -> tuple[Block, Block]:
        """Each row's loss and whether its prediction is right; the batch's loss and hits."""
        k = p.cols
        placer.heading("Loss", [])
        rows, self.batch_loss = self._row_losses(placer, p, z, y, found, yb)
        hits = placer.step("correct", 1)
        truth = yb[:, 0] if k == 1 else np.argmax(yb, axis=1)
        right = (predicted_indices(found.outs[-1]) == truth).astype(np.int64)
        placer.regions.append(
            Region(
                hits,
                "result",
                results=right.reshape(-1, 1),
                fill_down=True,
                cell_formula=lambda i, j: F.formula(
                    F.same(predicted_index(p.row(i, on=TITLE), k), true_index(y, i, k))
                ),
            )
        )
        batch_loss = placer.step("batch loss (mean)", 1, rows=1)
        batch_hits = placer.step("rows right", 1, rows=1)
        self.batch_hits = int(right.sum())
        placer.regions += [
            Region(
                batch_loss,
                "summary",
                results=[[self.batch_loss]],
                cell_formula=lambda i, j: F.formula(F.average(rows.ref(absolute=False))),
            ),
            Region(
                batch_hits,
                "computed",
                results=[[self.batch_hits]],
                cell_formula=lambda i, j: F.formula(T.column_sum(hits.ref(absolute=False))),
            ),
        ]
        return batch_loss, batch_hits

    def _epoch_sums(self, placer, band: Band, prev: Band | None, size: int) -> None:
        """The epoch's running sums, as Keras's Mean metric keeps them: batch loss x batch size,
        and rows right, each added to the previous band's (None: the epoch's first batch)."""
        for attr, label, value, cell, weight in (
            ("loss_sum", "epoch so far: loss x rows", self.batch_loss * size, band.loss, size),
            ("hits_sum", "epoch so far: rows right", self.batch_hits, band.hits, 1),
        ):
            before = getattr(prev, attr) if prev is not None else None
            total = value + (self.running[attr] if before is not None else 0.0)
            self.running[attr] = total
            block = placer.step(label, 1, rows=1)
            formula = F.formula(T.running_sum(
                before.cell(on=TITLE) if before is not None else None, cell.cell(on=TITLE), weight
            ))  # fmt: skip
            placer.regions.append(
                Region(block, "computed", results=[[total]], cell_formula=lambda i, j, f=formula: f)
            )
            setattr(band, attr, block)

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

    def _row_losses(
        self, placer, p: Block, z: Block, y: Block, found: fit.Backprop, yb: np.ndarray
    ) -> tuple[Block, float]:
        """Each row's loss (the Truth table's formula); its block and the batch's mean."""
        rule, k = self.rule, p.cols
        logits = z if rule.needs_logits else None
        values = rule.row_values(found.outs[-1], found.pres[-1], yb)
        rows = placer.step("loss of row", 1)
        placer.regions.append(
            Region(
                rows,
                "computed",
                results=values.reshape(-1, 1),
                fill_down=True,
                cell_formula=lambda i, j: F.formula(
                    rule.row_formula(
                        p.row(i, on=TITLE),
                        logits.row(i, on=TITLE) if logits else None,
                        y.row(i, on=TITLE),
                        k,
                    )
                ),
            )
        )
        return rows, float(values.mean())


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
