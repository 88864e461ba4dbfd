"""The Training sheet's plan without an engine: its settings and their defaults, its names,
its refusals (one clear line each), and the budget. Values are checked in
tests/engine/test_training_sheet.py (LibreOffice against real Keras fit runs)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import gate2xlsx
from gate2xlsx.app.export import decide, fresh_start, training_spec
from gate2xlsx.app.options import ExportOptions, TrainingOptions
from gate2xlsx.errors import InputError, UnsupportedModelError
from gate2xlsx.ir.families.dense import Identity
from gate2xlsx.ir.model import chain_graph
from gate2xlsx.sheet.plan import plan_workbook
from gate2xlsx.sheet.training.band import CELL_BUDGET
from tests.conftest import FIXTURES, SAMPLES, cli_exit


def _plan(model, gate="or", **options):
    training = training_spec(model, TrainingOptions(**options))
    spec, _, _ = decide(model, ExportOptions(gate=gate, training=training))
    return plan_workbook(model, spec)


def test_defaults_come_from_the_files_training_config():
    lesson = training_spec(gate2xlsx.load(SAMPLES / "or.hdf"), TrainingOptions(50)).settings
    assert (lesson.optimizer, lesson.lr, lesson.loss) == ("sgd", 0.2, "binary_crossentropy")
    xor = training_spec(gate2xlsx.load(SAMPLES / "xor.h5"), TrainingOptions(10)).settings
    assert (xor.optimizer, xor.lr, xor.loss) == ("adam", 0.05, "categorical_crossentropy")
    assert (xor.beta_1, xor.beta_2, xor.epsilon) == (0.9, 0.999, 1e-7)


def test_given_options_win_and_another_optimizer_drops_the_files_settings():
    model = gate2xlsx.load(SAMPLES / "xor.h5")
    s = training_spec(
        model, TrainingOptions(3, optimizer="sgd", momentum=0.5, batch_size=2)
    ).settings
    assert (s.optimizer, s.lr, s.momentum, s.batch_size, s.shuffle) == ("sgd", 0.2, 0.5, 2, False)
    assert training_spec(model, TrainingOptions(3, lr=0.01)).settings.lr == 0.01


def test_training_options_without_epochs_say_what_is_missing():
    with pytest.raises(InputError, match="--batch-size, --lr set up the Training sheet"):
        training_spec(gate2xlsx.load(SAMPLES / "or.hdf"), TrainingOptions(lr=0.1, batch_size=2))
    assert training_spec(gate2xlsx.load(SAMPLES / "or.hdf"), TrainingOptions()) is None


@pytest.mark.parametrize(
    "options, message",
    [
        ({"optimizer": "adagrad"}, "--optimizer must be one of sgd, adam, rmsprop"),
        ({"momentum": 1.5}, r"--momentum must be in \[0, 1\)"),
        ({"lr": -1.0}, "--lr must be a positive number"),
    ],
)
def test_bad_settings_are_refused_by_name(options, message):
    with pytest.raises(InputError, match=message):
        training_spec(gate2xlsx.load(SAMPLES / "or.hdf"), TrainingOptions(5, **options))


def test_names_of_the_contract_and_their_shapes():
    model = gate2xlsx.load(SAMPLES / "xor.h5")
    plan = _plan(model, epochs=7, gate="xor")
    names = plan.names()
    for name in ("learning_rate", "beta_1", "beta_2", "epsilon", "use_trained"):
        assert names[name].startswith("Training!") and ":" not in names[name]
    assert names["train_loss"].startswith("Training!$B$")
    blocks = {r.name: r.block for s in plan.sheets for r in s.regions if r.name}
    assert blocks["train_loss"].rows == blocks["train_accuracy"].rows == 7
    for layer in model.weighted_layers():
        for key in layer.weights():
            start, trained = blocks[f"{layer.name}_{key}"], blocks[f"trained_{layer.name}_{key}"]
            assert (start.rows, start.cols) == (trained.rows, trained.cols)
    sgd = _plan(gate2xlsx.load(SAMPLES / "or.hdf"), epochs=2).names()
    assert "momentum" in sgd and "beta_1" not in sgd


def test_a_fresh_start_is_glorot_uniform_with_zero_biases():
    model = gate2xlsx.load(SAMPLES / "xor.h5")
    fresh = fresh_start(model, 3)
    for old, new in zip(model.weighted_layers(), fresh.weighted_layers()):
        n_in, n_out = new.kernel.values.shape
        limit = np.sqrt(6 / (n_in + n_out))
        assert np.abs(new.kernel.values).max() <= limit and not np.array_equal(
            new.kernel.values, old.kernel.values
        )
        assert not new.bias.values.any()
    assert np.array_equal(
        fresh_start(model, 3).layers[0].kernel.values, fresh.layers[0].kernel.values
    )


def test_layers_training_cannot_follow_are_refused_by_name():
    model = gate2xlsx.load(SAMPLES / "or.hdf")
    first, *rest = model.layers
    model = replace(model, graph=chain_graph(2, [first, Identity("dropout", "Dropout"), *rest]))
    with pytest.raises(UnsupportedModelError, match="'dropout' \\(Dropout\\) cannot be trained"):
        _plan(model, epochs=2)


def test_rows_without_targets_are_refused():
    model = gate2xlsx.load(SAMPLES / "or.hdf")
    spec, _, _ = decide(
        model, ExportOptions(infer=False, training=training_spec(model, TrainingOptions(2)))
    )
    with pytest.raises(InputError, match="needs rows with targets"):
        plan_workbook(model, spec)


def test_past_the_budget_the_export_says_how_many_epochs_fit():
    model = gate2xlsx.load(FIXTURES / "training" / "xor_tanh_cce.init.h5")
    with pytest.raises(InputError) as found:
        _plan(model, epochs=10**6, batch_size=1, gate="xor")
    message = str(found.value)
    assert f"budget of {CELL_BUDGET:,}" in message
    per_step = int(message.split("(")[1].split()[0].replace(",", ""))
    fit = int(message.split("give --epochs ")[1].split()[0])
    steps_per_epoch = 4  # four rows, batches of one
    assert fit * per_step * steps_per_epoch <= CELL_BUDGET < (fit + 1) * per_step * steps_per_epoch


def test_cli_refuses_training_flags_without_epochs_in_one_line(tmp_path, capsys):
    code = cli_exit([str(SAMPLES / "or.hdf"), "-o", str(tmp_path / "o.xlsx"), "--lr", "0.1"])
    err = capsys.readouterr().err
    assert code != 0 and "--epochs N" in err and "Traceback" not in err
    assert not (tmp_path / "o.xlsx").exists()
