"""Every fixture real Keras wrote (tests/fixtures/manifest.json) through the readers and the
workbook.

Keras computed in float32, so its numbers carry about 7 significant digits: we allow
1e-5 absolute, scaled by the value's magnitude where it exceeds 1 (several fixtures have outputs
near 200, where float32 itself is only good to ~1e-5). Our float64 NumPy forward and the
LibreOffice workbook must then agree with each other far more tightly (1e-9 relative).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from cached import mismatches
from openpyxl.utils.cell import coordinate_to_tuple

import gate2xlsx
from gate2xlsx.errors import Gate2XlsxError
from gate2xlsx.ir.model import Dataset, Model
from gate2xlsx.readers.xlsx import named_values
from gate2xlsx.sheet.batch.chain import TOP

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text())
GOOD = [e for e in MANIFEST if not e["expect_error"]]
BAD = [e for e in MANIFEST if e["expect_error"]]
KERAS_TOL = 1e-5


def load(entry: dict) -> Model:
    arch = FIXTURES / entry["architecture"] if entry.get("architecture") else None
    return gate2xlsx.load(FIXTURES / entry["file"], architecture=arch)


def expected(entry: dict) -> dict[str, np.ndarray]:
    with np.load(FIXTURES / entry["expected"], allow_pickle=False) as data:
        return dict(data)


def scaled_error(got: np.ndarray, want: np.ndarray) -> float:
    """max |got - want| / max(1, |want|): absolute below 1, relative above."""
    return float(np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want))))


def keras_layer_outputs(model: Model, data: dict[str, np.ndarray]) -> list[tuple[str, int]]:
    """(key, index into model.trace) for each per-layer output Keras stored.

    A nested model's output is stored under the nested model's name: it is the output of the
    last inner layer, the one just before the next stored top-level layer."""
    names = [layer.name for layer in model.layers]
    keys = [k for k in data if k.startswith("layer__")]
    pairs, pending = [], []
    for key in keys:
        name = key[len("layer__") :]
        if name in names:
            index = names.index(name) + 1
            pairs += [(p, index - 1) for p in pending]
            pending = []
            pairs.append((key, index))
        else:
            pending.append(key)
    pairs += [(p, len(names)) for p in pending]
    return pairs


@pytest.mark.parametrize("entry", GOOD, ids=[e["file"] for e in GOOD])
def test_reader_matches_keras_per_layer(entry):
    model = load(entry)
    data = expected(entry)
    trace = model.trace(data["x"])
    pairs = keras_layer_outputs(model, data)
    assert pairs, "the fixture stores no per-layer outputs"
    for key, index in pairs:
        assert trace[index].shape == data[key].shape, key
        assert scaled_error(trace[index], data[key]) <= KERAS_TOL, key
    assert scaled_error(trace[-1], data["y"]) <= KERAS_TOL
    assert [layer.class_name for layer in model.layers if layer.class_name != "InputLayer"] == [
        c for c in entry["layers"] if c not in ("Sequential", "InputLayer")
    ]


@pytest.mark.parametrize("entry", BAD, ids=[e["file"] for e in BAD])
def test_unsupported_fixture_is_refused_naming_the_layer(entry):
    with pytest.raises(Gate2XlsxError) as caught:
        load(entry)
    message = str(caught.value)
    assert entry["error_mentions"] in message
    assert "layer" in message and entry["file"].split("/")[-1] in message


def _near_ties(outputs: np.ndarray) -> list[int]:
    """Rows whose two largest outputs are equal to within 1e-12 relative."""
    if outputs.shape[1] < 2:
        return []
    top = np.sort(outputs, axis=1)[:, -2:]
    return list(np.flatnonzero(np.abs(top[:, 1] - top[:, 0]) <= 1e-12 * np.abs(top[:, 1])))


def _sheet_and_row(mismatch: str) -> tuple[str, int]:
    """("Data", 18) of a mismatch reported as "Data!AB18: ..."."""
    sheet, ref = mismatch.split(":")[0].split("!")
    return sheet, coordinate_to_tuple(ref)[0]


GROUPS = sorted({e["file"].split("/")[0] for e in GOOD})


@pytest.mark.parametrize("group", GROUPS)
def test_libreoffice_computes_keras_predictions(group, engine, tmp_path):
    """One LibreOffice run per fixture folder. Each fixture's workbook carries all of Keras's
    input rows on its Data sheet (`data_outputs`) and the largest-output row on the Network
    sheet (`output`), so every prediction Keras made is checked through the spreadsheet."""
    books, cases = [], []
    for entry in (e for e in GOOD if e["file"].startswith(group + "/")):
        model, data = load(entry), expected(entry)
        model.data = Dataset(data["x"], None, "Keras inputs")
        row = int(np.argmax(np.max(np.abs(data["y"]), axis=1)))
        book = tmp_path / (entry["file"].replace("/", "__").replace(".", "_") + ".xlsx")
        gate2xlsx.write_workbook(model, book, input_values=data["x"][row])
        books.append(book)
        cases.append((entry["file"], data["y"], row, model.forward(data["x"])))
    worst_keras, worst_numpy = 0.0, 0.0
    for book, wb, (name, want, row, ref) in zip(books, engine.recalc(*books), cases):
        # what the file shows before any recalculation, except a predicted label NumPy and
        # LibreOffice decide differently where two outputs tie to the last bit
        ties = {("Data", TOP + i) for i in _near_ties(ref)}
        wrong = [m for m in mismatches(book, wb) if _sheet_and_row(m) not in ties]
        assert wrong[:5] == [], name
        shown = openpyxl.load_workbook(book, data_only=True)
        assert scaled_error(named_values(shown, "data_outputs"), want) <= KERAS_TOL, name
        batch = named_values(wb, "data_outputs")
        single = named_values(wb, "output")
        assert batch.shape == want.shape and single.shape == (1, want.shape[1]), name
        for live, keras, numpy in (
            (batch, want, ref),
            (single, want[row : row + 1], ref[row : row + 1]),
        ):
            keras_err, numpy_err = scaled_error(live, keras), scaled_error(live, numpy)
            assert keras_err <= KERAS_TOL, f"{name}: {live} vs Keras {keras}"
            assert numpy_err <= 1e-9, f"{name}: {live} vs NumPy {numpy}"
            worst_keras, worst_numpy = max(worst_keras, keras_err), max(worst_numpy, numpy_err)
    print(
        f"{group}: {len(books)} workbooks, {sum(len(c[1]) for c in cases)} Keras rows, worst "
        f"scaled error vs Keras {worst_keras:.2e}, vs NumPy {worst_numpy:.2e}"
    )
