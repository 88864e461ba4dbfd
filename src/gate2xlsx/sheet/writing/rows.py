"""A sheet plan's rows as the cells the streaming sheet (stream.py) takes, in order.

Each region becomes, row by row: a NumberRun (a row of a large block of plain numbers), a
SharedRow (a batch row below the first, whose cells only continue shared formulas), a placed
Cell, or, for what only openpyxl can spell, an openpyxl cell reused per style.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.formula import ArrayFormula

from ..layout import Region, SheetPlan
from .shared_formulas import FillDown
from .stream import COMMENT_AUTHOR, COMMENT_SIZE, Cell, NumberRun, SharedRow, SharedRun, fast_cell

# Blocks of numbers this large (a big kernel) are written as plain values, rendered straight
# to XML a row at a time (sheet/stream.py), and get their fill and number format from one
# conditional-format rule over the block instead of a style on every cell.
PLAIN_CELLS = 1024


def is_plain(region: Region) -> bool:
    """Large numeric blocks only: text (which could start with "=") always goes through a cell."""
    values = region.values
    return (
        isinstance(values, np.ndarray)
        and values.dtype.kind in "fiu"
        and region.comment is None
        and region.block.rows * region.block.cols >= PLAIN_CELLS
    )


def sheet_rows(
    ws, plan: SheetPlan, plain: set[int] = frozenset(), cached: bool = True
) -> Iterator[Iterator]:
    """Each row of the sheet in order, as a generator of the cells write-only mode appends."""
    regions = sorted(plan.regions, key=lambda r: (r.block.top, r.block.left))
    pool = CellPool(ws, plain, cached)
    active: list[Region] = []
    next_region = 0
    for row in range(1, plan.extent()[0] + 1):
        added = False
        while next_region < len(regions) and regions[next_region].block.top == row:
            active.append(regions[next_region])
            next_region += 1
            added = True
        active = [r for r in active if r.block.bottom >= row]
        if added:
            active.sort(key=lambda r: r.block.left)
        yield _row_cells(pool, active, row)


class CellPool:
    """Styled cells for the rows: a placed Cell (style id and value; sheet/stream.py renders it
    straight to XML) wherever it can, else an openpyxl cell, one reused per style.

    Write-only mode serialises each cell as soon as the row generator yields it, so a cell
    object can carry the next value right after; neither path builds and styles a new cell
    for every weight, which dominated export time on large networks.
    """

    def __init__(self, ws, plain: set[int], cached: bool = True):
        self.ws, self.plain, self.cached = ws, plain, cached
        self.fill_down = FillDown()
        self.cells: dict[str, WriteOnlyCell] = {}
        self.ids: dict[str, int | None] = {}
        self.runs: dict[tuple[int, int], SharedRun | None] = {}
        self.rows: dict[int, list] = {}  # region id -> its cached results, as lists

    def shared_run(self, region: Region, first: int) -> SharedRun | None:
        """The region's rows below its first, from column `first` on, as one SharedRun when
        every one of those columns is a shared formula (known once its first row is out)."""
        key = (id(region), first)
        if key not in self.runs:
            indices = None if region.cell_arrays else self.fill_down.children(region, first)
            self.runs[key] = indices and SharedRun(
                region.block.left + first, self.style_id(region.style), indices
            )
        return self.runs[key]

    def cached_rows(self, region: Region) -> list | None:
        """The region's cached results as lists of Python values (None: not written)."""
        if region.results is None or not self.cached:
            return None
        if id(region) not in self.rows:
            results = region.results
            self.rows[id(region)] = (
                results.tolist()
                if isinstance(results, np.ndarray)
                else [[_python(v) for v in row] for row in results]
            )
        return self.rows[id(region)]

    def get(self, style: str) -> WriteOnlyCell:
        if style not in self.cells:
            self.cells[style] = self.fresh(style)
        return self.cells[style]

    def fresh(self, style: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.ws)
        cell.style = f"g2x_{style}"
        return cell

    def style_id(self, style: str) -> int | None:
        """The workbook's id of the style (None for an unstyled cell), found once per style."""
        if style not in self.ids:
            cell = self.get(style)
            self.ids[style] = cell.style_id if cell.has_style else None
        return self.ids[style]


def _row_cells(pool: CellPool, regions: list[Region], row: int) -> Iterator:
    """The row's cells, each already placed (a StreamingSheet takes them as they are)."""
    column = 1
    for region in regions:
        b = region.block
        i = row - b.top
        first = max(0, column - b.left)
        shared = pool.shared_run(region, first) if i > 0 and region.fill_down else None
        if id(region) in pool.plain:  # a whole row of plain numbers at once
            yield NumberRun(b.left + first, region.values[i][first:])
        elif shared is not None:  # a batch row below the first: group indices and values
            cached = pool.cached_rows(region)
            yield SharedRow(shared, None if cached is None else cached[i][first:])
        else:
            for j in range(first, b.cols):
                yield _cell(pool, region, i, j, row)
        column = b.right + 1


def _value(pool: CellPool, region: Region, i: int, j: int, row: int) -> object:
    b = region.block
    if region.array_formula is not None:
        first = (i, j) == (0, 0)
        return (
            ArrayFormula(b.ref(absolute=False, on=b.sheet), region.array_formula) if first else None
        )
    if region.cell_formula is not None:
        if region.fill_down and not region.cell_arrays:
            return pool.fill_down.formula(region, i, j)
        value = region.cell_formula(i, j)
        if region.cell_arrays:
            return ArrayFormula(f"{get_column_letter(b.left + j)}{row}", value)
        return value
    return _python(region.values[i][j])


def _cell(pool: CellPool, region: Region, i: int, j: int, row: int) -> Cell | WriteOnlyCell:
    value, column = _value(pool, region, i, j, row), region.block.left + j
    text = region.values is not None  # text from a model file is never a formula
    comment = region.comment if (i, j) == (0, 0) else None
    cached = _cached(region, i, j) if pool.cached or region.cell_arrays else None
    placed = fast_cell(column, value, pool.style_id(region.style), text, cached)
    if placed is not None:
        return placed if comment is None else placed._replace(comment=comment)
    cell = pool.fresh(region.style) if comment else pool.get(region.style)
    cell.value = value
    if isinstance(value, str) and text:
        cell.data_type = "s"
    if comment:
        cell.comment = Comment(comment, COMMENT_AUTHOR, *COMMENT_SIZE)
    cell.row, cell.column = row, column
    return cell


def _cached(region: Region, i: int, j: int) -> object:
    """The value a formula cell computes, as the reference found it (None: not known)."""
    return None if region.results is None else _python(region.results[i][j])


def _python(value: object) -> object:
    """A NumPy scalar as the Python value it holds; anything else as it is."""
    return value.item() if hasattr(value, "item") else value
