"""Every format in. `load(path)` looks at the content (never the extension) and dispatches:
Keras HDF5 (every generation), `.keras` archives, ONNX (PyTorch, scikit-learn), `.skops`
(scikit-learn), gate2xlsx's .npz, and gate2xlsx's own workbooks (their current weights, so an
edited workbook is a model like any other). Pickles (joblib, torch.save) are refused unread:
loading one runs the code it holds."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from ..errors import InputError, UnsafeModelError
from ..model import Model
from . import config, extras, keras_h5, keras_zip, npz, onnx_file, skops
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
    if kind in ("onnx", "skops") and arch is not None:
        raise InputError(f"an {kind} file carries its own architecture; drop --architecture",
                         path=path)  # fmt: skip
    if kind == "onnx":
        from . import onnx  # the onnx package is imported for ONNX files only

        return onnx.read(path)
    if kind == "skops":
        return skops.read(path)
    if kind == "pickle":
        raise UnsafeModelError(
            "this is a pickle (joblib and torch.save write them too): loading one runs the "
            "code it holds, so gate2xlsx never opens it",
            path=path,
            hint="save a scikit-learn model with skops.io.dump(model, 'model.skops') or "
            "skl2onnx.to_onnx; export a PyTorch model with torch.onnx.export(model, x, "
            "'model.onnx')",
        )
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
        "not a model file gate2xlsx can read (expected Keras HDF5, a .keras archive, "
        "ONNX, .skops or a gate2xlsx workbook)",
        path=path,
    )


def kind_of(path: str | os.PathLike) -> str | None:
    """What the file is, by its content: "workbook", "hdf5", "npz", "skops", "pickle" (also a
    torch.save zip), "zip" (a .keras archive or another zip), "onnx", "json", or None (empty,
    missing or unknown)."""
    path = Path(path)
    if not path.is_file():
        return None
    if is_hdf5(path):
        return "hdf5"
    if npz.is_npz(path):
        return "npz"
    if _is_workbook(path):
        return "workbook"
    if skops.is_skops(path):
        return "skops"
    if _is_pickle(path):
        return "pickle"
    if keras_zip.is_zip(path):
        return "zip"
    with open(path, "rb") as handle:
        head = handle.read(64)
    if head.lstrip()[:1] in (b"{", b"["):
        return "json"
    return "onnx" if onnx_file.is_onnx(path) else None


PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".pt", ".pth", ".sav")


def _is_pickle(path: Path) -> bool:
    """A pickle stream (protocol 2 and up start with 0x80 and the protocol), a torch.save zip
    (its data.pkl inside), or a compressed joblib file named like one."""
    with open(path, "rb") as handle:
        head = handle.read(2)
    if len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return True
    if keras_zip.is_zip(path):
        try:
            with zipfile.ZipFile(path) as archive:
                return any(n.endswith("data.pkl") for n in archive.namelist())
        except keras_zip.ZIP_ERRORS:
            return False
    compressed = head[:1] in (b"\x78", b"\x1f", b"\xfd", b"B", b"\x28")
    return path.suffix.lower() in PICKLE_SUFFIXES and compressed


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
