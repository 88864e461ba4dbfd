"""TensorFlow's tensor bundle (a checkpoint: `variables.index` + `variables.data-*-of-*`), read
without TensorFlow.

The index is a LevelDB-style sorted table: data blocks of prefix-compressed keys with restart
points, an index block pointing at them, a 48-byte footer ending in the table magic; each block
is followed by a type byte (0: stored, 1: snappy, which TensorFlow does not write for bundles
and which is refused) and a masked CRC-32C. Its values are BundleEntryProto messages (dtype,
shape, shard, offset, size, CRC-32C of the bytes) under the variables' checkpoint keys; the
entry under the empty key is the BundleHeaderProto (shard count, endianness). Every offset and
size is checked against the file it points into before anything is read.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import InputError, UnsupportedModelError
from .protobuf_wire import Message, WireError, varint

TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER_BYTES = 48
MAX_INDEX_BYTES = 256 << 20
DTYPES = {1: "<f4", 2: "<f8", 3: "<i4", 4: "u1", 5: "<i2", 6: "i1", 9: "<i8", 10: "?",
          17: "<u2", 19: "<f2", 22: "<u4", 23: "<u8"}  # fmt: skip
DT_STRING, DT_BFLOAT16 = 7, 14


def _crc_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), the checksum LevelDB tables and tensor bundles use."""
    crc, table = 0xFFFFFFFF, _TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked(crc: int) -> int:
    """LevelDB's masked form of a CRC (stored so a CRC of CRCs stays meaningful)."""
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


# --- the sorted table ------------------------------------------------------------------------


def table_entries(data: bytes) -> dict[bytes, bytes]:
    """Every key and value of a sorted-table file's bytes (raises WireError if malformed)."""
    if len(data) < FOOTER_BYTES:
        raise WireError(f"{len(data)} bytes, shorter than a table's footer")
    footer = data[-FOOTER_BYTES:]
    if struct.unpack_from("<Q", footer, 40)[0] != TABLE_MAGIC:
        raise WireError("the footer lacks the table magic number")
    _, at = _handle(footer, 0)  # the metaindex block: nothing TensorFlow stores there
    index, _ = _handle(footer, at)
    found: dict[bytes, bytes] = {}
    for _, value in _block(data, index):
        handle, _ = _handle(value, 0)
        found.update(_block(data, handle))
    return found


def _handle(data: bytes, at: int) -> tuple[tuple[int, int], int]:
    """A BlockHandle (offset, size) at `at`, and the offset after it."""
    offset, at = varint(data, at)
    size, at = varint(data, at)
    return (offset, size), at


def _block(data: bytes, handle: tuple[int, int]) -> list[tuple[bytes, bytes]]:
    """One block's (key, value) pairs, its trailer's type and checksum checked."""
    offset, size = handle
    if offset + size + 5 > len(data) - FOOTER_BYTES:
        raise WireError(f"a block at {offset:,} of {size:,} bytes runs past the table's end")
    block, kind = data[offset : offset + size], data[offset + size]
    if kind != 0:
        raise WireError(f"a block is compressed (type {kind}); TensorFlow writes them stored")
    stored = struct.unpack_from("<I", data, offset + size + 1)[0]
    if masked(crc32c(data[offset : offset + size + 1])) != stored:
        raise WireError(f"the block at {offset:,} fails its CRC-32C check")
    if size < 4:
        raise WireError("a block too short for its restart count")
    restarts = struct.unpack_from("<I", block, size - 4)[0]
    end = size - 4 - 4 * restarts
    if end < 0:
        raise WireError("a block's restart array runs past its start")
    return _entries(block[:end])


def _entries(block: bytes) -> list[tuple[bytes, bytes]]:
    pairs, key, at = [], b"", 0
    while at < len(block):
        shared, at = varint(block, at)
        fresh, at = varint(block, at)
        length, at = varint(block, at)
        if shared > len(key) or at + fresh + length > len(block):
            raise WireError("a key or value runs past its block")
        key = key[:shared] + block[at : at + fresh]
        pairs.append((key, block[at + fresh : at + fresh + length]))
        at += fresh + length
    return pairs


# --- the bundle ------------------------------------------------------------------------------


@dataclass
class Entry:
    """Where one tensor's bytes live and what they are."""

    key: str
    dtype: int
    shape: tuple[int, ...]
    shard: int
    offset: int
    size: int
    crc: int | None


