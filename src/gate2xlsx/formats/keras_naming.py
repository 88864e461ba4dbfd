"""Keras's own naming rules, shared by the readers (to find weight groups) and the writers."""

from __future__ import annotations

import re


def snake_case(class_name: str) -> str:
    """Keras 3's `naming.to_snake_case`: the group name of a layer class in a weights file."""
    name = re.sub(r"\W+", "", class_name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def tf_snake_case(class_name: str) -> str:
    """tf.keras 2.12-2.15's variant, which keeps digits with the word before them."""
    name = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", class_name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
