"""Writes a WorkbookPlan to .xlsx with openpyxl in write-only (streaming) mode.

Rows are produced in order from the plan's regions, so memory stays proportional to one row
plus the plan itself. The file is written to a temporary name in the target folder and
renamed into place: a failed run never leaves a partial or clobbered workbook.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import _writer as _cell_writer
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.chart.series import SeriesLabel
from openpyxl.formatting.rule import ColorScaleRule, FormulaRule, Rule
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.styles.numbers import NumberFormat
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from ...files import atomic_write
from ...progress import OnProgress
from ...templates_text import styles
from ..layout import SheetPlan, WholeNumberRule, WorkbookPlan
from . import xlsx_package
from .rows import is_plain, sheet_rows
from .stream import add_streaming_sheet


def write(plan: WorkbookPlan, path: str | os.PathLike, progress: OnProgress | None = None) -> Path:
    """Write the planned workbook to `path` atomically (files.atomic_write); return the path.

    progress, when given, is called with (rows written, rows in all sheets) as rows stream out.
    """

    def save(temp: Path) -> None:
        with _exact_numbers():
            xlsx_package.save(_build(plan, progress), temp, plan.title)

    return atomic_write(path, save)


@contextmanager
def _exact_numbers() -> Iterator[None]:
    """Write every float with the shortest text that reads back as the same double.

    openpyxl formats numbers with "%.16g", which can change a weight's last bit; "right to
    the last digit" means the sheet holds exactly the file's values. Scoped to our save.
    """
    original = _cell_writer.safe_string

    def exact(value):
        if type(value) is float and math.isfinite(value):
            return repr(value)
        return original(value)

    _cell_writer.safe_string = exact
    try:
        yield
    finally:
        _cell_writer.safe_string = original


def _build(plan: WorkbookPlan, progress: OnProgress | None = None) -> Workbook:
    wb = Workbook(write_only=True)
    wb.shared_strings = xlsx_package.SharedStrings()  # the sheets' text goes to one table
    for style in _named_styles().values():
        wb.add_named_style(style)
    total, done = sum(sheet.extent()[0] for sheet in plan.sheets), 0
    cached = not _has_array_formulas(plan)
    for sheet in plan.sheets:
        done = _write_sheet(wb, sheet, progress, done, total, cached)
    for name, ref in plan.names().items():
        wb.defined_names[name] = DefinedName(name, attr_text=ref)
    return wb


@cache
def _named_styles() -> dict[str, NamedStyle]:
    thin = Side(style="thin", color="BFBFBF")
    found = {}
    for key, spec in styles().items():
        style = NamedStyle(name=f"g2x_{key}")
        style.font = Font(
            bold=spec.get("bold", False),
            italic=spec.get("italic", False),
            color=spec.get("color"),
            size=spec.get("size", 11),
        )
        if "fill" in spec:
            style.fill = PatternFill("solid", fgColor=spec["fill"])
        if spec.get("border"):
            side = Side(style="medium", color="000000") if spec["border"] == "thick" else thin
            style.border = Border(left=side, right=side, top=side, bottom=side)
        if "number_format" in spec:
            style.number_format = spec["number_format"]
        if "align" in spec or spec.get("wrap"):
            style.alignment = Alignment(horizontal=spec.get("align"), wrap_text=spec.get("wrap"),
                                        vertical="top" if spec.get("wrap") else
                                        spec.get("valign"))  # fmt: skip
        found[key] = style
    return found


def _has_array_formulas(plan: WorkbookPlan) -> bool:
    return any(r.array_formula or r.cell_arrays for s in plan.sheets for r in s.regions)


def _write_sheet(
    wb: Workbook,
    plan: SheetPlan,
    progress: OnProgress | None = None,
    done: int = 0,
    total: int = 0,
    cached: bool = True,
) -> int:
    """Stream one sheet; returns the running count of rows written (for progress).

    cached: whether plain formula cells get their cached values. Not beside array formulas:
    LibreOffice (7.4) never updates a plain formula cell that reads an array formula's
    result and was loaded with a cached value, so such a workbook would stop following
    edits once saved with values (README, "Live in LibreOffice"); array cells keep theirs.
    """
    ws = add_streaming_sheet(wb, plan.title)
    for col, width in plan.widths.items():
        ws.column_dimensions[get_column_letter(col)].width = width
    if plan.freeze:
        ws.freeze_panes = plan.freeze
    if plan.hidden:
        ws.sheet_state = "hidden"
    if plan.landscape:
        ws.page_setup.orientation = "landscape"
        if plan.width() <= READABLE_WIDTH:  # wider sheets print at full size, across pages
            ws.page_setup.fitToWidth = 1
            ws.page_setup.fitToHeight = 0
            ws.sheet_properties.pageSetUpPr.fitToPage = True
    for block in plan.merges:
        ws.merged_cells.add(block.ref(absolute=False, on=plan.title))
    ws.row_heights = dict(plan.heights)
    if plan.print_titles is not None:
        ws.print_title_rows = f"{plan.print_titles[0]}:{plan.print_titles[1]}"
    if plan.print_area is not None:
        ws.print_area = plan.print_area.ref(absolute=False, on=plan.title)
    plain = [r for r in plan.regions if is_plain(r)]
    for row in sheet_rows(ws, plan, {id(r) for r in plain}, cached):
        ws.append(row)
        done += 1
        if progress is not None and done % 64 == 0:
            progress(done, total)
    for rule in plan.conditional:
        ws.conditional_formatting.add(rule.ref, _rule(rule))
    for region in plain:  # added last: the lowest priority, so "changed" marks still show
        ws.conditional_formatting.add(
            region.block.ref(absolute=False, on=plan.title), _style_rule(region.style)
        )
    for rule in plan.validations:
        ws.data_validations.append(_validation(rule))
    for chart in plan.charts:
        ws.add_chart(_chart(ws, chart), chart.anchor)
    return done


# Fit to one page's width only while the text stays readable: about two landscape pages of
# columns at the default size (a landscape page holds about 120 characters): half size.
READABLE_WIDTH = 240


def _validation(rule: WholeNumberRule) -> DataValidation:
    valid = DataValidation(
        type="whole",
        operator="between",
        formula1=str(rule.low),
        formula2=str(rule.high),
        allow_blank=False,
        showInputMessage=True,
        showErrorMessage=True,
        prompt=rule.prompt,
        error=rule.prompt,
    )
    valid.add(rule.block.ref(absolute=False, on=rule.block.sheet))
    return valid


def _rule(rule):
    fills = styles()
    if rule.kind == "changed":
        return FormulaRule(
            formula=[rule.formula], fill=PatternFill("solid", bgColor=fills["changed"]["fill"])
        )
    if rule.kind == "good":
        return FormulaRule(
            formula=[rule.formula],
            fill=PatternFill("solid", bgColor=fills["good"]["fill"]),
            font=Font(color=fills["good"]["color"]),
        )
    if rule.kind == "bad":
        return FormulaRule(
            formula=[rule.formula],
            fill=PatternFill("solid", bgColor=fills["bad"]["fill"]),
            font=Font(color=fills["bad"]["color"]),
        )
    if rule.kind == "scale":
        return ColorScaleRule(
            start_type="num",
            start_value=0,
            start_color="5B9BD5",
            mid_type="num",
            mid_value=0.5,
            mid_color="FFFFFF",
            end_type="num",
            end_value=1,
            end_color="F4B183",
        )
    if rule.kind == "map":  # a feature map: blue (negative), white (zero), orange (positive)
        return ColorScaleRule(start_type="num", start_value=-rule.bound, start_color="5B9BD5",
                              mid_type="num", mid_value=0, mid_color="FFFFFF", end_type="num",
                              end_value=rule.bound, end_color="F4B183")  # fmt: skip
    if rule.kind == "ink":  # a drawing grid: white paper (0), grey ink (`bound`)
        return ColorScaleRule(start_type="num", start_value=0, start_color="FFFFFF",
                              end_type="num", end_value=rule.bound, end_color="8C8C8C")  # fmt: skip
    raise ValueError(f"unknown conditional format {rule.kind!r}")


def _chart(ws, spec) -> BarChart | LineChart:
    chart = LineChart() if spec.line else BarChart()
    chart.title = spec.title
    chart.y_axis.title = spec.y_title
    if not spec.line:
        chart.y_axis.scaling.min = 0
        chart.y_axis.scaling.max = 1
    if spec.x_title:
        chart.x_axis.title = spec.x_title
    b = spec.values
    data = Reference(ws, min_col=b.left, min_row=b.top, max_col=b.right, max_row=b.bottom)
    chart.add_data(data, from_rows=spec.series_in_rows, titles_from_data=False)
    for series, name in zip(chart.series, spec.series_names or []):
        series.tx = SeriesLabel(v=name)
    if spec.categories is not None and spec.line:  # numbers (epochs): a number reference
        c = spec.categories
        chart.set_categories(
            Reference(ws, min_col=c.left, min_row=c.top, max_col=c.right, max_row=c.bottom)
        )
    elif spec.categories is not None:  # labels are text: a string reference, as Excel writes it
        for series in chart.series:
            series.cat = AxDataSource(strRef=StrRef(f=spec.categories.ref()))
    chart.x_axis.delete = chart.y_axis.delete = False  # Excel hides an axis without delete=0
    chart.legend = None if len(chart.series) == 1 else chart.legend
    chart.height, chart.width = 7, 12
    return chart


def _style_rule(style: str) -> Rule:
    spec = styles()[style]
    dxf = DifferentialStyle(
        fill=PatternFill("solid", bgColor=spec["fill"]) if "fill" in spec else None,
        numFmt=NumberFormat(200, spec["number_format"]) if "number_format" in spec else None,
    )
    return Rule(type="expression", dxf=dxf, formula=["TRUE"])
