"""The formula module's text, checked against exact expected strings (tables of input -> output),
and number literals checked in LibreOffice."""

from __future__ import annotations

import math

import openpyxl
import pytest

from gate2xlsx.sheet import formulas as F
from gate2xlsx.sheet import legal_names as N


@pytest.mark.parametrize(
    "row, col, absolute, sheet, expected",
    [
        (1, 1, False, None, "A1"),
        (3, 2, True, None, "$B$3"),
        (10, 27, False, None, "AA10"),
        (1, 16384, True, None, "$XFD$1"),
        (5, 3, True, "Weights", "Weights!$C$5"),
        (5, 3, False, "Truth table", "'Truth table'!C5"),
        (5, 3, False, "A1", "'A1'!C5"),
        (5, 3, False, "R1C1", "'R1C1'!C5"),
        (5, 3, False, "it's", "'it''s'!C5"),
    ],
)
def test_cell_references(row, col, absolute, sheet, expected):
    assert F.cell(row, col, absolute=absolute, sheet=sheet) == expected


def test_area_collapses_to_a_cell_and_quotes_sheets():
    assert F.area(2, 2, 2, 2) == "B2"
    assert F.area(2, 2, 4, 3, absolute=True, sheet="Decision map") == "'Decision map'!$B$2:$C$4"


@pytest.mark.parametrize(
    "value, expected",
    [
        (0.0, "0"),
        (-3.0, "-3"),
        (0.1, "0.1"),
        (1e-07, "1E-07"),
        (1.0507009873554805, "1.0507009873554805"),
        (-2.5e-300, "-2.5E-300"),
        (1e20, "1E+20"),
    ],
)
def test_number_literals_round_trip(value, expected):
    assert F.number(value) == expected
    assert float(expected) == value


SUBNORMAL_MANTISSAS = [1, 3, 123_456_789, 10**14 + 7, -1, -987_654_321]  # in units of 2^-1074


def test_subnormal_literals_are_spelled_as_exact_scalings():
    assert F.number(5e-324) == "(7.939328826636877E-264/2^200)"  # 2^-1074 = 2^-874 / 2^200
    for m in SUBNORMAL_MANTISSAS:
        value = math.ldexp(m, -1074)
        assert 0 < abs(value) < F.SMALLEST_NORMAL
        scaled, power = F.number(value)[1:-1].split("/2^")
        assert math.ldexp(float(scaled), -int(power)) == value


def test_libreoffice_computes_every_literal_exactly(engine, tmp_path):
    """Subnormal literals (e.g. 5E-324) are #VALUE! in LibreOffice; ours compute exactly.
    Each literal is scaled back up by a power of two (exact) so the value read back is a
    whole number of at most 15 digits, which the saved file holds exactly."""
    wb = openpyxl.Workbook()
    for row, m in enumerate(SUBNORMAL_MANTISSAS, start=1):
        wb.active.cell(row, 1, f"={F.number(math.ldexp(m, -1074))}*2^537*2^537")
    for row, value in enumerate(
        [2.5e-300, 1e-7, 0.1, 1.0507009873554805], start=len(SUBNORMAL_MANTISSAS) + 1
    ):
        wb.active.cell(row, 1, f"={F.number(value)}*2^50")
    book = tmp_path / "literals.xlsx"
    wb.save(book)
    got = [row[0] for row in engine.recalc(book)[0].active.iter_rows(values_only=True)]
    assert got[: len(SUBNORMAL_MANTISSAS)] == SUBNORMAL_MANTISSAS
    expected = [v * 2**50 for v in (2.5e-300, 1e-7, 0.1, 1.0507009873554805)]
    assert got[len(SUBNORMAL_MANTISSAS) :] == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_numbers_are_refused(bad):
    with pytest.raises(ValueError):
        F.number(bad)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("ERF", "ERF"),
        ("mmult", "MMULT"),
        ("CONCAT", "_xlfn.CONCAT"),
        ("STDEV.S", "_xlfn.STDEV.S"),
    ],
)
def test_function_prefixes(name, expected):
    assert F.function_name(name) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("dense_kernel", "dense_kernel"),
        ("fc1", "_fc1"),
        ("A1", "_A1"),
        ("XFD1", "_XFD1"),
        ("R1C1", "_R1C1"),
        ("R", "_R"),
        ("c", "_c"),
        ("1st layer", "_1st_layer"),
        ("dense/kernel:0", "dense_kernel_0"),
        ("=HYPERLINK(x)", "HYPERLINK_x"),
        ("ébène", "ebene"),
        ("слой", "layer"),
        ("true", "_true"),
    ],
)
def test_legal_names(raw, expected):
    assert N.legal_name(raw) == expected
    assert not F.looks_like_reference(N.legal_name(raw))


