"""A second engine: IronCalc (built to Excel's semantics) evaluates the workbooks to Keras's
predictions and to LibreOffice's values, and follows an edit typed into a weight."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from conftest import SAMPLES, _in_ci
from test_keras_fixtures import GOOD, KERAS_TOL, expected, load, scaled_error
from test_tensor_fixtures import FIXTURES, FLAVOURS, entries
from test_tensor_fixtures import expected as expected_of

import gate2xlsx
from gate2xlsx.ir.families.embeddings import starting_row
from gate2xlsx.ir.model import Dataset
from gate2xlsx.readers.xlsx import named_values
from gate2xlsx.sheet.names import weight_names
from gate2xlsx.sheet.network.graph import port_names

SAMPLE_MODELS = {"or": "or.hdf", "and": "and.hdf", "xor": "xor.h5"}
NAMES = ["output", "data_outputs", "accuracy", "loss", "map_outputs", "check_result"]


@pytest.fixture
def ironcalc():
    """gate2xlsx's IronCalc engine; a skip where IronCalc is not installed, a failure in CI."""
    if importlib.util.find_spec("ironcalc") is None:
        if _in_ci():
            pytest.fail("IronCalc is not installed: in CI the second engine must run")
        pytest.skip("IronCalc is not installed (pip install ironcalc)")
    from gate2xlsx.engines import ironcalc

    return ironcalc


@pytest.mark.parametrize("entry", GOOD, ids=[e["file"] for e in GOOD])
def test_ironcalc_computes_keras_predictions(entry, ironcalc, tmp_path):
    model, data = load(entry), expected(entry)
    model.data = Dataset(data["x"], None, "Keras inputs")
    book = tmp_path / "fixture.xlsx"
    gate2xlsx.write_workbook(model, book, input_values=data["x"][0])
    wb = ironcalc.Workbook(book)
    assert scaled_error(wb.numbers("data_outputs"), data["y"]) <= KERAS_TOL
    assert scaled_error(wb.numbers("output"), data["y"][:1]) <= KERAS_TOL
    assert scaled_error(wb.numbers("data_outputs"), model.forward(data["x"])) <= 1e-9
    assert wb.values("check_result") == [["PASS"]]


TENSOR_CASES = [(f, e["name"]) for f in FLAVOURS for e in entries(f)]


@pytest.mark.parametrize("flavour,name", TENSOR_CASES, ids=[f"{f}/{n}" for f, n in TENSOR_CASES])
def test_ironcalc_computes_graphs(flavour, name, ironcalc, tmp_path):
    """Each tensor/graph fixture, its last Keras row typed into the input names: every output
    name equals Keras's prediction, and the cached values equal IronCalc's before the edit."""
    entry = next(e for e in entries(flavour) if e["name"] == name)
    model = gate2xlsx.load(FIXTURES / flavour / entry["files"][0])
    data = expected_of(flavour, entry)
    book = gate2xlsx.write_workbook(model, tmp_path / "graph.xlsx")
    wb = ironcalc.Workbook(book)
    outs = port_names(len(model.graph.outputs), "output")
    fresh = np.concatenate([wb.numbers(n).reshape(-1) for n in outs])
    assert np.allclose(fresh, model.forward(starting_row(model.graph))[0], rtol=1e-9,
                       atol=1e-12)  # fmt: skip
    row, at = data["x"][-1], 0
    for port, input_name in zip(model.graph.inputs, port_names(len(model.graph.inputs), "input")):
        wb.set_numbers(input_name, row[at : at + port.size])
        at += port.size
    got = np.concatenate([wb.numbers(n).reshape(-1) for n in outs])
    assert scaled_error(got, data["y"][-1]) <= KERAS_TOL
    assert np.allclose(got, model.forward(row)[0], rtol=1e-9, atol=1e-12)
    assert wb.values("check_result") == [["PASS"]]
    # an edited weight moves the Check's live outputs: FAIL. The last bias (or kernel) moves
    # every output whatever the rows (a kernel cell may meet a zero input)
    names = [n for n in weight_names(model).values() if n.endswith(("bias", "kernel"))]
    edited = sorted(names, key=lambda n: (n.endswith("bias"), names.index(n)))[-1]
    wb.set_number(edited, 0, 0, wb.numbers(edited)[0, 0] + 100.0)  # past any saturation
    assert wb.values("check_result") == [["FAIL"]]


