"""The round trip of a graph: a workbook's edited conv kernel (or Dense kernel) extracted to
.h5 / .keras, loaded by real tf.keras 2.15 (.h5) and Keras 3 (.h5, .keras), predicts what the
workbook computes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from conftest import cli_run
from keras_venvs import run

import gate2xlsx
from gate2xlsx.readers.xlsx import read_workbook
from gate2xlsx.sheet.names import weight_names

TENSORS = Path(__file__).resolve().parents[1] / "fixtures" / "tensors" / "keras2"
NAMES = [e["name"] for e in json.loads((TENSORS / "manifest.json").read_text())]
PREDICT = """
import json, sys, numpy as np
from {module} import models
xs = [np.asarray(a, dtype="float32") for a in json.loads(open(sys.argv[2]).read())]
m = models.load_model(sys.argv[1], compile=False)
y = m.predict(xs if len(xs) > 1 else xs[0], verbose=0)
y = y if isinstance(y, (list, tuple)) else [y]
print(json.dumps(np.concatenate([np.asarray(a).reshape(len(xs[0]), -1) for a in y], 1).tolist()))
"""


def _edited_workbook(name: str, tmp_path: Path) -> Path:
    """The fixture's workbook with its first kernel's top-left cell raised by 0.25."""
    model = gate2xlsx.load(TENSORS / f"{name}.h5")
    book = gate2xlsx.write_workbook(model, tmp_path / f"{name}.xlsx")
    first = next(layer for layer in model.layers if "kernel" in layer.weights())
    defined = weight_names(model)[(first.name, "kernel")]
    wb = openpyxl.load_workbook(book)
    sheet, ref = next(iter(wb.defined_names[defined].destinations))
    cell = wb[sheet][ref.replace("$", "").split(":")[0]]
    cell.value = float(cell.value) + 0.25
    wb.save(book)
    return book


@pytest.mark.parametrize("name", NAMES)
def test_edited_graph_extracted_predicts_what_the_workbook_computes(name, tmp_path):
    book = _edited_workbook(name, tmp_path)
    model = read_workbook(book)
    original = gate2xlsx.load(TENSORS / f"{name}.h5")
    first = next(layer for layer in original.layers if "kernel" in layer.weights())
    edited = next(layer for layer in model.layers if layer.name == first.name)
    change = edited.kernel.values - first.kernel.values
    assert np.count_nonzero(np.abs(change) > 1e-9) == 1 and np.isclose(change.max(), 0.25)
    x = np.round(np.random.default_rng(len(name)).uniform(-1, 1, (3, model.n_inputs)), 3)
    want = model.forward(x)
    (tmp_path / "x.json").write_text(json.dumps([a.tolist() for a in model.graph.split(x)]))
    for suffix, venvs in ((".h5", ("tf215", "k3")), (".keras", ("k3",))):
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
