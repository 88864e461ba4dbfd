"""Export options: --gate inference stated by the CLI, --data CSV rows, --labels/--inputs,
the predictions-only truth table, and bad options as one `Error:` line."""

from __future__ import annotations

import shutil

import numpy as np
import openpyxl
import pytest
from conftest import SAMPLES
from conftest import cli_run as run

import gate2xlsx
from gate2xlsx.app.export import export_workbook
from gate2xlsx.readers.xlsx import named_cells, named_values


def test_cli_states_the_inferred_gate_and_names(tmp_path):
    out = tmp_path / "or.xlsx"
    done = run(str(SAMPLES / "or.hdf"), "-o", str(out), "--labels", "no,yes", "--inputs", "a,b")
    assert done.returncode == 0, done.stderr
    assert "OR, inferred from the file name (or.hdf)" in done.stdout
    wb = openpyxl.load_workbook(out)
    headers = [c.value for c in wb["Network"][4]][1:3]
    assert headers == ["a", "b"]
    assert "yes" in [c.value for row in wb["Truth table"].iter_rows() for c in row]


@pytest.mark.parametrize(
    "args, says",
    [
        (["--gate", "maybe"], "unknown gate"),
        (["--formulas", "fancy"], "--formulas must be"),
        (["--loss", "hinge"], "loss 'hinge' is not supported"),
        (["--labels", "a,b,c"], "--labels needs 2"),
    ],
)
def test_bad_options_are_one_error_line(tmp_path, args, says):
    out = tmp_path / "x.xlsx"
    done = run(str(SAMPLES / "or.hdf"), "-o", str(out), *args)
    assert done.returncode == 2
    assert done.stderr.startswith("Error:") and says in done.stderr
    assert not out.exists()


def test_csv_rows_and_unlabelled_truth_table(engine, tmp_path):
    model = gate2xlsx.load(SAMPLES / "xor.h5")
    x = np.array([[0.1, 0.9], [0.8, 0.2], [0.95, 0.9], [0.0, 0.05], [0.5, 0.5]])
    labels = ["false", "true", "false", "false", "true"]
    csv = tmp_path / "points.csv"
    csv.write_text("p,q,label\n" + "".join(f"{a},{b},{c}\n" for (a, b), c in zip(x, labels)))
    with_data, bare = tmp_path / "data.xlsx", tmp_path / "bare.xlsx"
    export_workbook(model, with_data, data=csv)
    renamed = tmp_path / "unnamed.h5"
    shutil.copyfile(SAMPLES / "xor.h5", renamed)
    export_workbook(gate2xlsx.load(renamed), bare)
    data_wb, bare_wb = engine.recalc(with_data, bare)
    assert np.array_equal(named_values(data_wb, "data_inputs"), x)
    p = model.forward(x)
    assert np.max(np.abs(named_values(data_wb, "data_outputs") - p)) < 1e-12
    truth = np.array([c == "true" for c in labels])
    assert named_cells(data_wb, "accuracy")[0][0].value == pytest.approx(
        np.mean((p[:, 1] > p[:, 0]) == truth)
    )
    assert named_values(bare_wb, "data_inputs").tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert "accuracy" not in bare_wb.defined_names and "loss" not in bare_wb.defined_names
    assert named_cells(bare_wb, "check_result")[0][0].value == "PASS"
