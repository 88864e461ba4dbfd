"""The one place where spreadsheet formula text is spelled.

Cell and range references (relative or absolute, sheet names quoted when needed), number
literals at full double precision, legal defined names, and the helpers that assemble
formulas. Every other module asks this one for text; no f-string formulas elsewhere.
"""

from __future__ import annotations

import hashlib
import math
import re
import string
import unicodedata
from collections.abc import Iterable, Mapping

from openpyxl.utils import FORMULAE, get_column_letter

MAX_ROWS = 1_048_576
MAX_COLS = 16_384
MAX_FORMULA_CHARS = 8_192
MAX_NAME_CHARS = 255
MAX_SHEET_NAME_CHARS = 31

_SIMPLE_SHEET = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_A1_LIKE = re.compile(r"^[A-Za-z]{1,3}[0-9]+$")
_R1C1_LIKE = re.compile(r"^(?=.)([Rr]([0-9]*|\[-?[0-9]+\]))?([Cc]([0-9]*|\[-?[0-9]+\]))?$")


# --- references -----------------------------------------------------------------------------

def quote_sheet(name: str) -> str:
    """A sheet name as it must appear in a reference: quoted unless it is a plain identifier."""
    if _SIMPLE_SHEET.match(name) and not looks_like_reference(name):
        return name
    return "'" + name.replace("'", "''") + "'"


def cell(row: int, col: int, *, absolute: bool = False, sheet: str | None = None) -> str:
    """A1 reference of (row, col), 1-based, e.g. cell(3, 2) == 'B3'."""
    letter = get_column_letter(col)
    text = f"${letter}${row}" if absolute else f"{letter}{row}"
    return f"{quote_sheet(sheet)}!{text}" if sheet else text


def area(top: int, left: int, bottom: int, right: int, *, absolute: bool = False,
         sheet: str | None = None) -> str:
    """A1 reference of a rectangle; a single cell when the rectangle is one cell."""
    first = cell(top, left, absolute=absolute)
    text = first if (top, left) == (bottom, right) else f"{first}:{cell(bottom, right, absolute=absolute)}"
    return f"{quote_sheet(sheet)}!{text}" if sheet else text


# --- literals -------------------------------------------------------------------------------

def number(value: float) -> str:
    """A number literal that reads back as exactly the same double."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"cannot write {value!r} into a formula")
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value).replace("e", "E")


def text(value: str) -> str:
    """A string literal: double quotes doubled."""
    return '"' + value.replace('"', '""') + '"'


# --- functions ------------------------------------------------------------------------------

def function_name(name: str) -> str:
    """A function's name as stored in the file: `_xlfn.` for functions newer than Excel 2007."""
    upper = name.upper()
    return upper if upper in FORMULAE else f"_xlfn.{upper}"


def call(name: str, *args: str) -> str:
    return f"{function_name(name)}({','.join(args)})"


def formula(body: str) -> str:
    """The text of a cell formula from its body."""
    if len(body) + 1 > MAX_FORMULA_CHARS:
        raise ValueError(f"formula of {len(body) + 1} characters exceeds {MAX_FORMULA_CHARS}")
    return "=" + body


def render(template: str, values: Mapping[str, str | float]) -> str:
    """Fill a formula template's {placeholders}: references as they are, numbers as literals."""
    filled = {k: (v if isinstance(v, str) else number(v)) for k, v in values.items()}
    names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    missing = names - filled.keys()
    if missing:
        raise KeyError(f"template {template!r} needs {sorted(missing)}")
    return template.format_map(filled)


def mmult(left: str, right: str) -> str:
    return call("MMULT", left, right)


def add(*terms: str) -> str:
    return "+".join(terms)


def argmax_index(values: str) -> str:
    """0-based index of the largest value in a row (the first one on ties, like numpy.argmax)."""
    return f"{call('MATCH', call('MAX', values), values, '0')}-1"


