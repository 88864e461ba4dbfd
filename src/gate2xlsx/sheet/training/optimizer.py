"""The optimizer's part of a Training band, drawn from the optimizer table (ir/optimizers.py):
its state after the step (SGD's velocity, Adam's m, v and step size, RMSprop's v and step) and
the next band's weights, the update of this band's."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ...ir import optimizers
from .. import formulas as F
from ..layout import Block, Region
from ..placement import ColumnPlacer
from .state import TITLE, Band, Run

Cell = Callable[[int, int], str]  # (row, column) in a block -> the cell's formula body


def setting_names(entry: optimizers.OptimizerDef) -> dict[str, str]:
    """Each setting's placeholder filled with its defined name on the sheet."""
    return {setting.name: setting.name for setting in entry.settings}


def weight_update(run: Run, prev: Band, q: int) -> Cell:
    """Weight q after the step of band `prev` (the table's step formula)."""
    template = run.entry.step_formula(run.s.nesterov)
    blocks = {"w": prev.weights[q], "g": prev.grads[q]}
    blocks.update({slot: found[q] for slot, found in prev.states.items() if found})
    fixed = setting_names(run.entry)
    if prev.alpha is not None:
        fixed["alpha"] = prev.alpha.cell(absolute=True, on=TITLE)

    def body(i: int, j: int) -> str:
        cells = {name: block.cell(i, j, on=TITLE) for name, block in blocks.items()}
        return F.render(template, {**fixed, **cells})

    return body


def draw_states(run: Run, placer: ColumnPlacer, band: Band, prev: Band | None, t: int) -> None:
    """The optimizer's state after step t: each state of the table, for every weight."""
    placer.heading("Optimizer state after the step", [])
    for state in run.entry.states:
        for q, (layer, key) in enumerate(run.params):
            g = band.grads[q]
            block = placer.step(f"{layer.name} {key}: {state.label}", g.cols, rows=g.rows)
            before = None if prev is None else prev.states[state.slot][q]
            values = getattr(run.optimizer, state.slot)[q]
            placer.regions.append(
                Region(
                    block,
                    "computed",
                    results=np.array(values).reshape(g.rows, g.cols),
                    cell_formula=_state_cell(run, state, q, band, before),
                    fill_down=True,
                )
            )
            band.states[state.slot].append(block)
    if run.entry.step_size is not None:
        _step_size(run, placer, band, t)


def _state_cell(run: Run, state: optimizers.State, q: int, band: Band, before: Block | None):
    """Cell (i, j) of a state block from its value a step before (`before`; 0 at the start)
    and this step's gradient and earlier states."""
    blocks = {"g": band.grads[q]}
    blocks.update({slot: found[q] for slot, found in band.states.items() if len(found) > q})
    fixed = setting_names(run.entry)

    def cell(i: int, j: int) -> str:
        cells = {name: block.cell(i, j, on=TITLE) for name, block in blocks.items()}
        prior = "0" if before is None else before.cell(i, j, on=TITLE)
        return F.formula(F.render(state.formula, {**fixed, **cells, "prior": prior}))

    return cell


def _step_size(run: Run, placer: ColumnPlacer, band: Band, t: int) -> None:
    """The step size of step t, one cell (Adam's alpha, bias correction included)."""
    assert run.entry.step_size is not None
    band.alpha = placer.step("step size alpha", 1, rows=1)
    alpha = optimizers.hyper(run.s, t, np.float64).alpha
    step = Block(TITLE, band.weights[0].top, 2).cell(on=TITLE)  # the band's step number
    body = F.render(run.entry.step_size, {**setting_names(run.entry), "t": step})
    placer.regions.append(
        Region(
            band.alpha,
            "computed",
            results=[[float(alpha)]],
            cell_formula=lambda i, j: F.formula(body),
        )
    )
