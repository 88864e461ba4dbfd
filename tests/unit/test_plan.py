"""The export's decisions (one WorkbookSpec) and the plan made from them, without an engine."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from conftest import SAMPLES

import gate2xlsx
from gate2xlsx.app.export import capped, decide, export_workbook
from gate2xlsx.app.options import ExportOptions
from gate2xlsx.errors import LayoutError
from gate2xlsx.ir.families.dense import Dense
from gate2xlsx.ir.layer import Act, Param
from gate2xlsx.ir.model import Model
from gate2xlsx.sheet import meta
from gate2xlsx.sheet.plan import plan_workbook
from gate2xlsx.sheet.spec import Rows


def _csv(tmp_path, text: str):
    path = tmp_path / "rows.csv"
    path.write_text(text)
    return path


def test_the_callers_model_is_never_changed(tmp_path):
    model = gate2xlsx.load(SAMPLES / "xor.h5")
    before = copy.deepcopy(model)
    data = _csv(tmp_path, "p,q,label\n0,0,no\n0,1,yes\n1,0,yes\n1,1,no\n")
    export_workbook(model, tmp_path / "a.xlsx", data=data)
    export_workbook(model, tmp_path / "b.xlsx", inputs=["u", "v"], labels=["off", "on"])
    assert model == before
    assert model.input_names is None and model.class_names is None


def test_decisions_come_as_one_value(tmp_path):
    model = gate2xlsx.load(SAMPLES / "xor.h5")
    data = _csv(tmp_path, "p,q,label\n0,0,no\n0,1,yes\n1,0,yes\n")
    spec, gate, how = decide(model, ExportOptions(data=data))
    assert (gate, how) == (None, None)
    assert spec.inputs == ["p", "q"] and spec.labels == ["no", "yes"]
    assert spec.rows.x.tolist() == [[0, 0], [0, 1], [1, 0]] and spec.rows.y is not None
    assert spec.loss == "categorical_crossentropy" == model.loss  # the file's own training loss
    spec, gate, how = decide(model, ExportOptions(gate="xor", inputs=["a", "b"], loss="mse"))
    assert gate == "xor" and how == "--gate" and spec.inputs == ["a", "b"] and spec.loss == "mse"
    assert spec.labels == ["False", "True"] and spec.rows.truth_table


def test_the_description_stores_the_names_the_export_settled_on(tmp_path):
    model = gate2xlsx.load(SAMPLES / "xor.h5")
    spec, _, _ = decide(model, ExportOptions(inputs=["u", "v"], labels=["off", "on"]))
    plan = plan_workbook(model, spec)
    [hidden] = [sheet for sheet in plan.sheets if sheet.title == meta.SHEET]
    pieces = [row[0] for row in hidden.regions[2].values]
    described = meta.parse([meta.MARKER, str(len(pieces)), *pieces])
    assert described["model"]["input_names"] == ["u", "v"]
    assert described["model"]["class_names"] == ["off", "on"]


def test_a_block_that_does_not_fit_names_its_layer():
    rng = np.random.default_rng(0)
    wide = Dense("wide_in", "Dense", Param(rng.normal(size=(700, 2))), Param(np.zeros(2)),
                 Act("sigmoid"))  # fmt: skip
    model = Model.chain(700, [wide])
    spec, _, _ = decide(model, ExportOptions(formulas="expanded"))
    with pytest.raises(LayoutError, match=r"layer 1 'wide_in' \(Dense\) needs formulas longer"):
        plan_workbook(model, spec)


def test_rows_are_capped_once_and_say_so():
    x = np.random.default_rng(1).uniform(size=(2500, 2))
    rows = capped(Rows(x, None, "Rows: many"))
    assert len(rows.x) == 2000 and "the first 2000 of 2500 rows" in rows.source
    assert capped(rows) is rows
