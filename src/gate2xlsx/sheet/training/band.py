"""The Training sheet's bands: one optimisation step each, laid out side by side in columns
(weights, the batch, forward pass, loss, backpropagation, optimizer state) over the rows of
its batch. Cached values come from gate2xlsx.ir.fit run in float64, step by step as the sheet
computes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ...errors import InputError
from ...ir import fit
from .. import formulas as F
from ..batch.chain import predicted_index, predicted_indices, true_index
from ..layout import Block, Region, text
from ..network.chain_steps import chain
from ..placement import ColumnPlacer
from . import formulas as T
from .backward import backward
from .optimizer import draw_states, weight_update
from .state import LEFT, TITLE, Band, Run

# Cells the sheet may hold: LibreOffice recalculates about this many in BUDGET_SECONDS here
# (benchmarks/bench_training.py: about 45,000 cells a second); past it the export refuses.
CELL_BUDGET = 1_000_000
BUDGET_SECONDS = 25
COPY_CELLS = 64  # a band shows its batch's inputs and targets when they are this small

Where = tuple[int, int, int, int]  # (step, epoch, first row, rows), as Run.batches gives them


def draw_bands(run: Run, top: int, rows_table: tuple[Block, Block]) -> tuple[list[Band], Band]:
    """Every step's band from `top` down, and the band of the trained weights below them."""
    bands: list[Band] = []
    prev: Band | None = None
    for where in run.batches():
        band = _band(run, top, rows_table, prev, where)
        bands.append(band)
        if where[0] == 1:
            _budget(run)
        top += run.height(where[3]) + 1
        prev = band
    final, _ = _weight_blocks(run, top, prev, labelled=False)
    run.sheet.add(text(TITLE, top, 1, "after the last step: the trained weights", "layer"))
    run.after_bands = top + max(rows for rows, _ in run.shapes()) + 2
    return bands, final


def _weight_blocks(run: Run, top: int, prev: Band | None, labelled: bool) -> tuple[Band, int]:
    """A band's first blocks: the weights at the start of its step, each shaped as Keras
    stores it; the first band reads the Weights sheet, every later one updates the last.
    Also the column after them."""
    placer = ColumnPlacer(TITLE, run.header_row, top, 1, LEFT, labelled=labelled)
    placer.heading("Weights at the start of the step", [])
    blocks = []
    for q, ((layer, key), (rows, cols)) in enumerate(zip(run.params, run.shapes())):
        block = placer.step(f"{layer.name} {key}", cols, rows)
        if prev is None:
            source = run.start.block(layer, key)
            body = lambda i, j, s=source: F.reference(s.cell(i, j, absolute=True, on=TITLE))  # noqa: E731
        else:
            body = weight_update(run, prev, q)
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
    run.sheet.add(*placer.regions)
    return Band(blocks), placer.col


def _band(run: Run, top: int, rows_table: tuple[Block, Block], prev: Band | None,
          where: Where) -> Band:  # fmt: skip
    """One step: weights, forward pass, loss, backpropagation, optimizer state."""
    t, epoch, start, size = where
    first = prev is None
    band, col = _weight_blocks(run, top, prev, labelled=first)
    run.sheet.add(
        text(TITLE, top, 1, f"step {t}: epoch {epoch}, rows {start + 1}-{start + size}", "step"),
        Region(Block(TITLE, top, 2), "header", values=[[t]]),
    )
    placer = ColumnPlacer(TITLE, run.header_row, top, size, col, labelled=first)
    xb, yb = run.x[start : start + size], run.y[start : start + size]
    x, y = _batch(run, placer, rows_table, start, size)
    placer.values[x] = xb
    record: dict[str, Block] = {}
    outputs: dict[str, Block] = {}
    refs = run.refs_for(band.weights)
    p = chain(run.work, refs, placer, x, mode="mmult", record=record, outputs=outputs)
    found = fit.backprop(run.work, run.rule.loss, xb, yb)
    if first:
        _choose_checked(run, found)
    z = record[run.work.layers[-1].name]
    loss, hits = _scored(run, placer, band, (p, z, y), found, yb)
    _epoch_sums(placer, band, prev if start > 0 else None, (loss * size, hits), size)
    backward(run, placer, band, found, (x, y, p, z), record, outputs)
    run.optimizer.apply([layer.weights()[key].values for layer, key in run.params], found.grads)
    draw_states(run, placer, band, prev, t)
    band.size = size
    run.sheet.add(*placer.regions)
    return band


def _choose_checked(run: Run, found: fit.Backprop) -> None:
    """The gradient check shows the kernel weight with the largest first gradient (a bias at 0
    would sit on relu's kink for inputs of 0, where no difference works)."""
    kernels = [n for n, (_, key) in enumerate(run.params) if key == "kernel"]
    q = max(kernels, key=lambda n: float(np.abs(found.grads[n]).max()))
    shape = run.shapes()[q]
    at = np.unravel_index(int(np.argmax(np.abs(found.grads[q]))), shape)
    run.checked = (q, (int(at[0]), int(at[1])))
    run.first_gradient = float(np.reshape(found.grads[q], shape)[at])


