"""gate2xlsx's own workbooks as input: the model a workbook describes, with the weights its cells
hold now (edits made in LibreOffice or Excel included), and access to any defined name's cells.

The only reader that imports openpyxl. A workbook is recognised by its content: a zip holding
`xl/workbook.xml`, with the hidden `_gate2xlsx` sheet that describes the network.
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import openpyxl
from openpyxl.utils.cell import range_boundaries
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.workbook.workbook import Workbook

from ..errors import InputError
from ..ir import serialize
from ..ir.families.convolution import CONV_KERNELS, kernel_from_grid
from ..ir.model import Model
from ..sheet import formulas as F
from ..sheet import meta

FORMAT = "gate2xlsx workbook (.xlsx)"


def name_range(wb: Workbook, name: str) -> tuple[str, tuple[int, int, int, int]]:
    """(sheet title, (min_col, min_row, max_col, max_row)) of a workbook-level defined name."""
    defined = wb.defined_names[name]
    destinations = list(defined.destinations)
    if len(destinations) != 1:
        raise KeyError(f"defined name {name!r} does not point at one range")
    sheet, ref = destinations[0]
    return sheet, range_boundaries(ref.replace("$", ""))


def named_cells(wb: Workbook, name: str) -> list[list]:
    """The cells of a defined name's range, row by row."""
    sheet, (c1, r1, c2, r2) = name_range(wb, name)
    ws = wb[sheet]
    return [list(row) for row in ws.iter_rows(min_row=r1, max_row=r2, min_col=c1, max_col=c2)]


def named_values(wb: Workbook, name: str) -> np.ndarray:
    """A defined name's values as a 2-D float array (None becomes NaN)."""
    rows = named_cells(wb, name)
    return np.array(
        [[np.nan if c.value is None else c.value for c in row] for row in rows], dtype=np.float64
    )


def set_named_values(wb: Workbook, name: str, values: np.ndarray) -> None:
    """Overwrite a defined name's cells with numbers (as a user typing into them would)."""
    grid = np.asarray(values, dtype=np.float64).reshape(len(named_cells(wb, name)), -1)
    for row, new in zip(named_cells(wb, name), grid):
        for c, v in zip(row, new):
            c.value = float(v)


# --- the whole model back from a workbook gate2xlsx wrote (extract, verify) ----------------


TRAINED = "trained_"  # the Training sheet's names of the weights training reached


def read_workbook(path: str | os.PathLike, *, trained: bool | None = None) -> Model:
    """The model a gate2xlsx workbook describes, with the weights its cells hold now.

    The architecture comes from the hidden `_gate2xlsx` sheet, every weight from its defined
    name, so edits made in LibreOffice or Excel (and saved by them) come back. A weight cell
    that is empty or holds text or an error value is reported by sheet and cell. trained:
    True, the weights the Training sheet's training reached (`trained_<layer>_<weight>`), as
    last computed (by gate2xlsx when written, by the spreadsheet when it saved the file);
    False, the Weights sheet's; None, those the workbook computes with (its `use_trained`).
    """
    path = Path(path)
    wb = _open(path)
    try:
        document = _description(wb, path)
        arch, names = document["model"], document["weight_names"]
        if trained is None:
            trained = "use_trained" in wb.defined_names and _switch(wb) == 1
        if trained:
            names = _trained_names(wb, names, path)
        weights = {}
        for index, entry in enumerate(arch.get("layers", [])):
            for key in entry.get("weights", {}):
                wkey = serialize.key(index, key)
                where = f"layer {entry.get('name')!r} ({entry.get('class_name')}) weight {key!r}"
                weights[wkey] = _weight(wb, path, names.get(wkey), where)
                if entry.get("kind") in ("conv", "separable") and key in CONV_KERNELS:  # grids
                    shape = tuple(entry["weights"][key]["shape"])
                    weights[wkey] = kernel_from_grid(weights[wkey], shape)
        for skey, name in document.get("setting_names", {}).items():
            index, key = skey.split("/", 1)
            entry = arch["layers"][int(index)]
            where = f"layer {entry.get('name')!r} ({entry.get('class_name')}) setting {key!r}"
            value = _weight(wb, path, name, where)
            serialize.apply_setting(entry, key, float(value.reshape(-1)[0]), path=path)
        model = serialize.from_dict(arch, weights, path=path)
    finally:
        wb.close()
    original = model.source  # the Keras version and backend decide how the sheet's loss reads
    model.source = replace(original, path=str(path), format=FORMAT)
    return model


def _switch(wb: Workbook) -> float:
    value = named_values(wb, "use_trained").reshape(-1)[0]
    return float(value) if np.isfinite(value) else 0.0


def _trained_names(wb: Workbook, names: dict[str, str], path: Path) -> dict[str, str]:
    found = {key: TRAINED + name for key, name in names.items()}
    if not all(name in wb.defined_names for name in found.values()):
        raise InputError("the workbook has no Training sheet (export it with --epochs N)",
                         path=path)  # fmt: skip
    return found


def _open(path: Path) -> Workbook:
    if not path.is_file():
        raise InputError("no such workbook", path=path)
    # data_only: a weight the user typed as a formula counts by its computed value. The bytes,
    # not the name, go to openpyxl, which would refuse a workbook not named .xlsx.
    try:
        return openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise InputError(f"not an .xlsx workbook ({type(exc).__name__})", path=path) from None


def _description(wb: Workbook, path: Path) -> dict:
    if meta.SHEET not in wb.sheetnames:
        raise InputError(
            f"not a workbook written by gate2xlsx (it has no {meta.SHEET} sheet "
            "describing the network)",
            path=path,
            hint="extract and verify need a workbook made by `gate2xlsx MODEL`",
        )
    cells = [row[0] for row in wb[meta.SHEET].iter_rows(min_col=1, max_col=1, values_only=True)]
    try:
        return meta.parse(cells)
    except (ValueError, TypeError) as exc:
        raise InputError(f"the {meta.SHEET} sheet is damaged ({exc})", path=path) from None


def _weight(wb: Workbook, path: Path, name: str | None, where: str) -> np.ndarray:
    """One weight's cells as floats; anything but a number is an error naming the cell."""
    if name is None or name not in wb.defined_names:
        raise InputError(
            f"{where}: its defined name {name!r} is missing from the workbook", path=path
        )
    try:
        sheet, (c1, r1, c2, r2) = name_range(wb, name)
        ws = wb[sheet]
    except (KeyError, ValueError, TypeError):
        raise InputError(
            f"{where}: defined name {name!r} does not point at a range of cells", path=path
        ) from None
    height, width = r2 - r1 + 1, c2 - c1 + 1
    rows = list(ws.iter_rows(min_row=r1, max_row=r2, min_col=c1, max_col=c2, values_only=True))
    rows += [()] * (height - len(rows))  # rows with no cells at all are empty cells too
    grid = np.empty((height, width))
    for i, row in enumerate(rows):
        for j in range(width):
            value = row[j] if j < len(row) else None
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                cell = F.cell(r1 + i, c1 + j, sheet=sheet)
                raise InputError(
                    f"{cell} ({where}, defined name {name}) {_what(value)}; "
                    "a weight must be a number",
                    path=path,
                )
            grid[i, j] = value
    return grid


def _what(value: object) -> str:
    if value is None:
        return "is empty"
    if isinstance(value, str) and value.startswith("#"):
        return f"holds the error value {value}"
    return f"holds {value!r}, not a number"
