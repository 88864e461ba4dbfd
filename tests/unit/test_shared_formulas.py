"""Filled-down columns are written as shared formulas, and read back as each cell's own."""

from __future__ import annotations

import zipfile

import openpyxl
import pytest

from gate2xlsx.sheet.layout import Block, Region, SheetPlan, WorkbookPlan
from gate2xlsx.sheet.writing import writer
from gate2xlsx.sheet.writing.shared_formulas import MIN_ROWS, FillDown, SharedChild, SharedFormula

ROWS = MIN_ROWS + 4


def _region(formula, rows: int = ROWS, fill_down: bool = True) -> Region:
    return Region(Block("S", 2, 3, rows, 2), "computed", cell_formula=formula, fill_down=fill_down)


def _moving(i: int, j: int) -> str:
    return f"=A{2 + i}*{j + 1}+$B$1"


def test_a_filled_down_column_is_one_shared_formula():
    fill, region = FillDown(), _region(_moving)
    first = [fill.formula(region, 0, j) for j in range(2)]
    assert first == [
        SharedFormula("=A2*1+$B$1", "C2:C21", 0),
        SharedFormula("=A2*2+$B$1", "D2:D21", 1),
    ]
    assert fill.formula(region, 5, 1) == SharedChild(1)


@pytest.mark.parametrize(
    "formula, rows",
    [
        (lambda i, j: f"=A{2 + i % 3}", ROWS),  # claims to move down, does not
        (lambda i, j: "=A2" if i < ROWS - 1 else "=A99", ROWS),  # only the last row differs
        (_moving, MIN_ROWS - 1),  # too short to be worth a group
    ],
)
def test_columns_that_do_not_move_down_are_written_cell_by_cell(formula, rows):
    fill, region = FillDown(), _region(formula, rows)
    assert [fill.formula(region, i, 0) for i in range(rows)] == [formula(i, 0) for i in range(rows)]


def test_shared_formulas_read_back_as_each_cells_formula(tmp_path):
    sheet = SheetPlan("S", regions=[Region(Block("S", 1, 1, ROWS + 1, 1), "input",
                                           values=[[float(i)] for i in range(ROWS + 1)]),
                                    _region(_moving)])  # fmt: skip
    book = writer.write(WorkbookPlan([sheet]), tmp_path / "shared.xlsx")
    ws = openpyxl.load_workbook(book)["S"]
    for i in range(ROWS):
        for j in range(2):
            assert ws.cell(2 + i, 3 + j).value == _moving(i, j)
    assert b'<f t="shared" si="1" />' in _sheet_xml(book)


def _sheet_xml(book) -> bytes:
    with zipfile.ZipFile(book) as z:
        return z.read("xl/worksheets/sheet1.xml")
