"""Every format in. `load(path)` looks at the content (never the extension) and dispatches:
Keras HDF5 (every generation), `.keras` archives, ONNX (PyTorch, scikit-learn), `.skops`
(scikit-learn), gate2xlsx's .npz, and gate2xlsx's own workbooks (their current weights, so an
edited workbook is a model like any other). Pickles (joblib, torch.save) are refused unread:
loading one runs the code it holds."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InputError, UnsafeModelError
from ..formats.file_kinds import FOLDER_KINDS, words
from ..ir.model import Model
from . import arrays, npz, skops
from .isolation import Pending, start_in_child
from .keras import config
from .kinds import kind_of
from .tensorflow import savedmodel, tfjs

__all__ = ["Pending", "kind_of", "load", "read_path", "start_load"]


def load(
    thing: object,
    *,
    architecture: str | os.PathLike | None = None,
    activations: str | list[str] | None = None,
    example: object = None,
) -> Model:
    """The Model of anything a user holds: a model file (or SavedModel / TF.js folder) of any
    format gate2xlsx reads, a Model, NumPy weight arrays, or a live tf.keras / Keras 3 model,
    torch nn.Module or fitted scikit-learn MLP (readers/live.py).

    `architecture` is the model's JSON (`model.to_json()` or a Keras 3 config.json) for
    files that hold weights only; `activations` names one activation per layer for NumPy
    weight arrays (a list, a dict, a plain .npz or .npy), which say nothing of them;
    `example` is an input tensor to trace a torch module with.

        gate2xlsx.load([W1, b1, W2, b2], activations=["tanh", "softmax"])
    """
    if isinstance(thing, (str, os.PathLike)):
        return start_load(thing, architecture=architecture, activations=activations).result()
    from . import live

    return live.from_object(thing, read_path, activations=activations, example=example)


def start_load(
    path: str | os.PathLike,
    *,
    architecture: str | os.PathLike | None = None,
    activations: str | list[str] | None = None,
) -> Pending[Model]:
    """Start reading the file and return at once; `.result()` waits for the Model (or raises
    what `load` would). The reading runs in a forked child (readers/isolation.py), so the
    caller can go on meanwhile: the command line imports the workbook writer while the child
    imports h5py and reads. Problems with the arguments themselves are raised here."""
    path = Path(path)
    _check_readable(path)
    arch = _read_architecture(Path(architecture)) if architecture is not None else None
    return start_in_child(read_path, path, arch, activations, path=path)


# kinds whose files hold their own architecture: how refusing --architecture names them
OWN_ARCHITECTURE = {"savedmodel": "a SavedModel or TF.js model", "tfjs": "a SavedModel or TF.js "
                    "model", "workbook": "a gate2xlsx workbook", "onnx": "an onnx file",
                    "skops": "an skops file"}  # fmt: skip
WEIGHT_ARRAYS = ("arrays", "npy")  # the kinds that take --activations


def read_path(
    path: Path, arch: dict | list | None = None, activations: str | list[str] | None = None
) -> Model:
    """The reading itself, in this process (start_load runs it in a child)."""
    kind = kind_of(path)
    _check_options(path, kind, arch, activations)
    if kind in WEIGHT_ARRAYS:
        return arrays.read(path, activations)
    if kind in ("hdf5", "zip"):
        return _keras(path, kind, arch)
    if kind in READERS:
        return READERS[kind](path)
    raise _unreadable(path, kind)


def _check_options(path: Path, kind: str | None, arch, activations) -> None:
    """--architecture and --activations where the kind found takes neither."""
    if kind in WEIGHT_ARRAYS:
        if arch is not None:
            raise InputError("weight arrays take --activations, not --architecture", path=path)
        return
    if activations is not None:
        raise InputError(f"--activations is for a plain .npz or .npy of weight arrays; this is "
                         f"{words(kind)}, which names its own", path=path)  # fmt: skip
    if kind in OWN_ARCHITECTURE and arch is not None:
        raise InputError(f"{OWN_ARCHITECTURE[kind]} carries its own architecture; drop "
                         "--architecture", path=path)  # fmt: skip


def _keras(path: Path, kind: str, arch: dict | list | None) -> Model:
    from .keras import archive as keras_zip
    from .keras import (  # h5py is imported here, in the reading child only
        gate2xlsx_extras as extras,
    )
    from .keras import h5 as keras_h5

    reader = keras_h5 if kind == "hdf5" else keras_zip
    return extras.attach(reader.read(path, arch), path)


def _workbook(path: Path) -> Model:
    from . import xlsx  # openpyxl is imported for workbooks only

    return xlsx.read_workbook(path)


def _onnx(path: Path) -> Model:
    from . import onnx  # the onnx package is imported for ONNX files only

    return onnx.read(path)


READERS = {"savedmodel": savedmodel.read, "tfjs": tfjs.read, "npz": npz.read,
           "workbook": _workbook, "onnx": _onnx, "skops": skops.read}  # fmt: skip


def _unreadable(path: Path, kind: str | None) -> Exception:
    """The refusal of a file no reader takes: a pickle, an empty file, JSON, or unknown."""
    if kind == "pickle":
        return UnsafeModelError(
            "this is a pickle (joblib and torch.save write them too): loading one runs the "
            "code it holds, so gate2xlsx never opens it",
            path=path,
            hint="save a scikit-learn model with skops.io.dump(model, 'model.skops') or "
            "skl2onnx.to_onnx; export a PyTorch model with torch.onnx.export(model, x, "
            "'model.onnx')",
        )
    if path.stat().st_size == 0:
        return InputError("the file is empty", path=path)
    if kind == "json":
        return InputError(
            "this is a JSON file (an architecture without weights)",
            path=path,
            hint="give the weights file as MODEL and this one as --architecture",
        )
    return InputError(
        "not a model file gate2xlsx can read (expected Keras HDF5, a .keras archive, a "
        "SavedModel or TF.js folder, ONNX, .skops, NumPy arrays or a gate2xlsx workbook)",
        path=path,
    )


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise InputError("no such file", path=path)
    if path.is_dir() and kind_of(path) not in FOLDER_KINDS:
        if kind_of(path / "model.json") == "json":  # a to_json() text, named as TF.js names it
            raise InputError("is a folder whose model.json is an architecture without weights "
                             "(model.to_json()), not a TF.js model", path=path,
                             hint="give the weights file as MODEL and this model.json as "
                             "--architecture")  # fmt: skip
        raise InputError(f"is a folder, not a model: {_folder_contents(path)}", path=path,
                         hint="give a model file, a SavedModel folder (saved_model.pb) or a "
                         "TF.js folder (model.json)")  # fmt: skip
    if not os.access(path, os.R_OK):
        raise InputError("permission denied", path=path)


def _folder_contents(path: Path, shown: int = 6) -> str:
    """What a folder that is no model holds, in a few names."""
    try:
        names = sorted(p.name + ("/" if p.is_dir() else "") for p in path.iterdir())
    except OSError as exc:
        return f"it cannot be listed ({exc.strerror})"
    if not names:
        return "it is empty"
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return "it holds " + ", ".join(names[:shown]) + more


def _read_architecture(path: Path) -> dict | list:
    """The --architecture file's JSON, checked here so its problems name it (not the weights)."""
    _check_readable(path)
    try:
        text = path.read_text("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not a JSON text file ({exc})", path=path) from None
    found = config.parse_json(text, path=path)
    if not config.is_model_config(found):
        raise InputError("not a Keras model configuration (expected model.to_json() text, a Keras "
                         "3 config.json or a TF.js model.json)", path=path)  # fmt: skip
    if isinstance(found, dict) and isinstance(found.get("modelTopology"), dict):
        return found["modelTopology"]  # TF.js: its keras_version sits beside the model_config
    return found
