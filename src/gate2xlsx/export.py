"""Model -> workbook: the export behind `gate2xlsx MODEL -o OUT.xlsx`."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .model import Model
from .sheet import sheets, writer
from .sheet.steps import MODES


def write_workbook(model: Model, path: str | os.PathLike, *, formulas: str = "mmult",
                   input_values: np.ndarray | None = None) -> Path:
    """Write the workbook that computes `model` with live formulas; return its path.

    formulas: "mmult" (array formulas, default), "sumproduct" (one per unit) or "expanded"
    (every product written out, for the smallest networks).
    """
    if formulas not in MODES:
        raise ValueError(f"formulas must be one of {', '.join(MODES)}, not {formulas!r}")
    plan = sheets.build(model, mode=formulas, input_values=input_values)
    return writer.write(plan, path)
