"""gate2xlsx's own .npz: plain arrays keyed "<layer index>/<weight>" plus the architecture."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..ir import serialize
from ..ir.model import Model


def write(model: Model, path: Path) -> None:
    """Arrays keyed "<layer index>/<weight>" plus the architecture JSON as a unicode array."""
    arrays = {key: np.asarray(v) for key, v in serialize.weights_of(model).items()}
    arrays[serialize.NPZ_ARCHITECTURE] = np.array(json.dumps(serialize.to_dict(model)))
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)
