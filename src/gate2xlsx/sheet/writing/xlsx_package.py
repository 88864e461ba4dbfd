"""The .xlsx package around the sheets, shaped the way Excel writes it.

openpyxl writes the parts; this module fixes the places where its package differs from
Excel's own files in ways that matter to other readers:
- a shared-strings table: Excel keeps every text cell's string there (openpyxl 3.1 writes
  them inline and no table; Excel rewrites such a file on its next save);
- relationship targets: openpyxl writes them absolute (`/xl/comments/comment1.xml`), Excel
  relative to the part that holds the relationships (`../comments/comment1.xml`). IronCalc
  resolves only the relative form and refuses the absolute one ("specified file not found").
- a font's settings in the order of the schema as Excel and the Open XML SDK read it (b, i,
  ..., sz, color, name, family, scheme); openpyxl writes name and color first, which the
  SDK's validator reports as an error in every openpyxl file;
- document properties: title from the model, creator gate2xlsx and its version (openpyxl
  says "openpyxl").
"""

from __future__ import annotations

import posixpath
import re
from zipfile import ZIP_DEFLATED, ZipFile

from ...version import __version__

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRINGS_PART = "xl/sharedStrings.xml"
STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
STRINGS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


class SharedStrings:
    """The workbook's string table: `add(text)` gives the index a cell refers to."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.count = 0  # references, as Excel counts them

    def add(self, text: str) -> int:
        self.count += 1
        found = self.index.get(text)
        if found is None:
            found = self.index[text] = len(self.index)
        return found

    def xml(self) -> bytes:
        items = "".join(map(_string_item, self.index))
        head = f'<sst xmlns="{MAIN_NS}" count="{self.count}" uniqueCount="{len(self.index)}">'
        return (head + items + "</sst>").encode()


def _string_item(text: str) -> str:
    space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
    return f"<si><t{space}>{text.translate(_TEXT_ESCAPES)}</t></si>"


_TARGET = re.compile(rb'(\sTarget=")(/[^"]*)(")')


def relative_targets(rels_part: str, xml: bytes) -> bytes:
    """A .rels part with every package-absolute Target made relative to its source part.

    `xl/worksheets/_rels/sheet1.xml.rels` describes `xl/worksheets/sheet1.xml`, so its targets
    are relative to `xl/worksheets`; `_rels/.rels` describes the package root. External
    targets (URLs) never start with "/" and are left alone.
    """
    source_folder = "/" + posixpath.dirname(posixpath.dirname(rels_part))

    def relative(match: re.Match) -> bytes:
        target = match.group(2).decode()
        return match.group(1) + posixpath.relpath(target, source_folder).encode() + match.group(3)

    return _TARGET.sub(relative, xml)


# CT_Font's children in the Open XML SDK's (and Excel's own) order.
FONT_ORDER = ["b", "i", "strike", "condense", "extend", "outline", "shadow", "u", "vertAlign",
              "sz", "color", "name", "family", "charset", "scheme"]  # fmt: skip
_FONT = re.compile(rb"<font>((?:<\w+\b[^<>]*/>)*)</font>")
_EMPTY_ELEMENT = re.compile(rb"<(\w+)\b[^<>]*/>")


def excel_font_order(styles_xml: bytes) -> bytes:
    """styles.xml with each font's (empty) child elements in FONT_ORDER."""

    def reorder(match: re.Match) -> bytes:
        children = [m.group(0) for m in _EMPTY_ELEMENT.finditer(match.group(1))]
        children.sort(key=lambda c: FONT_ORDER.index(_EMPTY_ELEMENT.match(c).group(1).decode()))
        return b"<font>" + b"".join(children) + b"</font>"

    return _FONT.sub(reorder, styles_xml)


class ExcelShapedZip(ZipFile):
    """The zip openpyxl writes a workbook into, shaping the parts as they go in: relative
    relationship targets, and the string table with its relationship and content type (added
    when the workbook's relationships go in: after every sheet, so the table is complete)."""

    def __init__(self, path, strings: SharedStrings) -> None:
        super().__init__(path, "w", ZIP_DEFLATED, allowZip64=True)
        self.strings = strings

    def writestr(self, zinfo_or_arcname, data, *args, **kwargs):
        name = getattr(zinfo_or_arcname, "filename", zinfo_or_arcname)
        data = data.encode() if isinstance(data, str) else data
        if name == "xl/_rels/workbook.xml.rels" and self.strings.index:
            super().writestr(STRINGS_PART, self.strings.xml())
            rel = f'<Relationship Id="rIdStrings" Type="{STRINGS_REL}" Target="sharedStrings.xml"/>'
            data = data.replace(b"</Relationships>", rel.encode() + b"</Relationships>")
        if name == "[Content_Types].xml" and self.strings.index:
            part = f'<Override PartName="/{STRINGS_PART}" ContentType="{STRINGS_TYPE}"/>'
            data = data.replace(b"</Types>", part.encode() + b"</Types>")
        if name.endswith(".rels"):
            data = relative_targets(name, data)
        if name == "xl/styles.xml":
            data = excel_font_order(data)
        return super().writestr(zinfo_or_arcname, data, *args, **kwargs)


def save(wb, path, title: str | None) -> None:
    """Save an openpyxl workbook to `path` as an Excel-shaped package. Its cells' strings are
    in `wb.shared_strings`, a SharedStrings (the sheet writer put them there)."""
    from openpyxl.writer.excel import ExcelWriter  # the sheet writer's dependency, not ours

    wb.properties.creator = f"gate2xlsx {__version__}"
    wb.properties.lastModifiedBy = wb.properties.creator
    if title:
        wb.properties.title = title
    with ExcelShapedZip(path, wb.shared_strings) as archive:
        ExcelWriter(wb, archive).save()
