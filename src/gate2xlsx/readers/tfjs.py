"""TensorFlow.js models (a model.json and its weight shards). Placeholder: detection only; the
reader lands with issue 27."""

from __future__ import annotations

from pathlib import Path

from ..errors import UnsupportedModelError
from ..model import Model

MODEL_JSON = "model.json"


def is_tfjs(path: Path) -> bool:
    """A folder holding model.json, or a model.json naming its weights (weightsManifest)."""
    path = Path(path)
    if path.is_dir():
        return (path / MODEL_JSON).is_file()
    if not path.is_file():
        return False
    with open(path, "rb") as handle:
        head = handle.read(1 << 16)
    return head.lstrip()[:1] == b"{" and b'"weightsManifest"' in head


def read(path: Path) -> Model:
    raise UnsupportedModelError("TensorFlow.js models are not read yet", path=path)
