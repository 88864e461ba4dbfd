"""The Decision map: a grid over the two inputs' range, each cell the live probability of one
class, coloured by a colour-scale conditional format; training points are boxed.

The grid's cells read a batch computed below it (`map_inputs` -> `map_outputs`), so editing
a weight repaints the map. A model with several classes gets an editable class index
(`map_class`, 0-based like Keras's class indices; the last class at first) choosing which
probability the grid shows. Only for
models with exactly two inputs.
"""

from __future__ import annotations

import numpy as np

from ...ir.model import Model
from ...templates_text import say
from .. import formulas as F
from ..layout import (
    Block,
    ConditionalFormat,
    Region,
    SheetPlan,
    WholeNumberRule,
    paragraph,
    text,
    text_row,
)
from ..placement import WeightRefs
from ..spec import WorkbookSpec
from .chain import compute, copy_of, output_headers

TITLE = "Decision map"
SIZE = 25  # with a quarter's margin each side, a 0/1 input lies exactly on a grid line
GRID_TOP, GRID_LEFT = 7, 2
CLASS_CELL = Block(TITLE, 3, 2)  # the class shown, when there are several
CLASS_LABEL = Block(TITLE, 3, 3)  # its label
CHOICE = CLASS_CELL.cell(absolute=True, on=TITLE)  # as formulas on this sheet read it


def axis_range(x: np.ndarray | None, col: int) -> tuple[float, float]:
    """The data's range with a margin of a quarter on each side; [-0.25, 1.25] without data."""
    if x is None or not len(x):
        return -0.25, 1.25
    low, high = float(np.min(x[:, col])), float(np.max(x[:, col]))
    pad = 0.25 * (high - low) if high > low else 0.5
    return low - pad, high + pad


def grid_points(ranges: list[tuple[float, float]], size: int = SIZE) -> np.ndarray:
    """The (x1, x2) of every grid cell, row by row from the top (x2 falls going down)."""
    (a1, b1), (a2, b2) = ranges
    xs = [a1 + (b1 - a1) * j / (size - 1) for j in range(size)]
    ys = [b2 + (a2 - b2) * i / (size - 1) for i in range(size)]
    return np.array([[x, y] for y in ys for x in xs])


def map_plan(
    model: Model, refs: WeightRefs, spec: WorkbookSpec, points: np.ndarray | None
) -> SheetPlan:
    """The sheet; `points` (known examples, or None) set the axes' range and are boxed."""
    sheet = SheetPlan(TITLE, widths={1: 12}, freeze=None)
    count, labels, names = model.n_outputs, spec.labels, spec.inputs
    ranges = [axis_range(points, 0), axis_range(points, 1)]
    shown_class = count - 1  # map_class's first value: the last class
    sheet.add(
        _title(output_headers(labels, 1)[0], count > 1, labels[shown_class]),
    )
    paragraph(sheet, 2, say("map_intro", x1=names[0], x2=names[1]))
    points_shown = grid_points(ranges)  # row by row: x1 varies fastest
    axes = _axes(sheet, names, _axis_ends(sheet, names, ranges), points_shown)
    outputs, probs = _grid_batch(sheet, model, refs, spec, axes, points_shown)
    if count > 1:
        _class_choice(sheet, outputs, labels, count)
    grid = Block(TITLE, GRID_TOP, GRID_LEFT, SIZE, SIZE)
    _grid_rows(sheet, _shown(outputs, count > 1), _marked(points, ranges), probs[:, shown_class])
    sheet.add(
        Region(Block(TITLE, GRID_TOP + SIZE + 1, 1), "note", values=[[say("map_points_note")]])
    )
    sheet.conditional.append(ConditionalFormat(grid.ref(absolute=False, on=TITLE), "scale"))
    sheet.widths.update({c: 6 for c in range(GRID_LEFT, GRID_LEFT + SIZE)})
    sheet.print_area = Block(TITLE, 1, 1, GRID_TOP + SIZE + 1, GRID_LEFT + SIZE - 1)
    sheet.names["map_grid"] = grid  # the grid is several regions (styles differ), one name
    return sheet


def _axis_ends(sheet: SheetPlan, names: list[str], ranges) -> dict[int, tuple[str, str]]:
    """The editable axis ranges (row 4 for x1, row 5 for x2: name, from, to); returns each
    axis's (from, to) cells."""
    ends = {}
    for r, (name, (low, high)) in enumerate(zip(names, ranges)):
        row = 4 + r
        sheet.add(
            text(TITLE, row, 1, f"{name} from", "step"),
            Region(Block(TITLE, row, 2), "range", values=[[low]]),
            text(TITLE, row, 3, "to", "step"),
            Region(Block(TITLE, row, 4), "range", values=[[high]]),
        )
        ends[r] = (F.cell(row, 2, absolute=True), F.cell(row, 4, absolute=True))
    return ends


def _axes(
    sheet: SheetPlan, names: list[str], ends, points_shown: np.ndarray
) -> tuple[Block, Block]:
    """The grid's axes: x1 along the top, x2 down the side, each evenly between its ends."""
    top_axis = Block(TITLE, GRID_TOP - 1, GRID_LEFT, 1, SIZE)
    side_axis = Block(TITLE, GRID_TOP, 1, SIZE, 1)
    sheet.add(
        text(TITLE, GRID_TOP - 1, 1, f"{names[1]} \\ {names[0]}", "header"),
        Region(
            top_axis,
            "axis",
            cell_formula=lambda i, j: F.formula(F.between(*ends[0], j, SIZE)),
            results=points_shown[:SIZE, 0].reshape(1, -1),
        ),
        Region(
            side_axis,
            "axis",
            cell_formula=lambda i, j: F.formula(F.between(ends[1][1], ends[1][0], i, SIZE)),
            results=points_shown[::SIZE, 1].reshape(-1, 1),
        ),
    )
    return top_axis, side_axis


