"""The Training sheet, recalculated by LibreOffice, against real tf.keras 2.15 `fit` runs
(tests/fixtures/training: an initial model, the model Keras's fit reached, its history) and the
NumPy trainer run in float64, the sheet's own arithmetic.

Each initial file is exported as a user would (`gate2xlsx INIT --gate G --epochs ...`), all
workbooks recalculated in one LibreOffice run.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import openpyxl
import pytest

import gate2xlsx
from gate2xlsx.data import gates
from gate2xlsx.ir import fit
from gate2xlsx.readers.xlsx import named_cells, named_values, set_named_values
from gate2xlsx.sheet.names import weight_names
from tests.cached import mismatches
from tests.conftest import FIXTURES, cli_exit

TRAINING = FIXTURES / "training"
CASES = sorted(p.stem for p in TRAINING.glob("*.json"))


def _record(case: str) -> dict:
    return json.loads((TRAINING / f"{case}.json").read_text())


def _options(r: dict) -> list[str]:
    found = [
        "--gate",
        r["gate"],
        "--epochs",
        str(r["epochs"]),
        "--batch-size",
        str(r["batch_size"]),
        "--loss",
        r["loss"],
        "--optimizer",
        r["optimizer"],
        "--lr",
        str(r["lr"]),
    ]
    if r["optimizer"] in ("sgd", "rmsprop"):
        found += ["--momentum", str(r["momentum"])] + (["--nesterov"] if r["nesterov"] else [])
    return found


def _settings(r: dict, **changes) -> fit.Settings:
    given = dict(loss=r["loss"], optimizer=r["optimizer"], lr=r["lr"], momentum=r["momentum"],
                 nesterov=r["nesterov"], epochs=r["epochs"], batch_size=r["batch_size"],
                 shuffle=False)  # fmt: skip
    return fit.Settings(**{**given, **changes})


def _trained(wb: openpyxl.Workbook, model) -> list[np.ndarray]:
    names = weight_names(model)
    return [
        named_values(wb, "trained_" + names[(layer.name, key)]).ravel()
        for layer in model.layers
        for key in layer.weights()
    ]


def _numpy_run(case: str, **changes):
    r = _record(case)
    model = gate2xlsx.load(TRAINING / f"{case}.init.h5")
    history = fit.fit(
        model, np.array(r["x"]), np.array(r["y"]), _settings(r, **changes), dtype=np.float64
    )
    return model, history


def exported(case: str, book: Path) -> Path:
    """`gate2xlsx INIT -o BOOK --gate G --epochs N ...` with the case's settings."""
    args = [str(TRAINING / f"{case}.init.h5"), "-o", str(book), "--quiet"]
    assert cli_exit(args + _options(_record(case))) == 0
    return book


@pytest.fixture(scope="module")
def books(tmp_path_factory, request) -> dict[str, tuple[Path, openpyxl.Workbook]]:
    from gate2xlsx.engines.libreoffice import recalculate, soffice_path

    if soffice_path() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    folder = tmp_path_factory.mktemp("training")
    written = {}
    for case in CASES:
        written[case] = exported(case, folder / f"{case}.xlsx")
    done = recalculate(list(written.values()), folder / "recalculated")
    return {
        case: (book, openpyxl.load_workbook(path, data_only=True))
        for (case, book), path in zip(written.items(), done)
    }


@pytest.mark.libreoffice
@pytest.mark.parametrize("case", CASES)
def test_train_loss_is_keras_history(books, case):
    _, wb = books[case]
    np.testing.assert_allclose(
        named_values(wb, "train_loss").ravel(), _record(case)["losses"], rtol=0, atol=1e-5
    )


