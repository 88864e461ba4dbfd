"""The one table of file kinds (formats/file_kinds.py), as the readers, the writers and
`verify` read it."""

from __future__ import annotations

import importlib

import pytest
from conftest import FIXTURES, SAMPLES

from gate2xlsx import writers
from gate2xlsx.formats.file_kinds import FOLDER_KINDS, KINDS, SAVED_SUFFIXES, saved_kind, words
from gate2xlsx.readers import READERS, WEIGHT_ARRAYS, kind_of


def test_every_kind_a_reader_takes_is_in_the_table():
    assert set(READERS) | set(WEIGHT_ARRAYS) | {"hdf5", "zip"} <= set(KINDS)
    assert FOLDER_KINDS == ("savedmodel", "tfjs")


@pytest.mark.parametrize(
    "path, kind",
    [
        (SAMPLES / "or.hdf", "hdf5"),
        (SAMPLES / "or.xlsx", "workbook"),
        (FIXTURES / "onnx" / "leaky_regression.onnx", "onnx"),
        (FIXTURES / "onnx" / "three_classes.skops", "skops"),
    ],
)
def test_what_kind_of_finds_the_table_names(path, kind):
    assert kind_of(path) == kind and words(kind) == KINDS[kind].words


def test_the_writers_save_what_the_table_says_under_its_extensions():
    assert SAVED_SUFFIXES == (".h5", ".hdf", ".hdf5", ".keras", ".onnx", ".npz")
    assert saved_kind(".HDF") == "hdf5" and saved_kind(".keras") == "zip"
    assert saved_kind(".xlsx") is None and words(None) == "a model file"
    saved = {kind.name for kind in KINDS.values() if kind.saved_as}
    assert set(writers.WRITERS) == saved
    for module in writers.WRITERS.values():
        assert callable(importlib.import_module(f"gate2xlsx.writers.{module}").write)
