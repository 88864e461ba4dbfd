"""The one place where spreadsheet formula text is spelled.

Cell and range references (relative or absolute, sheet names quoted when needed), number
literals at full double precision, and the helpers that assemble formulas. Every other module
asks this one for text; no f-string formulas elsewhere. (Legal defined names and sheet titles:
legal_names.py.)
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Iterable, Mapping
from functools import cache

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


def looks_like_reference(name: str) -> bool:
    """True when a spreadsheet could read the name as a cell reference (A1, fc1, R1C1, R, C)."""
    return bool(_A1_LIKE.match(name) or _R1C1_LIKE.match(name))


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


def area(
    top: int,
    left: int,
    bottom: int,
    right: int,
    *,
    absolute: bool = False,
    sheet: str | None = None,
) -> str:
    """A1 reference of a rectangle; a single cell when the rectangle is one cell."""
    first = cell(top, left, absolute=absolute)
    text = (
        first
        if (top, left) == (bottom, right)
        else f"{first}:{cell(bottom, right, absolute=absolute)}"
    )
    return f"{quote_sheet(sheet)}!{text}" if sheet else text


# --- literals -------------------------------------------------------------------------------

SMALLEST_NORMAL = 2.2250738585072014e-308
SUBNORMAL_SCALE = 200  # 2^200 lifts every subnormal double into the normal range, exactly


def number(value: float) -> str:
    """A number literal that reads back as exactly the same double."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"cannot write {value!r} into a formula")
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    if abs(value) < SMALLEST_NORMAL:
        # LibreOffice turns a subnormal literal (e.g. 5E-324) into #VALUE!, though it stores
        # such values in cells; scaling by a power of two and back is exact.
        return f"({number(math.ldexp(value, SUBNORMAL_SCALE))}/2^{SUBNORMAL_SCALE})"
    return repr(value).replace("e", "E")


def text(value: str) -> str:
    """A string literal: double quotes doubled."""
    return '"' + value.replace('"', '""') + '"'


def concat(*parts: str) -> str:
    """Text made of literals and references, e.g. concat(text("P("), "C3", text(")"))."""
    return "&".join(parts)


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


@cache
def placeholders(template: str) -> frozenset[str]:
    """The {names} a formula template reads."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


def render(template: str, values: Mapping[str, str | float]) -> str:
    """Fill a formula template's {placeholders}: references as they are, numbers as literals."""
    names = placeholders(template)
    missing = names - values.keys()
    if missing:
        raise KeyError(f"template {template!r} needs {sorted(missing)}")
    return template.format_map({k: term(values[k]) for k in names})


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


def dot_product(row_values: str, column_values: str) -> str:
    """Dot product of a one-row range and a one-column range, as a scalar formula."""
    return call("SUMPRODUCT", call("TRANSPOSE", row_values), column_values)


def window_product(values: str, weights: str) -> str:
    """A window times a kernel slice: SUMPRODUCT of two equal ranges, or one product of two
    single cells."""
    return f"{values}*{weights}" if ":" not in values else call("SUMPRODUCT", values, weights)


MERGES = {"add": "+", "subtract": "-", "multiply": "*"}


def merge(op: str, terms: list[str]) -> str:
    """Keras's merge layers cell by cell: Add, Subtract, Multiply, Average, Maximum, Minimum."""
    if op in ("maximum", "minimum"):
        return call("MAX" if op == "maximum" else "MIN", *terms)
    if op == "average":
        return f"({add(*terms)})/{len(terms)}"
    return MERGES[op].join(terms)


def operand(body: str) -> str:
    """A formula as an operand: a lone cell as it is, anything longer in parentheses."""
    return body if re.fullmatch(r"(?:'[^']+'!|\w+!)?\$?[A-Z]+\$?\d+", body) else f"({body})"


def expanded_dot(pairs: Iterable[tuple[str, str]], bias: str | None) -> str:
    """A dot product written term by term: x1*w1+x2*w2(+b)."""
    terms = [f"{x}*{w}" for x, w in pairs]
    if bias is not None:
        terms.append(bias)
    return add(*terms)


# --- layer formulas (one place for each layer's arithmetic) ---------------------------------


def index(ref: str, row: int, col: int) -> str:
    """Element (row, col), 1-based, of a range or defined name."""
    return call("INDEX", ref, str(row), str(col))


def embedding(table: str, token: str, column: int) -> str:
    """A token's embedding, element `column` (1-based): the row token + 1 of the table."""
    return call("INDEX", table, f"{operand(token)}+1", str(column))


