"""PyTorch and scikit-learn models (tests/fixtures/onnx/, generate_onnx.py): ONNX files from
both torch exporters (dynamo's external data included) and skl2onnx (with and without
ZipMap), and .skops files.

As a user of the workbook contract would: `input` is set to each row the framework was given,
LibreOffice recalculates, and `output` must equal what the framework returned (torch's
outputs, predict_proba, predict) within 1e-5, and the float64 NumPy reference within 1e-9.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from cached import mismatches

import gate2xlsx
from gate2xlsx.readers.xlsx import named_values, read_workbook, set_named_values
from gate2xlsx.sheet.names import weight_names
from gate2xlsx.writers import save

ONNX = Path(__file__).resolve().parents[1] / "fixtures" / "onnx"
MANIFEST = json.loads((ONNX / "manifest.json").read_text())
FRAMEWORK_TOL = 1e-5
CASES = [(e, f) for e in MANIFEST for f in e["files"] if not f.endswith(".data")]


def expected(entry: dict) -> dict[str, np.ndarray]:
    with np.load(ONNX / entry["expected"], allow_pickle=False) as data:
        return dict(data)


def scaled_error(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want))))


@pytest.mark.parametrize("entry,file", CASES, ids=[c[1] for c in CASES])
def test_reader_matches_the_framework(entry, file):
    model, data = gate2xlsx.load(ONNX / file), expected(entry)
    assert model.n_outputs == data["y"].shape[1]
    assert scaled_error(model.forward(data["x"]), data["y"]) <= FRAMEWORK_TOL
    if "classes" in data:
        assert model.class_names == [str(c) for c in data["classes"]]


def test_libreoffice_computes_the_frameworks_predictions(engine, tmp_path):
    """One LibreOffice run: every file, every framework input row typed into `input`."""
    books, cases, fresh = [], [], []
    for entry, file in CASES:
        data = expected(entry)
        model = gate2xlsx.load(ONNX / file)
        base = gate2xlsx.write_workbook(model, tmp_path / (file.replace(".", "_") + ".xlsx"))
        fresh.append(len(books))
        books.append(base)
        cases.append((file, None, None))
        for r, row in enumerate(data["x"]):
            wb = openpyxl.load_workbook(base)
            set_named_values(wb, "input", row)
            book = tmp_path / f"{base.stem}_row{r}.xlsx"
            wb.save(book)
            books.append(book)
            cases.append((file, data["y"][r], model.forward(row)[0]))
    worst = 0.0
    for index, (book, wb, (file, want, ref)) in enumerate(zip(books, engine.recalc(*books), cases)):
        if index in fresh:  # the cached values are what LibreOffice computes
            assert not mismatches(book, wb), file
            continue
        got = named_values(wb, "output").reshape(-1)
        worst = max(worst, scaled_error(got, want))
        assert scaled_error(got, want) <= FRAMEWORK_TOL, file
        assert np.allclose(got, ref, rtol=1e-9, atol=1e-12), file
    print(f"onnx and skops: worst vs the framework {worst:.2e}")


@pytest.mark.parametrize("file", ["relu_tanh_dropout.onnx", "small_cnn.dynamo.onnx",
                                  "binary_strings.skops"])  # fmt: skip
def test_an_edited_workbook_extracted_to_onnx_predicts_the_edited_sheet(file, engine, tmp_path):
    """A learner edits a weight and the input; LibreOffice shows the new output; `extract -o
    model.onnx` writes a file onnxruntime runs to the same numbers."""
    import onnxruntime as ort

    model = gate2xlsx.load(ONNX / file)
    base = gate2xlsx.write_workbook(model, tmp_path / "base.xlsx")
    first = model.weighted_layers()[0]
    name = weight_names(model)[(first.name, "kernel")]
    wb = openpyxl.load_workbook(base)
    edited = named_values(wb, name) * -1.5 + 0.25
    set_named_values(wb, name, edited)
    row = expected(next(e for e in MANIFEST if file in e["files"]))["x"][1]
    set_named_values(wb, "input", row)
    book = tmp_path / "edited.xlsx"
    wb.save(book)
    (shown,) = engine.recalc(book)
    sheet_output = named_values(shown, "output").reshape(-1)

    out = save(read_workbook(book), tmp_path / "edited.onnx")
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    given = session.get_inputs()[0]
    x = row.reshape(1, *given.shape[1:]).astype(np.float32)
    predicted = session.run(None, {given.name: x})[0].reshape(-1)
    assert scaled_error(predicted, sheet_output) <= FRAMEWORK_TOL
    assert scaled_error(model.forward(row)[0], sheet_output) > 1e-3  # the edit changed it
