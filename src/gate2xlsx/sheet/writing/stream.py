"""A write-only worksheet that writes its cells straight to sheet XML, spelled as Excel does.

openpyxl's write-only mode builds an element tree for every cell and serialises it in pure
Python: about 8 microseconds a cell, which was most of an export's time. The cells a workbook
holds have few spellings, so this sheet renders runs of plain numbers (NumberRun) and placed
cells (Cell: value, style id and, for a formula, its cached result) as text and hands them to
openpyxl's output stream in one piece per row. The spelling is Excel's own, which openpyxl's
is not in two ways: text goes to the shared-strings table (`t="s"`; openpyxl writes every
string inline, which Excel rewrites on its next save), and a formula carries the value it
computes (`<v>`), so a reader that does not calculate (Protected View, pandas, previews) sees
the numbers. Numbers are spelled exactly as openpyxl would (tests/unit/test_stream.py).

The shortcut uses the raw output function of et_xmlfile's incremental writer; where that is
not there (lxml installed, or a future et_xmlfile), each cell's text is parsed into an
element and written through the stream: slower, the same XML.
"""

from __future__ import annotations

import io
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
from openpyxl.xml.functions import fromstring, xmlfile

from .shared_formulas import SharedChild, SharedFormula

try:
    from et_xmlfile.xmlfile import _IncrementalFileWriter
except ImportError:  # pragma: no cover - an et_xmlfile without it: the element path
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


class SharedRun:
    """Consecutive cells of a region's row that continue shared formulas (each only its
    group's index, `<f t="shared" si=".."/>`) in one style: the region's rows below its
    first. Made once per region; `xml(row, cached)` spells a row as `spell` spells each cell."""

    __slots__ = ("starts", "style", "indices")

    def __init__(self, column: int, style_id: int | None, indices: tuple[int, ...]):
        self.starts = tuple(f'<c r="{letter}' for letter in _letters(column, len(indices)))
        self.style = "" if style_id is None else f' s="{style_id}"'
        self.indices = indices

    def xml(self, row: int, cached: list | None) -> str:
        cached = cached if cached is not None else [None] * len(self.indices)
        parts = []
        for start, index, value in zip(self.starts, self.indices, cached):
            kind, result = _result(value)
            parts.append(f'{start}{row}"{self.style}{kind}>{_shared_child(index)}{result}</c>')
        return "".join(parts)


class SharedRow(NamedTuple):
    """One row of a SharedRun: the run and its cells' cached results (None: none)."""

    run: SharedRun
    cached: list | None


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
    ArrayFormula), style id (None: unstyled), `kind` as openpyxl names data types ("n"
    number, "s" text, "f" formula), for a formula the value it computes (None: none), and
    the text of its comment, if it has one."""

    column: int
    value: object
    style_id: int | None
    kind: str
    cached: object = None
    comment: str | None = None


COMMENT_AUTHOR = "gate2xlsx"
COMMENT_SIZE = (300, 80)  # width and height in points


def fast_cell(
    column: int, value: object, style_id: int | None, text: bool, cached: object = None
) -> Cell | None:
    """The Cell for a value, or None when openpyxl must see it (it refuses or rewrites it):
    non-finite numbers, illegal characters, over-long text, types other than these."""
    if isinstance(value, str):
        if len(value) > MAX_TEXT or ILLEGAL_CHARACTERS_RE.search(value):
            return None
        formula = not text and len(value) > 1 and value.startswith("=")
        return Cell(column, value, style_id, "f" if formula else "s", cached if formula else None)
    if isinstance(value, (ArrayFormula, SharedFormula, SharedChild)):
        return Cell(column, value, style_id, "f", cached)
    if value is None or type(value) is int or (type(value) is float and math.isfinite(value)):
        return Cell(column, value, style_id, "n")
    return None


Strings = Callable[[str], int]  # text -> its index in the shared-strings table


def cell_xml(cell: WriteOnlyCell, styled: bool, strings: Strings) -> str | None:
    """An openpyxl cell in this module's spelling, or None when only openpyxl knows how (a
    hyperlink, a boolean, a date, rich text, a non-finite number)."""
    if cell.hyperlink is not None or cell.data_type not in "nsf":
        return None
    style = cell.style_id if styled else None
    return spell(cell.column, cell.row, cell._value, cell.data_type, style, strings)


def placed_xml(row: int, cell: Cell, strings: Strings) -> str | None:
    return spell(cell.column, row, cell.value, cell.kind, cell.style_id, strings, cell.cached)


def spell(
    column: int,
    row: int,
    value: object,
    kind: str,
    style: int | None,
    strings: Strings,
    cached: object = None,
) -> str | None:
    """A number, text or formula cell (plain or array) as Excel writes it: nearly every cell
    a workbook holds. None for a value this spelling does not cover."""
    head = f'<c r="{_letters(column, 1)[0]}{row}"'
    if style is not None:
        head += f' s="{style}"'
    if value is None or value == "":
        return head + f' t="{kind}" />' if kind == "n" else head + " />"
    if kind == "f":
        return _formula_xml(head, value, cached)
    if kind == "s":
        if not isinstance(value, str):
            return None
        return f'{head} t="s"><v>{strings(value)}</v></c>'
    if type(value) is float and math.isfinite(value):
        return f'{head} t="n"><v>{value!r}</v></c>'
    if type(value) is int:
        return f'{head} t="n"><v>{value}</v></c>'
    return None


def _formula_xml(head: str, value: object, cached: object) -> str | None:
    if isinstance(value, SharedChild):
        body = _shared_child(value.index)
    elif isinstance(value, SharedFormula):
        text = value.text[1:].translate(_TEXT_ESCAPES)
        body = f'<f t="shared" ref="{value.ref}" si="{value.index}">{text}</f>'
    elif isinstance(value, ArrayFormula):
        ref = str(value.ref).translate(_ATTR_ESCAPES)
        body = f'<f t="array" ref="{ref}">{value.text[1:].translate(_TEXT_ESCAPES)}</f>'
    elif isinstance(value, str):
        body = f"<f>{value[1:].translate(_TEXT_ESCAPES)}</f>"
    else:
        return None
    kind, result = _result(cached)
    return f"{head}{kind}>{body}{result}</c>"


def _shared_child(index: int) -> str:
    """A shared formula's cell below its first: the group's index alone."""
    return f'<f t="shared" si="{index}" />'


def _result(cached: object) -> tuple[str, str]:
    """A formula's cached value as Excel spells it: (type attribute, <v> element)."""
    if type(cached) is float and math.isfinite(cached):  # nearly every one: first
        return "", f"<v>{cached!r}</v>"
    if cached is None:
        return "", "<v />"
    if isinstance(cached, (bool, np.bool_)):
        return ' t="b"', f"<v>{int(cached)}</v>"
    if isinstance(cached, str):
        return ' t="str"', f"<v>{cached.translate(_TEXT_ESCAPES)}</v>"
    number = float(cached)
    if not math.isfinite(number):  # what the engine shows for it; Excel has no NaN
        return ' t="e"', "<v>#NUM!</v>"
    return "", f"<v>{number!r}</v>"


