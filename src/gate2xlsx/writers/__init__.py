"""Model -> model files other tools load: legacy HDF5 (.h5/.hdf/.hdf5, tf.keras 2.15 and
Keras 3 load it), a Keras 3 archive (.keras), ONNX (.onnx, for onnxruntime, PyTorch and the
rest), or plain NumPy arrays plus the architecture (.npz).

gate2xlsx's own description (training data, gate name, class names) rides along as one extra
attribute or archive member that Keras ignores (`serialize`). Every file is written beside its
target and renamed into place (`files.atomic_write`), so a failure never leaves half a file.
"""

from __future__ import annotations

import os
from importlib import import_module
from pathlib import Path

from ..errors import OutputError
from ..files import atomic_write
from ..formats.file_kinds import SAVED_SUFFIXES, saved_kind
from ..ir.model import Model

SUFFIXES = SAVED_SUFFIXES  # .h5, .hdf, .hdf5, .keras, .onnx, .npz
WRITERS = {"hdf5": "keras.h5", "zip": "keras.v3", "onnx": "onnx", "npz": "npz"}  # kind -> module


def save(model: Model, path: str | os.PathLike) -> Path:
    """Write `model` in the format its extension names (.h5/.hdf/.hdf5, .keras, .onnx or
    .npz)."""
    path = Path(path)
    suffix = path.suffix.lower()
    kind = saved_kind(suffix)
    if kind is None:
        listed = ", ".join(SUFFIXES[:-1]) + f" or {SUFFIXES[-1]}"
        raise OutputError(
            f"cannot save a model as {suffix or 'a file without extension'}; use {listed}",
            path=path,
        )
    write = import_module(f".{WRITERS[kind]}", __name__).write
    return atomic_write(path, lambda temp: write(model, temp))
