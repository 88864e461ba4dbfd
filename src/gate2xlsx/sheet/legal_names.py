"""Legal defined names and sheet titles: what Excel and LibreOffice accept as a name (never
read as a cell reference), made stably from layer and weight names."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

from .formulas import MAX_SHEET_NAME_CHARS, looks_like_reference


def _ascii_word(raw: str) -> str:
    folded = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode("ascii")
    word = re.sub(r"[^A-Za-z0-9_]+", "_", folded)
    return re.sub(r"_+", "_", word).strip("_")


def legal_name(raw: str, fallback: str = "layer") -> str:
    """A legal defined name made from raw text (stable: the same text gives the same name).

    Only ASCII letters, digits and underscores; starts with a letter or underscore; never a
    cell reference, TRUE or FALSE; at most 200 characters (a hash keeps long names distinct).
    """
    word = _ascii_word(raw) or fallback
    if word[0].isdigit() or looks_like_reference(word) or word.upper() in {"TRUE", "FALSE"}:
        word = "_" + word
    if len(word) > 200:
        digest = hashlib.sha1(raw.encode("utf-8")).hexdigest()[:8]
        word = f"{word[:190]}_{digest}"
    return word


class NameTable:
    """Hands out legal, unique (case-insensitive) defined names in a stable order."""

    def __init__(self, reserved: Iterable[str] = ()):
        self._taken = {name.lower() for name in reserved}

    def claim(self, raw: str, fallback: str = "layer") -> str:
        base = legal_name(raw, fallback)
        name, n = base, 2
        while name.lower() in self._taken or looks_like_reference(name):
            name = f"{base}_{n}"
            n += 1
        self._taken.add(name.lower())
        return name


def sheet_title(raw: str) -> str:
    """A legal sheet name: no []:*?/\\ characters, at most 31 characters."""
    cleaned = re.sub(r"[\[\]:*?/\\]", "_", raw).strip("'") or "Sheet"
    return cleaned[:MAX_SHEET_NAME_CHARS]
