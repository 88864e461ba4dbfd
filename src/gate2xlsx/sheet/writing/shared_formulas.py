"""Formulas filled down a column, written as Excel writes them: one shared formula.

A batch region holds the same formula on every row, moved down one row each time (row i
reads row i of its inputs). Excel stores such a column once: the first cell carries the
formula text and the range it covers (`<f t="shared" ref="E8:E11" si="0">`), every other
cell only the group's index (`<f t="shared" si="0"/>`). Writing it that way skips building
the formula text of every other row and keeps files small; LibreOffice reads the group as
one formula group, and every reader that expands it (openpyxl, IronCalc) gets each cell's
own formula back.

A region says it is filled down (`Region.fill_down`); before its column is shared, the
formula of its second and last rows is checked against the first one moved down, so a
region that claims it wrongly is written cell by cell, never wrong.
"""

from __future__ import annotations

from typing import NamedTuple

from openpyxl.formula.translate import Translator

from ..layout import Region


class SharedFormula(NamedTuple):
    """The first cell of a shared formula: its text (with "="), the range, the group index."""

    text: str
    ref: str
    index: int


class SharedChild(NamedTuple):
    """Any other cell of a shared formula: the group index alone."""

    index: int


class FillDown:
    """One sheet's shared-formula groups, numbered as the writer meets them."""

    def __init__(self) -> None:
        self.groups: dict[tuple[int, int], int | None] = {}  # (region id, column) -> index
        self.count = 0

    def formula(self, region: Region, i: int, j: int) -> str | SharedFormula | SharedChild:
        """What cell (i, j) of a filled-down region holds."""
        key = (id(region), j)
        if i == 0:
            text = region.cell_formula(0, j)
            if not _moves_down(region, j, text):
                self.groups[key] = None
                return text
            self.groups[key] = index = self.count
            self.count += 1
            return SharedFormula(text, region.block.column(j, on=region.block.sheet), index)
        index = self.groups.get(key)
        return region.cell_formula(i, j) if index is None else SharedChild(index)

    def children(self, region: Region, first: int) -> tuple[int, ...] | None:
        """The group index of each column from `first` on, for a row below the region's first
        one; None unless every one of those columns is shared."""
        indices = tuple(self.groups.get((id(region), j)) for j in range(first, region.block.cols))
        return None if None in indices else indices


# Shorter columns are written cell by cell: checking a column costs about what writing a
# dozen of its formulas does.
MIN_ROWS = 16


def _moves_down(region: Region, j: int, first: str) -> bool:
    """Whether the region's formulas in column j are the first one moved down, row by row
    (checked on the second and the last row)."""
    b = region.block
    if b.rows < MIN_ROWS:
        return False
    origin = Translator(first, origin=b.cell(0, j, on=b.sheet))
    return all(
        origin.translate_formula(b.cell(i, j, on=b.sheet)) == region.cell_formula(i, j)
        for i in sorted({1, b.rows - 1})
    )
