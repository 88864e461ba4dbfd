"""The Check sheet: the workbook's own test case (after frugally-deep).

Fixed input rows with the reference outputs stored as numbers (for Keras files, the NumPy
forward pass at export time), the live outputs computed beside them, the largest relative
difference, an editable `tolerance`, and `check_result`: PASS, or FAIL as soon as anything
(an edited weight, say) moves an output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...ir.model import Model
from ...templates_text import say
from .. import formulas as F
from ..layout import Block, ConditionalFormat, Region, SheetPlan, paragraph, text, text_row
from ..placement import WeightRefs
from ..spec import WorkbookSpec
from .chain import Computed, compute, copy_of, fit_header_rows, output_headers


@dataclass(frozen=True)
class Switched:
    """A reference that a 0/1 cell switches: `off` model's outputs at 0, `on` model's at 1."""

    flag: str
    off: Model
    on: Model
    off_name: str
    on_name: str


TITLE = "Check"
MAX_ROWS = 64
TOLERANCE = 1e-9
HEADER_ROW, TOP = 8, 11


def check_plan(
    model: Model,
    refs: WeightRefs,
    spec: WorkbookSpec,
    reference_name: str = "NumPy forward pass at export",
    switched: Switched | None = None,
    steps=None,
    rows: np.ndarray | None = None,
) -> SheetPlan:
    """The sheet for the first MAX_ROWS of the spec's rows (or of `rows`). switched: the
    reference follows a 0/1 switch cell between two models' outputs (the Training sheet's
    `use_trained`). steps(sheet, inputs, left): how the rows are computed (data_plan's)."""
    x = np.asarray(spec.rows.x if rows is None else rows, dtype=np.float64)[:MAX_ROWS]
    n = model.n_inputs
    reference = model.forward(x)
    sheet = SheetPlan(TITLE, widths={1: 30})
    sheet.add(
        text(TITLE, 1, 1, say("check_title"), "title"),
    )
    paragraph(sheet, 2, say("check_intro", reference=reference_name))
    inputs = Block(TITLE, TOP, 2, len(x), n)
    sheet.add(
        text(TITLE, HEADER_ROW, 2, "Input", "layer"),
        text_row(TITLE, HEADER_ROW + 2, 2, spec.inputs),
        Region(inputs, "trained", values=x),
    )
    if steps is None:
        done = compute(model, refs, inputs, HEADER_ROW, n + 3, spec, x)
    else:
        done = steps(sheet, inputs, n + 3)
    m = model.n_outputs
    compared = _Compared(reference, reference_name, switched, x, m, output_headers(spec.labels, m))
    diff, largest = _comparison(sheet, done, compared)
    _verdict(sheet, diff, largest)
    fit_header_rows(sheet, HEADER_ROW)
    return sheet


@dataclass(frozen=True)
class _Compared:
    """What the live outputs are compared with: the reference's outputs for the rows x, its
    name, the switch it may follow, the number of outputs and their column headers."""

    reference: np.ndarray
    name: str
    switched: Switched | None
    x: np.ndarray
    m: int
    heads: list[str]


def _comparison(sheet: SheetPlan, done: Computed, c: _Compared) -> tuple[Block, float]:
    """The live outputs, the stored reference and their relative difference side by side;
    returns the difference block and its largest value."""
    out = done.values[done.outputs]
    differences = np.abs(out - c.reference) / np.maximum(1, np.abs(c.reference))
    sheet.add(*done.regions)
    k, m = len(c.x), c.m
    live = Block(TITLE, TOP, done.next_col, k, m)
    stored = Block(TITLE, TOP, live.left + m + 1, k, m)
    diff = Block(TITLE, TOP, live.left + 2 * (m + 1), k, m)
    sheet.add(
        text(TITLE, HEADER_ROW, live.left, "live output", "layer"),
        text_row(TITLE, HEADER_ROW + 2, live.left, c.heads),
        copy_of(live, done.outputs, "output", values=out),
        text(TITLE, HEADER_ROW, stored.left, f"reference ({c.name})", "layer"),
        text_row(TITLE, HEADER_ROW + 2, stored.left, c.heads),
        *_reference(stored, c.reference, c.x, c.switched, diff.right + 2, c.heads),
        text(TITLE, HEADER_ROW, diff.left, say("check_difference"), "layer"),
        text_row(TITLE, HEADER_ROW + 2, diff.left, c.heads),
        Region(
            diff,
            "stored",
            cell_formula=lambda i, j: F.formula(
                F.relative_difference(live.cell(i, j), stored.cell(i, j))
            ),
            results=differences,
            fill_down=True,
        ),
    )
    return diff, float(differences.max()) if differences.size else 0.0


def _verdict(sheet: SheetPlan, diff: Block, largest_difference: float) -> None:
    """The editable `tolerance`, the largest difference, and `check_result`, coloured."""
    largest = Block(TITLE, 5, 2)
    tolerance = Block(TITLE, 4, 2)
    result = Block(TITLE, 6, 2)
    sheet.add(
        text(TITLE, 4, 1, "tolerance (edit me)", "step"),
        Region(tolerance, "input_small", values=[[TOLERANCE]], name="tolerance"),
        text(TITLE, 5, 1, "largest difference", "step"),
        Region(
            largest,
            "stored",
            cell_formula=lambda i, j: F.formula(F.row_max(diff.ref())),
            results=[[largest_difference]],
        ),
        text(TITLE, 6, 1, "result", "layer"),
        Region(
            result,
            "result",
            name="check_result",
            comment=say("check_comment"),
            cell_formula=lambda i, j: F.formula(F.pass_fail(largest.cell(), tolerance.cell())),
            results=[["PASS" if largest_difference <= TOLERANCE else "FAIL"]],
        ),
        text(TITLE, 6, 3, say("check_note"), "note"),
    )
    sheet.conditional += [
        ConditionalFormat(
            result.ref(absolute=False, on=TITLE), "good", F.equals(result.cell(), F.text("PASS"))
        ),
        ConditionalFormat(
            result.ref(absolute=False, on=TITLE), "bad", F.equals(result.cell(), F.text("FAIL"))
        ),
    ]


def _reference(stored: Block, reference: np.ndarray, x: np.ndarray, switched: Switched | None,
               left: int, heads: list[str]) -> list[Region]:  # fmt: skip
    """The stored reference: numbers, or the switch's pick of two stored blocks beside it."""
    if switched is None:
        return [Region(stored, "stored", values=reference)]
    found = []
    blocks = []
    for model, name in ((switched.off, switched.off_name), (switched.on, switched.on_name)):
        block = Block(TITLE, stored.top, left, stored.rows, stored.cols)
        found += [
            text(TITLE, HEADER_ROW, left, f"reference {name}", "layer"),
            text_row(TITLE, HEADER_ROW + 2, left, heads),
            Region(block, "stored", values=model.forward(x)),
        ]
        blocks.append(block)
        left += stored.cols + 1
    off, on = blocks

    def pick(i: int, j: int) -> str:
        return F.formula(F.switch(switched.flag, on.cell(i, j), off.cell(i, j)))

    found.append(Region(stored, "stored", cell_formula=pick, results=reference, fill_down=True))
    return found
