"""A write-only worksheet that writes its cells straight to sheet XML.

openpyxl's write-only mode builds an element tree for every cell and serialises it in pure
Python: about 8 microseconds a cell, which was most of an export's time. The cells a workbook
holds have few spellings (`<c r="B7" t="n"><v>0.25</v></c>`, text, formulas, array formulas),
so this sheet renders runs of plain numbers (NumberRun) and placed cells (Cell: value and
style id) as strings and hands them to the same output stream, byte for byte what openpyxl
would have written (tests/unit/test_stream.py compares the two). Cells with a comment, and
values only openpyxl can spell, still go through openpyxl's own cell writer.

The shortcut needs the raw output function of et_xmlfile's incremental writer; where that is
not there (lxml installed, or a future et_xmlfile), every cell goes through openpyxl's writer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from functools import cache
from typing import NamedTuple

import numpy as np
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments.comment_sheet import CommentRecord
from openpyxl.utils import get_column_letter
from openpyxl.worksheet import _writer as _sheet_writer
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.formula import ArrayFormula

try:
    from et_xmlfile.xmlfile import _IncrementalFileWriter
except ImportError:  # pragma: no cover - an et_xmlfile without it: the slow path
    _IncrementalFileWriter = None


class NumberRun:
    """Plain numbers for consecutive cells of one row, starting at `column` (1-based)."""

    __slots__ = ("column", "numbers")

    def __init__(self, column: int, numbers: np.ndarray):
        self.column, self.numbers = column, numbers

    def xml(self, row: int) -> str | None:
        """The run's cells as sheet XML, or None when a value needs openpyxl's own spelling."""
        values = self.numbers.tolist()
        if self.numbers.dtype.kind == "f" and not all(map(math.isfinite, values)):
            return None
        letters = _letters(self.column, len(values))
        return "".join([f'<c r="{c}{row}" t="n"><v>{v!r}</v></c>' for c, v in zip(letters, values)])


@cache
def _letters(first: int, count: int) -> tuple[str, ...]:
    return tuple(get_column_letter(c) for c in range(first, first + count))


MAX_TEXT = 32_767  # characters in a cell; openpyxl cuts longer text, so it sees such cells
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTR_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\n": "&#10;",
        "\r": "&#13;",
        "\t": "&#09;",
    }
)


class Cell(NamedTuple):
    """A cell the writer placed: its column, value (a number, text, formula text or an
    ArrayFormula), style id (None: unstyled), and `kind` as openpyxl names data types ("n"
    number, "s" text, "f" formula)."""

    column: int
    value: object
    style_id: int | None
    kind: str


def fast_cell(column: int, value: object, style_id: int | None, text: bool) -> Cell | None:
    """The Cell for a value, or None when openpyxl must see it (it refuses or rewrites it):
    non-finite numbers, illegal characters, over-long text, types other than these."""
    if isinstance(value, str):
        if len(value) > MAX_TEXT or ILLEGAL_CHARACTERS_RE.search(value):
            return None
        formula = not text and len(value) > 1 and value.startswith("=")
        return Cell(column, value, style_id, "f" if formula else "s")
    if isinstance(value, ArrayFormula):
        return Cell(column, value, style_id, "f")
    if value is None or type(value) is int or (type(value) is float and math.isfinite(value)):
        return Cell(column, value, style_id, "n")
    return None


def cell_xml(cell: WriteOnlyCell, styled: bool) -> str | None:
    """An openpyxl cell as openpyxl's own writer spells it, or None when only openpyxl knows
    how (a hyperlink, a boolean, a date, rich text, a non-finite number)."""
    if cell.hyperlink is not None or cell.data_type not in "nsf":
        return None
    style = cell.style_id if styled else None
    return _xml(cell.column, cell.row, cell._value, cell.data_type, style)


def placed_xml(row: int, cell: Cell) -> str | None:
    return _xml(cell.column, row, cell.value, cell.kind, cell.style_id)


def _xml(column: int, row: int, value: object, kind: str, style: int | None) -> str | None:
    """The spelling of openpyxl's etree_write_cell for numbers, text and formulas (plain and
    array): nearly every cell a workbook holds. tests/unit/test_stream.py holds the two
    spellings byte for byte against each other, cell kind by cell kind."""
    head = f'<c r="{_letters(column, 1)[0]}{row}"'
    if style is not None:
        head += f' s="{style}"'
    head += ' t="inlineStr"' if kind == "s" else "" if kind == "f" else f' t="{kind}"'
    if value is None or value == "":
        return head + " />"
    if kind == "f":
        return _formula_xml(head, value)
    if kind == "s":
        if not isinstance(value, str):
            return None
        stripped = value.strip()
        space = ' xml:space="preserve"' if stripped and stripped != value else ""
        return f"{head}><is><t{space}>{value.translate(_TEXT_ESCAPES)}</t></is></c>"
    if type(value) is float and math.isfinite(value):
        return f"{head}><v>{value!r}</v></c>"
    if type(value) is int:
        return f"{head}><v>{value}</v></c>"
    return None


def _formula_xml(head: str, value: object) -> str | None:
    if isinstance(value, ArrayFormula):
        ref = str(value.ref).translate(_ATTR_ESCAPES)
        body = f'<f t="array" ref="{ref}">{value.text[1:].translate(_TEXT_ESCAPES)}</f>'
    elif isinstance(value, str):
        body = f"<f>{value[1:].translate(_TEXT_ESCAPES)}</f>"
    else:
        return None
    return f"{head}>{body}<v /></c>"


class StreamingSheet(WriteOnlyWorksheet):
    """Takes rows already laid out by the caller: WriteOnlyCells with column and row set,
    None for blanks, and NumberRuns. Create with `add_streaming_sheet`. `row_heights` maps a
    row to its height in points (rows not in it keep the default)."""

    row_heights: dict[int, float] = {}

    def _get_writer(self):
        if self._writer is None:
            self._writer = _RowWriter(self)
            self._writer.write_top()

    def _values_to_row(self, values: Iterable, row_idx: int) -> Iterable:
        return values  # the caller placed every cell; nothing to convert


def add_streaming_sheet(wb, title: str) -> StreamingSheet:
    sheet = StreamingSheet(parent=wb, title=title)
    wb._add_sheet(sheet)
    return sheet


class _RowWriter(_sheet_writer.WorksheetWriter):
    def write_row(self, xf, row, row_idx):
        raw = _raw_output(xf)
        height = self.ws.row_heights.get(row_idx)
        attributes = {"r": f"{row_idx}"}
        if height is not None:  # a paragraph's row: as tall as its wrapped lines
            attributes.update(ht=f"{height:g}", customHeight="1")
        with xf.element("row", attributes):
            pending: list[str] = []  # raw XML, written in one piece before anything else
            for item in row:
                text = None
                if raw is not None and isinstance(item, Cell):
                    text = placed_xml(row_idx, item)
                elif raw is not None and isinstance(item, NumberRun):
                    text = item.xml(row_idx)
                if text is not None:
                    pending.append(text)
                    continue
                if pending:
                    raw("".join(pending))
                    pending.clear()
                if isinstance(item, NumberRun):
                    self._write_numbers(xf, item, row_idx)
                elif isinstance(item, Cell):
                    self._write_cell(xf, self._openpyxl_cell(item, row_idx))
                elif item is not None:
                    self._write_cell(xf, item)
            if pending:
                raw("".join(pending))

    def _write_cell(self, xf, cell) -> None:
        """openpyxl's WorksheetWriter.write_row, for one cell."""
        if cell._comment is not None:
            self.ws._comments.append(CommentRecord.from_cell(cell))
        if cell._value is None and not cell.has_style and not cell._comment:
            return
        raw = _raw_output(xf)
        text = cell_xml(cell, cell.has_style) if raw is not None else None
        if text is not None:
            raw(text)
        else:
            _sheet_writer.write_cell(xf, self.ws, cell, cell.has_style)

    def _openpyxl_cell(self, placed: Cell, row_idx: int) -> WriteOnlyCell:
        """The same cell as openpyxl's own object (when the raw stream is not there)."""
        cell = WriteOnlyCell(self.ws, placed.value)
        if placed.kind == "s":
            cell.data_type = "s"
        if placed.style_id is not None:
            cell._style = self.ws.parent._cell_styles[placed.style_id].copy()
        cell.row, cell.column = row_idx, placed.column
        return cell

    def _write_numbers(self, xf, run: NumberRun, row_idx: int) -> None:
        cell = WriteOnlyCell(self.ws)
        cell.row = row_idx
        for column, value in enumerate(run.numbers.tolist(), start=run.column):
            cell.value, cell.column = value, column
            _sheet_writer.write_cell(xf, self.ws, cell, False)


def _raw_output(xf) -> Callable[[str], None] | None:
    if _IncrementalFileWriter is not None and type(xf) is _IncrementalFileWriter:
        write = getattr(xf, "_file", None)
        return write if callable(write) else None
    return None
