"""Access to templates/ (shipped as the package gate2xlsx.templates)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources


@cache
def _load(name: str) -> dict:
    return json.loads(resources.files("gate2xlsx.templates").joinpath(name).read_text("utf-8"))


def styles() -> dict[str, dict]:
    return {k: v for k, v in _load("styles.json").items() if not k.startswith("_")}


def say(key: str, **values: object) -> str:
    """A sentence from templates/text.json with its {placeholders} filled."""
    return _load("text.json")[key].format(**values)


def document(name: str) -> str:
    return resources.files("gate2xlsx.templates").joinpath(name).read_text("utf-8")
