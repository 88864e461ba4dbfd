"""Keras `.keras` archives: Keras 3 and tf.keras 2.12-2.15.

A zip of `metadata.json`, `config.json` and the weights HDF5 (`model.weights.h5`, or
`variables.h5` in early tf.keras), plus an optional `assets/` folder this reader never opens.
The weights file is read from the archive in memory: nothing is extracted to disk. Member
sizes are bounded before reading, so a forged or "zip bomb" member is refused up front.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from ...errors import InputError, UnsafeModelError
from ...ir.model import Model
from ..hdf5 import MAX_DATASET_BYTES, open_hdf5
from ..zips import ZIP_ERRORS
from . import config as C
from . import weights_v3

FORMAT = "Keras .keras archive"
WEIGHT_MEMBERS = ("model.weights.h5", "variables.h5")
MAX_JSON_BYTES = 64 << 20
MAX_WEIGHTS_BYTES = MAX_DATASET_BYTES
MAX_RATIO = 200  # deflate reaches ~1000:1 only on degenerate data; real weights compress < 2:1
_CHUNK = 1 << 20


def read(path: Path, architecture: dict | list | None = None) -> Model:
    """Read a `.keras` archive; `architecture` overrides its config.json when given."""
    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except ZIP_ERRORS as exc:
        raise InputError(f"not a readable zip archive ({exc})", path=path) from None
    with archive:
        names = set(archive.namelist())
        if "config.json" not in names and architecture is None:
            raise InputError("the archive has no config.json; not a Keras .keras file", path=path)
        weights_name = next((n for n in WEIGHT_MEMBERS if n in names), None)
        if weights_name is None:
            raise InputError(
                "the archive has no model.weights.h5; not a Keras .keras file", path=path
            )
        meta = _json(archive, "metadata.json", path) if "metadata.json" in names else {}
        if architecture is None:
            architecture = _json(archive, "config.json", path)
        data = _member(archive, weights_name, MAX_WEIGHTS_BYTES, path)
    version = str(meta.get("keras_version", "")) if isinstance(meta, dict) else ""
    version = version or weights_v3.keras_version_of(architecture)
    with open_hdf5(path, io.BytesIO(data)) as handle:
        model = weights_v3.model_from_tree(
            architecture,
            handle,
            path=path,
            keras_version=version,
            fmt=FORMAT,
            stored_bytes=len(data),
        )
    compiled = architecture.get("compile_config") if isinstance(architecture, dict) else None
    model.loss = model.loss or C.training_loss(compiled)
    model.optimizer = C.optimizer_settings(compiled)
    return model


def _json(archive: zipfile.ZipFile, name: str, path: Path) -> dict | list:
    return C.parse_json(_member(archive, name, MAX_JSON_BYTES, path), path=path)


def _member(archive: zipfile.ZipFile, name: str, limit: int, path: Path) -> bytes:
    """One member's bytes, refusing encrypted, oversized or absurdly compressed members."""
    info = archive.getinfo(name)
    if info.flag_bits & 0x1:
        raise InputError(f"archive member {name} is encrypted", path=path)
    if info.file_size > limit:
        raise UnsafeModelError(
            f"archive member {name} declares {info.file_size:,} bytes, more than "
            f"the {limit:,} gate2xlsx reads",
            path=path,
        )
    if info.file_size > _CHUNK and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise UnsafeModelError(
            f"archive member {name} expands {info.compress_size:,} bytes to "
            f"{info.file_size:,} (ratio over {MAX_RATIO}:1); refused as a "
            "likely zip bomb",
            path=path,
        )
    parts, total = [], 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(_CHUNK):
                total += len(chunk)
                if total > info.file_size:  # zipfile checks this too; never trust one guard
                    raise UnsafeModelError(
                        f"archive member {name} is larger than it declares", path=path
                    )
                parts.append(chunk)
    except ZIP_ERRORS as exc:
        raise InputError(f"cannot read archive member {name} ({exc})", path=path) from None
    return b"".join(parts)
