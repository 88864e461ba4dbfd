"""The spine end to end: a Keras-saved OR network -> Model -> workbook -> LibreOffice values."""

from __future__ import annotations

import h5py
import numpy as np
import openpyxl
import pytest
from conftest import SAMPLES

import gate2xlsx
from gate2xlsx.ir.families.dense import Activation, Dense
from gate2xlsx.ir.layer import Act, Param
from gate2xlsx.ir.model import Model
from gate2xlsx.readers.xlsx import named_values, set_named_values

GATES = ["or", "and"]


def expected(stem: str) -> dict[str, np.ndarray]:
    return dict(np.load(SAMPLES / f"{stem}.expected.npz"))


def hand_built_or() -> Model:
    """The OR model as a reader must see it, built from the HDF5 datasets by hand."""
    with h5py.File(SAMPLES / "or.hdf", "r") as f:
        group = f["model_weights/dense/dense"]
        kernel, bias = group["kernel:0"][()], group["bias:0"][()]
    return Model.chain(
        2,
        [
            Dense(
                "dense",
                "Dense",
                kernel=Param(kernel, "model_weights/dense/dense/kernel:0"),
                bias=Param(bias, "model_weights/dense/dense/bias:0"),
                activation=Act("linear"),
            ),
            Activation("activation", "Activation", Act("softmax")),
        ],
    )


def test_reader_gives_the_hand_built_model():
    model = gate2xlsx.load(SAMPLES / "or.hdf")
    assert model.layers == hand_built_or().layers
    assert model.n_inputs == 2 and model.loss == "binary_crossentropy"
    assert model.source.keras_version.startswith("2.15")


@pytest.mark.parametrize("stem", GATES + ["xor"])
def test_numpy_forward_equals_keras_predictions(stem):
    model = gate2xlsx.load(SAMPLES / (f"{stem}.hdf" if stem in GATES else f"{stem}.h5"))
    data = expected(stem)
    assert np.max(np.abs(model.forward(data["x"]) - data["y"])) <= 1e-6


def _workbooks_for_rows(model: Model, rows: np.ndarray, folder) -> list:
    """One workbook per input row, the row typed into the `input` cells like a user would."""
    base = folder / "base.xlsx"
    gate2xlsx.write_workbook(model, base)
    books = []
    for i, row in enumerate(rows):
        wb = openpyxl.load_workbook(base)
        set_named_values(wb, "input", row)
        books.append(folder / f"row{i}.xlsx")
        wb.save(books[-1])
    return books


@pytest.mark.parametrize("stem", ["or", "xor"])
def test_libreoffice_computes_keras_predictions_for_every_row(stem, engine, tmp_path):
    model = gate2xlsx.load(SAMPLES / (f"{stem}.hdf" if stem in GATES else f"{stem}.h5"))
    data = expected(stem)
    books = _workbooks_for_rows(model, data["x"], tmp_path)
    live = np.vstack([named_values(wb, "output") for wb in engine.recalc(*books)])
    assert live.shape == data["y"].shape
    assert np.max(np.abs(live - data["y"])) <= 1e-6  # Keras computed in float32
    assert np.max(np.abs(live - model.forward(data["x"]))) <= 1e-12


def test_editing_a_weight_changes_the_prediction_like_numpy(engine, tmp_path):
    model = gate2xlsx.load(SAMPLES / "or.hdf")
    book = tmp_path / "or.xlsx"
    gate2xlsx.write_workbook(model, book, input_values=np.array([1.0, 0.0]))
    wb = openpyxl.load_workbook(book)
    kernel = model.layers[0].kernel.values.copy()
    kernel[0, 1] = -2.5
    set_named_values(wb, "dense_kernel", kernel)
    set_named_values(wb, "dense_bias", [0.25, -0.75])
    wb.save(book)
    recalculated = engine.recalc(book)[0]
    values = {n: named_values(recalculated, n) for n in ("output", "dense_kernel")}
    shown = [
        [c.value for c in row[1:3]]
        for row in recalculated["Network"].iter_rows()
        if str(row[0].value).startswith("kernel W, row")
    ]
    assert np.allclose(
        shown, kernel, rtol=1e-14, atol=0
    )  # the Network sheet's view follows the edit
    model.layers[0].kernel = Param(kernel)
    model.layers[0].bias = Param(np.array([0.25, -0.75]))
    # LibreOffice's xlsx export keeps 15 significant digits
    assert np.allclose(values["dense_kernel"], kernel, rtol=1e-14, atol=0)
    assert np.max(np.abs(values["output"] - model.forward([[1.0, 0.0]]))) <= 1e-12


def test_workbook_formulas_read_like_the_math(tmp_path):
    book = tmp_path / "or.xlsx"
    gate2xlsx.write_workbook(gate2xlsx.load(SAMPLES / "or.hdf"), book)
    wb = openpyxl.load_workbook(book)
    names = set(wb.defined_names)
    assert {"input", "output", "dense_kernel", "dense_bias"} <= names
    cells = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not [v for v in cells if isinstance(v, openpyxl.worksheet.formula.ArrayFormula)]
    texts = [v for v in cells if isinstance(v, str) and v.startswith("=")]
    # unit j: MMULT of the input row and the kernel's column j, plus the bias's element j
    assert "=MMULT(B5:C5,Weights!$C$6:$C$7)" in texts
    assert any(t.endswith("+INDEX(dense_bias,1,2)") for t in texts)
    assert wb.defined_names["dense_kernel"].attr_text == "Weights!$B$6:$C$7"
