"""The .xlsx package is shaped like Excel's own: relative relationship targets, a shared-strings
table, fonts in schema order, charts with visible axes and text categories as strRef, and
document properties naming the model and gate2xlsx."""

from __future__ import annotations

import re
import zipfile

import openpyxl
import pytest
from conftest import SAMPLES

import gate2xlsx
from gate2xlsx.sheet.writing.xlsx_package import FONT_ORDER, excel_font_order, relative_targets
from gate2xlsx.version import __version__


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    path = tmp_path_factory.mktemp("package") / "or.xlsx"
    gate2xlsx.write_workbook(gate2xlsx.load(SAMPLES / "or.hdf"), path)
    return path


def _parts(book) -> dict[str, bytes]:
    with zipfile.ZipFile(book) as z:
        return {name: z.read(name) for name in z.namelist()}


def test_relationship_targets_are_relative(book):
    rels = {n: x for n, x in _parts(book).items() if n.endswith(".rels")}
    assert "xl/worksheets/_rels/sheet1.xml.rels" in rels
    for name, xml in rels.items():
        assert b'Target="/' not in xml, name
    assert b'Target="../comments/comment1.xml"' in rels["xl/worksheets/_rels/sheet1.xml.rels"]
    assert b'Target="xl/workbook.xml"' in rels["_rels/.rels"]


def test_relative_targets_resolve_from_the_source_parts_folder():
    xml = b'<Relationship Target="/xl/charts/chart1.xml" Id="rId1"/>'
    fixed = relative_targets("xl/drawings/_rels/drawing1.xml.rels", xml)
    assert fixed == b'<Relationship Target="../charts/chart1.xml" Id="rId1"/>'
    external = b'<Relationship Target="https://example.com/a" TargetMode="External"/>'
    assert relative_targets("xl/worksheets/_rels/sheet1.xml.rels", external) == external


def test_text_is_in_one_shared_strings_table(book):
    parts = _parts(book)
    assert b"inlineStr" not in b"".join(x for n, x in parts.items() if "worksheets/" in n)
    assert b"sharedStrings.xml" in parts["[Content_Types].xml"]
    assert b"sharedStrings" in parts["xl/_rels/workbook.xml.rels"]
    ws = openpyxl.load_workbook(book)["Network"]
    assert ws["A1"].value == "or computed step by step"


def test_fonts_are_in_schema_order(book):
    fonts = re.findall(rb"<font>(.*?)</font>", _parts(book)["xl/styles.xml"])
    assert fonts
    for font in fonts:
        tags = [t.decode() for t in re.findall(rb"<(\w+)", font)]
        assert tags == sorted(tags, key=FONT_ORDER.index)
    assert excel_font_order(b'<font><color rgb="1"/><b val="1"/></font>') == (
        b'<font><b val="1"/><color rgb="1"/></font>'
    )


def test_chart_axes_are_visible_and_text_categories_are_strref(book):
    charts = [x for n, x in _parts(book).items() if n.startswith("xl/charts/chart")]
    assert len(charts) == 2
    for xml in charts:
        axes = len(re.findall(rb"<(?:catAx|valAx)>", xml))
        assert axes == 2 and xml.count(b'<delete val="0" />') == axes
        assert b"<cat><strRef>" in xml and b"<cat><numRef>" not in xml


def test_document_properties_name_the_model_and_gate2xlsx(book):
    props = openpyxl.load_workbook(book).properties
    assert props.title == "or"
    assert props.creator == f"gate2xlsx {__version__}"
