"""TensorFlow.js layers models (tests/fixtures/tfjs/, generate_tfjs.py): the OR network, a dense
chain with BatchNormalization, a nested functional model, a CNN over two shards, an Embedding
+ LSTM and a quantized chain written by tensorflowjs from tf.keras, and three models tfjs-layers
wrote itself as a browser saves them (dense with BatchNormalization, a CNN, an Embedding +
LSTM), three Keras 3 archives through tensorflowjs's keras_keras converter, and a TF.js graph
model of a dense chain; each read from its folder.

As a user of the workbook contract would: `input` is set to each row Keras was given,
LibreOffice recalculates, and `output` must equal Keras's predictions within 1e-5 (scaled by
the magnitude above 1), and the float64 NumPy reference within 1e-9.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from cached import mismatches

import gate2xlsx
from gate2xlsx.readers.xlsx import named_values, set_named_values

pytestmark = pytest.mark.libreoffice

TFJS = Path(__file__).resolve().parents[1] / "fixtures" / "tfjs"
# every fixture but the graph model that is no dense chain (graph_cnn, refused)
LAYERS = [e for e in json.loads((TFJS / "manifest.json").read_text()) if e["name"] != "graph_cnn"]
KERAS_TOL = 1e-5


def scaled_error(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want))))


def _check_text(wb: openpyxl.Workbook) -> str:
    sheet, ref = next(iter(wb.defined_names["check_result"].destinations))
    return wb[sheet][ref.replace("$", "")].value


def test_libreoffice_computes_keras_predictions(engine, tmp_path):
    """One LibreOffice run: every TF.js fixture, every Keras input row typed into `input`."""
    books, cases, fresh = [], [], []
    for entry in LAYERS:
        with np.load(TFJS / entry["expected"], allow_pickle=False) as data:
            x, y = data["x"], data["y"]
        model = gate2xlsx.load(TFJS / entry["folder"])
        base = gate2xlsx.write_workbook(model, tmp_path / f"{entry['name']}.xlsx")
        fresh.append(len(books))
        books.append(base)
        cases.append((entry["name"], None, None))
        for r, row in enumerate(x):
            wb = openpyxl.load_workbook(base)
            set_named_values(wb, "input", row)
            book = tmp_path / f"{entry['name']}_row{r}.xlsx"
            wb.save(book)
            books.append(book)
            cases.append((entry["name"], y[r], model.forward(row)[0]))
    worst = 0.0
    for index, (book, wb, (name, want, ref)) in enumerate(zip(books, engine.recalc(*books), cases)):
        assert _check_text(wb) == "PASS", name  # the Check sheet's rows are the workbook's own
        if index in fresh:  # the cached values are what LibreOffice computes
            assert not mismatches(book, wb), name
            continue
        got = named_values(wb, "output").reshape(-1)
        worst = max(worst, scaled_error(got, want))
        assert scaled_error(got, want) <= KERAS_TOL, name
        assert np.allclose(got, ref, rtol=1e-9, atol=1e-12), name
    print(f"tfjs: {len(LAYERS)} models, {len(books) - len(fresh)} rows, worst vs Keras {worst:.2e}")