def pick(values: str, index0: str) -> str:
    """The element at a 0-based index of a one-row range."""
    return call("INDEX", values, "1", f"{index0}+1")


def row_max(values: str) -> str:
    return call("MAX", values)


def row_sum(values: str) -> str:
    return call("SUM", values)


def dot_product(row_values: str, column_values: str) -> str:
    """Dot product of a one-row range and a one-column range, as a scalar formula."""
    return call("SUMPRODUCT", call("TRANSPOSE", row_values), column_values)


def expanded_dot(pairs: Iterable[tuple[str, str]], bias: str | None) -> str:
    """A dot product written term by term: x1*w1+x2*w2(+b)."""
    terms = [f"{x}*{w}" for x, w in pairs]
    if bias is not None:
        terms.append(bias)
    return add(*terms)


# --- defined names --------------------------------------------------------------------------

def looks_like_reference(name: str) -> bool:
    """True when a spreadsheet could read the name as a cell reference (A1, fc1, R1C1, R, C)."""
    return bool(_A1_LIKE.match(name) or _R1C1_LIKE.match(name))


def _ascii_word(raw: str) -> str:
    folded = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode("ascii")
    word = re.sub(r"[^A-Za-z0-9_]+", "_", folded)
    return re.sub(r"_+", "_", word).strip("_")


def legal_name(raw: str, fallback: str = "layer") -> str:
    """A legal defined name made from raw text (stable: the same text gives the same name).

    Only ASCII letters, digits and underscores; starts with a letter or underscore; never a
    cell reference, TRUE or FALSE; at most 200 characters (a hash keeps long names distinct).
    """
    word = _ascii_word(raw) or fallback
    if word[0].isdigit() or looks_like_reference(word) or word.upper() in {"TRUE", "FALSE"}:
        word = "_" + word
    if len(word) > 200:
        digest = hashlib.sha1(raw.encode("utf-8")).hexdigest()[:8]
        word = f"{word[:190]}_{digest}"
    return word


class NameTable:
    """Hands out legal, unique (case-insensitive) defined names in a stable order."""

    def __init__(self, reserved: Iterable[str] = ()):
        self._taken = {name.lower() for name in reserved}

    def claim(self, raw: str, fallback: str = "layer") -> str:
        base = legal_name(raw, fallback)
        name, n = base, 2
        while name.lower() in self._taken or looks_like_reference(name):
            name = f"{base}_{n}"
            n += 1
        self._taken.add(name.lower())
        return name


def sheet_title(raw: str) -> str:
    """A legal sheet name: no []:*?/\\ characters, at most 31 characters."""
    cleaned = re.sub(r"[\[\]:*?/\\]", "_", raw).strip("'") or "Sheet"
    return cleaned[:MAX_SHEET_NAME_CHARS]


# --- layer formulas (one place for each layer's arithmetic) ---------------------------------

def index(ref: str, row: int, col: int) -> str:
    """Element (row, col), 1-based, of a range or defined name."""
    return call("INDEX", ref, str(row), str(col))


def batch_norm(x: str, mean: str, variance: str, epsilon: float, gamma: str | None,
               beta: str | None) -> str:
    body = f"({x}-{mean})/SQRT({variance}+{number(epsilon)})"
    if gamma is not None:
        body += f"*{gamma}"
    if beta is not None:
        body += f"+{beta}"
    return body


def normalization(x: str, mean: str, variance: str, invert: bool) -> str:
    # max(sqrt(var), 1e-7) elementwise: MAX would aggregate the whole array.
    std = f"IF(SQRT({variance})>1E-07,SQRT({variance}),1E-07)"
    return f"{mean}+{x}*{std}" if invert else f"({x}-{mean})/{std}"


def rescale(x: str, scale: float, offset: float) -> str:
    return f"{x}*{number(scale)}+{number(offset)}"


def reference(ref: str) -> str:
    """A formula body that shows another cell's value."""
    return ref