def test_long_names_stay_distinct_and_short():
    a, b = N.legal_name("x" * 300 + "a"), N.legal_name("x" * 300 + "b")
    assert a != b and len(a) <= 200 and len(b) <= 200


def test_name_table_is_unique_case_insensitively_and_stable():
    table = N.NameTable(["input"])
    got = [table.claim(n) for n in ("Input", "dense", "DENSE", "dense", "fc1")]
    assert got == ["Input_2", "dense", "DENSE_2", "dense_3", "_fc1"]
    again = N.NameTable(["input"])
    assert [again.claim(n) for n in ("Input", "dense", "DENSE", "dense", "fc1")] == got


def test_render_fills_references_and_numbers():
    assert (
        F.render("IF({x}>=0,{x},{alpha}*{x})", {"x": "B7", "alpha": 0.3}) == "IF(B7>=0,B7,0.3*B7)"
    )
    with pytest.raises(KeyError):
        F.render("{x}+{y}", {"x": "A1"})


def test_layer_formulas():
    assert F.mmult("$B$5:$C$5", "dense_kernel") == "MMULT($B$5:$C$5,dense_kernel)"
    assert F.argmax_index("$B$9:$C$9") == "MATCH(MAX($B$9:$C$9),$B$9:$C$9,0)-1"
    assert F.batch_norm("B3:D3", "m", "v", 0.001, "g", None) == "(B3:D3-m)/SQRT(v+0.001)*g"
    assert (
        F.expanded_dot([("B3", "W!$B$5"), ("C3", "W!$B$6")], "W!$B$8")
        == "B3*W!$B$5+C3*W!$B$6+W!$B$8"
    )
    assert F.formula("1+1") == "=1+1"
    with pytest.raises(ValueError):
        F.formula("1+" * 5000)


@pytest.mark.parametrize(
    "made,expected",
    [
        (F.window_product("A1:B2", "Weights!$B$5:$C$6"), "SUMPRODUCT(A1:B2,Weights!$B$5:$C$6)"),
        (F.window_product("A1", "Weights!$B$5"), "A1*Weights!$B$5"),
        (F.merge("add", ["A1", "B1", "C1"]), "A1+B1+C1"),
        (F.merge("subtract", ["A1", "B1"]), "A1-B1"),
        (F.merge("multiply", ["A1", "B1"]), "A1*B1"),
        (F.merge("average", ["A1", "B1", "C1"]), "(A1+B1+C1)/3"),
        (F.merge("maximum", ["A1", "B1"]), "MAX(A1,B1)"),
        (F.merge("minimum", ["A1", "B1"]), "MIN(A1,B1)"),
        (F.operand("B12"), "B12"),
        (F.operand("'Data sheet'!$B$12"), "'Data sheet'!$B$12"),
        (F.operand("SUMPRODUCT(A1:B2,C1:D2)+E1"), "(SUMPRODUCT(A1:B2,C1:D2)+E1)"),
    ],
)
def test_tensor_formula_spelling(made, expected):
    assert made == expected
