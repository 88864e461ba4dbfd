"""Where things live: blocks of cells, the regions that fill them, and the sheets they make.

A sheet is planned as a list of `Region`s (a rectangle plus what fills it: literal values,
one formula per cell, or one array formula over the rectangle). Plans hold no per-cell
objects for values (a weight block is one NumPy array), so the writer can stream rows and
memory stays proportional to one row, not to the network. Nothing here imports openpyxl.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import formulas as F


@dataclass(frozen=True)
class Block:
    """A rectangle of cells: `rows` x `cols` from (top, left), 1-based, on `sheet`."""

    sheet: str
    top: int
    left: int
    rows: int = 1
    cols: int = 1

    @property
    def bottom(self) -> int:
        return self.top + self.rows - 1

    @property
    def right(self) -> int:
        return self.left + self.cols - 1

    def cell(self, i: int = 0, j: int = 0, *, absolute: bool = False, on: str | None = None) -> str:
        """Reference of element (i, j), qualified with the sheet when used from sheet `on`."""
        return F.cell(self.top + i, self.left + j, absolute=absolute, sheet=self._qual(on))

    def row(self, i: int = 0, *, absolute: bool = False, on: str | None = None) -> str:
        return F.area(
            self.top + i,
            self.left,
            self.top + i,
            self.right,
            absolute=absolute,
            sheet=self._qual(on),
        )

    def column(self, j: int = 0, *, absolute: bool = False, on: str | None = None) -> str:
        return F.area(
            self.top,
            self.left + j,
            self.bottom,
            self.left + j,
            absolute=absolute,
            sheet=self._qual(on),
        )

    def ref(self, *, absolute: bool = True, on: str | None = None) -> str:
        return F.area(
            self.top, self.left, self.bottom, self.right, absolute=absolute, sheet=self._qual(on)
        )

    def _qual(self, on: str | None) -> str | None:
        return None if on == self.sheet else self.sheet


CellFormula = Callable[[int, int], str]


@dataclass
class Region:
    """What fills a block: exactly one of values, cell_formula or array_formula."""

    block: Block
    style: str = "label"
    values: Any = None  # 2-D array-like of numbers or text
    cell_formula: CellFormula | None = None  # (i, j) -> formula text
    array_formula: str | None = None  # one formula over the whole block
    name: str | None = None  # workbook-level defined name for the block
    comment: str | None = None  # on the top-left cell
    cell_arrays: bool = False  # write each cell formula as a one-cell array formula
    layer: str | None = None  # the layer it belongs to ("layer 3 'dense_1' (Dense)"), for messages
    # What the formulas compute (2-D like the block, numbers, text or booleans), found by the
    # NumPy reference when the plan is made: written as the cells' cached values.
    results: Any = None
    # Every row's formula is the first row's moved down (a batch): one shared formula per
    # column (sheet/shared_formulas.py).
    fill_down: bool = False

    def __post_init__(self) -> None:
        filled = [
            self.values is not None,
            self.cell_formula is not None,
            self.array_formula is not None,
        ]
        if sum(filled) != 1:
            raise ValueError("a region holds exactly one kind of content")
        if self.values is not None:
            self.values = _as_grid(self.values)
        if self.results is not None:
            self.results = _as_grid(self.results)


def _as_grid(values: Any) -> Any:
    if isinstance(values, np.ndarray):
        return values.reshape(values.shape[0] if values.ndim > 1 else 1, -1)
    if isinstance(values, (str, int, float)):
        return [[values]]
    if values and not isinstance(values[0], (list, tuple, np.ndarray)):
        return [list(values)]
    return values


DEFAULT_WIDTH = 8.43  # a column's width in characters where a sheet sets none (Excel, LibreOffice)
BOLD = 1.15  # bold text is this much wider


def headings(sheet: SheetPlan, row: int) -> list[tuple[int, str]]:
    """(column, text) of the one-cell texts on `row`, left to right."""
    one_cell = [
        r for r in sheet.regions if r.block.top == row and r.block.rows == r.block.cols == 1
    ]
    return sorted((r.block.left, str(r.values[0][0])) for r in one_cell if r.values is not None)


def fit_headings(sheet: SheetPlan, row: int) -> None:
    """Widen columns so each heading on `row` ends before the next one starts: a text runs on
    into empty cells on its right, and is cut off where the next one stands."""
    found = headings(sheet, row)
    for (left, text), (stop, _) in zip(found, found[1:]):
        span = range(left, stop)
        have = sum(sheet.widths.get(c, DEFAULT_WIDTH) for c in span)
        need = len(text) * BOLD + 1
        if have < need:
            for c in span:
                sheet.widths[c] = sheet.widths.get(c, DEFAULT_WIDTH) + (need - have) / len(span)


PARAGRAPH_CHARS = 110  # a paragraph wraps at about a landscape page's width
LINE_POINTS = 15.0  # the height of one line of text


def paragraph(sheet: SheetPlan, row: int, value: str, style: str = "subtitle") -> None:
    """Text in column A that wraps across the first columns (merged, about a page wide) instead
    of running on past the printed page, with its row as tall as its lines."""
    widths, right = 0.0, 0
    while widths < PARAGRAPH_CHARS:
        right += 1
        widths += sheet.widths.get(right, DEFAULT_WIDTH)
    sheet.add(Region(Block(sheet.title, row, 1), style, values=[[value]]))
    sheet.merges.append(Block(sheet.title, row, 1, 1, right))
    sheet.heights[row] = line_height(value, widths)


def line_height(value: str, width: float) -> float:
    """The height in points of a row whose text wraps at `width` characters (with a margin
    for fonts wider than the default one)."""
    return LINE_POINTS * max(1, math.ceil(len(value) * 1.1 / width))


def own(regions: list[Region], first: int, layer: str) -> None:
    """Mark the regions from index `first` on as belonging to `layer` (limits name it)."""
    for region in regions[first:]:
        region.layer = region.layer or layer


def text(sheet: str, row: int, col: int, value: str, style: str = "label", **kw: Any) -> Region:
    return Region(Block(sheet, row, col), style, values=[[value]], **kw)


def text_row(
    sheet: str, row: int, col: int, values: Sequence[str], style: str = "header"
) -> Region:
    return Region(Block(sheet, row, col, 1, len(values)), style, values=[list(values)])


@dataclass
class ConditionalFormat:
    """A rule for the writer: a colour scale over a range, or a fill where a formula is true."""

    ref: str
    kind: str  # "changed" (formula rule) or "scale" (3-colour scale) or "pass_fail"
    formula: str = ""
    bound: float = 1.0  # "map" / "ink": the value shown in full colour (-bound .. bound)


@dataclass
class WholeNumberRule:
    """Data validation for the writer: the block's cells take a whole number from low to high."""

    block: Block
    low: int
    high: int
    prompt: str


