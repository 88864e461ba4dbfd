"""The Training sheet's gradient check: the first step's gradient of one weight (the largest)
beside a central difference of the batch loss, the first batch forward again with that weight
moved by +h and by -h."""

from __future__ import annotations

import copy

from ...ir import fit
from ...templates_text import say
from .. import formulas as F
from ..layout import Block, Region, text
from ..network.chain_steps import chain
from ..placement import ColumnPlacer
from . import formulas as T
from .band import batch_loss
from .state import LEFT, TITLE, Band, Run, layer_named

FD_STEP = 1e-5  # h of the central difference


def gradient_check(run: Run, row: int, first: Band, rows_table: tuple[Block, Block]) -> None:
    """The check's three cells at `row`, its two moved forward passes below the bands."""
    q, (i, j) = run.checked
    layer, key = run.params[q]
    top, found = run.after_bands, []
    for h in (FD_STEP, -FD_STEP):
        found.append(_moved_forward(run, top, first, rows_table, h))
        top += run.height(first.size) + 2
    (plus, plus_value), (minus, minus_value) = found
    backprop = first.grads[q].cell(i, j, on=TITLE)
    estimate = (plus_value - minus_value) / (2 * FD_STEP)
    cells = [Block(TITLE, row + n, 2).cell(on=TITLE) for n in range(3)]
    formulas = [
        F.reference(backprop),
        T.central_difference(plus.cell(on=TITLE), minus.cell(on=TITLE), F.number(FD_STEP)),
        T.absolute_difference(cells[0], cells[1]),
    ]
    values = [run.first_gradient, estimate, abs(run.first_gradient - estimate)]
    labels = [
        f"backprop: dL/d {layer.name} {key}[{i + 1},{j + 1}]",
        f"finite difference, h = {FD_STEP:g}",
        "difference",
    ]
    run.sheet.add(
        text(TITLE, row - 1, 1, "Gradient check (step 1)", "layer"),
        text(TITLE, row - 1, 3, say("gradient_check_note"), "note"),
    )
    for n, (label, body, value) in enumerate(zip(labels, formulas, values)):
        run.sheet.add(
            text(TITLE, row + n, 1, label, "step"),
            Region(
                Block(TITLE, row + n, 2),
                "tiny" if n == 2 else "precise",
                results=[[value]],
                cell_formula=lambda _i, _j, b=body: F.formula(b),
            ),
        )


def _moved_forward(run: Run, top: int, first: Band, rows_table: tuple[Block, Block],
                   h: float) -> tuple[Block, float]:  # fmt: skip
    """The first batch's loss block (and value) with the checked weight moved by h."""
    q, (ci, cj) = run.checked
    layer, key = run.params[q]
    sign = "+" if h > 0 else "-"
    what = f"gradient check: step 1 with {layer.name} {key}[{ci + 1},{cj + 1}] {sign} h"
    run.sheet.add(text(TITLE, top, 1, what, "step"))
    size = first.size
    placer = ColumnPlacer(TITLE, run.header_row, top, size, LEFT, labelled=False)
    source = first.weights[q]
    moved = placer.step("moved weight", source.cols, rows=source.rows)
    model = copy.deepcopy(run.model)
    param = layer_named(model, layer.name).weights()[key]
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
    placer.values[x] = run.x[:size]
    weights = [moved if n == q else b for n, b in enumerate(first.weights)]
    record: dict[str, Block] = {}
    p = chain(model, run.refs_for(weights), placer, x, record=record)
    found = fit.backprop(model, run.rule.loss, run.x[:size], run.y[:size])
    outs = (p, record[model.layers[-1].name], y)
    loss, value = batch_loss(run, placer, outs, found, run.y[:size])
    run.sheet.add(*placer.regions)
    return loss, value
