"""gate2xlsx's own .npz: weight arrays keyed "<layer index>/<weight>" plus the architecture JSON
(serialize.to_dict) as a unicode array, all read with `allow_pickle=False`."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..ir.model import Model, Source
from ..ir.serialize import NPZ_ARCHITECTURE as ARCHITECTURE
from ..ir.serialize import from_dict
from .zips import ZIP_ERRORS, member_names

FORMAT = "gate2xlsx NumPy arrays (.npz)"
MAX_TOTAL_BYTES = 1 << 30  # far beyond any network a spreadsheet can hold


def is_npz(path: Path) -> bool:
    """A zip whose members are all .npy files, one of them our architecture."""
    names = member_names(path) or []
    return f"{ARCHITECTURE}.npy" in names and all(n.endswith(".npy") for n in names)


def read(path: Path) -> Model:
    """Rebuild the Model saved by writers.npz."""
    path = Path(path)
    with zipfile.ZipFile(path) as archive:
        if sum(i.file_size for i in archive.infolist()) > MAX_TOTAL_BYTES:
            raise InputError(
                "the .npz declares more than 1 GiB of arrays; refusing to read it", path=path
            )
    try:
        with np.load(path, allow_pickle=False) as arrays:
            text = str(arrays[ARCHITECTURE][()])
            weights = {k: arrays[k] for k in arrays.files if k != ARCHITECTURE}
    except (ValueError, *ZIP_ERRORS) as exc:
        raise InputError(
            f"damaged .npz file ({str(exc).splitlines()[0][:200]})", path=path
        ) from None
    try:
        description = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"the architecture in the .npz is not valid JSON ({exc})", path=path
        ) from None
    try:
        model = from_dict(description, weights, path=path)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(
            f"the architecture in the .npz is malformed ({type(exc).__name__}: {exc})", path=path
        ) from None
    model.source = Source(str(path), FORMAT, model.source.keras_version, model.source.backend)
    return model
