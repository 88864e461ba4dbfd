"""The first hour as a newcomer lives it: usage slips, wrong files, data traps, training hints.

The command runs as the user installed it. CI builds a venv with `pip install .` alone (no
test extras, so nothing the runtime lacks is hidden) and points GATE2XLSX_RUNTIME_BIN at its
`gate2xlsx`; elsewhere the tests run this interpreter's `python -m gate2xlsx`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import h5py
import numpy as np
import openpyxl
import pytest
from conftest import FIXTURES, SAMPLES, _in_ci

import gate2xlsx
from gate2xlsx.readers.xlsx import named_values

RUNTIME = os.environ.get("GATE2XLSX_RUNTIME_BIN")


def gate2xlsx_cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    command = [RUNTIME] if RUNTIME else [sys.executable, "-m", "gate2xlsx"]
    return subprocess.run([*command, *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)  # fmt: skip


def test_ci_runs_these_with_the_runtime_dependencies_alone():
    if _in_ci():
        assert RUNTIME, "CI must set GATE2XLSX_RUNTIME_BIN (a venv made with `pip install .`)"
        assert not RUNTIME.startswith(sys.prefix), "the runtime venv is not the test venv"


def usage_slip(done: subprocess.CompletedProcess, command: str, says: str) -> None:
    """As click prints it: the usage line, where help is, one Error line; exit 2."""
    assert done.returncode == 2, done
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith("Usage: gate2xlsx "), done.stderr
    assert f"Try '{command} --help' for help." in lines
    assert lines[-1].startswith("Error: ") and says in lines[-1], done.stderr
    assert "Traceback" not in done.stderr and "unexpected failure" not in done.stderr


@pytest.mark.parametrize(
    "args, command, says",
    [
        (["--gates", "or", str(SAMPLES / "or.hdf")], "gate2xlsx export",
         "No such option: --gates (Possible options: --data, --gate, --labels)"),
        (["train", "or", "--lr", "abc", "-o", "x.h5"], "gate2xlsx train",
         "Invalid value for '--lr': 'abc' is not a valid float."),
        (["trian", "or"], "gate2xlsx", "No such command 'trian'. Did you mean 'train'?"),
        (["train", "or"], "gate2xlsx train", "Missing option '-o'."),
        (["inspect"], "gate2xlsx inspect", "Missing argument 'MODEL'."),
        (["train", "or", "--output", "sigmoid", "-o", "x.h5"], "gate2xlsx train",
         "--output was renamed --output-activation"),
    ],
)  # fmt: skip
def test_usage_slips_are_a_usage_message_and_exit_2(tmp_path, args, command, says):
    usage_slip(gate2xlsx_cli(*args, cwd=tmp_path), command, says)
    assert list(tmp_path.iterdir()) == []


def test_the_bare_command_shows_its_help_and_exits_2():
    done = gate2xlsx_cli()
    assert done.returncode == 2 and "Usage: gate2xlsx MODEL" in done.stdout
    assert "export" in done.stdout and "train" in done.stdout


def test_negative_numbers_are_inputs():
    done = gate2xlsx_cli("predict", str(SAMPLES / "or.hdf"), "-1", "0")
    assert done.returncode == 0, done.stderr
    expected = gate2xlsx.load(SAMPLES / "or.hdf").forward([[-1, 0]])[0, 1]
    assert f"{expected:.6f}" in done.stdout


def test_every_option_is_described():
    from gate2xlsx.cli.commands import command

    root = command()
    for name, sub in [("", root), *root.commands.items()]:
        for param in sub.params:
            hidden = getattr(param, "hidden", False)  # only the renamed train --output
            assert param.help and (not hidden or param.opts == ["--output"]), (name, param.opts)
        shown = gate2xlsx_cli(*[name][: bool(name)], "--help")
        assert shown.returncode == 0 and shown.stdout.startswith("Usage: gate2xlsx"), shown
        assert " object at 0x" not in shown.stdout and "<function" not in shown.stdout


# --- wrong files ---------------------------------------------------------------------------


def test_verify_on_a_model_file_says_what_it_needs():
    done = gate2xlsx_cli("verify", str(SAMPLES / "or.hdf"))
    assert done.returncode == 2
    assert (
        "this is a Keras HDF5 model file; verify checks a workbook made by gate2xlsx" in done.stderr
    )
    assert "Hint: gate2xlsx or.hdf -o or.xlsx first" in done.stderr


@pytest.mark.parametrize(
    "name, words",
    [
        ("onnx/leaky_regression.onnx", "an ONNX model file"),
        ("onnx/three_classes.skops", "a scikit-learn .skops file"),
    ],
)
def test_verify_names_every_model_kind_the_readers_know(name, words):
    """verify, the readers and the writers share one table of file kinds (formats/file_kinds)."""
    done = gate2xlsx_cli("verify", str(FIXTURES / name))
    assert done.returncode == 2
    assert f"this is {words}; verify checks a workbook made by gate2xlsx" in done.stderr


def _weights_only(tmp_path):
    """or.hdf's weights alone (as save_weights writes them) and its config."""
    with h5py.File(SAMPLES / "or.hdf") as src, h5py.File(tmp_path / "weights.h5", "w") as dst:
        for key, value in src["model_weights"].attrs.items():
            dst.attrs[key] = value
        for name in src["model_weights"]:
            src.copy(src["model_weights"][name], dst, name)
        config = json.loads(src.attrs["model_config"])
    return tmp_path / "weights.h5", config


