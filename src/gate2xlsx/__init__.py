"""gate2xlsx: a neural network rebuilt as a spreadsheet that computes it with live formulas.

    import gate2xlsx
    gate2xlsx.export("or.hdf", "or.xlsx")     # any model file or folder gate2xlsx reads
    gate2xlsx.export([W1, b1, W2, b2], "net.xlsx", activations=["tanh", "softmax"])
    gate2xlsx.export(keras_model, "m.xlsx")   # a live Keras model, torch module (example=x),
                                              # or fitted scikit-learn MLP
    model = gate2xlsx.load("or.hdf")          # the same things, as a Model
    model.forward([[0, 1]])                   # the NumPy reference forward pass
    gate2xlsx.write_workbook(model, "or.xlsx")
    gate2xlsx.save(model, "or.h5")            # .h5/.hdf/.hdf5, .keras or .npz

The names below are imported when first used (PEP 562), so `import gate2xlsx` and the command
line's start-up load neither NumPy, h5py nor openpyxl until a command needs them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from .version import __version__

# public name -> (module, attribute)
_API = {
    "Gate2XlsxError": ("errors", "Gate2XlsxError"),
    "Model": ("ir.model", "Model"),
    "export": ("app.run_export", "export"),
    "load": ("readers", "load"),
    "save": ("writers", "save"),
    "read_workbook": ("readers.xlsx", "read_workbook"),
    "write_workbook": ("app.export", "write_workbook"),
    "export_workbook": ("app.export", "export_workbook"),
    "predict": ("app.predict", "predict"),
    "verify": ("app.verify", "verify"),
    "describe": ("app.inspection", "describe"),
    "train": ("app.train", "train"),
}

__all__ = [
    "Gate2XlsxError",
    "Model",
    "__version__",
    "describe",
    "export",
    "export_workbook",
    "load",
    "predict",
    "read_workbook",
    "save",
    "train",
    "verify",
    "write_workbook",
]

if TYPE_CHECKING:
    from .app.export import export_workbook, write_workbook
    from .app.inspection import describe
    from .app.predict import predict
    from .app.run_export import export
    from .app.train import train
    from .app.verify import verify
    from .errors import Gate2XlsxError
    from .ir.model import Model
    from .readers import load
    from .readers.xlsx import read_workbook
    from .writers import save


def __getattr__(name: str) -> object:
    if name not in _API:
        raise AttributeError(f"module 'gate2xlsx' has no attribute {name!r}")
    module, attribute = _API[name]
    value = getattr(import_module(f".{module}", __name__), attribute)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