@pytest.mark.libreoffice
@pytest.mark.parametrize("case", CASES)
def test_trained_weights_are_what_keras_fit_reached(books, case):
    _, wb = books[case]
    start = gate2xlsx.load(TRAINING / f"{case}.init.h5")
    keras_fit = gate2xlsx.load(TRAINING / f"{case}.fit.h5")
    reached = [p.values.ravel() for layer in keras_fit.layers for p in layer.weights().values()]
    moved = max(np.max(np.abs(a - b.values.ravel())) for a, b in zip(reached, fit.params(start)))
    assert moved > 1e-3  # training moved the weights: the comparison below means something
    for sheet, keras in zip(_trained(wb, start), reached):
        np.testing.assert_allclose(sheet, keras, rtol=0, atol=1e-5)


@pytest.mark.libreoffice
@pytest.mark.parametrize("case", CASES)
def test_every_step_equals_the_numpy_trainer(books, case):
    book, wb = books[case]
    model, history = _numpy_run(case)
    np.testing.assert_allclose(
        named_values(wb, "train_loss").ravel(), history, rtol=1e-9, atol=1e-12
    )
    for sheet, numpy_weights in zip(_trained(wb, model), fit.params(model)):
        np.testing.assert_allclose(sheet, numpy_weights.values.ravel(), rtol=1e-9, atol=1e-12)
    assert mismatches(book, wb) == []  # every cached value is what LibreOffice computes


@pytest.mark.libreoffice
@pytest.mark.parametrize("case", CASES)
def test_accuracy_and_gradient_check(books, case):
    _, wb = books[case]
    model, _ = _numpy_run(case)
    r = _record(case)
    accuracy = named_values(wb, "train_accuracy").ravel()
    assert accuracy.shape == (r["epochs"],) and ((accuracy >= 0) & (accuracy <= 1)).all()
    ws = wb["Training"]
    found = {ws.cell(row, 1).value: ws.cell(row, 2).value for row in range(1, 60)}
    backprop = next(v for k, v in found.items() if str(k).startswith("backprop"))
    estimate = next(v for k, v in found.items() if str(k).startswith("finite difference"))
    assert backprop != 0 and abs(backprop - estimate) <= 1e-6 * max(1, abs(backprop))


def test_half_learning_rate_reruns_training_as_train_does(engine, tmp_path):
    case = "xor_tanh_cce"
    r = _record(case)
    book = exported(case, tmp_path / "edited.xlsx")
    wb = openpyxl.load_workbook(book)
    set_named_values(wb, "learning_rate", np.array([[r["lr"] / 2]]))
    wb.save(book)
    trained = tmp_path / "half.npz"
    args = [
        "train",
        r["gate"],
        "--from",
        str(TRAINING / f"{case}.init.h5"),
        "-o",
        str(trained),
        "--loss",
        r["loss"],
        "--optimizer",
        r["optimizer"],
        "--lr",
        str(r["lr"] / 2),
        "--epochs",
        str(r["epochs"]),
        "--batch-size",
        str(r["batch_size"]),
        "--no-shuffle",
        "--quiet",
    ]
    assert cli_exit(args) == 0
    expected = gate2xlsx.load(trained)
    recalculated = engine.recalc(book)[0]
    start = gate2xlsx.load(TRAINING / f"{case}.init.h5")
    for sheet, weights in zip(_trained(recalculated, start), fit.params(expected)):
        np.testing.assert_allclose(sheet, weights.values.ravel(), rtol=0, atol=1e-6)


def test_use_trained_switches_every_sheet_to_the_trained_weights(engine, tmp_path):
    case = "xor_adam"
    book = tmp_path / "switched.xlsx"
    exported(case, book)
    wb = openpyxl.load_workbook(book)
    set_named_values(wb, "use_trained", np.array([[1]]))
    wb.save(book)
    trained, _ = _numpy_run(case)
    start = gate2xlsx.load(TRAINING / f"{case}.init.h5")
    x = gates.dataset("xor").x
    recalculated = engine.recalc(book)[0]
    values = {n: named_values(recalculated, n) for n in ("data_outputs", "map_outputs")}
    verdict = named_cells(recalculated, "check_result")[0][0].value
    assert verdict == "PASS"  # the Check's reference switched too
    np.testing.assert_allclose(values["data_outputs"], trained.forward(x), rtol=1e-9, atol=1e-12)
    assert np.abs(values["data_outputs"] - start.forward(x)).max() > 1e-3
    grid = engine.values(book, "map_inputs")["map_inputs"]
    np.testing.assert_allclose(values["map_outputs"], trained.forward(grid), rtol=1e-9, atol=1e-12)


