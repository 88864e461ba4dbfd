"""IronCalc: a second spreadsheet engine, built to Excel's semantics (PyPI `ironcalc`).

It evaluates a workbook in-process, without LibreOffice, and takes edits through its API;
the tests hold its values against LibreOffice's and Keras's. Imported only when asked for:
`ironcalc` is a test dependency, not a run-time one.
"""

from __future__ import annotations

import os

import numpy as np
from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook.defined_name import DefinedName

from ..errors import EngineMissing


def _ironcalc():
    try:
        import ironcalc
    except ImportError as exc:
        raise EngineMissing("IronCalc is not installed", hint="pip install ironcalc") from exc
    return ironcalc


class Workbook:
    """A workbook loaded and evaluated by IronCalc, read and edited by defined name."""

    def __init__(self, path: str | os.PathLike):
        ic = _ironcalc()
        self.ic = ic
        self.model = ic.load_from_xlsx(str(path), "en", "UTC")
        self.model.evaluate()
        self.sheets = [s["name"] for s in self.model.get_worksheets_properties()]
        self.names = {d["name"]: d["formula"] for d in self.model.get_defined_name_list()}

    def _cells(self, name: str) -> tuple[int, list[list[tuple[int, int]]]]:
        """(sheet index, (row, column) of each cell, row by row), read as the workbook reader
        reads a defined name (readers/xlsx.name_range)."""
        destinations = list(DefinedName(name, attr_text=self.names[name]).destinations)
        if len(destinations) != 1:
            raise ValueError(f"defined name {name!r} is not one sheet's range")
        title, ref = destinations[0]
        c1, r1, c2, r2 = range_boundaries(ref.replace("$", ""))
        rows = range(r1, r2 + 1)
        return self.sheets.index(title), [[(r, c) for c in range(c1, c2 + 1)] for r in rows]

    def values(self, name: str) -> list[list[object]]:
        """The values of a defined name's cells, row by row (numbers, text or booleans)."""
        sheet, grid = self._cells(name)
        return [[self.model.get_cell_value(sheet, r, c) for r, c in row] for row in grid]

    def numbers(self, name: str) -> np.ndarray:
        return np.array(self.values(name), dtype=np.float64)

    def set_number(self, name: str, i: int, j: int, value: float) -> None:
        """Type a number into element (i, j) of a named range, then recalculate."""
        sheet, grid = self._cells(name)
        row, column = grid[i][j]
        self.model.update_cell_with_number(sheet, row, column, float(value))
        self.model.evaluate()

    def set_numbers(self, name: str, values: np.ndarray) -> None:
        """Type numbers into every cell of a named range (row by row), then recalculate once."""
        sheet, grid = self._cells(name)
        cells = [cell for row in grid for cell in row]
        for (row, column), value in zip(cells, np.asarray(values, np.float64).reshape(-1)):
            self.model.update_cell_with_number(sheet, row, column, float(value))
        self.model.evaluate()
