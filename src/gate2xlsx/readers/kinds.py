"""What a file is, by its content (never its name): the first bytes and, for a zip, its member
names. Nothing here imports a format's library, so deciding costs no h5py or onnx import; the
reader for the kind found imports what it needs. The kinds themselves, and how messages name
them: formats/file_kinds.py."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from . import arrays, npz, skops
from .onnx import file as onnx_file
from .tensorflow import savedmodel, tfjs
from .zips import ZIP_ERRORS, is_zip

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def kind_of(path: str | os.PathLike) -> str | None:
    """What the file or folder is, by its content: "workbook", "hdf5", "npz" (gate2xlsx's
    own), "arrays" (any other np.savez archive), "npy" (one array), "savedmodel" (a TensorFlow
    SavedModel folder or its saved_model.pb), "tfjs" (a TF.js model folder or its model.json),
    "skops", "pickle" (also a torch.save zip), "zip" (a .keras archive or another zip), "onnx",
    "json", or None (empty, missing or unknown)."""
    path = Path(path)
    if savedmodel.is_savedmodel(path):
        return "savedmodel"
    if tfjs.is_tfjs(path):
        return "tfjs"
    if not path.is_file():
        return None
    if is_hdf5(path):
        return "hdf5"
    if npz.is_npz(path):
        return "npz"
    if arrays.is_npz_of_arrays(path):
        return "arrays"
    if arrays.is_npy(path):
        return "npy"
    if _is_workbook(path):
        return "workbook"
    if skops.is_skops(path):
        return "skops"
    if _is_pickle(path):
        return "pickle"
    if is_zip(path):
        return "zip"
    with open(path, "rb") as handle:
        head = handle.read(64)
    if head.lstrip()[:1] in (b"{", b"["):
        return "json"
    return "onnx" if onnx_file.is_onnx(path) else None


def is_hdf5(path: Path) -> bool:
    """HDF5 signature at offset 0 or at a user-block offset (512, 1024, ...)."""
    with open(path, "rb") as handle:
        offset = 0
        size = os.fstat(handle.fileno()).st_size
        while offset < min(size, 1 << 20):
            handle.seek(offset)
            if handle.read(8) == HDF5_MAGIC:
                return True
            offset = 512 if offset == 0 else offset * 2
    return False


PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".pt", ".pth", ".sav")


def _is_pickle(path: Path) -> bool:
    """A pickle stream (protocol 2 and up start with 0x80 and the protocol), a torch.save zip
    (its data.pkl inside), or a compressed joblib file named like one."""
    with open(path, "rb") as handle:
        head = handle.read(2)
    if len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return True
    if is_zip(path):
        try:
            with zipfile.ZipFile(path) as archive:
                return any(n.endswith("data.pkl") for n in archive.namelist())
        except ZIP_ERRORS:
            return False
    compressed = head[:1] in (b"\x78", b"\x1f", b"\xfd", b"B", b"\x28")
    return path.suffix.lower() in PICKLE_SUFFIXES and compressed


def _is_workbook(path: Path) -> bool:
    """An .xlsx package, whatever its name: a zip holding the workbook part."""
    if not is_zip(path):
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except ZIP_ERRORS:
        return False
