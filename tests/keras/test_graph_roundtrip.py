"""The round trip of a graph: a workbook's edited conv kernel (or Dense kernel; a recurrent
layer's recurrent kernel) extracted to .h5 / .keras, loaded by real tf.keras 2.15 (.h5) and
Keras 3 (.h5, .keras), predicts what the workbook computes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from conftest import cli_run
from keras_venvs import run

import gate2xlsx
from gate2xlsx.ir.families.embeddings import random_rows
from gate2xlsx.ir.families.recurrent import Recurrent
from gate2xlsx.readers.xlsx import read_workbook
from gate2xlsx.sheet.names import weight_names

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CASES = [
    (folder, e["name"])
    for folder in ("tensors/keras2", "sequences/keras2")
    for e in json.loads((FIXTURES / folder / "manifest.json").read_text())
]
PREDICT = """
import json, sys, numpy as np
from {module} import models
xs = [np.asarray(a, dtype="float32") for a in json.loads(open(sys.argv[2]).read())]
m = models.load_model(sys.argv[1], compile=False)
y = m.predict(xs if len(xs) > 1 else xs[0], verbose=0)
y = y if isinstance(y, (list, tuple)) else [y]
print(json.dumps(np.concatenate([np.asarray(a).reshape(len(xs[0]), -1) for a in y], 1).tolist()))
"""


def edited(model) -> tuple[object, str]:
    """The weight the test edits: the first recurrent kernel, else the first kernel."""
    for word in ("recurrent_kernel", "kernel"):
        for layer in model.layers:
            key = next((k for k in layer.weights() if k.rpartition(word)[2] in ("", "_i", "_z")
                        and word in k), None)  # fmt: skip
            if key:
                return layer, key
    raise AssertionError("no kernel")


def _edited_workbook(path: Path, tmp_path: Path) -> Path:
    """The fixture's workbook with that weight's top-left cell raised by 0.25."""
    model = gate2xlsx.load(path)
    book = gate2xlsx.write_workbook(model, tmp_path / f"{path.stem}.xlsx")
    first, key = edited(model)
    defined = weight_names(model)[(first.name, key)]
    wb = openpyxl.load_workbook(book)
    sheet, ref = next(iter(wb.defined_names[defined].destinations))
    cell = wb[sheet][ref.replace("$", "").split(":")[0]]
    cell.value = float(cell.value) + 0.25
    wb.save(book)
    return book


@pytest.mark.parametrize("folder,name", CASES, ids=[f"{f}/{n}" for f, n in CASES])
def test_edited_graph_extracted_predicts_what_the_workbook_computes(folder, name, tmp_path):
    book = _edited_workbook(FIXTURES / folder / f"{name}.h5", tmp_path)
    model = read_workbook(book)
    original = gate2xlsx.load(FIXTURES / folder / f"{name}.h5")
    first, key = edited(original)
    again = next(layer for layer in model.layers if layer.name == first.name)
    change = again.weights()[key].values - first.weights()[key].values
    assert np.count_nonzero(np.abs(change) > 1e-9) == 1 and np.isclose(change.max(), 0.25)
    x = random_rows(model.graph, 3, seed=len(name))  # values in [0, 1), token ids in range
    want = model.forward(x)
    (tmp_path / "x.json").write_text(json.dumps([a.tolist() for a in model.graph.split(x)]))
    # Keras 3's hard_sigmoid has slope 1/6, tf.keras's 0.2: Keras 3 reads the real tf.keras
    # fixture's .h5 wrongly too, and has no name for slope 0.2, so its .keras is refused.
    hard = name == "lstm_hard_sigmoid"
    # Keras 3 reads no initial_state from a legacy .h5 (nor the real tf.keras 2.15 recurrent
    # .h5 files: time_major), so Keras 3 checks those models' .keras
    keras3_h5 = not hard and not any(len(node.inputs) > 1 and isinstance(node.layer, Recurrent)
                                     for node in model.graph.nodes)  # fmt: skip
    if hard:
        done = cli_run("extract", str(book), "-o", str(tmp_path / "hard.keras"))
        assert done.returncode != 0 and "hard_sigmoid" in done.stderr, done.stderr
    for suffix, venvs in ((".h5", ("tf215", "k3") if keras3_h5 else ("tf215",)),
                          *([] if hard else [(".keras", ("k3",))])):  # fmt: skip
        target = tmp_path / f"{name}{suffix}"
        done = cli_run("extract", str(book), "-o", str(target))
        assert done.returncode == 0, done.stderr
        for venv in venvs:
            module = "tensorflow.keras" if venv == "tf215" else "keras"
            got = np.array(json.loads(run(venv, PREDICT.format(module=module), str(target),
                                          str(tmp_path / "x.json"))))  # fmt: skip
            # float32 in Keras: 1e-5, scaled by the magnitude above 1 (as every fixture test)
            worst = np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want)))
            assert worst <= 1e-5, f"{venv} {suffix}: {worst:.2e}"
