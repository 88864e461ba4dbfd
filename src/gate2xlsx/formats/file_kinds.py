"""The kinds of file gate2xlsx reads and writes, in one table: what `readers.kind_of` answers,
how a message names each kind, which kinds are folders, and the names `save` writes each
under. Readers, writers and `verify` all read it; finding a file's kind by its content stays
in readers/kinds.py."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FileKind:
    """One kind of model file (or folder)."""

    name: str  # what readers.kind_of answers
    words: str  # how a message names it: "this is {words}"
    folder: bool = False  # a folder (SavedModel, TF.js), not a file
    saved_as: tuple[str, ...] = ()  # the extensions writers.save writes it under


# The written kinds come first, in the order a message lists their extensions.
KINDS = {
    kind.name: kind
    for kind in (
        FileKind("hdf5", "a Keras HDF5 model file", saved_as=(".h5", ".hdf", ".hdf5")),
        FileKind("zip", "a .keras model archive", saved_as=(".keras",)),
        FileKind("onnx", "an ONNX model file", saved_as=(".onnx",)),
        FileKind("npz", "gate2xlsx's .npz model file", saved_as=(".npz",)),
        FileKind("workbook", "a gate2xlsx workbook"),
        FileKind("arrays", "a .npz of NumPy weight arrays"),
        FileKind("npy", "a .npy NumPy array"),
        FileKind("savedmodel", "a TensorFlow SavedModel", folder=True),
        FileKind("tfjs", "a TensorFlow.js model", folder=True),
        FileKind("skops", "a scikit-learn .skops file"),
        FileKind("pickle", "a pickle"),
        FileKind("json", "a JSON file (an architecture)"),
    )
}

FOLDER_KINDS = tuple(kind.name for kind in KINDS.values() if kind.folder)
SAVED_SUFFIXES = tuple(suffix for kind in KINDS.values() for suffix in kind.saved_as)


def saved_kind(suffix: str) -> str | None:
    """The kind `save` writes under this extension (".h5" -> "hdf5"), or None."""
    found = [kind.name for kind in KINDS.values() if suffix.lower() in kind.saved_as]
    return found[0] if found else None


def words(kind: str | None, unknown: str = "a model file") -> str:
    """How a message names the kind ("an ONNX model file"); `unknown` for a kind not listed."""
    return KINDS[kind].words if kind in KINDS else unknown
