"""gate2xlsx: a dense Keras network rebuilt as a spreadsheet that computes it with live formulas.

    import gate2xlsx
    model = gate2xlsx.load("or.hdf")          # any supported model file
    model.forward([[0, 1]])                   # the NumPy reference forward pass
    gate2xlsx.write_workbook(model, "or.xlsx")
    gate2xlsx.save(model, "or.h5")            # .h5/.hdf/.hdf5, .keras or .npz
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import Gate2XlsxError
from .export import write_workbook
from .keras_writer import save
from .model import Model
from .readers import load
from .predict import predict
from .sheet.read_back import read_workbook
from .verify import verify  # the function; other names: `from gate2xlsx.verify import Report`

__all__ = ["Gate2XlsxError", "Model", "__version__", "load", "predict", "read_workbook", "save", "verify",
           "write_workbook"]
