"""Cached values: what an exported workbook shows before any engine has run, checked cell by
cell against what an engine computed from its formulas."""

from __future__ import annotations

import math
from pathlib import Path

import openpyxl
from openpyxl.utils.cell import get_column_letter, range_boundaries
from openpyxl.worksheet.formula import ArrayFormula


def formula_cells(book: Path) -> dict[tuple[str, str], object]:
    """(sheet, cell) -> cached value of every formula cell, every cell of an array range too."""
    formulas = openpyxl.load_workbook(book)
    cached = openpyxl.load_workbook(book, data_only=True)
    found = {}
    for ws in formulas.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if isinstance(value, ArrayFormula):
                    c1, r1, c2, r2 = range_boundaries(value.ref)
                    members = [get_column_letter(c) + str(r) for r in range(r1, r2 + 1)
                               for c in range(c1, c2 + 1)]  # fmt: skip
                elif isinstance(value, str) and value.startswith("="):
                    members = [cell.coordinate]
                else:
                    continue
                for ref in members:
                    found[(ws.title, ref)] = cached[ws.title][ref].value
    return found


def mismatches(book: Path, engine_values: openpyxl.Workbook, rel: float = 1e-9) -> list[str]:
    """Formula cells whose cached value is missing or differs from the engine's value:
    numbers within `rel` (relative, absolute below 1), text and booleans exactly."""
    bad = []
    for (sheet, ref), mine in formula_cells(book).items():
        theirs = engine_values[sheet][ref].value
        if mine is None:
            bad.append(f"{sheet}!{ref}: no cached value (engine: {theirs!r})")
        elif isinstance(mine, bool) or isinstance(theirs, bool) or isinstance(mine, str):
            if mine != theirs and not _same_number(mine, theirs, rel):
                bad.append(f"{sheet}!{ref}: cached {mine!r}, engine {theirs!r}")
        elif not _same_number(mine, theirs, rel):
            bad.append(f"{sheet}!{ref}: cached {mine!r}, engine {theirs!r}")
    return bad


def _same_number(a: object, b: object, rel: float) -> bool:
    try:
        a, b = float(a), float(b)
    except (TypeError, ValueError):
        return False
    return math.isclose(a, b, rel_tol=rel, abs_tol=rel)