class Bundle:
    """A checkpoint `<prefix>.index` and its data shards, opened for reading tensors by key."""

    def __init__(self, prefix: Path, *, shown: Path):
        self.prefix, self.shown = prefix, shown
        self.index = prefix.with_name(prefix.name + ".index")
        raw = _read_bounded(self.index, MAX_INDEX_BYTES)
        try:
            entries = table_entries(raw)
            header = Message(entries.pop(b"", b""))
            self.shards = header.int(1, 1)
            self.entries = {k.decode("utf-8"): _entry(k, v) for k, v in entries.items()}
        except (WireError, UnicodeDecodeError) as exc:
            raise InputError(f"damaged checkpoint index ({exc})", path=self.index) from None
        if header.int(2) != 0:
            raise UnsupportedModelError("the checkpoint is stored big-endian", path=self.index)
        if not 1 <= self.shards <= 100_000:
            raise InputError(f"damaged checkpoint index ({self.shards} shards)", path=self.index)

    def keys(self) -> list[str]:
        return list(self.entries)

    def _entry(self, key: str) -> Entry:
        entry = self.entries.get(key)
        if entry is None:
            raise InputError(f"the checkpoint has no tensor {key!r}", path=self.index)
        return entry

    def _bytes(self, key: str, *, checked: bool = True) -> tuple[Entry, bytes, Path]:
        entry = self._entry(key)
        if not 0 <= entry.shard < self.shards:
            raise InputError(f"tensor {key!r} names shard {entry.shard} of {self.shards}",
                             path=self.index)  # fmt: skip
        shard = self.prefix.with_name(f"{self.prefix.name}.data-{entry.shard:05d}-of-"
                                      f"{self.shards:05d}")  # fmt: skip
        data = _read_range(shard, entry.offset, entry.size, key)
        if checked:
            _check(entry, data, shard)
        return entry, data, shard

    def array(self, key: str) -> np.ndarray:
        """A numeric tensor as a NumPy array of its stored dtype and shape."""
        entry = self._entry(key)
        stored = "<u2" if entry.dtype == DT_BFLOAT16 else DTYPES.get(entry.dtype)
        if stored is None:
            raise UnsupportedModelError(f"tensor {key!r} has TensorFlow dtype {entry.dtype}, "
                                        "not a number type", path=self.index)  # fmt: skip
        if entry.size != math.prod(entry.shape) * np.dtype(stored).itemsize:
            raise InputError(f"tensor {key!r} declares {entry.size:,} bytes, not those of "
                             f"shape {entry.shape}", path=self.index)  # fmt: skip
        _, data, _ = self._bytes(key)
        values = np.frombuffer(data, stored)
        if entry.dtype == DT_BFLOAT16:
            values = (values.astype(np.uint32) << 16).view(np.float32)
        return values.reshape(entry.shape).copy()

    def string(self, key: str) -> bytes:
        """A scalar string tensor (the checkpoint's object graph): its length as a varint, the
        masked CRC of the lengths, then the bytes; the entry's CRC covers the length as a
        uint32 (uint64 past 4 GiB), that CRC and the bytes."""
        entry, data, shard = self._bytes(key, checked=False)
        if entry.dtype != DT_STRING or entry.shape != ():
            raise InputError(f"tensor {key!r} is not a string", path=self.index)
        try:
            length, at = varint(data, 0)
        except WireError:
            length, at = -1, 0
        if at + 4 + length != len(data):
            raise InputError(f"tensor {key!r} is damaged (its length is wrong)", path=shard)
        size = struct.pack("<I" if length <= 0xFFFFFFFF else "<Q", length)
        _check(entry, size + data[at:], shard)
        return data[at + 4 :]


def _check(entry: Entry, data: bytes, shard: Path) -> None:
    if entry.crc is not None and masked(crc32c(data)) != entry.crc:
        raise InputError(f"tensor {entry.key!r} fails its CRC-32C check (a damaged file)",
                         path=shard)  # fmt: skip


def _entry(key: bytes, value: bytes) -> Entry:
    entry = Message(value)
    if entry.has(7):
        raise WireError(f"tensor {key.decode(errors='replace')!r} is partitioned (slices)")
    shape = entry.message(2)
    if shape.int(3):
        raise WireError(f"tensor {key.decode(errors='replace')!r} has an unknown rank")
    dims = tuple(d.int(1) for d in shape.messages(2))
    if any(d < 0 for d in dims):
        raise WireError(f"tensor {key.decode(errors='replace')!r} has shape {dims}")
    crc = entry.all(6)
    return Entry(key.decode("utf-8"), entry.int(1), dims, entry.int(3), entry.int(4),
                 entry.int(5), int(crc[-1]) if crc else None)  # fmt: skip


def _read_bounded(path: Path, limit: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > limit:
            raise InputError(f"{size:,} bytes, more than the {limit:,} gate2xlsx reads", path=path)
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read it ({exc.strerror or exc})", path=path) from None


def _read_range(path: Path, offset: int, size: int, key: str) -> bytes:
    """`size` bytes at `offset` of a data shard, refused if they lie outside the file."""
    try:
        with open(path, "rb") as handle:
            total = handle.seek(0, 2)
            if offset < 0 or size < 0 or offset + size > total:
                raise InputError(f"tensor {key!r} lies at bytes {offset:,}-{offset + size:,} "
                                 f"but the file has {total:,} (cut short?)", path=path)  # fmt: skip
            handle.seek(offset)
            return handle.read(size)
    except OSError as exc:
        raise InputError(f"cannot read it ({exc.strerror or exc})", path=path) from None
