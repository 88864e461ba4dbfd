"""Networks at the edge of a sheet: what adapts, and that it still computes."""

from __future__ import annotations

import numpy as np
import openpyxl

import gate2xlsx
from gate2xlsx.app.export import decide
from gate2xlsx.ir.families.dense import Activation, Dense
from gate2xlsx.ir.layer import Act, Param
from gate2xlsx.ir.model import Model
from gate2xlsx.sheet import weights


def wide(units: int) -> Model:
    rng = np.random.default_rng(7)
    return Model.chain(
        2,
        [
            Dense(
                "hidden",
                "Dense",
                kernel=Param(rng.normal(size=(2, units))),
                bias=Param(rng.normal(size=units)),
                activation=Act("tanh"),
            ),
            Dense(
                "out",
                "Dense",
                kernel=Param(rng.normal(size=(units, 2)) / units),
                bias=Param(rng.normal(size=2)),
            ),
            Activation("softmax", "Activation", Act("softmax")),
        ],
    )


def test_batch_sheets_too_wide_are_left_out_and_said_so_and_the_network_still_computes(
    tmp_path, engine
):
    model = wide(9000)  # two 9,000-wide steps side by side exceed 16,384 columns; one row does not
    book = gate2xlsx.write_workbook(
        model, tmp_path / "wide.xlsx", input_values=np.array([0.3, -0.7])
    )
    names = openpyxl.load_workbook(book, read_only=True).sheetnames
    assert "Network" in names and "Weights" in names and "Check" not in names
    about = [
        c.value for row in openpyxl.load_workbook(book)["About"].iter_rows() for c in row if c.value
    ]
    assert any("Left out" in str(v) and "16,384 columns" in str(v) for v in about)
    out = engine.values(book, "output")["output"]
    assert np.max(np.abs(out - model.forward([[0.3, -0.7]]))) <= 1e-12


def test_large_networks_drop_the_trained_copy_and_say_so():
    small, large = wide(10), wide(weights.TRAINED_COPY_LIMIT // 3)

    def notes(model):
        plan = weights.weights_plan(model, decide(model)[0])[0]
        return [r for r in plan.regions if r.style == "trained"], plan.regions[1].values[0][0]

    copies, intro = notes(small)
    assert copies and "grey copy" in intro
    copies, intro = notes(large)
    assert not copies and f"{weights.TRAINED_COPY_LIMIT:,}" in intro


def test_a_wide_model_without_data_gets_no_made_up_data_sheet_but_a_check(tmp_path):
    rng = np.random.default_rng(1)
    model = Model.chain(
        40,
        [
            Dense(
                "d",
                "Dense",
                kernel=Param(rng.normal(size=(40, 3))),
                bias=Param(rng.normal(size=3)),
                activation=Act("softmax"),
            )
        ],
    )
    info = gate2xlsx.export_workbook(model, tmp_path / "w.xlsx")
    assert "Data" not in info.sheets and "Check" in info.sheets and "Check sheet" in info.rows
    wb = openpyxl.load_workbook(info.path)
    about = " ".join(str(c.value) for row in wb["About"].iter_rows() for c in row if c.value)
    assert "No Data sheet" in about and "--data" in about
