"""Zip archives, shared by the readers of every zip-based format (.keras, .npz, .skops,
workbooks): the signature and what zipfile raises on a damaged archive."""

from __future__ import annotations

import zipfile
from pathlib import Path

# Besides BadZipFile: an unsupported "version needed" field (NotImplementedError), a name that
# is not text (UnicodeDecodeError), a cut stream (EOFError), and OSError.
ZIP_ERRORS = (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, UnicodeDecodeError)
ZIP_MAGIC = b"PK\x03\x04"


def is_zip(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(4) == ZIP_MAGIC


def member_names(path: Path) -> list[str] | None:
    """The archive's member names, or None for a file that is no readable zip."""
    if not zipfile.is_zipfile(path):
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.namelist()
    except ZIP_ERRORS:
        return None
