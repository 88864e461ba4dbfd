"""NumPy weight arrays on the command line, as the user installed it: a plain np.savez / np.save
file with --activations; refusals are one line, exit 2, and no workbook is left behind."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import runtime_cli

W1, b1, W2, b2 = np.ones((2, 3)), np.zeros(3), np.ones((3, 2)), np.zeros(2)


def one_line_refusal(done, says: str, out) -> None:
    assert done.returncode == 2, done
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and says in errors[0], done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()


def test_a_savez_file_exports_with_activations(tmp_path):
    np.savez(tmp_path / "net.npz", W1=W1, b1=b1, W2=W2, b2=b2)
    out = tmp_path / "net.xlsx"
    done = runtime_cli(str(tmp_path / "net.npz"), "-o", str(out), "--activations", "tanh,softmax")
    assert done.returncode == 0, done.stderr
    assert out.is_file() and "2 layers, 17 weights" in done.stdout


@pytest.mark.parametrize(
    "arrays,args,says",
    [
        ({"W1": W1, "b1": b1, "W2": W2, "b2": b2}, [],
         "holds NumPy arrays (W1 2 x 3, b1 3, W2 3 x 2, b2 2) but says nothing of the activations"),
        ({"W1": W1, "W2": W1}, ["--activations", "tanh,tanh"],
         "the arrays do not chain: 'W1' gives 3 outputs but 'W2' takes 2 inputs"),
        ({"W1": np.array([{"code": 1}], dtype=object)}, ["--activations", "tanh"],
         "holds an object array"),
    ],
)  # fmt: skip
def test_refusals_are_one_line(tmp_path, arrays, args, says):
    np.savez(tmp_path / "net.npz", **arrays)
    out = tmp_path / "net.xlsx"
    one_line_refusal(runtime_cli(str(tmp_path / "net.npz"), "-o", str(out), *args), says, out)


def test_a_missing_activations_hint_names_the_option(tmp_path):
    np.savez(tmp_path / "net.npz", W1=W1, b1=b1, W2=W2, b2=b2)
    done = runtime_cli(str(tmp_path / "net.npz"), "-o", str(tmp_path / "x.xlsx"))
    assert "Hint: name one per layer, for example --activations tanh,softmax" in done.stderr
