"""Excel's limits, each checked on the plan before anything is written, with a message that
says which limit and where."""

from __future__ import annotations

import pytest

from gate2xlsx.errors import LayoutError
from gate2xlsx.sheet import legal_names as N
from gate2xlsx.sheet.layout import Block, Region, SheetPlan
from gate2xlsx.sheet.limits import MAX_ARGUMENTS, MAX_NESTING, check_sheet, formula_shape


def _sheet(title: str = "S", **region) -> SheetPlan:
    plan = SheetPlan(title)
    plan.add(Region(Block(title, 1, 1), "computed", **(region or {"values": [[1.0]]})))
    return plan


def _formula(body: str):
    return lambda i, j: "=" + body


def test_formula_shape_counts_calls_not_grouping_or_strings():
    assert formula_shape('=SUM(A1,B2,MAX(C1,(1+2)),"a(,b")') == (2, 4)
    assert formula_shape("=(1+(2*3))") == (0, 0)


@pytest.mark.parametrize(
    "body, limit",
    [
        ("ABS(" * (MAX_NESTING + 1) + "1" + ")" * (MAX_NESTING + 1), "64"),
        ("SUM(" + ",".join(["1"] * (MAX_ARGUMENTS + 1)) + ")", "255"),
    ],
)
def test_too_deep_or_too_wide_a_formula_is_refused(body, limit):
    with pytest.raises(LayoutError, match=limit):
        check_sheet(_sheet(cell_formula=_formula(body)))


def test_the_limits_themselves_are_allowed():
    deep = "ABS(" * MAX_NESTING + "1" + ")" * MAX_NESTING
    wide = "SUM(" + ",".join(["1"] * MAX_ARGUMENTS) + ")"
    for body in (deep, wide):
        check_sheet(_sheet(cell_formula=_formula(body)))


def test_a_formula_over_8192_characters_is_refused():
    with pytest.raises(LayoutError, match="8,192"):
        check_sheet(_sheet(cell_formula=_formula("1+" * 4096 + "1")))


def test_text_over_a_cells_32767_characters_is_refused():
    with pytest.raises(LayoutError, match="32,767"):
        check_sheet(_sheet(values=[["x" * 32_768]]))
    check_sheet(_sheet(values=[["x" * 32_767]]))


@pytest.mark.parametrize("title", ["a" * 32, "a/b", "x[1]", "what?", "c:d", "e*f", "g\\h"])
def test_illegal_sheet_names_are_refused(title):
    with pytest.raises(LayoutError, match="sheet name"):
        check_sheet(_sheet(title))


def test_sheet_titles_are_made_legal():
    assert N.sheet_title("a/b[1]:c*d?e\\f" + "x" * 40) == ("a_b_1__c_d_e_f" + "x" * 40)[:31]


def test_defined_names_over_255_characters_are_refused():
    with pytest.raises(LayoutError, match="255"):
        check_sheet(_sheet(values=[[1.0]], name="n" * 256))
    assert len(N.legal_name("w" * 1000)) <= 255
