"""A workbook gate2xlsx wrote is a model file like any other: predict, inspect, train --from,
export and the Python API read its current weights (edits included)."""

from __future__ import annotations

import numpy as np
import openpyxl
import pytest
from conftest import SAMPLES
from conftest import cli_run as run

import gate2xlsx
from gate2xlsx.readers.xlsx import set_named_values


@pytest.mark.parametrize("stem", ["or", "and", "xor"])
def test_predict_on_the_workbook_prints_what_the_model_file_prints(stem):
    source = next(SAMPLES.glob(f"{stem}.h*"))
    from_file = run("predict", str(source), "0", "1", "1", "1")
    from_book = run("predict", str(SAMPLES / f"{stem}.xlsx"), "0", "1", "1", "1")
    assert from_file.returncode == from_book.returncode == 0, from_book.stderr
    assert from_book.stdout == from_file.stdout


def test_inspect_lists_the_workbooks_layers():
    done = run("inspect", str(SAMPLES / "or.xlsx"))
    assert done.returncode == 0, done.stderr
    assert "gate2xlsx workbook" in done.stdout and "Keras 2.15" in done.stdout
    assert "dense" in done.stdout and "activation" in done.stdout and "softmax" in done.stdout


def test_load_reads_the_cells_as_they_are_now(tmp_path):
    model = gate2xlsx.load(SAMPLES / "or.xlsx")
    x = np.array([[0, 0], [0, 1], [1, 1]])
    np.testing.assert_array_equal(model.forward(x), gate2xlsx.load(SAMPLES / "or.hdf").forward(x))
    edited = tmp_path / "edited.data"  # the content decides, never the name
    book = openpyxl.load_workbook(SAMPLES / "or.xlsx")
    set_named_values(book, "dense_kernel", np.array([[1.0, -1.0], [2.0, -2.0]]))
    book.save(edited)
    assert gate2xlsx.load(edited).layers[0].kernel.values.tolist() == [[1, -1], [2, -2]]


def test_train_from_a_workbook_and_export_a_workbook(tmp_path):
    out = tmp_path / "again.h5"
    done = run("train", "or", "--from", str(SAMPLES / "or.xlsx"), "--epochs", "2", "-o", str(out),
               "--quiet")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert gate2xlsx.load(out).n_inputs == 2
    book = tmp_path / "copy.xlsx"
    assert run(str(SAMPLES / "or.xlsx"), "-o", str(book)).returncode == 0
    assert (
        gate2xlsx.load(book).layers[0].kernel
        == gate2xlsx.load(SAMPLES / "or.xlsx").layers[0].kernel
    )


def test_a_workbook_gate2xlsx_did_not_write_is_one_clear_line(tmp_path):
    foreign = tmp_path / "budget.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "rent"
    wb.save(foreign)
    done = run("predict", str(foreign), "0", "1")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"Error: {foreign}: not a workbook written by gate2xlsx")
    architecture = tmp_path / "model.json"
    architecture.write_text('{"class_name": "Sequential", "config": {"layers": []}}')
    refused = run(str(SAMPLES / "or.xlsx"), "-o", str(tmp_path / "x.xlsx"), "--architecture",
                  str(architecture))  # fmt: skip
    assert refused.returncode == 2 and "carries its own architecture" in refused.stderr
