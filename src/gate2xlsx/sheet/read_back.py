"""Reading a workbook back through its defined names (values after recalculation, or edits)."""

from __future__ import annotations

import numpy as np
from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook.workbook import Workbook


def name_range(wb: Workbook, name: str) -> tuple[str, tuple[int, int, int, int]]:
    """(sheet title, (min_col, min_row, max_col, max_row)) of a workbook-level defined name."""
    defined = wb.defined_names[name]
    destinations = list(defined.destinations)
    if len(destinations) != 1:
        raise KeyError(f"defined name {name!r} does not point at one range")
    sheet, ref = destinations[0]
    return sheet, range_boundaries(ref.replace("$", ""))


def named_cells(wb: Workbook, name: str) -> list[list]:
    """The cells of a defined name's range, row by row."""
    sheet, (c1, r1, c2, r2) = name_range(wb, name)
    ws = wb[sheet]
    return [list(row) for row in ws.iter_rows(min_row=r1, max_row=r2, min_col=c1, max_col=c2)]


def named_values(wb: Workbook, name: str) -> np.ndarray:
    """A defined name's values as a 2-D float array (None becomes NaN)."""
    rows = named_cells(wb, name)
    return np.array([[np.nan if c.value is None else c.value for c in row] for row in rows],
                    dtype=np.float64)


def set_named_values(wb: Workbook, name: str, values: np.ndarray) -> None:
    """Overwrite a defined name's cells with numbers (as a user typing into them would)."""
    grid = np.asarray(values, dtype=np.float64).reshape(len(named_cells(wb, name)), -1)
    for row, new in zip(named_cells(wb, name), grid):
        for c, v in zip(row, new):
            c.value = float(v)
