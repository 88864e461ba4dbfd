"""The protobuf wire format, read by hand: enough for the few TensorFlow messages the SavedModel
reader needs (no generated code, no TensorFlow). A message is a list of fields, each a field
number and a value: an int for varints and fixed-width numbers, bytes for length-delimited
fields (strings, sub-messages, packed repeated numbers). Groups (wire types 3 and 4, unused
since proto2) and anything that runs past the end raise WireError.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5


class WireError(ValueError):
    """The bytes are not a well-formed protobuf message."""


def varint(data: bytes, at: int) -> tuple[int, int]:
    """The base-128 varint starting at `at`, and the offset just after it."""
    value = shift = 0
    while True:
        if at >= len(data):
            raise WireError("a varint runs past the end of the message")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7
        if shift > 63:
            raise WireError("a varint is longer than ten bytes")


def fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) for every field of a message, in the order stored."""
    at, end = 0, len(data)
    while at < end:
        key, at = varint(data, at)
        number, kind = key >> 3, key & 7
        if number == 0:
            raise WireError("a field numbered 0")
        if kind == VARINT:
            value, at = varint(data, at)
        elif kind in (FIXED64, FIXED32):
            width = 8 if kind == FIXED64 else 4
            if at + width > end:
                raise WireError("a fixed-width field runs past the end of the message")
            value = int.from_bytes(data[at : at + width], "little")
            at += width
        elif kind == LENGTH:
            size, at = varint(data, at)
            if at + size > end:
                raise WireError(f"field {number} declares {size:,} bytes past the message's end")
            value = data[at : at + size]
            at += size
        else:
            raise WireError(f"wire type {kind} (field {number}) is not one protobuf writes")
        yield number, value


class Message:
    """A decoded message: its fields by number, each the list of values stored for it."""

    def __init__(self, data: bytes):
        self.by_number: dict[int, list[int | bytes]] = {}
        for number, value in fields(bytes(data)):
            self.by_number.setdefault(number, []).append(value)

    def all(self, number: int) -> list[int | bytes]:
        return self.by_number.get(number, [])

    def int(self, number: int, default: int = 0) -> int:
        """A scalar number (the last value wins, as protobuf merges); signed as int64."""
        values = self.all(number)
        if not values:
            return default
        if not isinstance(values[-1], int):
            raise WireError(f"field {number} should be a number")
        return signed(values[-1])

    def bytes(self, number: int) -> bytes:
        values = self.all(number)
        if values and not isinstance(values[-1], bytes):
            raise WireError(f"field {number} should be length-delimited")
        return values[-1] if values else b""

    def text(self, number: int) -> str:
        try:
            return self.bytes(number).decode("utf-8")
        except UnicodeDecodeError:
            raise WireError(f"field {number} is not UTF-8 text") from None

    def has(self, number: int) -> bool:
        return number in self.by_number

    def message(self, number: int) -> Message:
        """A sub-message (empty when absent)."""
        return Message(self.bytes(number))

    def messages(self, number: int) -> list[Message]:
        found = []
        for value in self.all(number):
            if not isinstance(value, bytes):
                raise WireError(f"field {number} should hold messages")
            found.append(Message(value))
        return found

    def ints(self, number: int) -> list[int]:
        """A repeated varint field, packed or not."""
        found: list[int] = []
        for value in self.all(number):
            if isinstance(value, int):
                found.append(signed(value))
                continue
            at = 0
            while at < len(value):
                item, at = varint(value, at)
                found.append(signed(item))
        return found


def signed(value: int) -> int:
    """An int64 / int32 varint as the signed number it stands for (two's complement)."""
    return value - (1 << 64) if value >= 1 << 63 else value


def fixed32(data: bytes, at: int) -> int:
    if at + 4 > len(data):
        raise WireError("a 32-bit number runs past the end")
    return struct.unpack_from("<I", data, at)[0]
