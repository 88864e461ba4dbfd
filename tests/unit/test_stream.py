"""The streaming sheet: numbers byte for byte as openpyxl writes them; text, formulas and
cached values in Excel's spelling, read back by openpyxl as written."""

from __future__ import annotations

import zipfile

import numpy as np
import openpyxl
import pytest
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet.formula import ArrayFormula

from gate2xlsx.sheet.writing import stream, xlsx_package
from gate2xlsx.sheet.writing.shared_formulas import SharedChild
from gate2xlsx.sheet.writing.stream import NumberRun, SharedRun, add_streaming_sheet
from gate2xlsx.sheet.writing.writer import _exact_numbers

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
            ws.append([None] * offset + values.tolist() + [7])
        wb.save(path)


def _write_streaming(path, rows: list[np.ndarray], offset: int) -> None:
    wb = Workbook(write_only=True)
    ws = add_streaming_sheet(wb, "S")
    with _exact_numbers():
        for r, values in enumerate(rows, start=1):
            last = WriteOnlyCell(ws, 7)
            last.row, last.column = r, offset + len(values) + 1
            ws.append([NumberRun(offset + 1, values), last])
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
        raise AssertionError("fell back to writing elements")

    monkeypatch.setattr(stream, "fromstring", slow)
    _write_streaming(tmp_path / "ours.xlsx", _numbers(np.random.default_rng(3)), 0)


# Every kind of cell the workbook writes, and the awkward spellings of each.
CELLS = [
    0.1, -0.0, 1e-300, 2.0**-1074, 3, 10**12, 1 / 3,
    "text", " lead", "trail ", "  ", 'a&b<c>"d\'', "line\nbreak", "ünïcode ∑",
    "=SUM(A1:A2)", '=IF(A1>0,"x&y","<")', '=A1&" "&B1',
    ArrayFormula("B7:C7", "=MMULT(A1:B1,dense_kernel)"),
]  # fmt: skip
CACHED = {"=SUM(A1:A2)": 0.25, '=IF(A1>0,"x&y","<")': "x&y", '=A1&" "&B1': True}


def _write_kinds(path, raw: bool, monkeypatch) -> None:
    if not raw:
        monkeypatch.setattr(stream, "_raw_output", lambda xf: None)
    wb = Workbook(write_only=True)
    wb.shared_strings = xlsx_package.SharedStrings()
    ws = add_streaming_sheet(wb, "S")
    for value in CELLS:
        key = value if isinstance(value, str) else None
        cached = CACHED.get(key, 0.5 if isinstance(value, ArrayFormula) else None)
        text = not str(value).startswith("=")
        ws.append([stream.fast_cell(1, value, None, text=text, cached=cached)])
    with _exact_numbers():
        xlsx_package.save(wb, path, "kinds")
    monkeypatch.undo()


@pytest.mark.parametrize("raw", [True, False])
def test_every_cell_kind_reads_back_as_written(tmp_path, monkeypatch, raw):
    _write_kinds(tmp_path / "kinds.xlsx", raw, monkeypatch)
    ws = openpyxl.load_workbook(tmp_path / "kinds.xlsx").active
    cached = openpyxl.load_workbook(tmp_path / "kinds.xlsx", data_only=True).active
    for r, value in enumerate(CELLS, start=1):
        got = ws.cell(r, 1).value
        if isinstance(value, ArrayFormula):
            assert (got.ref, got.text) == (value.ref, value.text)
            assert cached.cell(r, 1).value == 0.5
        else:
            assert got == value, value
        if value in CACHED:
            assert cached.cell(r, 1).value == CACHED[value], value


def test_the_element_path_writes_the_same_xml(tmp_path, monkeypatch):
    _write_kinds(tmp_path / "raw.xlsx", True, monkeypatch)
    _write_kinds(tmp_path / "elements.xlsx", False, monkeypatch)
    assert _sheet_xml(tmp_path / "raw.xlsx") == _sheet_xml(tmp_path / "elements.xlsx")


def test_text_goes_to_one_shared_table():
    strings = xlsx_package.SharedStrings()
    assert [strings.add(t) for t in ["a", "b", "a"]] == [0, 1, 0]
    assert strings.count == 3
    assert stream.spell(2, 4, "b", "s", 3, strings.add) == '<c r="B4" s="3" t="s"><v>1</v></c>'


def test_cached_results_are_spelled_by_type():
    body = stream.spell(1, 1, "=X", "f", None, None, cached="PASS")
    assert body == '<c r="A1" t="str"><f>X</f><v>PASS</v></c>'
    assert stream.spell(1, 1, "=X", "f", None, None, cached=False).endswith("<v>0</v></c>")
    number = stream.spell(1, 1, "=X", "f", None, None, cached=0.1)
    assert number == '<c r="A1"><f>X</f><v>0.1</v></c>'
    assert 't="e"' in stream.spell(1, 1, "=X", "f", None, None, cached=float("inf"))


@pytest.mark.parametrize("style", [None, 4])
def test_a_shared_run_spells_each_cell_as_spell_does(style):
    """A batch row below the first is spelled in one go; cell by cell it must be the same."""
    cached = [0.1, -2.5e-07, 3, "PASS", True, float("nan"), None, 1e300]
    run = SharedRun(26, style, tuple(range(7, 7 + len(cached))))
    one_by_one = "".join(
        stream.spell(26 + j, 40, SharedChild(7 + j), "f", style, None, cached=value)
        for j, value in enumerate(cached)
    )
    assert run.xml(40, cached) == one_by_one
    assert run.xml(40, None) == "".join(
        stream.spell(26 + j, 40, SharedChild(7 + j), "f", style, None) for j in range(8)
    )
    assert run.xml(40, cached).startswith('<c r="Z40"')


def test_cells_only_openpyxl_can_spell_fall_back():
    ws = Workbook(write_only=True).create_sheet("S")
    cell = WriteOnlyCell(ws, float("nan"))
    cell.row, cell.column = 1, 1
    assert stream.cell_xml(cell, False, None) is None
    cell.value = True
    assert stream.cell_xml(cell, False, None) is None
