"""The workbooks shipped in samples/ are current and compute their Keras models in LibreOffice."""

from __future__ import annotations

import numpy as np
import openpyxl
import pytest
from conftest import SAMPLES
from openpyxl.worksheet.formula import ArrayFormula

import gate2xlsx
from gate2xlsx.app.export import export_workbook
from gate2xlsx.readers.xlsx import named_values

MODELS = {"or": "or.hdf", "and": "and.hdf", "xor": "xor.h5"}
ERRORS = ("#NAME?", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#N/A", "Err:")


@pytest.mark.parametrize("stem", MODELS)
def test_sample_workbook_holds_the_models_weights(stem):
    shipped = gate2xlsx.read_workbook(SAMPLES / f"{stem}.xlsx")
    model = gate2xlsx.load(SAMPLES / MODELS[stem])
    assert [layer.weights() for layer in shipped.layers] == [
        layer.weights() for layer in model.layers
    ]
    sheets = openpyxl.load_workbook(SAMPLES / f"{stem}.xlsx", read_only=True).sheetnames
    assert {"Network", "Truth table", "Decision map", "Weights", "Check", "About"} <= set(sheets), (
        "samples/*.xlsx are stale: run python scripts/build_sample_workbooks.py"
    )


def _contents(path) -> dict:
    """Every sheet's cells (formulas as text) and every defined name."""

    def value(cell):
        v = cell.value
        return (v.ref, v.text) if isinstance(v, ArrayFormula) else v

    wb = openpyxl.load_workbook(path)
    cells = {ws.title: [[value(c) for c in row] for row in ws.iter_rows()] for ws in wb}
    return {"cells": cells, "names": {n: d.attr_text for n, d in wb.defined_names.items()}}


@pytest.mark.parametrize("stem", MODELS)
def test_sample_workbook_is_what_the_exporter_writes_now(stem, tmp_path, monkeypatch):
    fresh = tmp_path / f"{stem}.xlsx"
    monkeypatch.chdir(SAMPLES)  # as scripts/build_sample_workbooks.py runs the export
    export_workbook(gate2xlsx.load(MODELS[stem]), fresh)
    assert _contents(SAMPLES / f"{stem}.xlsx") == _contents(fresh), (
        "samples/*.xlsx are stale: run python scripts/build_sample_workbooks.py"
    )


def test_sample_workbooks_compute_keras_predictions_and_pass_their_check(engine):
    books = engine.recalc(*(SAMPLES / f"{stem}.xlsx" for stem in MODELS))
    for stem, wb in zip(MODELS, books):
        expected = np.load(SAMPLES / f"{stem}.expected.npz")
        x, y = named_values(wb, "data_inputs"), named_values(wb, "data_outputs")
        model = gate2xlsx.load(SAMPLES / MODELS[stem])
        assert np.max(np.abs(y - model.forward(x))) <= 1e-12
        rows = [i for i, row in enumerate(expected["x"]) if any(np.array_equal(row, r) for r in x)]
        assert rows, "the truth table rows are among Keras's stored inputs"
        keras_y = expected["y"][rows]
        ours = np.vstack([y[[np.array_equal(r, expected["x"][i]) for r in x]][0] for i in rows])
        assert np.max(np.abs(ours - keras_y)) <= 1e-6
        assert named_values(wb, "accuracy").item() == pytest.approx(
            float(expected["accuracy"]), abs=1e-12
        )
        assert named_values(wb, "loss").item() == pytest.approx(float(expected["loss"]), abs=1e-6)
        result = wb.defined_names["check_result"]
        sheet, ref = next(iter(result.destinations))
        assert wb[sheet][ref.replace("$", "")].value == "PASS"
        bad = [
            f"{ws.title}!{c.coordinate}"
            for ws in wb
            for row in ws.iter_rows()
            for c in row
            if isinstance(c.value, str) and c.value.startswith(ERRORS)
        ]
        assert not bad, f"{stem}: error values in {bad[:5]}"