def _grid_batch(
    sheet: SheetPlan,
    model: Model,
    refs: WeightRefs,
    spec: WorkbookSpec,
    axes: tuple[Block, Block],
    points_shown: np.ndarray,
) -> tuple[Block, np.ndarray]:
    """Below the grid, the network computed for every grid point (`map_inputs`, read from
    the axes) to `map_outputs`; returns that block and its values."""
    batch_header = GRID_TOP + SIZE + 3
    batch_top = batch_header + 3
    inputs = Block(TITLE, batch_top, 2, SIZE * SIZE, 2)
    sheet.add(
        text(TITLE, batch_header - 1, 1, say("map_batch_note"), "note"),
        text(TITLE, batch_header, 2, "Grid points", "layer"),
        text_row(TITLE, batch_header + 2, 2, spec.inputs),
        Region(
            inputs,
            "computed",
            name="map_inputs",
            cell_formula=lambda i, j: F.formula(
                F.reference(axes[0].cell(0, i % SIZE) if j == 0 else axes[1].cell(i // SIZE, 0))
            ),
            results=points_shown,
        ),
    )
    done = compute(model, refs, inputs, batch_header, 5, spec, points_shown)
    sheet.add(*done.regions)
    outputs = Block(TITLE, batch_top, done.next_col, inputs.rows, model.n_outputs)
    probs = done.values[done.outputs]
    sheet.add(
        text(TITLE, batch_header, done.next_col, "Output", "layer"),
        copy_of(outputs, done.outputs, "output", "map_outputs", values=probs),
    )
    return outputs, probs


def _grid_rows(sheet: SheetPlan, shown_of, marked: set[tuple[int, int]], shown: np.ndarray):
    """One region per grid row, split where the style changes (marked cells are boxed);
    `shown`: the probability shown of every grid point."""
    for r in range(SIZE):
        for c0, c1, style in _runs(r, marked):
            sheet.add(
                Region(
                    Block(TITLE, GRID_TOP + r, GRID_LEFT + c0, 1, c1 - c0),
                    style,
                    cell_formula=lambda i, j, r=r, c0=c0: shown_of(r * SIZE + c0 + j),
                    results=shown[r * SIZE + c0 : r * SIZE + c1].reshape(1, -1),
                )
            )


def _title(single_output: str, several: bool, shown: str) -> Region:
    """The title names the probability shown; with several classes it follows `map_class`
    (`shown`: the label it starts with)."""
    if not several:
        return text(TITLE, 1, 1, say("map_title", shown=single_output), "title")
    before, after = say("map_title", shown="\0").split("\0")
    label = CLASS_LABEL.cell(absolute=True, on=TITLE)
    return Region(
        Block(TITLE, 1, 1),
        "title",
        cell_formula=lambda i, j: F.formula(
            F.concat(F.text(before + "P("), label, F.text(")" + after))
        ),
        results=[[f"{before}P({shown}){after}"]],
    )


def _class_choice(sheet: SheetPlan, outputs: Block, labels: list[str], count: int) -> None:
    """The class labels over the batch's outputs, and row 3: "class shown", an editable class
    index 0..count-1 (`map_class`, the last class at first), and its label."""
    class_labels = text_row(TITLE, outputs.top - 1, outputs.left, output_headers(labels, count))
    sheet.add(class_labels)
    sheet.add(
        text(TITLE, CLASS_CELL.top, 1, say("map_class"), "step"),
        Region(CLASS_CELL, "choice", values=[[count - 1]], name="map_class"),
        Region(
            CLASS_LABEL,
            "layer",
            cell_formula=lambda i, j: F.formula(
                F.pick(class_labels.block.row(absolute=True, on=TITLE), CHOICE)
            ),
            results=[[labels[count - 1]]],
        ),
    )
    sheet.validations.append(
        WholeNumberRule(CLASS_CELL, 0, count - 1, say("map_class_prompt", last=count - 1))
    )


def _shown(outputs: Block, several: bool):
    """The formula of the grid cell showing batch row k: its one output, or the chosen class."""
    if several:
        return lambda k: F.formula(F.pick(outputs.row(k, on=TITLE), CHOICE))
    return lambda k: F.formula(F.reference(outputs.cell(k, 0, on=TITLE)))


def _marked(points: np.ndarray | None, ranges) -> set[tuple[int, int]]:
    """Grid cells nearest to each training point inside the range."""
    if points is None:
        return set()
    (a1, b1), (a2, b2) = ranges
    found = set()
    for x1, x2 in np.asarray(points, dtype=np.float64)[:, :2]:
        c = round((x1 - a1) / (b1 - a1) * (SIZE - 1))
        r = round((b2 - x2) / (b2 - a2) * (SIZE - 1))
        if 0 <= r < SIZE and 0 <= c < SIZE:
            found.add((r, c))
    return found


def _runs(row: int, marked: set[tuple[int, int]]) -> list[tuple[int, int, str]]:
    """(start, stop, style) runs of one grid row, split where the style changes."""
    runs: list[tuple[int, int, str]] = []
    for c in range(SIZE):
        style = "map_point" if (row, c) in marked else "map"
        if runs and runs[-1][2] == style:
            runs[-1] = (runs[-1][0], c + 1, style)
        else:
            runs.append((c, c + 1, style))
    return runs