def _batch(run: Run, placer: ColumnPlacer, rows_table: tuple[Block, Block], start: int,
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
    for label, source, values in (("x", x, run.x), ("y (target)", y, run.y)):
        block = placer.step(label, source.cols)
        placer.regions.append(
            Region(
                block,
                "computed",
                results=values[start : start + size],
                cell_formula=lambda i, j, s=source: F.formula(F.reference(s.cell(i, j, on=TITLE))),
            )
        )
        copies.append(block)
    return copies[0], copies[1]


def _scored(run: Run, placer: ColumnPlacer, band: Band, outs: tuple[Block, Block, Block],
            found: fit.Backprop, yb: np.ndarray) -> tuple[float, int]:  # fmt: skip
    """Each row's loss and whether its prediction is right; the batch's loss and hits (their
    blocks in the band, their values returned)."""
    p, z, y = outs
    k = p.cols
    placer.heading("Loss", [])
    rows, batch_loss = row_losses(run, placer, outs, found, yb)
    hits = placer.step("correct", 1)
    truth = yb[:, 0] if k == 1 else np.argmax(yb, axis=1)
    right = (predicted_indices(found.outs[-1]) == truth).astype(np.int64)
    placer.regions.append(
        _per_row(
            hits,
            "result",
            right,
            lambda i: F.same(predicted_index(p.row(i, on=TITLE), k), true_index(y, i, k)),
        )
    )
    band.loss = placer.step("batch loss (mean)", 1, rows=1)
    band.hits = placer.step("rows right", 1, rows=1)
    batch_hits = int(right.sum())
    placer.regions += [
        _mean_of(band.loss, rows, batch_loss),
        Region(
            band.hits,
            "computed",
            results=[[batch_hits]],
            cell_formula=lambda i, j: F.formula(T.column_sum(hits.ref(absolute=False))),
        ),
    ]
    return batch_loss, batch_hits


def _mean_of(block: Block, rows: Block, value: float) -> Region:
    """A batch's loss: the mean of its rows' losses."""
    return Region(
        block,
        "summary",
        results=[[value]],
        cell_formula=lambda i, j: F.formula(F.average(rows.ref(absolute=False))),
    )


def _epoch_sums(placer: ColumnPlacer, band: Band, prev: Band | None,
                values: tuple[float, int], size: int) -> None:  # fmt: skip
    """The epoch's running sums, as Keras's Mean metric keeps them: batch loss x batch size,
    and rows right, each added to the previous band's (None: the epoch's first batch)."""
    for name, label, value, cell, weight in (
        ("loss", "epoch so far: loss x rows", values[0], band.loss, size),
        ("hits", "epoch so far: rows right", values[1], band.hits, 1),
    ):
        before = prev.sums[name] if prev is not None else None
        total = value + (before[1] if before is not None else 0.0)
        block = placer.step(label, 1, rows=1)
        formula = F.formula(T.running_sum(
            before[0].cell(on=TITLE) if before is not None else None, cell.cell(on=TITLE), weight
        ))  # fmt: skip
        placer.regions.append(
            Region(block, "computed", results=[[total]], cell_formula=lambda i, j, f=formula: f)
        )
        band.sums[name] = (block, total)


def _budget(run: Run) -> None:
    """Refuse, after planning the first step, a sheet past the recalculation budget."""
    per_step = sum(r.block.rows * r.block.cols for r in run.sheet.regions if r.cell_formula)
    steps = len(run.batches())
    if per_step * steps > CELL_BUDGET:
        fit_epochs = CELL_BUDGET // (per_step * run.steps_per_epoch)
        raise InputError(
            f"the Training sheet would hold about {per_step * steps:,} formula cells "
            f"({per_step:,} per step x {steps:,} steps), past its budget of "
            f"{CELL_BUDGET:,} (about {BUDGET_SECONDS} s of LibreOffice recalculation); "
            f"{fit_epochs} epochs fit: give --epochs {max(fit_epochs, 1)} or fewer"
        )


def row_losses(run: Run, placer: ColumnPlacer, outs: tuple[Block, Block, Block],
               found: fit.Backprop, yb: np.ndarray) -> tuple[Block, float]:  # fmt: skip
    """Each row's loss (the Truth table's formula); its block and the batch's mean."""
    p, z, y = outs
    rule, k = run.rule, p.cols
    logits = z if rule.needs_logits else None
    values = rule.row_values(found.outs[-1], found.pres[-1], yb)
    rows = placer.step("loss of row", 1)

    def row(i: int) -> str:
        z_row = logits.row(i, on=TITLE) if logits else None
        return rule.row_formula(p.row(i, on=TITLE), z_row, y.row(i, on=TITLE), k)

    placer.regions.append(_per_row(rows, "computed", values, row))
    return rows, float(values.mean())


def _per_row(block: Block, style: str, values: np.ndarray, row: Callable[[int], str]) -> Region:
    """A column of one cell per batch row: row i's formula body, and the values cached."""
    return Region(
        block,
        style,
        results=values.reshape(-1, 1),
        fill_down=True,
        cell_formula=lambda i, j: F.formula(row(i)),
    )


def batch_loss(run: Run, placer: ColumnPlacer, outs: tuple[Block, Block, Block],
               found: fit.Backprop, yb: np.ndarray) -> tuple[Block, float]:  # fmt: skip
    """Each row's loss and, in a cell of its own, the batch's mean: its block and value."""
    rows, value = row_losses(run, placer, outs, found, yb)
    block = placer.step("batch loss", 1, rows=1)
    placer.regions.append(_mean_of(block, rows, value))
    return block, value
