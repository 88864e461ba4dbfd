"""gate2xlsx's own description carried inside Keras files it wrote (an HDF5 root attribute or a
`.keras` archive member that Keras ignores): training data, gate name, class and input names.

The weights always come from the Keras part of the file; the description only adds what Keras
has no place for, and only when its layers match the ones read.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import h5py

from ...ir.model import Model
from ...ir.serialize import FORMAT, H5_ATTRIBUTE, KERAS_MEMBER, from_dict
from ..hdf5 import attr

MAX_MEMBER_BYTES = 64 << 20


def attach(model: Model, path: Path) -> Model:
    """`model` with the description's data, names and loss when the file carries one."""
    described = _described(Path(path))
    if described is None or not _same_layers(described, model):
        return model
    model.name = described.get("name") or model.name
    model.input_names = described.get("input_names") or model.input_names
    model.class_names = described.get("class_names") or model.class_names
    model.loss = model.loss or described.get("loss")
    if described.get("data"):
        model.data = from_dict({**described, "layers": []}, {}).data
    return model


def _described(path: Path) -> dict | None:
    text = None
    if h5py.is_hdf5(path):
        with h5py.File(path, "r") as handle:
            if H5_ATTRIBUTE in handle.attrs:
                text = attr(handle, H5_ATTRIBUTE)
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            info = next((i for i in archive.infolist() if i.filename == KERAS_MEMBER), None)
            if info is not None and info.file_size <= MAX_MEMBER_BYTES:
                text = archive.read(info).decode("utf-8", "replace")
    try:
        data = json.loads(text) if isinstance(text, str) else None
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) and data.get("format") == FORMAT else None


def _same_layers(described: dict, model: Model) -> bool:
    """Weighted layers agree by name and shapes (identity layers may be dropped by Keras)."""
    mine = [
        (
            e.get("name"),
            sorted((k, tuple(w.get("shape", ()))) for k, w in e.get("weights", {}).items()),
        )
        for e in described.get("layers", [])
        if isinstance(e, dict) and e.get("weights")
    ]
    theirs = [
        (layer.name, sorted((k, p.values.shape) for k, p in layer.weights().items()))
        for layer in model.weighted_layers()
    ]
    return mine == theirs