def test_extract_trained_writes_the_weights_training_reached(tmp_path):
    case = "or_momentum"
    book = tmp_path / "or.xlsx"
    exported(case, book)
    out = tmp_path / "trained.h5"
    assert cli_exit(["extract", str(book), "--trained", "-o", str(out)]) == 0
    model, _ = _numpy_run(case)
    for got, want in zip(fit.params(gate2xlsx.load(out)), fit.params(model)):
        np.testing.assert_allclose(got.values, np.float32(want.values), rtol=0, atol=0)


def test_a_copy_of_the_model_is_not_changed(tmp_path):
    model = gate2xlsx.load(TRAINING / "or_sgd.init.h5")
    before = copy.deepcopy(model)
    from gate2xlsx.app.export import export_workbook
    from gate2xlsx.app.options import TrainingOptions

    export_workbook(model, tmp_path / "o.xlsx", gate="or", training=TrainingOptions(epochs=5))
    assert model == before


def _made_up(output: str, hidden: str, outputs: int) -> gate2xlsx.Model:
    from gate2xlsx.ir.families.dense import Activation, Dense
    from gate2xlsx.ir.layer import Act, Param

    rng = np.random.default_rng(7)
    layers = [
        Dense("hidden", "Dense", Param(rng.normal(0, 1, (2, 3))), Param(rng.normal(0, 0.1, 3)),
              Act(hidden)),
        Dense("out", "Dense", Param(rng.normal(0, 1, (3, outputs))), Param(np.zeros(outputs))),
        Activation("act", "Activation", Act(output)),
    ]  # fmt: skip
    return gate2xlsx.Model.chain(2, layers, name="made_up")


# Losses the fixtures do not reach: cross-entropy of an output that is no sigmoid or softmax
# (clipped probabilities), mse on a linear output, the other activations' derivatives.
MADE_UP = [
    ("tanh", "elu", 1, "binary_crossentropy", "sgd"),
    ("linear", "softplus", 1, "mse", "adam"),
    ("sigmoid", "softsign", 2, "mse", "rmsprop"),
    ("softmax", "silu", 2, "binary_crossentropy", "adam"),
    ("exponential", "sigmoid", 1, "mse", "sgd"),
]


@pytest.mark.libreoffice
@pytest.mark.parametrize("output, hidden, outputs, loss, optimizer", MADE_UP)
def test_other_losses_and_activations_train_as_the_numpy_trainer(
    output, hidden, outputs, loss, optimizer, engine, tmp_path
):
    from gate2xlsx.app.export import export_workbook, training_spec
    from gate2xlsx.app.options import TrainingOptions

    model = _made_up(output, hidden, outputs)
    spec = training_spec(
        model, TrainingOptions(15, optimizer=optimizer, lr=0.05, batch_size=3), loss
    )
    book = tmp_path / "made_up.xlsx"
    export_workbook(model, book, gate="xor", loss=loss, training=spec)
    wb = engine.recalc(book)[0]
    data = gates.dataset("xor")
    y = data.y if outputs == 2 else data.y[:, 1:]
    reference = copy.deepcopy(model)
    history = fit.fit(reference, data.x, y, spec.settings, dtype=np.float64)
    np.testing.assert_allclose(named_values(wb, "train_loss").ravel(), history, rtol=1e-9,
                               atol=1e-12)  # fmt: skip
    for sheet, weights in zip(_trained(wb, model), fit.params(reference)):
        np.testing.assert_allclose(sheet, weights.values.ravel(), rtol=1e-9, atol=1e-12)
    assert max(np.abs(a.values - b.values).max() for a, b in
               zip(fit.params(model), fit.params(reference))) > 1e-3  # fmt: skip
    assert mismatches(book, wb) == []
