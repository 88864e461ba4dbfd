"""The NumPy trainer against real tf.keras 2.15 `fit` runs (tests/fixtures/training), and the
`gate2xlsx train` command end to end."""

from __future__ import annotations

import json
import operator
from pathlib import Path

import numpy as np
import pytest

import gate2xlsx
from gate2xlsx.app.train import train
from gate2xlsx.cli import main
from gate2xlsx.data import gates
from gate2xlsx.ir.fit import TRAINABLE_ACTIVATIONS, Settings, fit, new_network, params

TRAINING = Path(__file__).resolve().parents[1] / "fixtures" / "training"
CASES = sorted(p.stem for p in TRAINING.glob("*.json"))


def _record(case: str) -> dict:
    return json.loads((TRAINING / f"{case}.json").read_text())


def _settings(r: dict) -> Settings:
    return Settings(
        loss=r["loss"],
        optimizer=r["optimizer"],
        lr=r["lr"],
        momentum=r["momentum"],
        nesterov=r["nesterov"],
        epochs=r["epochs"],
        batch_size=r["batch_size"],
        shuffle=False,
    )


def _max_diff(a: gate2xlsx.Model, b: gate2xlsx.Model) -> float:
    return max(float(np.abs(p.values - q.values).max()) for p, q in zip(params(a), params(b)))


def test_fixtures_cover_the_issue_settings():
    settings = [_record(c) for c in CASES]
    assert {"or_sgd", "and_sgd"} <= set(CASES)
    assert any(r["optimizer"] == "adam" for r in settings)
    assert any(r["nesterov"] for r in settings) and any(
        r["momentum"] and not r["nesterov"] for r in settings
    )
    assert any(r["output"] == "sigmoid1" for r in settings)
    assert any(r["hidden"] and r["loss"] == "categorical_crossentropy" for r in settings)


@pytest.mark.parametrize("case", CASES)
def test_fit_reaches_the_weights_and_losses_keras_reached(case):
    r = _record(case)
    model = gate2xlsx.load(TRAINING / f"{case}.init.h5")
    keras_fit = gate2xlsx.load(TRAINING / f"{case}.fit.h5")
    assert _max_diff(model, keras_fit) > 1e-3  # training moved the weights
    losses = fit(model, np.array(r["x"]), np.array(r["y"]), _settings(r))
    assert _max_diff(model, keras_fit) < 1e-5
    np.testing.assert_allclose(losses, r["losses"], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", ["or_sgd", "xor_nesterov", "xor_adam"])
def test_cli_from_keras_initial_model(tmp_path, case):
    r = _record(case)
    out = tmp_path / "trained.npz"
    args = [
        "train",
        r["gate"],
        "--from",
        str(TRAINING / f"{case}.init.h5"),
        "-o",
        str(out),
        "--loss",
        r["loss"],
        "--optimizer",
        r["optimizer"],
        "--lr",
        str(r["lr"]),
        "--momentum",
        str(r["momentum"]),
        "--epochs",
        str(r["epochs"]),
        "--batch-size",
        str(r["batch_size"]),
        "--no-shuffle",
        "--quiet",
    ]
    main(args + (["--nesterov"] if r["nesterov"] else []))
    assert _max_diff(gate2xlsx.load(out), gate2xlsx.load(TRAINING / f"{case}.fit.h5")) < 1e-4


def test_truth_tables_match_python_operators():
    ops = {"or": operator.or_, "and": operator.and_, "xor": operator.xor}
    for negated, base in (("nand", "and"), ("nor", "or"), ("xnor", "xor")):
        ops[negated] = (lambda f: lambda a, b: 1 - f(a, b))(ops[base])
    for gate, op in ops.items():
        data = gates.dataset(gate)
        expected = [op(int(a), int(b)) for a, b in data.x]
        assert data.y.argmax(axis=1).tolist() == expected
        assert data.y.sum(axis=1).tolist() == [1, 1, 1, 1]


def test_build_is_the_lesson_network_with_glorot_start():
    model = new_network(2, 2, [5], "tanh", "softmax", np.random.default_rng(0))
    assert [(layer.name, layer.class_name) for layer in model.layers] == [
        ("dense", "Dense"),
        ("dense_1", "Dense"),
        ("activation", "Activation"),
    ]
    kernel, bias = model.layers[0].kernel.values, model.layers[0].bias.values
    assert np.abs(kernel).max() <= np.sqrt(6 / 7) and np.all(bias == 0)


def test_seeded_shuffling_is_reproducible():
    data = gates.dataset("xor")

    def run(seed: int) -> np.ndarray:
        model = new_network(2, 2, [3], "tanh", "softmax", np.random.default_rng(0))
        fit(model, data.x, data.y, Settings(batch_size=1, epochs=5, seed=seed, shuffle=True))
        return model.layers[0].kernel.values

    assert np.array_equal(run(1), run(1)) and not np.array_equal(run(1), run(2))


def test_restarts_retry_until_all_rows_are_right():
    tries = []
    result = train(
        "xor",
        hidden=[4],
        settings=Settings(lr=0.5, epochs=300, batch_size=4, seed=0),
        restarts=6,
        on_attempt=tries.append,
    )
    assert result.accuracy == 1.0 and result.attempts == tries and len(tries) <= 6
    assert all(t.accuracy < 1.0 for t in tries[:-1])
    p = result.model.forward(result.model.data.x)
    assert (p.argmax(axis=1) == result.model.data.y.argmax(axis=1)).all()


def test_report_lists_rows_loss_and_accuracy():
    result = train("and", settings=Settings(seed=1))
    text = result.report()
    assert text.count("Input ") == 4 and "expected" in text
    assert f"loss {result.losses[-1]:.4f}" in text and "accuracy" in text


@pytest.mark.parametrize("suffix", [".h5", ".hdf", ".hdf5", ".keras", ".npz"])
def test_each_saved_format_loads_back(tmp_path, suffix, capsys):
    out = tmp_path / f"or{suffix}"
    main(["train", "or", "-o", str(out), "--seed", "4", "--quiet"])
    assert "accuracy" in capsys.readouterr().out
    try:
        back = gate2xlsx.load(out)
    except gate2xlsx.Gate2XlsxError as exc:
        if suffix == ".keras" and "not a model file" in str(exc):
            pytest.skip("the .keras reader is not in this checkout yet")
        raise
    expected = train("or", settings=Settings(seed=4)).model
    np.testing.assert_allclose(
        back.forward(gates.INPUTS), expected.forward(gates.INPUTS), atol=1e-6
    )
    assert back.data.name == "or" and np.array_equal(back.data.y, gates.dataset("or").y)
    assert (
        back.class_names == gates.CLASS_NAMES == ["False", "True"]
        and back.loss == "binary_crossentropy"
    )


@pytest.mark.parametrize("name", TRAINABLE_ACTIVATIONS)
def test_each_activation_backward_pass_matches_finite_differences(name):
    """The activation table's vjp column against central differences of its NumPy column."""
    from gate2xlsx.ir import activations

    entry = activations.get(name)
    x = np.random.default_rng(5).uniform(-3, 3, size=(4, 3))
    x[np.abs(x) < 1e-3] = 0.5  # keep away from relu's kink
    g = np.random.default_rng(6).normal(size=x.shape)
    got = entry.vjp(x, entry.numpy(x), g)
    h, want = 1e-6, np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += h
        down[idx] -= h
        want[idx] = np.sum(g * (entry.numpy(up) - entry.numpy(down))) / (2 * h)
    assert np.allclose(got, want, rtol=1e-6, atol=1e-7)
