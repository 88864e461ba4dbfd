"""The lesson's loop end to end, judged by real Keras: export, edit weights in the workbook,
extract, and tf.keras 2.15 / Keras 3 must predict what LibreOffice shows for the edited sheet.

Real Keras runs only in the throwaway venvs (/opt/tf215, /opt/k3) as a subprocess; the test
skips where they are missing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pytest
from conftest import FIXTURES, SAMPLES, edit_weights
from keras_venvs import keras_predict

import gate2xlsx
from gate2xlsx.readers.xlsx import named_values, set_named_values

pytestmark = [pytest.mark.keras, pytest.mark.libreoffice]

SOURCES = [
    SAMPLES / "xor.h5",
    FIXTURES / "keras2" / "seq_dense.h5",
    FIXTURES / "keras3" / "nested_seq_in_func.h5",
]


def _edited_workbook(source: Path, target: Path, seed: int) -> None:
    """Export, then change every weight and the input as a learner would (arbitrary doubles)."""
    model = gate2xlsx.load(source)
    gate2xlsx.write_workbook(model, target)
    rng = np.random.default_rng(seed)
    edit_weights(target, model, rng, scale=0.4)
    wb = openpyxl.load_workbook(target)  # the input after the weights: the same draws as ever
    set_named_values(wb, "input", rng.uniform(-1, 2, model.n_inputs))
    wb.save(target)


def test_keras_loads_the_extracted_model_and_predicts_the_recalculated_sheet(tmp_path, engine):
    sources = [s for s in SOURCES if s.exists()]
    books = [tmp_path / f"{s.stem}-{i}.xlsx" for i, s in enumerate(sources)]
    for i, (source, book) in enumerate(zip(sources, books)):
        _edited_workbook(source, book, seed=i)
    recalculated = engine.recalc(*books)
    for book, wb in zip(books, recalculated):
        x = named_values(wb, "input")
        shown = named_values(wb, "output")
        rows_x, rows_y = x, shown
        if "data_inputs" in wb.defined_names:  # the Truth table's rows too, when the sheet has them
            dx, dy = named_values(wb, "data_inputs"), named_values(wb, "data_outputs")
            if dy.shape[1] == shown.shape[1]:
                rows_x, rows_y = np.vstack([x, dx]), np.vstack([shown, dy])
        extracted = gate2xlsx.read_workbook(book)
        for suffix, venvs in ((".h5", ("tf215", "k3")), (".keras", ("k3",))):
            out = tmp_path / f"{book.stem}{suffix}"
            gate2xlsx.save(extracted, out)
            for venv in venvs:
                got = np.asarray(keras_predict(venv, out, rows_x)["y"])
                # Keras computes in float32; the sheet in double with the float32-rounded
                # weights' source
                np.testing.assert_allclose(
                    got, rows_y, rtol=1e-4, atol=1e-5, err_msg=f"{venv} on {out.name}"
                )
        assert not np.allclose(
            gate2xlsx.load(sources_of(book, sources)).forward(x), shown, atol=1e-3
        )


def sources_of(book: Path, sources: list[Path]) -> Path:
    return next(s for s in sources if book.stem.startswith(s.stem + "-"))


def test_keras_loads_the_trained_weights_the_training_sheet_reached(tmp_path):
    """Train in the workbook (half the learning rate typed in), save by LibreOffice, extract
    --trained: tf.keras 2.15 and Keras 3 predict what the sheet computes with use_trained 1."""
    from conftest import cli_exit

    start = FIXTURES / "training" / "xor_adam.init.h5"
    book = tmp_path / "training.xlsx"
    assert cli_exit([str(start), "-o", str(book), "--quiet", "--gate", "xor", "--epochs", "40",
                     "--batch-size", "2"]) == 0  # fmt: skip
    wb = openpyxl.load_workbook(book)
    set_named_values(wb, "learning_rate", np.array([[0.025]]))
    set_named_values(wb, "use_trained", np.array([[1]]))
    wb.save(book)
    from gate2xlsx.engines.libreoffice import recalculate

    saved_path = recalculate([book], tmp_path / "saved")[0]  # LibreOffice's own saved copy
    saved = openpyxl.load_workbook(saved_path, data_only=True)
    x, shown = named_values(saved, "data_inputs"), named_values(saved, "data_outputs")
    out = tmp_path / "trained.h5"
    assert cli_exit(["extract", str(saved_path), "--trained", "-o", str(out)]) == 0
    assert not np.allclose(gate2xlsx.load(start).forward(x), shown, atol=1e-3)
    for venv in ("tf215", "k3"):
        got = np.asarray(keras_predict(venv, out, x)["y"])
        np.testing.assert_allclose(got, shown, rtol=1e-4, atol=1e-5, err_msg=venv)
