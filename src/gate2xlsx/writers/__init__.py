"""Model -> model files other tools load: legacy HDF5 (.h5/.hdf/.hdf5, tf.keras 2.15 and
Keras 3 load it), a Keras 3 archive (.keras), ONNX (.onnx, for onnxruntime, PyTorch and the
rest), or plain NumPy arrays plus the architecture (.npz).

gate2xlsx's own description (training data, gate name, class names) rides along as one extra
attribute or archive member that Keras ignores (`serialize`). Every file is written beside its
target and renamed into place (`files.atomic_write`), so a failure never leaves half a file.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import OutputError
from ..files import atomic_write
from ..model import Model

H5_SUFFIXES = (".h5", ".hdf", ".hdf5")
SUFFIXES = (*H5_SUFFIXES, ".keras", ".onnx", ".npz")


def save(model: Model, path: str | os.PathLike) -> Path:
    """Write `model` in the format its extension names (.h5/.hdf/.hdf5, .keras, .onnx or
    .npz)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise OutputError(
            f"cannot save a model as {suffix or 'a file without extension'}; "
            "use .h5, .hdf, .hdf5, .keras, .onnx or .npz",
            path=path,
        )
    if suffix in H5_SUFFIXES:
        from .keras_h5 import write
    elif suffix == ".keras":
        from .keras_v3 import write
    elif suffix == ".onnx":
        from .onnx import write
    else:
        from .npz import write
    return atomic_write(path, lambda temp: write(model, temp))
