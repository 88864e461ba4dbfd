"""The hidden sheet that lets `extract` rebuild the model from nothing but the workbook.

Sheet `_gate2xlsx` holds, as plain text cells (never formulas), a JSON document: the
architecture from `serialize.to_dict` plus the defined name of every weight. The JSON is
split over the cells of column A because one cell holds at most 32,767 characters. Weight
values are not stored here: they are read from the editable weight cells by defined name.
"""

from __future__ import annotations

import json
from typing import Any

from ..ir import serialize
from ..ir.model import Model
from .layout import Block, Region, SheetPlan, text
from .names import weight_names

SHEET = "_gate2xlsx"
MARKER = "gate2xlsx workbook description (do not edit)"
CHUNK = 8000  # characters per cell, far below the 32,767 limit of Excel and LibreOffice
FIRST_ROW = 3  # row 1: marker, row 2: number of chunks, rows 3...: the JSON text


def describe(model: Model) -> dict[str, Any]:
    """The document stored in the sheet: architecture, `"<layer index>/<weight>" -> name`, and
    the same for the layers' settings (LeakyReLU alpha, BN epsilon, ...)."""
    names = weight_names(model)
    weight_keys = {
        serialize.key(i, key): names[(layer.name, key)]
        for i, layer in enumerate(model.layers)
        for key in layer.weights()
    }
    setting_keys = {
        serialize.key(i, key): names[(layer.name, key)]
        for i, layer in enumerate(model.layers)
        for key in layer.settings()
    }
    return {
        "model": serialize.to_dict(model),
        "weight_names": weight_keys,
        "setting_names": setting_keys,
    }


def chunks(document: dict[str, Any]) -> list[str]:
    """The JSON text cut into cell-sized pieces."""
    raw = json.dumps(document, separators=(",", ":"), sort_keys=True)
    return [raw[i : i + CHUNK] for i in range(0, len(raw), CHUNK)] or [""]


def meta_plan(model: Model) -> SheetPlan:
    """The hidden description sheet for `model`."""
    pieces = chunks(describe(model))
    sheet = SheetPlan(SHEET, hidden=True, landscape=False)
    sheet.add(
        text(SHEET, 1, 1, MARKER, "note"),
        text(SHEET, 2, 1, str(len(pieces)), "note"),
        Region(
            Block(SHEET, FIRST_ROW, 1, len(pieces), 1), "note", values=[[piece] for piece in pieces]
        ),
    )
    return sheet


def parse(cells: list[object]) -> dict[str, Any]:
    """The document back from column A's values (marker, count, pieces); ValueError if not ours."""
    if len(cells) < FIRST_ROW or cells[0] != MARKER:
        raise ValueError("the description sheet does not start with gate2xlsx's marker")
    count = int(str(cells[1]).strip())
    pieces = cells[FIRST_ROW - 1 : FIRST_ROW - 1 + count]
    if len(pieces) != count or not all(isinstance(p, str) for p in pieces):
        raise ValueError(f"expected {count} text cells of description, found {len(pieces)}")
    document = json.loads("".join(pieces))
    if not isinstance(document, dict) or "model" not in document or "weight_names" not in document:
        raise ValueError("the description lacks the model or its weight names")
    return document
