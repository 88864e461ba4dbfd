"""The loss and optimizer tables walked entry by entry: each loss form's NumPy gradient against
central differences of its NumPy value, the form each Keras takes, and each optimizer's
formulas (evaluated here as arithmetic) against its NumPy update. The formulas in a real
engine: tests/engine/test_workbook.py and tests/engine/test_training_sheet.py."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from gate2xlsx.ir import losses, optimizers
from gate2xlsx.ir.activations import get as activation
from gate2xlsx.ir.fit import Settings

FORMS = [
    (loss.name, form)
    for loss in losses.TABLE.values()
    for form in (loss.plain, loss.logits, loss.eps_in_log)
    if form is not None and form.gradient is not None
]


@pytest.mark.parametrize(("name", "form"), FORMS, ids=[form.kind for _, form in FORMS])
def test_each_loss_gradient_matches_finite_differences_of_its_value(name, form):
    rng = np.random.default_rng(3)
    y = np.eye(3)[rng.integers(0, 3, size=4)]
    output = "softmax" if losses.get(name).sums else "sigmoid"

    def batch_loss(at: np.ndarray) -> float:
        p = activation(output).numpy(at) if form.logits else at
        return float(form.rows(p, at, y).mean())

    at = rng.uniform(-2, 2, size=y.shape) if form.logits else rng.uniform(0.1, 0.9, size=y.shape)
    p = activation(output).numpy(at) if form.logits else at
    got = form.gradient(p, at, y, losses.get(name).scale(*y.shape))
    want, h = np.zeros_like(at), 1e-6
    for idx in np.ndindex(at.shape):
        up, down = at.copy(), at.copy()
        up[idx] += h
        down[idx] -= h
        want[idx] = (batch_loss(up) - batch_loss(down)) / (2 * h)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize(
    ("loss", "output", "keras", "kind"),
    [
        ("bce", "sigmoid", losses.TF_KERAS_FIT, "bce_logits"),
        ("binary_crossentropy", "linear", losses.TF_KERAS_FIT, "bce_clip_eps"),
        ("BinaryCrossentropy", "linear", losses.Keras({}, False), "bce_clip"),
        ("categorical_crossentropy", "sigmoid", losses.TF_KERAS_FIT, "cce_logits"),
        ("cce", "softmax", losses.Keras({}, True), "cce_clip"),
        ("mean_squared_error", "softmax", losses.TF_KERAS_FIT, "mse"),
    ],
)
def test_one_choice_picks_the_form_each_keras_computes(loss, output, keras, kind):
    assert losses.choose(loss, output, keras).kind == kind


def test_every_loss_name_and_alias_means_its_entry():
    for loss in losses.TABLE.values():
        for name in (loss.name, *loss.aliases, "keras.losses." + loss.name.upper()):
            assert losses.canonical(name) == loss.name
    assert losses.canonical("hinge") is None and tuple(losses.TABLE) == losses.LOSSES


def _evaluate(template: str, values: dict[str, float]) -> float:
    """A formula template filled with numbers, as Python arithmetic (SQRT and ^ only)."""
    filled = template.format_map({k: repr(float(v)) for k, v in values.items()})
    return eval(re.sub(r"SQRT", "math.sqrt", filled).replace("^", "**"), {"math": math})


@pytest.mark.parametrize("name", optimizers.NAMES)
@pytest.mark.parametrize("nesterov", [False, True])
def test_each_optimizer_formulas_compute_its_numpy_update(name, nesterov):
    """Three steps of one weight: the table's state, step-size and step formulas, filled as
    the Training sheet fills them, against its NumPy update."""
    entry = optimizers.get(name)
    s = Settings(optimizer=name, lr=0.1, momentum=0.5, nesterov=nesterov)
    names = {one.name: getattr(s, one.field) for one in entry.settings}
    w, m, v = np.array([0.3]), np.zeros(1), np.zeros(1)
    weight, states = 0.3, {"m": 0.0, "v": 0.0}
    for t, g in enumerate((0.7, -0.4, 0.2), start=1):
        new: dict[str, float] = {}
        for state in entry.states:
            prior = states[state.slot]
            new[state.slot] = _evaluate(state.formula, {**names, **new, "g": g, "prior": prior})
        states.update(new)
        alpha = _evaluate(entry.step_size, {**names, "t": t}) if entry.step_size else 0.0
        step = {**names, **states, "w": weight, "g": g, "alpha": alpha}
        weight = _evaluate(entry.step_formula(nesterov), step)
        entry.update(optimizers.hyper(s, t, np.float64), w, np.array([g]), m, v)
        assert (states["m"], states["v"], weight) == pytest.approx((m[0], v[0], w[0]), rel=1e-12)


def test_optimizer_settings_name_fields_of_the_trainers_settings():
    for entry in optimizers.TABLE.values():
        assert entry.settings[0] == optimizers.LEARNING_RATE
        assert all(hasattr(Settings(), one.field) for one in entry.settings)
    assert optimizers.DEFAULT == Settings().optimizer == optimizers.NAMES[0]
