"""Spreadsheet limits, checked before anything is written, with errors that name the layer.

Excel's limits (LibreOffice 7.4 has the same or larger ones): 1,048,576 rows, 16,384 columns,
8,192 characters per formula, 64 nested function calls, 255 arguments to one function, 32,767
characters in a cell, 255 per defined name, 31 per sheet name and none of []:*?/\\. Two checks:
`check_model` is a cheap bound on the Model before any planning (a hostile config with
200,000 layers is refused in milliseconds, not after minutes of layout); `check_sheet` is the
exact check on a planned sheet, and says which layer's block falls outside and why.
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import LayoutError
from ..ir.families.convolution import as_map
from ..ir.families.dense import Identity
from ..ir.families.recurrent import Bidirectional, Recurrent
from ..ir.layer import layer_label
from ..ir.model import Model
from . import formulas as F
from .layout import Region, SheetPlan
from .network.tensor_grid import GRIDS_PER_BAND

ROWS_PER_LAYER = 2  # at least a heading and one step row per computed layer on the Network sheet


def _where(model: Model, index: int) -> str:
    return layer_label(index + 1, model.layers[index])


def check_model(model: Model) -> None:
    """Refuse a network that cannot fit whatever the layout: a row too wide, too many layers."""
    if model.as_chain() is None:
        return _tensors_fit(model)
    if model.n_inputs > F.MAX_COLS - 1:
        raise LayoutError(
            f"the input has {model.n_inputs:,} values but a spreadsheet row holds at "
            f"most {F.MAX_COLS:,} columns (one is the label column)"
        )
    widths = model.widths()
    for index in range(len(model.layers)):
        if widths[index + 1] > F.MAX_COLS - 1:
            raise LayoutError(
                f"{_where(model, index)} has {widths[index + 1]:,} units but a spreadsheet "
                f"row holds at most {F.MAX_COLS:,} columns (one is the label column)"
            )
    computed = [i for i, layer in enumerate(model.layers) if not isinstance(layer, Identity)]
    if len(computed) * ROWS_PER_LAYER > F.MAX_ROWS:
        first = computed[F.MAX_ROWS // ROWS_PER_LAYER]
        raise LayoutError(
            f"the network has {len(computed):,} computed layers; at {ROWS_PER_LAYER}+ rows "
            f"each, {_where(model, first)} and the ones after it fall below the last of "
            f"a sheet's {F.MAX_ROWS:,} rows"
        )


def _tensors_fit(model: Model) -> None:
    """A graph: every tensor as drawn (tensor_grid), and every unrolled recurrent layer's row
    of gates and states, fits a sheet's columns and rows."""
    for node in model.graph.nodes:
        for inner in _recurrent(node.layer):
            wide = 2 + (inner.size + 1) * (len(inner.trace_keys()))
            if wide > F.MAX_COLS:
                raise LayoutError(
                    f"layer {node.layer.name!r} ({node.layer.class_name}) unrolled shows "
                    f"{len(inner.trace_keys())} blocks of {inner.size} units on each step's row: "
                    f"{wide:,} columns, more than a sheet's {F.MAX_COLS:,}"
                )
    for name, shape in model.graph.shapes().items():
        size = int(np.prod(shape))
        h, w, c = (1, size, 1) if len(shape) == 1 else as_map(shape)
        wide = size if len(shape) == 1 else max((w + 1) * min(c, GRIDS_PER_BAND), size // h)
        if wide + 2 > F.MAX_COLS or h * -(-c // GRIDS_PER_BAND) > F.MAX_ROWS // 4:
            shown = " x ".join(map(str, shape))
            raise LayoutError(
                f"tensor {name!r} ({shown}) does not fit a sheet of {F.MAX_COLS:,} columns "
                f"and {F.MAX_ROWS:,} rows as gate2xlsx draws it"
            )


def _recurrent(layer) -> list:
    sides = layer.sides().values() if isinstance(layer, Bidirectional) else [layer]
    return [side for side in sides if isinstance(side, Recurrent)]


def check_sheet(sheet: SheetPlan) -> None:
    """The planned sheet fits: every block inside the grid, and formulas, names and title short
    enough."""
    if not sheet.title or len(sheet.title) > F.MAX_SHEET_NAME_CHARS:
        raise LayoutError(
            f"sheet name {sheet.title!r} is longer than {F.MAX_SHEET_NAME_CHARS} characters"
        )
    if _SHEET_NAME_FORBIDDEN.search(sheet.title):
        raise LayoutError(f"sheet name {sheet.title!r} holds one of []:*?/\\")
    for region in sheet.regions:
        _check_text(sheet, region)
        block = region.block
        if block.right > F.MAX_COLS or block.bottom > F.MAX_ROWS:
            need = (
                f"column {block.right:,}" if block.right > F.MAX_COLS else f"row {block.bottom:,}"
            )
            raise LayoutError(
                f"{_owner(region)} does not fit on sheet {sheet.title!r}: its "
                f"block reaches {need}, and a sheet has {F.MAX_ROWS:,} rows x "
                f"{F.MAX_COLS:,} columns"
            )
        if region.name is not None and (
            len(region.name) > F.MAX_NAME_CHARS or F.looks_like_reference(region.name)
        ):
            raise LayoutError(
                f"defined name {region.name[:40]!r}... is not a legal name "
                f"(at most {F.MAX_NAME_CHARS} characters, never a cell reference)"
            )
        for text in _sample_formulas(region):
            if len(text) > F.MAX_FORMULA_CHARS:
                why = ("a conv cell sums one SUMPRODUCT per input channel" if "Conv" in
                       _owner(region) else "--formulas mmult writes short ones")  # fmt: skip
                raise LayoutError(
                    f"{_owner(region)} needs formulas longer than the "
                    f"{F.MAX_FORMULA_CHARS:,} characters a spreadsheet allows, on sheet "
                    f"{sheet.title!r} ({why})"
                )
            depth, arguments = formula_shape(text)
            if depth > MAX_NESTING or arguments > MAX_ARGUMENTS:
                raise LayoutError(
                    f"{_owner(region)} needs formulas with {depth} nested functions and "
                    f"{arguments} arguments to one function on sheet {sheet.title!r}; Excel "
                    f"allows {MAX_NESTING} and {MAX_ARGUMENTS}"
                )


MAX_NESTING = 64  # function calls inside one another
MAX_ARGUMENTS = 255  # arguments to one function
MAX_CELL_CHARS = 32_767
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_STRING_LITERAL = re.compile(r'"(?:[^"]|"")*"')
_CALL = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*\($")


def formula_shape(text: str) -> tuple[int, int]:
    """(deepest nesting of function calls, most arguments given to one call) of a formula."""
    body = _STRING_LITERAL.sub('""', text)
    stack: list[list[int]] = []  # per open parenthesis: [is a call, arguments so far]
    depth = deepest = widest = 0
    for k, char in enumerate(body):
        if char == "(":
            call = bool(_CALL.search(body[max(0, k - 64) : k + 1]))
            stack.append([int(call), 1])
            depth += call
            deepest = max(deepest, depth)
        elif char == ")" and stack:
            call, arguments = stack.pop()
            depth -= call
            widest = max(widest, arguments if call else 0)
        elif char == "," and stack:
            stack[-1][1] += 1
    return deepest, widest


def _check_text(sheet: SheetPlan, region: Region) -> None:
    """Text a cell holds (labels from a model file or a CSV) within a cell's 32,767 characters."""
    if region.values is None or hasattr(region.values, "dtype"):
        return
    for row in region.values:
        for value in row:
            if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
                raise LayoutError(
                    f"a text of {len(value):,} characters ({value[:30]!r}...) does not fit in "
                    f"a cell on sheet {sheet.title!r}: a cell holds {MAX_CELL_CHARS:,}"
                )


def _owner(region: Region) -> str:
    return region.layer or "the sheet's header"


def _sample_formulas(region: Region) -> list[str]:
    """The array formula, or the first and last cell formula (cells of a block grow alike)."""
    if region.array_formula is not None:
        return [region.array_formula]
    if region.cell_formula is None:
        return []
    corners = {(0, 0), (region.block.rows - 1, region.block.cols - 1)}
    found = []
    for i, j in corners:
        try:
            found.append(region.cell_formula(i, j))
        except ValueError:  # formulas.formula refuses text over the limit: measure the body
            found.append("=" * (F.MAX_FORMULA_CHARS + 1))
    return found
