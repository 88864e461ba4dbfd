"""What a learner sees and prints: headings that fit, predictions coloured by correctness, the
file's name in titles, comments that say the right thing, print set-up that stays readable."""

from __future__ import annotations

import openpyxl
import pytest
from conftest import SAMPLES

import gate2xlsx
from gate2xlsx.app.export import decide
from gate2xlsx.app.options import ExportOptions
from gate2xlsx.sheet.batch import chain as batch
from gate2xlsx.sheet.batch import check
from gate2xlsx.sheet.layout import BOLD, DEFAULT_WIDTH, headings
from gate2xlsx.sheet.plan import plan_workbook
from gate2xlsx.templates_text import say


def _plan(stem: str, **options):
    model = gate2xlsx.load(next(SAMPLES.glob(f"{stem}.h*")))
    return {
        sheet.title: sheet
        for sheet in plan_workbook(model, decide(model, ExportOptions(**options))[0]).sheets
    }


@pytest.mark.parametrize("stem", ["or", "xor"])
@pytest.mark.parametrize("title, header_row", [("Truth table", batch.HEADER_ROW),
                                               ("Check", check.HEADER_ROW)])  # fmt: skip
def test_headings_never_run_into_the_next_block(stem, title, header_row):
    sheet = _plan(stem)[title]
    for row in (header_row, header_row + 1):
        found = headings(sheet, row)
        assert len(found) > 2
        for (left, text), (stop, _) in zip(found, found[1:]):
            room = sum(sheet.widths.get(c, DEFAULT_WIDTH) for c in range(left, stop))
            assert room >= len(text) * BOLD, (title, row, text)


def test_the_predicted_label_is_coloured_by_whether_it_is_right():
    sheet = _plan("or")["Truth table"]
    predicted = next(c for c, text in headings(sheet, batch.HEADER_ROW + 1) if text == "predicted")
    correct = next(c for c, text in headings(sheet, batch.HEADER_ROW + 1) if text == "correct")
    [cells] = [r for r in sheet.regions if r.block.left == predicted and r.block.top == batch.TOP]
    assert cells.style == "prediction"  # no green of its own
    rules = {(rule.kind, rule.formula) for rule in sheet.conditional
             if rule.ref.startswith(cells.block.cell(on=sheet.title))}  # fmt: skip
    letter = openpyxl.utils.get_column_letter(correct)
    assert rules == {("good", f"{letter}{batch.TOP}=1"), ("bad", f"{letter}{batch.TOP}=0")}


def test_titles_use_the_files_name_not_kerass_internal_one():
    sheets = _plan("or")
    assert gate2xlsx.load(SAMPLES / "or.hdf").name == "sequential"
    assert sheets["Network"].regions[0].values[0][0] == "or computed step by step"
    assert "sequential" not in str(sheets["Weights"].regions[0].values[0][0])
    named = gate2xlsx.load(SAMPLES / "or.hdf")
    named.name = "lesson_one"  # a name its author chose is kept
    spec, _, _ = decide(named)
    assert spec.title == "lesson_one"


def test_the_bias_view_says_it_is_the_bias():
    network = _plan("or")["Network"]
    views = [r.comment for r in network.regions if r.style == "mirror" and r.comment]
    assert len(views) == 2  # the kernel's first row and the bias
    assert "weights this layer multiplies by" in views[0]
    assert "bias this layer adds" in views[1]


def test_the_check_sheet_says_what_its_difference_is(tmp_path):
    sheet = _plan("or")["Check"]
    assert say("check_difference") in [text for _, text in headings(sheet, check.HEADER_ROW)]
    assert "MAX(1, |reference|)" in say("check_difference")
    book = gate2xlsx.write_workbook(gate2xlsx.load(SAMPLES / "or.hdf"), tmp_path / "or.xlsx")
    tolerance = openpyxl.load_workbook(book)["Check"]["B4"]
    assert tolerance.value == check.TOLERANCE and tolerance.number_format == "0E+00"


def test_print_set_up(tmp_path):
    model = gate2xlsx.load(SAMPLES / "xor.h5")
    book = openpyxl.load_workbook(gate2xlsx.write_workbook(model, tmp_path / "xor.xlsx"))
    for title, row in (("Truth table", batch.HEADER_ROW), ("Check", check.HEADER_ROW)):
        assert book[title].print_title_rows == f"${row}:${row + 2}"
    network = book["Network"]
    assert network.page_setup.orientation == "landscape"
    assert network.sheet_properties.pageSetUpPr.fitToPage  # narrow: fits one page's width
    [chart] = network._charts
    assert chart.anchor._from.row + 1 == 4  # beside the steps at the top: one page, not split
    assert not book["Check"].sheet_properties.pageSetUpPr.fitToPage  # too wide to shrink: pages
    prose = [c for row in book["About"].iter_rows() for c in row if c.style == "g2x_prose"]
    assert prose and all(c.alignment.wrap_text for c in prose)  # long lines wrap on the page


def test_long_intros_wrap_inside_a_page_instead_of_shrinking_it(tmp_path):
    book = openpyxl.load_workbook(gate2xlsx.write_workbook(gate2xlsx.load(SAMPLES / "xor.h5"),
                                                           tmp_path / "xor.xlsx"))  # fmt: skip
    for title in ("Network", "Weights", "Truth table", "Check", "Decision map"):
        sheet = book[title]
        [merged] = [str(r) for r in sheet.merged_cells.ranges if str(r).startswith("A2:")]
        assert sheet["A2"].alignment.wrap_text and len(sheet["A2"].value) > 100, title
        assert sheet.row_dimensions[2].height >= 30, (title, merged)  # two lines or more
    prose = [c for row in book["About"].iter_rows() for c in row if c.style == "g2x_prose"]
    long = [c for c in prose if c.value and len(c.value) > 100]
    assert long and all(book["About"].row_dimensions[c.row].height >= 30 for c in long)
