"""The workbook's defined names, a contract others rely on: `input`, `output`, the batch and
map names, `tolerance`, `check_result`, and `<layer>_<weight>` / `<layer>_<setting>` for every
stored weight and setting; each legal, unique, never a cell reference, the same on every run."""

from __future__ import annotations

from ..ir.model import Model
from .legal_names import NameTable

RESERVED_NAMES = (
    "input", "output", "accuracy", "loss", "labels", "tolerance", "check_result",
    "data_inputs", "data_outputs", "data_targets", "map_inputs", "map_outputs", "map_grid",
    "map_class",
)  # fmt: skip


def weight_names(model: Model) -> dict[tuple[str, str], str]:
    """The defined name of every weight, then of every setting (Layer.settings), stable across
    runs for the same model: (layer name, key) -> name."""
    table = NameTable(RESERVED_NAMES)
    names = {
        (layer.name, key): table.claim(f"{layer.name}_{key}")
        for layer in model.layers
        for key in layer.weights()
    }
    names.update(
        {
            (layer.name, key): table.claim(f"{layer.name}_{key}")
            for layer in model.layers
            for key in layer.settings()
        }
    )
    return names