@dataclass
class Chart:
    """A bar chart (or line chart) of `values` (rows or columns) titled `title`, anchored at
    `anchor`."""

    title: str
    values: Block
    categories: Block | None
    anchor: str
    series_in_rows: bool = True
    y_title: str = "probability"
    series_names: list[str] | None = None
    line: bool = False  # a line chart with numeric categories (per epoch), its y axis free
    x_title: str | None = None


@dataclass
class SheetPlan:
    """One sheet: its regions and everything about it that is not a cell."""

    title: str
    regions: list[Region] = field(default_factory=list)
    widths: dict[int, float] = field(default_factory=dict)
    freeze: str | None = None
    conditional: list[ConditionalFormat] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    validations: list[WholeNumberRule] = field(default_factory=list)
    hidden: bool = False
    landscape: bool = True
    names: dict[str, Block] = field(default_factory=dict)  # names spanning several regions
    print_area: Block | None = None  # what a printout shows (default: everything)
    print_titles: tuple[int, int] | None = None  # rows every printed page repeats
    merges: list[Block] = field(default_factory=list)  # cells shown as one (paragraphs)
    heights: dict[int, float] = field(default_factory=dict)  # row heights in points

    def add(self, *regions: Region) -> None:
        self.regions.extend(regions)

    def extent(self) -> tuple[int, int]:
        rows = max((r.block.bottom for r in self.regions), default=0)
        cols = max((r.block.right for r in self.regions), default=0)
        return rows, cols

    def width(self) -> float:
        """The used columns' width in characters."""
        return sum(self.widths.get(c, DEFAULT_WIDTH) for c in range(1, self.extent()[1] + 1))


@dataclass
class WorkbookPlan:
    """The sheets in order, and the document's title."""

    sheets: list[SheetPlan]
    title: str | None = None  # the document's title (its properties)

    def names(self) -> dict[str, str]:
        """Every defined name and the absolute, sheet-qualified range it refers to."""
        found = {r.name: r.block.ref() for s in self.sheets for r in s.regions if r.name}
        found.update({name: block.ref() for s in self.sheets for name, block in s.names.items()})
        return found
