"""TensorFlow SavedModel folders tf.keras 2.15 wrote (tests/fixtures/savedmodel/,
generate_savedmodel.py), read without TensorFlow, exported and recalculated in LibreOffice.

As a user of the workbook contract would: each Keras input row is typed into `input`,
LibreOffice recalculates, and `output` must equal Keras's stored predictions within 1e-5
(scaled by the magnitude above 1) and the float64 NumPy reference within 1e-9.
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

FOLDER = Path(__file__).resolve().parents[1] / "fixtures" / "savedmodel"
GOOD = [e for e in json.loads((FOLDER / "manifest.json").read_text()) if not e["expect_error"]]
KERAS_TOL = 1e-5


def scaled_error(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want))))


def _text(wb: openpyxl.Workbook, name: str) -> str:
    sheet, ref = next(iter(wb.defined_names[name].destinations))
    return wb[sheet][ref.replace("$", "")].value


def test_libreoffice_computes_keras_predictions(engine, tmp_path):
    """One LibreOffice run: every SavedModel fixture, every Keras input row set by name."""
    books, cases, fresh = [], [], set()
    for entry in GOOD:
        model = gate2xlsx.load(FOLDER / entry["folder"])
        with np.load(FOLDER / entry["expected"], allow_pickle=False) as data:
            x, y = data["x"], data["y"]
        base = gate2xlsx.write_workbook(model, tmp_path / f"{entry['name']}.xlsx")
        fresh.add(len(books))
        books.append(base)
        cases.append((entry["name"], None, None))
        for r, row in enumerate(x):
            wb = openpyxl.load_workbook(base)
            set_named_values(wb, "input", row)
            book = tmp_path / f"{entry['name']}_row{r}.xlsx"
            wb.save(book)
            books.append(book)
            cases.append((entry["name"], y[r], model.forward(row[None, :])[0]))
    worst = 0.0
    for index, (book, wb, (name, want, ref)) in enumerate(zip(books, engine.recalc(*books), cases)):
        assert _text(wb, "check_result") == "PASS", name
        if index in fresh:  # what the file shows before any recalculation is what LO computes
            assert not mismatches(book, wb), name
            continue
        got = named_values(wb, "output").reshape(-1)
        worst = max(worst, scaled_error(got, want))
        assert scaled_error(got, want) <= KERAS_TOL, name
        assert np.allclose(got, ref, rtol=1e-9, atol=1e-12), name
    print(f"savedmodel: {len(books) - len(fresh)} rows, worst vs Keras {worst:.2e}")
