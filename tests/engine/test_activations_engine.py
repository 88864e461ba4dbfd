"""The whole activation table through LibreOffice against its own NumPy column.

Each entry (with its parameter variants) becomes a one-layer workbook through the real writer,
its input row a sweep across the function's range: tiny, moderate, the switch points of the
piecewise functions, and extremes (±50, ±700) where a naive EXP would overflow. All workbooks
go through one LibreOffice run.

Tolerance: relative 1e-12, or absolute 1e-12 for values near zero. LibreOffice returns 15
significant digits; the absolute floor is needed where a formula subtracts nearly equal numbers
(EXP(x)-1 in elu/selu at x = -1e-9, LN(1+EXP(x)) in softplus/mish near x = -14): there the
relative error reaches ~1e-8 but the absolute error stays below 1e-16, far under the float32
precision Keras itself computes with. Measured worst relative errors elsewhere: ~5e-15.
"""

from __future__ import annotations

import numpy as np
import pytest

import gate2xlsx
from gate2xlsx.ir import activations
from gate2xlsx.ir.families.dense import Activation
from gate2xlsx.ir.layer import Act
from gate2xlsx.ir.model import Model
from gate2xlsx.readers.xlsx import named_values

POINTS = np.array(
    [
        -700.0,
        -50.0,
        -20.0,
        -16.0,
        -14.0,
        -6.0,
        -3.0,
        -2.5,
        -1.0,
        -0.5,
        -1e-3,
        -1e-9,
        0.0,
        1e-9,
        1e-3,
        0.3,
        0.4,
        0.5,
        1.0,
        2.5,
        3.0,
        5.0,
        6.0,
        7.0,
        14.0,
        16.0,
        20.0,
        50.0,
        700.0,
    ]
)
# Softmax-like entries work on the whole row; a row of ±700 is all-or-nothing, so they also get
# a moderate row where every output is a proper fraction.
MODERATE = np.array([-3.0, -1.0, -0.25, 0.0, 0.5, 1.5, 2.0, 4.0])

VARIANTS: dict[str, list[dict]] = {
    "relu": [
        {},
        {"negative_slope": 0.1},
        {"max_value": 6.0},
        {"threshold": 0.4},
        {"negative_slope": 0.2, "max_value": 5.0, "threshold": -1.0},
    ],
    "elu": [{}, {"alpha": 0.5}],
    "hard_sigmoid": [{}, {"slope": 1 / 6}],  # Keras 1/2/tf.keras and Keras 3 definitions
    "gelu": [{}, {"approximate": 1.0}],
    "leaky_relu": [{}, {"alpha": 0.3}],
    "thresholded_relu": [{}, {"theta": 0.4}],
    "prelu": [{"alpha": 0.25}],
}
ROW_WISE = {"softmax", "log_softmax"}


def cases() -> list[tuple[str, dict, np.ndarray]]:
    found = []
    for name in sorted(activations.TABLE):
        for params in VARIANTS.get(name, [{}]):
            found.append((name, params, POINTS))
            if name in ROW_WISE:
                found.append((name, params, MODERATE))
    return found


def test_every_table_entry_has_a_case():
    assert {name for name, _, _ in cases()} == set(activations.TABLE)
    assert set(activations.ALIASES.values()) <= set(activations.TABLE)


@pytest.mark.parametrize("name", sorted(activations.TABLE))
def test_numpy_column_is_finite_where_the_function_is(name):
    """The reference itself must not overflow (else the comparison below proves nothing)."""
    for params in VARIANTS.get(name, [{}]):
        y = activations.get(name).numpy(POINTS[None, :], **params)
        if name == "exponential":
            assert np.isfinite(y).all() and y[0, -1] == pytest.approx(np.exp(700.0))
        else:
            assert np.isfinite(y).all(), (name, params)


def test_libreoffice_equals_numpy_across_each_range(engine, tmp_path):
    books, refs = [], []
    for i, (name, params, x) in enumerate(cases()):
        layer = Activation(f"act_{name}", "Activation", Act.of(name, **params))
        model = Model.chain(len(x), [layer], name=f"{name}_{i}")
        book = tmp_path / f"{i:02d}_{name}.xlsx"
        gate2xlsx.write_workbook(model, book, input_values=x)
        books.append(book)
        refs.append((name, params, x, model.forward(x[None, :])[0]))
    worst: dict[str, float] = {}
    for wb, (name, params, x, want) in zip(engine.recalc(*books), refs):
        live = named_values(wb, "output").reshape(-1)
        assert np.isfinite(live).all(), f"{name} {params}: {live}"
        bad = np.abs(live - want) > np.maximum(1e-12, 1e-12 * np.abs(want))
        assert not bad.any(), (
            f"{name} {params} at x={x[bad]}: LibreOffice {live[bad]} vs NumPy {want[bad]}"
        )
        err = np.abs(live - want) / np.maximum(1e-300, np.abs(want))
        worst[name] = max(worst.get(name, 0.0), float(np.max(np.where(want == 0, 0, err))))
    print("worst relative error per activation:", {k: f"{v:.1e}" for k, v in worst.items()})