class StreamingSheet(WriteOnlyWorksheet):
    """Takes rows already laid out by the caller: WriteOnlyCells with column and row set,
    None for blanks, Cells, NumberRuns and SharedRows. Create with `add_streaming_sheet`.
    `row_heights` maps a row to its height in points (rows not in it keep the default)."""

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
        strings = self.ws.parent.shared_strings.add  # IndexedList.add returns the index
        height = self.ws.row_heights.get(row_idx)
        attributes = {"r": f"{row_idx}"}
        if height is not None:  # a paragraph's row: as tall as its wrapped lines
            attributes.update(ht=f"{height:g}", customHeight="1")
        cells = [self._cell_text(item, row_idx, strings) for item in row if item is not None]
        with xf.element("row", attributes):
            _write_raw(xf, "".join(cells))

    def _cell_text(self, item, row_idx: int, strings: Strings) -> str:
        text = None
        if isinstance(item, Cell):
            if item.comment is not None:
                self._comment(f"{_letters(item.column, 1)[0]}{row_idx}", item.comment)
            text = placed_xml(row_idx, item, strings)
            item = self._openpyxl_cell(item, row_idx) if text is None else item
        elif type(item) is SharedRow:
            return item.run.xml(row_idx, item.cached)
        elif isinstance(item, NumberRun):
            text = item.xml(row_idx)
            if text is None:
                return "".join(self._openpyxl_numbers(item, row_idx))
        if text is not None:
            return text
        if item._comment is not None:
            self.ws._comments.append(CommentRecord.from_cell(item))
        if item._value is None and not item.has_style and not item._comment:
            return ""
        return cell_xml(item, item.has_style, strings) or _openpyxl_spelling(self.ws, item)

    def _comment(self, ref: str, text: str) -> None:
        record = CommentRecord(ref=ref, author=COMMENT_AUTHOR)
        record.text.t = text
        record.width, record.height = COMMENT_SIZE
        self.ws._comments.append(record)

    def _openpyxl_cell(self, placed: Cell, row_idx: int) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.ws, placed.value)
        if placed.kind == "s":
            cell.data_type = "s"
        if placed.style_id is not None:
            cell._style = self.ws.parent._cell_styles[placed.style_id].copy()
        cell.row, cell.column = row_idx, placed.column
        return cell

    def _openpyxl_numbers(self, run: NumberRun, row_idx: int) -> Iterable[str]:
        cell = WriteOnlyCell(self.ws)
        cell.row = row_idx
        for column, value in enumerate(run.numbers.tolist(), start=run.column):
            cell.value, cell.column = value, column
            yield _openpyxl_spelling(self.ws, cell)


def _openpyxl_spelling(ws, cell: WriteOnlyCell) -> str:
    """A cell only openpyxl knows how to spell (a boolean, a non-finite number), as text."""
    out = io.BytesIO()
    with xmlfile(out) as xf:
        _sheet_writer.write_cell(xf, ws, cell, cell.has_style)
    return out.getvalue().decode()


def _write_raw(xf, text: str) -> None:
    """Sheet XML into the stream: in one raw write where et_xmlfile allows, else as elements."""
    if not text:
        return
    raw = _raw_output(xf)
    if raw is not None:
        raw(text)
        return
    for element in fromstring(f"<row>{text}</row>"):
        xf.write(element)


def _raw_output(xf) -> Callable[[str], None] | None:
    if _IncrementalFileWriter is not None and type(xf) is _IncrementalFileWriter:
        write = getattr(xf, "_file", None)
        return write if callable(write) else None
    return None
