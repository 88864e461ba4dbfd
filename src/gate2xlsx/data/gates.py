"""The two-input logic gates the lesson trains: four truth-table rows, one-hot [false, true]."""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..ir.model import Dataset

TRUTH = {
    "or": (0, 1, 1, 1),
    "and": (0, 0, 0, 1),
    "xor": (0, 1, 1, 0),
    "nand": (1, 1, 1, 0),
    "nor": (1, 0, 0, 0),
    "xnor": (1, 0, 0, 1),
}
INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
# The names an export gives any two-input, two-class model, so a trained gate reads the same.
CLASS_NAMES = ["False", "True"]
INPUT_NAMES = ["x1", "x2"]
NOT_LINEAR = ("xor", "xnor")  # no single straight line separates their classes


def dataset(gate: str) -> Dataset:
    """The gate's truth table: x (4, 2) and one-hot targets (4, 2) in [false, true] order."""
    name = gate.lower()
    if name not in TRUTH:
        raise InputError(
            f"unknown gate {gate!r}; choose one of {', '.join(TRUTH)} (or give --data FILE.csv)"
        )
    true = np.array(TRUTH[name], dtype=np.float64)
    return Dataset(INPUTS.copy(), np.stack([1 - true, true], axis=1), name)