def test_a_tfjs_model_json_is_an_architecture(tmp_path):
    weights, config = _weights_only(tmp_path)
    tfjs = tmp_path / "model.json"
    tfjs.write_text(json.dumps({"format": "layers-model", "modelTopology": {
        "keras_version": "2.15.0", "backend": "tensorflow", "model_config": config},
        "weightsManifest": []}))  # fmt: skip
    model = gate2xlsx.load(weights, architecture=tfjs)
    np.testing.assert_array_equal(model.forward([[0, 1]]),
                                  gate2xlsx.load(SAMPLES / "or.hdf").forward([[0, 1]]))  # fmt: skip
    assert model.source.keras_version == "2.15.0"
    shown = gate2xlsx_cli("inspect", str(weights), "--architecture", str(tfjs))
    assert shown.returncode == 0 and "dense" in shown.stdout, shown.stderr


def test_a_json_that_is_no_model_names_the_json_file(tmp_path):
    weights, _ = _weights_only(tmp_path)
    other = tmp_path / "other.json"
    other.write_text('{"modelTopology": {"weights": []}}')
    done = gate2xlsx_cli(str(weights), "--architecture", str(other), "-o", str(tmp_path / "x.xlsx"))
    assert done.returncode == 2 and done.stderr.startswith(f"Error: {other}: not a Keras model")


def test_an_architecture_of_another_model_names_the_missing_layer(tmp_path):
    weights, config = _weights_only(tmp_path)
    renamed = tmp_path / "renamed.json"
    renamed.write_text(json.dumps(config).replace('"dense"', '"dense_21"'))
    done = gate2xlsx_cli(
        str(weights), "--architecture", str(renamed), "-o", str(tmp_path / "x.xlsx")
    )
    assert done.returncode == 2
    assert "the file has no layer 'dense_21'; its layers with weights are: dense" in done.stderr


