"""The command line on typer: typer is a dependency of the installed package and of the CLI
alone, click says the usage slips (with their suggestions), completion comes with it, and
--activations reaches the reader from every command that reads a model."""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLES

import gate2xlsx

RUNTIME = os.environ.get("GATE2XLSX_RUNTIME_BIN")  # CI: a venv made by `pip install .` alone
PACKAGE = Path(gate2xlsx.__file__).parent


def cli(*args: str, cwd=None, env=None) -> subprocess.CompletedProcess:
    command = [RUNTIME] if RUNTIME else [sys.executable, "-m", "gate2xlsx"]
    return subprocess.run([*command, *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=300)  # fmt: skip


def slip(done: subprocess.CompletedProcess) -> str:
    """The one Error line of a usage slip, said as click says it (exit 2, no traceback)."""
    assert done.returncode == 2, done
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith("Usage: gate2xlsx") and "Traceback" not in done.stderr, done.stderr
    assert [line for line in lines if line.startswith("Error: ")] == [lines[-1]], done.stderr
    return lines[-1]


# --- typer: a dependency, of the CLI only ---------------------------------------------------


def test_the_installed_package_requires_typer():
    requires = importlib.metadata.requires("gate2xlsx") or []
    typer = [r for r in requires if re.match(r"typer\b", r)]
    assert typer == ["typer>=0.29"], requires  # no extra marker: installed with gate2xlsx


def _modules_after(code: str, cwd: Path) -> list[str]:
    probe = (f"import sys\n{code}\nprint(sorted({{m.split('.')[0] for m in sys.modules}} & "
             "{'typer', 'pydantic', 'rich', 'argparse'}))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=cwd, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return eval(done.stdout.strip().splitlines()[-1])


def test_the_library_never_imports_typer(tmp_path):
    code = f"import gate2xlsx; gate2xlsx.load({str(SAMPLES / 'or.hdf')!r})"
    assert "typer" not in _modules_after(code, tmp_path)


@pytest.mark.parametrize("args", [["--version"], ["--help"], [str(SAMPLES / "or.hdf"), "-o",
                                                               "or.xlsx", "--quiet"]])  # fmt: skip
def test_the_cli_imports_neither_pydantic_nor_rich(tmp_path, args):
    """typer would convert each value through pydantic (0.3 s here) and draw help with rich;
    the CLI converts its plain values itself (cli/values.py) and prints click's plain help."""
    code = f"from gate2xlsx.cli import main\ntry:\n    main({args!r})\nexcept SystemExit:\n    pass"
    assert _modules_after(code, tmp_path) == ["typer"]


def test_no_argparse_parser_is_left():
    sources = {p: p.read_text("utf-8") for p in PACKAGE.rglob("*.py")}
    uses = [str(p) for p, text in sources.items() if re.search(r"^\s*(import|from) argparse\b",
                                                               text, re.M)]  # fmt: skip
    assert uses == [] and not (PACKAGE / "cli" / "usage.py").exists()


# --- completion -----------------------------------------------------------------------------


def test_help_offers_completion():
    shown = cli("--help")
    assert shown.returncode == 0
    assert "--install-completion" in shown.stdout and "--show-completion" in shown.stdout


@pytest.mark.parametrize(
    "shell, says",
    [("bash", "complete -o default -F _gate2xlsx_completion gate2xlsx"),
     ("zsh", "#compdef gate2xlsx"), ("fish", "complete --command gate2xlsx")],
)  # fmt: skip
def test_show_completion_prints_the_named_shells_script_and_writes_nothing(tmp_path, shell, says):
    done = cli("--show-completion", shell, cwd=tmp_path, env={"HOME": str(tmp_path)})
    assert done.returncode == 0 and says in done.stdout, done
    assert "_GATE2XLSX_COMPLETE" in done.stdout and list(tmp_path.iterdir()) == []


def test_install_completion_writes_the_script_under_home_and_sources_it(tmp_path):
    done = cli("--install-completion", "bash", cwd=tmp_path, env={"HOME": str(tmp_path)})
    assert done.returncode == 0 and "bash completion installed in" in done.stdout, done
    script = tmp_path / ".bash_completions" / "gate2xlsx.sh"
    assert "_GATE2XLSX_COMPLETE" in script.read_text()
    assert f"source '{script}'" in (tmp_path / ".bashrc").read_text()


def test_the_script_completes_command_names(tmp_path):
    """What the bash script asks the command when TAB is pressed after `gate2xlsx ex`."""
    env = {"_GATE2XLSX_COMPLETE": "complete_bash", "COMP_WORDS": "gate2xlsx ex", "COMP_CWORD": "1"}
    done = cli(cwd=tmp_path, env=env)
    assert done.returncode == 0 and done.stdout.split() == ["export", "extract"], done


# --- usage slips ----------------------------------------------------------------------------


@pytest.mark.parametrize("word, near", [("exprot", "export"), ("inspcet", "inspect"),
                                        ("predcit", "predict")])  # fmt: skip
def test_a_mistyped_command_suggests_the_right_one(tmp_path, word, near):
    said = slip(cli(word, "or.hdf", cwd=tmp_path))
    assert said == f"Error: No such command '{word}'. Did you mean '{near}'?"


def test_a_file_named_like_a_command_is_a_model(tmp_path):
    (tmp_path / "exprot").write_text("hello")
    done = cli("exprot", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.startswith("Error: exprot: not a model file")


@pytest.mark.parametrize(
    "args, bad, near",
    [([str(SAMPLES / "or.hdf"), "--quitet"], "--quitet", "--quiet"),
     (["predict", str(SAMPLES / "or.hdf"), "0", "-1", "--dat", "x.csv"], "--dat", "--data"),
     (["train", "or", "-o", "x.h5", "--hiden", "3"], "--hiden", "--hidden")],
)  # fmt: skip
def test_an_unknown_option_suggests_the_near_one(tmp_path, args, bad, near):
    said = slip(cli(*args, cwd=tmp_path))
    assert said.startswith(f"Error: No such option: {bad} (Possible options: ") and near in said
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args, says",
    [(["--init", "he"], "Invalid value for '--init': 'he' is not 'glorot'."),
     (["--epochs", "2.5"], "Invalid value for '--epochs': '2.5' is not a valid integer.")],
)  # fmt: skip
def test_a_malformed_value_is_named_as_click_names_it(tmp_path, args, says):
    assert slip(cli(str(SAMPLES / "or.hdf"), *args, cwd=tmp_path)) == f"Error: {says}"
    assert list(tmp_path.iterdir()) == []


def test_debug_anywhere_shows_the_traceback(tmp_path):
    done = cli("inspect", str(tmp_path / "missing.h5"), "--debug")
    assert done.returncode == 1 and "Traceback" in done.stderr and "InputError" in done.stderr


@pytest.mark.parametrize("command", [[], ["inspect"], ["predict"]])
def test_a_folder_as_model_is_left_to_the_readers(tmp_path, command):
    """typer does not refuse a directory (SavedModel and TF.js models are folders)."""
    (tmp_path / "notes.txt").write_text("x")
    done = cli(*command, str(tmp_path), *(["0"] if command == ["predict"] else []))
    assert done.returncode == 2 and done.stderr.startswith(f"Error: {tmp_path}: is a folder, not a "
                                                           "model: it holds notes.txt")  # fmt: skip


# --- --activations --------------------------------------------------------------------------

RNG = np.random.default_rng(7)
ARRAYS = {"W1": RNG.normal(size=(2, 3)), "b1": RNG.normal(size=3),
          "W2": RNG.normal(size=(3, 2)), "b2": RNG.normal(size=2)}  # fmt: skip


def _numpy_forward(x) -> np.ndarray:
    logits = np.tanh(np.asarray(x, float) @ ARRAYS["W1"] + ARRAYS["b1"]) @ ARRAYS["W2"]
    e = np.exp(logits + ARRAYS["b2"])
    return e / e.sum(axis=1, keepdims=True)


@pytest.fixture
def net(tmp_path) -> Path:
    np.savez(tmp_path / "net.npz", **ARRAYS)
    return tmp_path / "net.npz"


def test_activations_reach_the_reader_of_export(tmp_path, net):
    book = tmp_path / "net.xlsx"
    done = cli(str(net), "-o", str(book), "--activations", "tanh,softmax", "--quiet")
    assert done.returncode == 0, done.stderr
    x = [[0.5, -1.0], [2.0, 0.25]]
    np.testing.assert_allclose(gate2xlsx.load(book).forward(x), _numpy_forward(x), atol=1e-12)


def test_activations_reach_inspect_predict_and_train(tmp_path, net):
    shown = cli("inspect", str(net), "--activations", "tanh,softmax")
    assert shown.returncode == 0 and "tanh" in shown.stdout, shown.stderr
    predicted = cli("predict", str(net), "0.5", "-1", "--activations", "tanh,softmax")
    assert predicted.returncode == 0, predicted.stderr
    assert f"{_numpy_forward([[0.5, -1]])[0, 1]:.6f}" in predicted.stdout
    out = tmp_path / "trained.npz"
    trained = cli("train", "xor", "--from", str(net), "--activations", "tanh,softmax",
                  "--epochs", "2", "-o", str(out), "--quiet")  # fmt: skip
    assert trained.returncode == 0 and gate2xlsx.load(out).n_inputs == 2, trained.stderr


def test_arrays_without_activations_are_one_line_naming_them(tmp_path, net):
    done = cli("predict", str(net), "0", "1")
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error: ")]
    assert done.returncode == 2 and len(errors) == 1, done.stderr
    assert "W1 2 x 3, b1 3, W2 3 x 2, b2 2" in errors[0] and "--activations" in done.stderr


@pytest.mark.parametrize("command", [[], ["inspect"], ["predict"]])
def test_activations_with_a_keras_file_are_refused_in_one_line(tmp_path, command):
    out = tmp_path / "or.xlsx"
    values = {(): ["-o", str(out)], ("inspect",): [], ("predict",): ["0", "1"]}[tuple(command)]
    done = cli(*command, str(SAMPLES / "or.hdf"), *values, "--activations", "relu")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    said = f"Error: {SAMPLES / 'or.hdf'}: --activations is for a plain .npz or .npy of weight "
    assert done.stderr.startswith(said + "arrays; this is a Keras HDF5"), done.stderr
    assert not out.exists()


def test_activations_without_from_are_refused_by_train(tmp_path):
    done = cli("train", "or", "--activations", "tanh", "-o", str(tmp_path / "m.h5"))
    assert done.returncode == 2 and "--activations goes with --from MODEL" in done.stderr