@pytest.mark.libreoffice
def test_ironcalc_agrees_with_libreoffice(ironcalc, engine, tmp_path):
    books = []
    for stem, file in SAMPLE_MODELS.items():
        books.append(tmp_path / f"{stem}.xlsx")
        gate2xlsx.write_workbook(gate2xlsx.load(SAMPLES / file), books[-1])
    for book, lo in zip(books, engine.recalc(*books)):
        ic = ironcalc.Workbook(book)
        for name in NAMES[:-1]:
            theirs, ours = named_values(lo, name), ic.numbers(name)
            assert np.allclose(ours, theirs, rtol=1e-9, atol=1e-12), (book.name, name)
        assert ic.values("check_result") == [["PASS"]]


def test_ironcalc_follows_an_edited_weight(ironcalc, tmp_path):
    book = tmp_path / "xor.xlsx"
    model = gate2xlsx.load(SAMPLES / "xor.h5")
    gate2xlsx.write_workbook(model, book)
    wb = ironcalc.Workbook(book)
    before = wb.numbers("loss")
    wb.set_number("dense_1_kernel", 0, 0, -3.0)
    wb.set_number("input", 0, 0, 1.0)
    model.layers[-2].kernel.values[0, 0] = -3.0  # the same edit, in NumPy
    x = wb.numbers("input")
    assert np.allclose(wb.numbers("output"), model.forward(x), rtol=1e-12, atol=1e-12)
    assert not np.allclose(wb.numbers("loss"), before)
    assert wb.values("check_result") == [["FAIL"]]


@pytest.mark.parametrize("case", ["xor_adam", "xor_nesterov", "or_sigmoid1"])
def test_ironcalc_trains_as_keras_fit(case, ironcalc, tmp_path):
    """The Training sheet in the second engine: Keras's history, the NumPy trainer's weights,
    and a learning rate typed in reruns the training."""
    from test_training_sheet import TRAINING, _numpy_run, _record, exported

    book = exported(case, tmp_path / "training.xlsx")
    start = gate2xlsx.load(TRAINING / f"{case}.init.h5")
    wb = ironcalc.Workbook(book)
    history = wb.numbers("train_loss").ravel()
    np.testing.assert_allclose(history, _record(case)["losses"], rtol=0, atol=1e-5)
    names = [f"trained_{layer.name}_{key}" for layer in start.layers for key in layer.weights()]
    model, _ = _numpy_run(case)
    reached = [p.values.ravel() for layer in model.layers for p in layer.weights().values()]
    for name, weights in zip(names, reached):
        np.testing.assert_allclose(wb.numbers(name).ravel(), weights, rtol=1e-9, atol=1e-12)
    lr = _record(case)["lr"]
    wb.set_number("learning_rate", 0, 0, lr / 2)
    slower, _ = _numpy_run(case, lr=lr / 2)
    reached = [p.values.ravel() for layer in slower.layers for p in layer.weights().values()]
    for name, weights in zip(names, reached):
        np.testing.assert_allclose(wb.numbers(name).ravel(), weights, rtol=1e-9, atol=1e-12)


def test_ironcalc_computes_pytorch_and_scikit_learn_models(ironcalc, tmp_path):
    """Every ONNX and skops fixture: each framework row set into `input`, IronCalc evaluates,
    `output` equals the framework's predictions."""
    from test_onnx_fixtures import CASES, FRAMEWORK_TOL, ONNX
    from test_onnx_fixtures import expected as framework

    for entry, file in CASES:
        model, data = gate2xlsx.load(ONNX / file), framework(entry)
        wb = ironcalc.Workbook(gate2xlsx.write_workbook(model, tmp_path / "m.xlsx"))
        for row, want in zip(data["x"], data["y"]):
            wb.set_numbers("input", row)
            got = wb.numbers("output").reshape(-1)
            assert scaled_error(got, want) <= FRAMEWORK_TOL, file
            assert np.allclose(got, model.forward(row)[0], rtol=1e-9, atol=1e-12), file