def test_a_cut_short_file_says_so(tmp_path):
    data = (SAMPLES / "or.hdf").read_bytes()
    cut = tmp_path / "cut.h5"
    cut.write_bytes(data[: len(data) // 2])
    done = gate2xlsx_cli("inspect", str(cut))
    assert done.returncode == 2
    assert (
        f"the file is cut short: it has {len(data) // 2:,} of the {len(data):,} bytes"
        in done.stderr
    )


def test_a_config_nested_too_deep_is_not_called_damaged(tmp_path):
    weights, _ = _weights_only(tmp_path)
    deep = tmp_path / "deep.json"
    deep.write_text('{"class_name": "Sequential", "config": ' + "[" * 200_000 + "]" * 200_000 + "}")
    done = gate2xlsx_cli(str(weights), "--architecture", str(deep), "-o", str(tmp_path / "x.xlsx"))
    assert done.returncode == 2 and "nested deeper than gate2xlsx follows" in done.stderr
    assert "damaged" not in done.stderr and "recursion" not in done.stderr


def test_many_unsupported_layers_are_grouped_and_short(tmp_path):
    layers = [
        {
            "class_name": "InputLayer",
            "config": {"name": "in", "batch_input_shape": [None, 28, 28, 1]},
        }
    ]
    layers += [{"class_name": cls, "config": {"name": f"{cls.lower()}_{i}"}}
               for cls in ("Conv3D", "MaxPooling3D", "UpSampling3D") for i in range(4)]  # fmt: skip
    path = tmp_path / "autoencoder.h5"
    with h5py.File(path, "w") as f:
        f.attrs["model_config"] = json.dumps(
            {"class_name": "Sequential", "config": {"layers": layers}}
        )
        f.attrs["keras_version"] = "2.15.0"
        f.create_group("model_weights").attrs["layer_names"] = np.array([], dtype="S1")
    done = gate2xlsx_cli(str(path), "-o", str(tmp_path / "x.xlsx"))
    error, hint = done.stderr.strip().splitlines()
    said = error.removeprefix(f"Error: {path}: ")
    assert done.returncode == 2 and len(said) < 250, error  # the old line: 1,326 characters
    assert said.startswith("12 layers are not layers gate2xlsx can compute: Conv3D (conv3d_0, "
                           "conv3d_1 and 2 more), MaxPooling3D (")  # fmt: skip
    assert hint.startswith("Hint: Supported layers: ") and "Dense" in hint


# --- data traps ----------------------------------------------------------------------------


def _table(tmp_path, rows, header="a,b,label", sep=",", name="table.csv"):
    path = tmp_path / name
    path.write_text(
        header.replace(",", sep) + "\n" + "".join(sep.join(map(str, r)) + "\n" for r in rows)
    )
    return path


def _points(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return [
        (round(a, 3), round(b, 3), "True" if a > b else "False")
        for a, b in rng.uniform(size=(n, 2))
    ]


def test_a_label_typo_is_named_and_training_stops(tmp_path):
    rows = _points()
    rows[7] = (*rows[7][:2], "ture")
    data = _table(tmp_path, rows)
    out = tmp_path / "m.h5"
    done = gate2xlsx_cli("train", "--data", str(data), "-o", str(out), "--quiet")
    assert done.returncode == 2 and "label 'ture' appears in 1 row" in done.stderr
    assert "--allow-rare-labels" in done.stderr and not out.exists()
    kept = gate2xlsx_cli("train", "--data", str(data), "-o", str(out), "--quiet", "--epochs", "2",
                         "--allow-rare-labels")  # fmt: skip
    assert kept.returncode == 0 and gate2xlsx.load(out).n_outputs == 3, kept.stderr


def test_labels_that_differ_only_by_case_are_named(tmp_path):
    rows = [(*r[:2], r[2].lower() if k % 2 else r[2]) for k, r in enumerate(_points())]
    done = gate2xlsx_cli(
        "train", "--data", str(_table(tmp_path, rows)), "-o", str(tmp_path / "m.h5")
    )
    assert done.returncode == 2 and "differ only by case" in done.stderr


@pytest.mark.parametrize("sep", [";", "\t"])
def test_semicolon_and_tab_tables_read_like_commas(tmp_path, sep):
    data = _table(tmp_path, _points(12), sep=sep)
    out = tmp_path / "m.npz"
    done = gate2xlsx_cli("train", "--data", str(data), "-o", str(out), "--epochs", "2", "--quiet")
    assert done.returncode == 0, done.stderr
    assert gate2xlsx.load(out).input_names == ["a", "b"]


def test_predict_refuses_a_table_of_the_wrong_width(tmp_path):
    data = _table(tmp_path, [(0, 1, 1)], header="a,b,c")
    done = gate2xlsx_cli("predict", str(SAMPLES / "or.hdf"), "--data", str(data))
    assert done.returncode == 2 and "has 3 columns but the model takes 2 inputs" in done.stderr


@pytest.mark.parametrize("name", ["out.csv", "noext", "out.xls"])
def test_a_workbook_name_must_end_in_xlsx(tmp_path, name):
    done = gate2xlsx_cli(str(SAMPLES / "or.hdf"), "-o", str(tmp_path / name))
    assert done.returncode == 2 and "a workbook's name ends in .xlsx" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_export_takes_data_of_one_class(tmp_path):
    data = _table(tmp_path, [(0, 1, "True"), (1, 0, "True"), (1, 1, "True")])
    book = tmp_path / "or.xlsx"
    done = gate2xlsx_cli(str(SAMPLES / "or.hdf"), "--data", str(data), "-o", str(book))
    assert done.returncode == 0, done.stderr
    targets = named_values(openpyxl.load_workbook(book), "data_targets")
    assert targets.tolist() == [[0, 1]] * 3  # "True" is the model's second class


def test_one_class_labels_find_their_class_by_name_or_index(tmp_path):
    from gate2xlsx.app.export import decide
    from gate2xlsx.app.options import ExportOptions

    model = gate2xlsx.load(SAMPLES / "or.hdf")
    by_index = _table(tmp_path, [(0, 0, 0), (1, 1, 0)], name="index.csv")
    spec, _, _ = decide(model, ExportOptions(data=by_index))
    assert spec.rows.y.tolist() == [[1, 0], [1, 0]]  # label 0 is the first class
    named = _table(tmp_path, [(0, 0, "off")], name="named.csv")
    assert decide(model, ExportOptions(data=named, labels=["off", "on"]))[0].rows.y.tolist() == [
        [1, 0]
    ]
    with pytest.raises(gate2xlsx.Gate2XlsxError, match="label 'maybe' is none of the model's 2"):
        decide(model, ExportOptions(data=_table(tmp_path, [(0, 0, "maybe")], name="odd.csv")))


def gate2xlsx_settings(**kw):
    from gate2xlsx.ir.fit import Settings

    return Settings(loss=None, seed=1, **kw)  # None: the loss the class count calls for


def test_the_default_loss_follows_the_number_of_classes(tmp_path):
    rng = np.random.default_rng(2)
    rows = [(round(a, 3), round(b, 3), "abc"[int(a * 3)]) for a, b in rng.uniform(size=(30, 2))]
    three = gate2xlsx.train(data=str(_table(tmp_path, rows)), settings=gate2xlsx_settings(epochs=2))
    assert three.settings.loss == "categorical_crossentropy"
    two = gate2xlsx.train("or", settings=gate2xlsx_settings(epochs=2))
    assert two.settings.loss == "binary_crossentropy"


# --- training guidance ---------------------------------------------------------------------


def test_the_seed_is_named_and_repeats_the_run(tmp_path):
    first = gate2xlsx_cli("train", "or", "-o", str(tmp_path / "a.h5"), "--quiet")
    assert first.returncode == 0, first.stderr
    seed = first.stdout.split("Seed: ")[1].split()[0]
    again = gate2xlsx_cli("train", "or", "--seed", seed, "-o", str(tmp_path / "b.h5"), "--quiet")
    assert (tmp_path / "a.h5").read_bytes() == (tmp_path / "b.h5").read_bytes()
    assert f"Seed: {seed}" in again.stdout


def test_seed_3_twice_writes_identical_files(tmp_path):
    for name in ("one.h5", "two.h5"):
        done = gate2xlsx_cli("train", "or", "--seed", "3", "-o", str(tmp_path / name), "--quiet")
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "one.h5").read_bytes() == (tmp_path / "two.h5").read_bytes()


def test_xor_without_a_hidden_layer_ends_with_a_hint_naming_it(tmp_path):
    done = gate2xlsx_cli("train", "xor", "--seed", "1", "-o", str(tmp_path / "x.h5"), "--quiet")
    assert done.returncode == 0, done.stderr
    assert "Hint: XOR cannot be drawn with one straight line" in done.stdout
    assert "--hidden 4" in done.stdout
    learned = gate2xlsx_cli("train", "xor", "--hidden", "4", "--optimizer", "adam", "--lr", "0.05",
                            "--epochs", "500", "--seed", "1", "-o", str(tmp_path / "y.h5"),
                            "--quiet")  # fmt: skip
    assert "accuracy 100%" in learned.stdout and "Hint:" not in learned.stdout


def test_a_training_sheet_as_a_newcomer_asks_for_it(tmp_path):
    book = tmp_path / "or.xlsx"
    done = gate2xlsx_cli(str(SAMPLES / "or.hdf"), "-o", str(book), "--epochs", "5", "--quiet")
    assert done.returncode == 0, done.stderr
    assert "Training" in done.stdout
    trained = tmp_path / "trained.h5"
    done = gate2xlsx_cli("extract", str(book), "--trained", "-o", str(trained))
    assert done.returncode == 0 and trained.exists(), done.stderr
    for args, says in (
        ([str(SAMPLES / "or.hdf"), "-o", str(tmp_path / "x.xlsx"), "--lr", "0.1"], "--epochs N"),
        (["extract", str(SAMPLES / "or.xlsx"), "--trained", "-o", str(tmp_path / "x.h5")],
         "no Training sheet"),
    ):  # fmt: skip
        wrong = gate2xlsx_cli(*args)
        errors = [line for line in wrong.stderr.splitlines() if line.startswith("Error:")]
        assert wrong.returncode != 0 and len(errors) == 1 and says in errors[0], wrong.stderr
        assert "Traceback" not in wrong.stderr
    assert not (tmp_path / "x.xlsx").exists() and not (tmp_path / "x.h5").exists()


ONNX_FIXTURES = SAMPLES.parent / "tests" / "fixtures" / "onnx"


def test_a_pytorch_model_goes_in_as_onnx_and_comes_out_as_onnx(tmp_path):
    """The README's three lines for PyTorch, with the runtime dependencies alone."""
    book, back = tmp_path / "or.xlsx", tmp_path / "edited.onnx"
    done = gate2xlsx_cli(str(ONNX_FIXTURES / "or_softmax.dynamo.onnx"), "-o", str(book), "--quiet")
    assert done.returncode == 0, done.stderr
    done = gate2xlsx_cli("extract", str(book), "-o", str(back))
    assert done.returncode == 0, done.stderr
    assert gate2xlsx.load(back).count_params() == 6


@pytest.mark.parametrize("file", ["binary_strings.pkl", "three_classes.joblib"])
def test_a_pickle_is_one_line_pointing_to_skops_and_nothing_is_written(tmp_path, file):
    out = tmp_path / "model.xlsx"
    done = gate2xlsx_cli(str(ONNX_FIXTURES / file), "-o", str(out))
    assert done.returncode != 0 and not out.exists()
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "pickle" in errors[0], done.stderr
    assert "skops.io.dump" in done.stderr and "torch.onnx.export" in done.stderr