def product(*factors: str) -> str:
    return "*".join(operand(f) for f in factors)


def lstm_cell(forget: str, c_prev: str | None, gate: str, candidate: str) -> str:
    """c_t = f * c_(t-1) + i * c~ (at the first step there is no c_(t-1): it is zero)."""
    new = product(gate, candidate)
    return new if c_prev is None else add(product(forget, c_prev), new)


def kept(token: str) -> str:
    """1 when a step's token id is not 0 (padding under Embedding mask_zero), else 0."""
    return f"IF({token}<>0,1,0)"


def masked_state(kept_cell: str, new: str, before: str | None) -> str:
    """A padding step keeps the state before it (zero at the first step)."""
    return f"IF({kept_cell}=1,{new},{before or 0})"


def masked_average(values: str, kept_cells: str) -> str:
    """The mean over the kept steps (Keras: sum(x * mask) / sum(mask))."""
    return f"{call('SUMPRODUCT', values, kept_cells)}/{call('SUM', kept_cells)}"


def gru_state(update: str, h_prev: str | None, candidate: str) -> str:
    """h_t = z * h_(t-1) + (1 - z) * h~ (h_(t-1) is zero at the first step)."""
    new = f"(1-{update})*{operand(candidate)}"
    return new if h_prev is None else add(product(update, h_prev), new)


def term(value: str | float) -> str:
    """A reference as it is, a number as a literal."""
    return value if isinstance(value, str) else number(value)


def batch_norm(
    x: str, mean: str, variance: str, epsilon: str | float, gamma: str | None, beta: str | None
) -> str:
    body = f"({x}-{mean})/SQRT({variance}+{term(epsilon)})"
    if gamma is not None:
        body += f"*{gamma}"
    if beta is not None:
        body += f"+{beta}"
    return body


def normalization(x: str, mean: str, variance: str, invert: bool) -> str:
    # max(sqrt(var), 1e-7) elementwise: MAX would aggregate the whole array.
    std = f"IF(SQRT({variance})>1E-07,SQRT({variance}),1E-07)"
    return f"{mean}+{x}*{std}" if invert else f"({x}-{mean})/{std}"


def rescale(x: str, scale: str | float, offset: str | float) -> str:
    return f"{x}*{term(scale)}+{term(offset)}"


def reference(ref: str) -> str:
    """A formula body that shows another cell's value."""
    return ref


# --- evaluation: predictions, accuracy, the self-check (a loss's formulas: ir/losses.py) ------


def average(values: str) -> str:
    return call("AVERAGE", values)


def above_half(value: str) -> str:
    """1 when a probability is above 0.5 (Keras's binary threshold is strict), else 0."""
    return f"IF({value}>0.5,1,0)"


def equals(ref: str, value: str | float) -> str:
    """A conditional format's test: the cell holds `value` (a number, or text as given)."""
    return f"{ref}={value if isinstance(value, str) else number(value)}"


def same(a: str, b: str) -> str:
    return f"IF({a}={b},1,0)"


def choose_label(labels: str, index0: str) -> str:
    return pick(labels, index0)


def joined(refs: Iterable[str]) -> str:
    """Values of several cells as text joined by ', ' (a row's name for chart categories)."""
    return '&", "&'.join(refs)


def joined_text(values: Iterable[float]) -> str:
    """What `joined` shows for these numbers: each as a spreadsheet's General format writes
    it in text (up to 15 significant digits, no trailing zeros), joined by ', '."""
    return ", ".join(general(v) for v in values)


def general(value: float) -> str:
    """A number as text the way a spreadsheet's General format converts it."""
    text = f"{float(value):.15g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}E{'-' if exponent[0] == '-' else '+'}{abs(int(exponent)):02d}"
    return text


def relative_difference(live: str, reference: str) -> str:
    return f"ABS({live}-{reference})/{call('MAX', '1', f'ABS({reference})')}"


def switch(flag: str, when_on: str, when_off: str) -> str:
    """`when_on` while the 0/1 cell `flag` is 1, else `when_off`."""
    return f"IF({flag}=1,{when_on},{when_off})"


def pass_fail(value: str, tolerance: str) -> str:
    return f'IF({value}<={tolerance},"PASS","FAIL")'


def between(start: str, stop: str, i: int, n: int) -> str:
    """Point i of n evenly spaced points from start to stop."""
    return f"{start}+({stop}-{start})*{i}/{n - 1}"


def binary_confidence(p: str) -> str:
    """Probability of the predicted class of a single sigmoid output."""
    return f"IF({p}>0.5,{p},1-{p})"
