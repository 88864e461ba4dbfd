"""Every format in. `load(path)` looks at the content (never the extension) and dispatches:
Keras HDF5 (every generation), `.keras` archives, gate2xlsx's .npz, and gate2xlsx's own
workbooks (their current weights, so an edited workbook is a model like any other)."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from ..errors import InputError
from ..model import Model
from . import config, extras, keras_h5, keras_zip, npz
from .hdf5 import is_hdf5
from .isolation import in_child


def load(path: str | os.PathLike, *, architecture: str | os.PathLike | None = None) -> Model:
    """Read any model file gate2xlsx supports into a Model.

    `architecture` is the model's JSON (`model.to_json()` or a Keras 3 config.json) for
    files that hold weights only.
    """
    path = Path(path)
    _check_readable(path)
    arch = _read_architecture(Path(architecture)) if architecture is not None else None
    return in_child(_read, path, arch, path=path)


def _read(path: Path, arch: dict | list | None) -> Model:
    kind = kind_of(path)
    if kind == "hdf5":
        return extras.attach(keras_h5.read(path, arch), path)
    if kind == "npz":
        return npz.read(path)
    if kind == "workbook":
        from . import xlsx  # openpyxl is imported for workbooks only

        if arch is not None:
            raise InputError(
                "a gate2xlsx workbook carries its own architecture; drop --architecture", path=path
            )
        return xlsx.read_workbook(path)
    if kind == "zip":
        return extras.attach(keras_zip.read(path, arch), path)
    if path.stat().st_size == 0:
        raise InputError("the file is empty", path=path)
    if kind == "json":
        raise InputError(
            "this is a JSON file (an architecture without weights)",
            path=path,
            hint="give the weights file as MODEL and this one as --architecture",
        )
    raise InputError(
        "not a model file gate2xlsx can read (expected Keras HDF5, a .keras "
        "archive or a gate2xlsx workbook)",
        path=path,
    )


def kind_of(path: str | os.PathLike) -> str | None:
    """What the file is, by its content: "workbook", "hdf5", "npz", "zip" (a .keras archive or
    another zip), "json", or None (empty, missing or unknown)."""
    path = Path(path)
    if not path.is_file():
        return None
    if is_hdf5(path):
        return "hdf5"
    if npz.is_npz(path):
        return "npz"
    if _is_workbook(path):
        return "workbook"
    if keras_zip.is_zip(path):
        return "zip"
    with open(path, "rb") as handle:
        head = handle.read(64)
    return "json" if head.lstrip()[:1] in (b"{", b"[") else None


def _is_workbook(path: Path) -> bool:
    """An .xlsx package, whatever its name: a zip holding the workbook part."""
    if not keras_zip.is_zip(path):
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except keras_zip.ZIP_ERRORS:
        return False


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise InputError("no such file", path=path)
    if path.is_dir():
        raise InputError("is a directory, not a model file", path=path)
    if not os.access(path, os.R_OK):
        raise InputError("permission denied", path=path)


def _read_architecture(path: Path) -> dict | list:
    """The --architecture file's JSON, checked here so its problems name it (not the weights)."""
    _check_readable(path)
    try:
        text = path.read_text("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not a JSON text file ({exc})", path=path) from None
    found = config.parse_json(text, path=path)
    if not config.is_model_config(found):
        raise InputError("not a Keras model configuration (expected model.to_json() text, a Keras "
                         "3 config.json or a TF.js model.json)", path=path)  # fmt: skip
    if isinstance(found, dict) and isinstance(found.get("modelTopology"), dict):
        return found["modelTopology"]  # TF.js: its keras_version sits beside the model_config
    return found
