"""Tensor and graph models real Keras wrote (tests/fixtures/tensors/, generate_tensors.py):
convolutions, pooling, rearranging layers, merges, several inputs and outputs; and sequence
models (tests/fixtures/sequences/, generate_sequences.py): Embedding, SimpleRNN, GRU, LSTM,
Bidirectional, TimeDistributed.

As a user of the workbook contract would: each input name is set to a Keras input row, LibreOffice
recalculates, and every output name must equal Keras's predictions within 1e-5 (scaled by the
magnitude above 1), and the float64 NumPy reference within 1e-9.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from cached import mismatches

import gate2xlsx
from gate2xlsx.ir.model import Dataset
from gate2xlsx.readers.xlsx import named_values, set_named_values
from gate2xlsx.sheet.network.graph import port_names

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TENSORS = FIXTURES / "tensors"
# tensors/legacy: h5py-built Keras 1.2 and 2.0-2.2 layouts
FLAVOURS = ["tensors/keras2", "tensors/keras3", "tensors/legacy", "sequences/keras2",
            "sequences/keras3"]  # fmt: skip
KERAS_TOL = 1e-5


def entries(flavour: str) -> list[dict]:
    return json.loads((FIXTURES / flavour / "manifest.json").read_text())


def expected(flavour: str, entry: dict) -> dict[str, np.ndarray]:
    with np.load(FIXTURES / flavour / entry["expected"], allow_pickle=False) as data:
        return dict(data)


def scaled_error(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want))))


CASES = [(f, e["name"], file) for f in FLAVOURS for e in entries(f) for file in e["files"]]


@pytest.mark.parametrize("flavour,name,file", CASES, ids=[f"{c[0]}/{c[2]}" for c in CASES])
def test_reader_matches_keras(flavour, name, file):
    entry = next(e for e in entries(flavour) if e["name"] == name)
    model, data = gate2xlsx.load(FIXTURES / flavour / file), expected(flavour, entry)
    assert model.as_chain() is None
    assert [p.size for p in model.graph.output_ports()] == list(data["output_sizes"])
    assert scaled_error(model.forward(data["x"]), data["y"]) <= KERAS_TOL


def _set_inputs(book: Path, model, row: np.ndarray, out: Path) -> None:
    """Type one Keras input row into the input names, as a user (or a grader) would."""
    wb = openpyxl.load_workbook(book)
    at = 0
    for port, name in zip(model.graph.inputs, port_names(len(model.graph.inputs), "input")):
        set_named_values(wb, name, row[at : at + port.size])
        at += port.size
    wb.save(out)


def _text(wb: openpyxl.Workbook, name: str) -> str:
    sheet, ref = next(iter(wb.defined_names[name].destinations))
    return wb[sheet][ref.replace("$", "")].value


def _outputs(wb: openpyxl.Workbook, model) -> np.ndarray:
    names = port_names(len(model.graph.outputs), "output")
    return np.concatenate([named_values(wb, n).reshape(-1) for n in names])


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_libreoffice_computes_keras_predictions(flavour, engine, tmp_path):
    """One LibreOffice run per Keras: every file, every Keras input row set by name."""
    books, cases, fresh = [], [], []
    for entry in entries(flavour):
        data = expected(flavour, entry)
        for file in entry["files"]:
            model = gate2xlsx.load(FIXTURES / flavour / file)
            base = tmp_path / (file.replace(".", "_") + ".xlsx")
            gate2xlsx.write_workbook(model, base)
            fresh.append(len(books))
            books.append(base)
            cases.append((file, model, None, None))
            for r, row in enumerate(data["x"]):
                book = tmp_path / f"{base.stem}_row{r}.xlsx"
                _set_inputs(base, model, row, book)
                books.append(book)
                cases.append((file, model, data["y"][r], model.forward(row)[0]))
    worst_keras = worst_numpy = 0.0
    for index, (book, wb, (file, model, want, ref)) in enumerate(
        zip(books, engine.recalc(*books), cases)
    ):
        if index in fresh:  # what the file shows before any recalculation is what LO computes
            assert not mismatches(book, wb), file
            assert _text(wb, "check_result") == "PASS", file
            continue
        assert _text(wb, "check_result") == "PASS", file  # the Check rows are its own
        got = _outputs(wb, model)
        worst_keras = max(worst_keras, scaled_error(got, want))
        worst_numpy = max(worst_numpy, scaled_error(got, ref) / 1e-4)
        assert scaled_error(got, want) <= KERAS_TOL, file
        assert np.allclose(got, ref, rtol=1e-9, atol=1e-12), file
    print(f"{flavour}: worst vs Keras {worst_keras:.2e}, vs NumPy {worst_numpy * 1e-4:.2e}")


def test_names_contract_for_several_inputs_and_outputs(tmp_path):
    """input_1, input_2 and output_1, output_2 in the model's order; input and output name the
    first; each name's cells read row by row are the tensor in Keras's order."""
    model = gate2xlsx.load(TENSORS / "keras2" / "merges.h5")
    book = gate2xlsx.write_workbook(model, tmp_path / "merges.xlsx")
    wb = openpyxl.load_workbook(book, data_only=True)  # the cached values
    names = set(wb.defined_names)
    assert {"input", "input_1", "input_2", "output", "output_1", "output_2"} <= names
    assert wb.defined_names["input"].attr_text == wb.defined_names["input_1"].attr_text
    assert wb.defined_names["output"].attr_text == wb.defined_names["output_1"].attr_text
    shapes = [p.shape for p in model.graph.inputs]
    assert [named_values(wb, n).shape for n in ("input_1", "input_2")] == shapes  # (4, 3) each
    outs = [p.shape for p in model.graph.output_ports()]
    assert named_values(wb, "output_2").shape == outs[1]


def test_data_sheet_computes_every_row(engine, tmp_path):
    """Rows given: the Data sheet's data_outputs (every Keras row, each row's network drawn
    below the table) equal Keras's predictions; with targets, the live accuracy and loss equal
    NumPy's (tf.keras's categorical cross-entropy from the logits)."""
    books, cases = [], []
    for flavour, entry in [(f, e) for f in ("tensors/keras2", "sequences/keras2")
                           for e in entries(f)]:  # fmt: skip
        model, data = (
            gate2xlsx.load(FIXTURES / flavour / entry["files"][0]),
            expected(flavour, entry),
        )
        labelled = entry["name"] == "cnn_digits"
        targets = np.eye(10)[np.argmax(data["y"], axis=1)] if labelled else None
        model.data = Dataset(data["x"], targets, "Keras inputs")
        book = tmp_path / f"{entry['name']}.xlsx"
        loss = "categorical_crossentropy" if labelled else None
        gate2xlsx.write_workbook(model, book, loss=loss)
        books.append(book)
        cases.append((entry["name"], model, data, targets))
    for book, wb, (name, model, data, targets) in zip(books, engine.recalc(*books), cases):
        assert not mismatches(book, wb), name
        got = named_values(wb, "data_outputs")
        assert scaled_error(got, data["y"]) <= KERAS_TOL, name
        assert np.allclose(got, model.forward(data["x"]), rtol=1e-9, atol=1e-12), name
        if targets is not None:
            p = model.forward(data["x"])
            assert named_values(wb, "accuracy")[0, 0] == 1.0
            want = float(np.mean(-np.log(np.sum(p * targets, axis=1))))
            assert named_values(wb, "loss")[0, 0] == pytest.approx(want, rel=1e-9)
