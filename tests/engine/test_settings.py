"""Layer settings (LeakyReLU alpha, ReLU's options, ELU alpha, BN epsilon, Rescaling) are named,
editable cells: the sheet reads them, LibreOffice follows an edit, and extract brings it back."""

from __future__ import annotations

import copy

import numpy as np
import openpyxl

import gate2xlsx
from gate2xlsx.ir.families.dense import Activation, Dense
from gate2xlsx.ir.families.normalization import BatchNorm, Rescaling
from gate2xlsx.ir.layer import Act, Param
from gate2xlsx.ir.model import Model
from gate2xlsx.readers.xlsx import named_values, set_named_values
from gate2xlsx.sheet.names import weight_names

RNG = np.random.default_rng(3)


def model() -> Model:
    p = lambda *shape: Param(RNG.normal(size=shape))  # noqa: E731
    return Model.chain(
        3,
        [
            Rescaling("scale_in", "Rescaling", scale=0.5, offset=-0.25),
            Dense("d1", "Dense", kernel=p(3, 4), bias=p(4)),
            BatchNorm(
                "bn",
                "BatchNormalization",
                p(4),
                p(4),
                p(4),
                Param(RNG.uniform(0.5, 2, 4)),
                epsilon=1e-3,
            ),
            Activation("leaky", "LeakyReLU", Act.of("leaky_relu", alpha=0.3)),
            Dense("d2", "Dense", kernel=p(4, 4), bias=p(4)),
            Activation(
                "clipped", "ReLU", Act.of("relu", negative_slope=0.1, max_value=2.0, threshold=0.2)
            ),
            Activation("elu", "ELU", Act.of("elu", alpha=0.7)),
        ],
    )


EDITS = {
    "scale_in_scale": 1.5,
    "scale_in_offset": 0.125,
    "bn_epsilon": 0.5,
    "leaky_alpha": 0.05,
    "clipped_negative_slope": 0.4,
    "clipped_max_value": 1.25,
    "clipped_threshold": -0.3,
    "elu_alpha": 2.0,
}


def edited(original: Model) -> Model:
    """The same model with EDITS applied the NumPy way."""
    m = copy.deepcopy(original)
    layers = m.layers
    layers[0].scale, layers[0].offset = 1.5, 0.125
    layers[2].epsilon = 0.5
    layers[3].activation = Act.of("leaky_relu", alpha=0.05)
    layers[5].activation = Act.of("relu", negative_slope=0.4, max_value=1.25, threshold=-0.3)
    layers[6].activation = Act.of("elu", alpha=2.0)
    return m


def test_settings_get_names_and_formulas_read_them(tmp_path):
    m = model()
    names = weight_names(m)
    assert {
        names[("leaky", "alpha")],
        names[("bn", "epsilon")],
        names[("clipped", "max_value")],
    } == {"leaky_alpha", "bn_epsilon", "clipped_max_value"}
    book = gate2xlsx.write_workbook(m, tmp_path / "s.xlsx")
    formulas = [
        getattr(c.value, "text", str(c.value))
        for row in openpyxl.load_workbook(book)["Network"].iter_rows()
        for c in row
    ]
    assert any("leaky_alpha" in f for f in formulas) and any("bn_epsilon" in f for f in formulas)


def test_edited_settings_recalculate_and_extract(tmp_path, engine):
    m = model()
    x = np.array([0.9, -1.2, 2.5])
    book = gate2xlsx.write_workbook(m, tmp_path / "s.xlsx", input_values=x)
    wb = openpyxl.load_workbook(book)
    for name, value in EDITS.items():
        set_named_values(wb, name, [value])
    wb.save(book)
    recalculated = engine.recalc(book)[0]
    want = edited(m).forward(x)
    assert np.max(np.abs(named_values(recalculated, "output") - want)) <= 1e-12
    back = gate2xlsx.read_workbook(book)
    assert (
        back.layers[3].activation == Act.of("leaky_relu", alpha=0.05)
        and back.layers[2].epsilon == 0.5
    )
    assert np.max(np.abs(back.forward(x) - want)) <= 1e-12
