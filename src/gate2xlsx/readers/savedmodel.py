"""TensorFlow SavedModel folders (what tf.keras 2.x's `model.save("or.hdf")` writes), read
without TensorFlow. Placeholder: detection only; the reader lands with issue 27."""

from __future__ import annotations

from pathlib import Path

from ..errors import UnsupportedModelError
from ..model import Model

PB = "saved_model.pb"


def is_savedmodel(path: Path) -> bool:
    """A folder holding saved_model.pb, or that file given directly."""
    path = Path(path)
    if path.is_dir():
        return (path / PB).is_file()
    return path.name == PB and path.is_file()


def read(path: Path) -> Model:
    raise UnsupportedModelError("TensorFlow SavedModel folders are not read yet", path=path)
