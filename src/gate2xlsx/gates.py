"""Truth tables of the two-input logic gates (inputs 0/1, targets one-hot over False/True).

Minimal version created by the workbook engineer so the Truth table sheet can read it; the
trainer engineer owns this module and may extend it.
"""

from __future__ import annotations

import numpy as np

INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
TRUTH_TABLES: dict[str, tuple[int, int, int, int]] = {
    "or": (0, 1, 1, 1),
    "and": (0, 0, 0, 1),
    "xor": (0, 1, 1, 0),
    "nand": (1, 1, 1, 0),
    "nor": (1, 0, 0, 0),
    "xnor": (1, 0, 0, 1),
}
GATES = tuple(TRUTH_TABLES)


def truth_table(gate: str) -> tuple[np.ndarray, np.ndarray]:
    """(x, y_onehot) of a gate: x is 4 x 2, y_onehot 4 x 2 with columns (False, True)."""
    bits = np.array(TRUTH_TABLES[gate.lower()], dtype=np.int64)
    return INPUTS.copy(), np.eye(2)[bits]
