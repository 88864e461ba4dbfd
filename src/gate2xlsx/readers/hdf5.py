"""Careful HDF5 access for readers: no links followed, no external data, bounded sizes."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import h5py
import numpy as np

from ..errors import InputError, UnsafeModelError
from .keras.config import TOO_DEEP

MAX_DATASET_BYTES = 1 << 30  # 1 GiB: far beyond any network a spreadsheet can hold


@contextmanager
def open_hdf5(path: Path, data: BinaryIO | None = None) -> Iterator[h5py.File]:
    """Open read-only (from `data` when given, e.g. a zip member held in memory; `path` names
    it in messages); a damaged file becomes one clear InputError."""
    try:
        handle = h5py.File(data if data is not None else path, "r")
    except (OSError, ValueError) as exc:
        raise InputError(_unreadable(exc), path=path) from None
    try:
        yield handle
    except RecursionError:  # a config nested past Python's limit: nothing is damaged
        raise InputError(TOO_DEEP, path=path) from None
    except (OSError, RuntimeError, KeyError) as exc:
        raise InputError(f"damaged HDF5 file ({_first_line(exc)})", path=path) from None
    except UnicodeError:  # h5py hands undecodable names over with surrogates; they fail later
        raise InputError(
            "damaged HDF5 file (a name or text attribute is not valid UTF-8)", path=path
        ) from None
    finally:
        handle.close()


_TRUNCATED = re.compile(r"truncated file: eof = (\d+).*stored_eof = (\d+)")


def _unreadable(exc: BaseException) -> str:
    """Why h5py could not open the file, in plain words where we know them."""
    cut = _TRUNCATED.search(str(exc))
    if cut:
        have, need = int(cut[1]), int(cut[2])
        return (f"the file is cut short: it has {have:,} of the {need:,} bytes its HDF5 header "
                "declares (an interrupted download or copy?)")  # fmt: skip
    return f"not a readable HDF5 file ({_first_line(exc)})"


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]


def decode(value: object) -> object:
    """Attributes come back as str, bytes, numpy bytes or arrays of them, by h5py version."""
    if isinstance(value, np.ndarray):
        return [decode(v) for v in value.tolist()] if value.dtype.kind in "SOU" else value
    if isinstance(value, (list, tuple)):
        return [decode(v) for v in value]
    if hasattr(value, "decode"):
        return value.decode("utf-8")
    return value


def attr(node: h5py.HLObject, name: str, default: object = None) -> object:
    return decode(node.attrs[name]) if name in node.attrs else default


def name_list(node: h5py.HLObject, name: str) -> list[str] | None:
    """A list attribute such as layer_names, joined from name0, name1, ... when Keras split it."""
    if name in node.attrs:
        value = decode(node.attrs[name])
    elif f"{name}0" in node.attrs:
        value, k = [], 0
        while f"{name}{k}" in node.attrs:
            value.extend(decode(node.attrs[f"{name}{k}"]))
            k += 1
    else:
        return None
    if isinstance(value, np.ndarray):  # a layer without weights stores an empty float array
        return [str(v) for v in value.tolist()]
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def child(group: h5py.Group, path: str, *, file: Path) -> h5py.HLObject:
    """Walk `path` one hard link at a time; refuse soft and external links."""
    node = group
    for part in [p for p in path.split("/") if p]:
        link = node.get(part, getlink=True)
        if link is None:
            raise KeyError(f"{node.name}/{part}")
        if not isinstance(link, h5py.HardLink):
            kind = "external" if isinstance(link, h5py.ExternalLink) else "soft"
            raise UnsafeModelError(
                f"{kind} link at {node.name.rstrip('/')}/{part} is refused "
                "(gate2xlsx reads only data stored in the file itself)",
                path=file,
            )
        node = node[part]
    return node


def _dtype(dataset: h5py.Dataset, file: Path) -> np.dtype:
    try:
        return dataset.dtype
    except (TypeError, ValueError) as exc:  # e.g. a float type with a damaged precision field
        raise InputError(
            f"dataset {dataset.name} has a number type NumPy cannot hold ({_first_line(exc)})",
            path=file,
        ) from None


def read_array(dataset: h5py.Dataset, *, file: Path, stored_bytes: int | None = None) -> np.ndarray:
    """A dataset's values, after checking it is plain numeric data stored in this file.

    `stored_bytes` is the size of the HDF5 image (default: the file's size on disk); a dataset
    declaring far more than that is a forged header, refused before any allocation."""
    if not isinstance(dataset, h5py.Dataset):
        raise InputError(f"{dataset.name} is a group where a weight array was expected", path=file)
    if dataset.is_virtual:
        raise UnsafeModelError(f"virtual dataset {dataset.name} is refused", path=file)
    if dataset.external:
        raise UnsafeModelError(
            f"dataset {dataset.name} stores its data in an external file; refused", path=file
        )
    dtype = _dtype(dataset, file)
    if dtype.kind not in "fiu":
        raise InputError(f"dataset {dataset.name} holds {dtype}, not numbers", path=file)
    declared = int(np.prod(dataset.shape, dtype=np.int64)) * dtype.itemsize
    file_size = os.path.getsize(file) if stored_bytes is None else stored_bytes
    if declared > MAX_DATASET_BYTES or declared > 64 * max(file_size, 1 << 20):
        raise InputError(
            f"dataset {dataset.name} declares {dataset.shape} ({declared:,} bytes) "
            f"but the file has {file_size:,} bytes",
            path=file,
        )
    try:
        return np.asarray(dataset[()])
    except (OSError, RuntimeError, ValueError) as exc:
        raise InputError(
            f"cannot read dataset {dataset.name} ({_first_line(exc)})", path=file
        ) from None


def walk(
    group: h5py.Group, *, file: Path, prefix: str = "", depth: int = 0
) -> Iterator[tuple[str, h5py.HLObject]]:
    """Every group and dataset below `group` with its path, following hard links only.

    Paths are normalised to `/` separators: archives written on Windows hold group names
    such as `layers\\dense\\vars`, one HDF5 name with backslashes inside."""
    if depth > 64:
        raise InputError(f"groups nested more than 64 deep at {group.name}", path=file)
    for part in group:
        node = child(group, part, file=file)
        name = prefix + part.replace("\\", "/")
        yield name, node
        if isinstance(node, h5py.Group):
            yield from walk(node, file=file, prefix=name + "/", depth=depth + 1)
