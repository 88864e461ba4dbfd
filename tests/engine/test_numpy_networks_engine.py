"""A NumPy network computes in LibreOffice: four arrays through `gate2xlsx.export`, and
`np.savez` files in both orientations through the command line as the user installed it
(GATE2XLSX_RUNTIME_BIN in CI: a venv of the runtime dependencies alone). Each input row is
typed into `input`, LibreOffice recalculates, and `output` must equal a forward pass written
here with NumPy alone within 1e-9 (the issue asks 1e-5)."""

from __future__ import annotations

import numpy as np
import openpyxl
import pytest
from cached import mismatches
from conftest import runtime_cli

import gate2xlsx
from gate2xlsx.readers.xlsx import named_values, set_named_values

pytestmark = pytest.mark.libreoffice

RNG = np.random.default_rng(2027)
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1], [0.25, -1.5]])


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def networks(tmp_path):
    """(name, how the workbook is made, NumPy's answer for X)."""
    W1, b1, W2, b2 = RNG.normal(size=(2, 4)), RNG.normal(size=4), RNG.normal(size=(4, 3)), \
        RNG.normal(size=3)  # fmt: skip
    V1, c1, V2, c2 = RNG.normal(size=(3, 2)), RNG.normal(size=3), RNG.normal(size=(1, 3)), \
        RNG.normal(size=1)  # fmt: skip
    np.savez(tmp_path / "net.npz", W1=W1, b1=b1, W2=W2, b2=b2)
    np.savez(tmp_path / "torch.npz", **{"fc1.weight": V1, "fc1.bias": c1, "fc2.weight": V2,
                                        "fc2.bias": c2})  # fmt: skip

    def api(book):
        gate2xlsx.export([W1, b1, W2, b2], book, activations=["tanh", "softmax"])

    def cli(source, activations):
        def make(book):
            done = runtime_cli(str(tmp_path / source), "-o", str(book), "--activations",
                                 activations, "--quiet")  # fmt: skip
            assert done.returncode == 0, done.stderr

        return make

    return [
        ("api", api, softmax(np.tanh(X @ W1 + b1) @ W2 + b2)),
        ("cli_in_out", cli("net.npz", "tanh,softmax"), softmax(np.tanh(X @ W1 + b1) @ W2 + b2)),
        ("cli_torch", cli("torch.npz", "relu,sigmoid"),
         sigmoid(np.maximum(X @ V1.T + c1, 0) @ V2.T + c2)),
    ]  # fmt: skip


def test_numpy_networks_compute_in_libreoffice(engine, tmp_path):
    books, cases = [], []
    for name, make, want in networks(tmp_path):
        base = tmp_path / f"{name}.xlsx"
        make(base)
        books.append(base)
        cases.append((name, None))
        for r, row in enumerate(X):
            wb = openpyxl.load_workbook(base)
            set_named_values(wb, "input", row)
            book = tmp_path / f"{name}_row{r}.xlsx"
            wb.save(book)
            books.append(book)
            cases.append((name, want[r]))
    for book, wb, (name, want) in zip(books, engine.recalc(*books), cases):
        if want is None:  # the cached values are what LibreOffice computes
            assert not mismatches(book, wb), name
            continue
        got = named_values(wb, "output").reshape(-1)
        assert np.allclose(got, want, rtol=1e-9, atol=1e-12), (name, got, want)
