"""The About sheet: templates/about.md filled in with the model's facts, one line per row."""

from __future__ import annotations

from pathlib import Path

from ..ir.model import Model
from ..templates_text import document
from ..version import __version__
from .layout import Block, Region, SheetPlan, line_height, text
from .spec import WorkbookSpec

TITLE = "About"
WIDTH = 90  # characters: a landscape page's width, with room to spare


SHOWN_INPUTS = 40  # an image's thousands of pixel names would overflow a cell (32,767 chars)


def input_list(names: list[str]) -> str:
    """The input names, the first few of a long list and how many there are in all."""
    if len(names) <= SHOWN_INPUTS:
        return ", ".join(names)
    return f"{', '.join(names[:SHOWN_INPUTS])}, ... {names[-1]} ({len(names):,} inputs)"


def about_plan(model: Model, spec: WorkbookSpec, facts: dict[str, str]) -> SheetPlan:
    """`facts` adds lines the export knows (loss, data source, sheets left out and why)."""
    sheet = SheetPlan(TITLE, widths={1: WIDTH})  # long lines wrap inside the page's width
    src = model.source
    values = {
        "model": spec.title,
        "path": Path(src.path).name if src.path else "(built in memory)",
        "format": src.format or "unknown",
        "keras": src.keras_version or "unknown",
        "backend": src.backend or "unknown",
        "version": __version__,
        "layers": "{layers}",
        "inputs": input_list(spec.inputs),
        "loss": facts.get("loss", "none"),
        "data": facts.get("data", ""),
        "notes": facts.get("notes", ""),
    }
    lines = document("about.md").format(**values).splitlines()
    widths = model.widths()
    layer_lines = [
        f"  {i}. {layer.name} ({layer.class_name or type(layer).__name__}): "
        f"{widths[i - 1]} -> {widths[i]}"
        + "".join(
            f"; {k} {' x '.join(map(str, p.values.shape))}" for k, p in layer.weights().items()
        )
        for i, layer in enumerate(model.layers, start=1)
    ]
    row = 1
    for line in lines:
        if line.strip() == "{layers}":
            for entry in layer_lines:
                sheet.add(text(TITLE, row, 1, entry, "label"))
                row += 1
            continue
        style = "title" if line.startswith("# ") else "layer" if line.startswith("## ") else "prose"
        sheet.add(Region(Block(TITLE, row, 1), style, values=[[line.lstrip("# ")]]))
        if style == "prose":
            sheet.heights[row] = line_height(line, WIDTH)
        row += 1
    return sheet
