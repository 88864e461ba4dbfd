"""The number-run shortcut writes exactly the XML openpyxl's own cell writer would."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import openpyxl
import pytest
from et_xmlfile import xmlfile
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, NamedStyle
from openpyxl.worksheet import _writer as _sheet_writer
from openpyxl.worksheet.formula import ArrayFormula

from gate2xlsx.sheet import stream
from gate2xlsx.sheet.stream import NumberRun, add_streaming_sheet
from gate2xlsx.sheet.writer import _exact_numbers

AWKWARD = [0.1, -0.0, 1e-300, -1.5e300, 3.0, 2.0**-1074, 123456789.123, 1 / 3]


def _numbers(rng: np.random.Generator) -> list[np.ndarray]:
    return [
        rng.standard_normal(300).astype(np.float32),  # as kernels are stored
        rng.standard_normal(40),
        np.array(AWKWARD),
        rng.integers(-(10**9), 10**9, 30),
    ]


def _sheet_xml(path) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read("xl/worksheets/sheet1.xml")


def _write_openpyxl(path, rows: list[np.ndarray], offset: int) -> None:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("S")
    with _exact_numbers():  # write-only mode serialises each row as it is appended
        for values in rows:
            ws.append([None] * offset + values.tolist() + ["after"])
        wb.save(path)


def _write_streaming(path, rows: list[np.ndarray], offset: int) -> None:
    wb = Workbook(write_only=True)
    ws = add_streaming_sheet(wb, "S")
    with _exact_numbers():
        for r, values in enumerate(rows, start=1):
            text = WriteOnlyCell(ws, "after")
            text.row, text.column = r, offset + len(values) + 1
            ws.append([NumberRun(offset + 1, values), text])
        wb.save(path)


@pytest.mark.parametrize("offset", [0, 2, 700])
def test_number_runs_are_byte_for_byte_what_openpyxl_writes(tmp_path, offset):
    rows = _numbers(np.random.default_rng(offset))
    _write_openpyxl(tmp_path / "openpyxl.xlsx", rows, offset)
    _write_streaming(tmp_path / "ours.xlsx", rows, offset)
    assert _sheet_xml(tmp_path / "ours.xlsx") == _sheet_xml(tmp_path / "openpyxl.xlsx")


def test_without_the_raw_stream_runs_go_through_openpyxl(tmp_path, monkeypatch):
    rows = _numbers(np.random.default_rng(1))
    _write_openpyxl(tmp_path / "openpyxl.xlsx", rows, 3)
    monkeypatch.setattr(stream, "_raw_output", lambda xf: None)
    _write_streaming(tmp_path / "ours.xlsx", rows, 3)
    assert _sheet_xml(tmp_path / "ours.xlsx") == _sheet_xml(tmp_path / "openpyxl.xlsx")


def test_values_read_back_exactly(tmp_path):
    rows = _numbers(np.random.default_rng(2))
    _write_streaming(tmp_path / "ours.xlsx", rows, 1)
    ws = openpyxl.load_workbook(tmp_path / "ours.xlsx").active
    for r, values in enumerate(rows, start=1):
        got = [ws.cell(r, 2 + j).value for j in range(len(values))]
        assert got == values.tolist()


def test_non_finite_numbers_keep_openpyxls_spelling():
    assert NumberRun(1, np.array([1.0, np.nan])).xml(1) is None
    assert NumberRun(1, np.array([np.inf])).xml(1) is None
    assert (
        NumberRun(2, np.array([0.5, 2.0])).xml(3)
        == '<c r="B3" t="n"><v>0.5</v></c><c r="C3" t="n"><v>2.0</v></c>'
    )


@pytest.mark.skipif(
    openpyxl.LXML,
    reason="with lxml installed openpyxl streams through lxml, "
    "which is fast already; the shortcut is for et_xmlfile",
)
def test_the_shortcut_is_taken_with_et_xmlfile(tmp_path, monkeypatch):
    def slow(*args):
        raise AssertionError("fell back to openpyxl's cell writer")

    monkeypatch.setattr(stream._RowWriter, "_write_numbers", slow)
    _write_streaming(tmp_path / "ours.xlsx", _numbers(np.random.default_rng(3)), 0)


# Every kind of cell the workbook writes, and the awkward spellings of each.
CELLS = [
    0.1, -0.0, 1e-300, 2.0**-1074, 3, 10**12, 1 / 3,
    "text", " lead", "trail ", "  ", 'a&b<c>"d\'', "line\nbreak", "ünïcode ∑",
    "=SUM(A1:A2)", '=IF(A1>0,"x&y","<")', '=A1&" "&B1',
    ArrayFormula("B7:C7", "=MMULT(A1:B1,dense_kernel)"), None, "",
]  # fmt: skip


def _openpyxl_cell_xml(ws, cell) -> str:
    out = io.BytesIO()
    with _exact_numbers(), xmlfile(out) as xf:
        _sheet_writer.write_cell(xf, ws, cell, cell.has_style)
    return out.getvalue().decode()


@pytest.mark.parametrize("styled", [False, True])
def test_every_cell_kind_is_spelled_as_openpyxl_spells_it(styled):
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("S")
    wb.add_named_style(NamedStyle(name="bold", font=Font(bold=True)))
    for k, value in enumerate(CELLS):
        cell = WriteOnlyCell(ws)
        if styled:
            cell.style = "bold"
        cell.value = value
        if isinstance(value, str) and not value.startswith("="):
            cell.data_type = "s"  # text from a model file is never a formula
        cell.row, cell.column = 7, 3 + 90 * k
        assert stream.cell_xml(cell, cell.has_style) == _openpyxl_cell_xml(ws, cell), value


def test_cells_only_openpyxl_can_spell_fall_back():
    ws = Workbook(write_only=True).create_sheet("S")
    cell = WriteOnlyCell(ws, float("nan"))
    cell.row, cell.column = 1, 1
    assert stream.cell_xml(cell, False) is None
    cell.value = True
    assert stream.cell_xml(cell, False) is None
