"""Live in LibreOffice with its default settings: a learner edits a weight and an input, and
every dependent cell follows, with no hard recalculation, for a fresh export (which carries
cached values) and for the same workbook once LibreOffice has saved it (its own cached
values). LibreOffice 7.4 stops updating a plain formula cell that was loaded with a cached
value and reads an array formula's result; the default workbook has no array formulas, and
this test is what keeps it so.

The edits go through LibreOffice's API (python3-uno, Debian's /usr/bin/python3) on a hidden
document in a fresh profile; the values it then shows are compared with NumPy (the network
with the same edits) and with a full recalculation of the same edits.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from conftest import SAMPLES, _in_ci

import gate2xlsx
from gate2xlsx.app.export import export_workbook
from gate2xlsx.engines.libreoffice import recalculate
from gate2xlsx.readers.xlsx import named_values, set_named_values

UNO_PYTHON = os.environ.get("GATE2XLSX_UNO_PYTHON", "/usr/bin/python3")
DRIVER = Path(__file__).with_name("uno_live.py")
SHOWN = ["output", "data_outputs", "accuracy", "loss", "check_result"]


@pytest.fixture
def uno() -> str:
    found = (
        shutil.which(UNO_PYTHON)
        and subprocess.run([UNO_PYTHON, "-c", "import uno"], capture_output=True).returncode == 0
    )
    if not found:
        message = f"{UNO_PYTHON} cannot import uno (apt-get install python3-uno)"
        if _in_ci():
            pytest.fail(message + ": in CI the live test must run")
        pytest.skip(message)
    return UNO_PYTHON


def _live(uno: str, book: Path, edits: list, display: str | None = None, names=SHOWN) -> dict:
    args = [uno, str(DRIVER), str(book), json.dumps(edits), json.dumps(names)]
    env = dict(os.environ)
    if display is not None:
        args.append("visible")
        env["DISPLAY"] = display
    out = subprocess.run(args, capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture
def display(uno):
    """An X display (Xvfb) for LibreOffice's GUI build; skip without them, fail in CI."""
    gui = list(Path("/usr/lib/libreoffice/program").glob("libvclplug_*"))
    xvfb = shutil.which("Xvfb")
    if not gui or not xvfb:
        message = "a visible window needs Xvfb and LibreOffice's GUI build (libreoffice-calc)"
        if _in_ci():
            pytest.fail(message + ": in CI the visible test must run")
        pytest.skip(message)
    number = f":{90 + os.getpid() % 100}"
    server = subprocess.Popen([xvfb, number, "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        time.sleep(1)
        yield number
    finally:
        server.terminate()
        server.wait(timeout=30)


def _edited_copy(book: Path, edits: list, path: Path) -> Path:
    wb = openpyxl.load_workbook(book)
    for name, i, j, value in edits:
        grid = named_values(wb, name)
        grid[i, j] = value
        set_named_values(wb, name, grid)
    wb.save(path)
    return path


FROZEN = pytest.mark.xfail(
    strict=True, reason="array formulas (--formulas sumproduct) freeze once LibreOffice saved them"
)


@pytest.mark.libreoffice
@pytest.mark.parametrize(
    "mode, saved_by",
    [
        ("mmult", "gate2xlsx"),
        ("mmult", "LibreOffice"),
        ("expanded", "LibreOffice"),
        ("sumproduct", "gate2xlsx"),
        pytest.param("sumproduct", "LibreOffice", marks=FROZEN),
    ],
)
def test_edits_reach_every_dependent_cell(mode, saved_by, uno, engine, tmp_path):
    _check_live(uno, engine, tmp_path, mode, saved_by)


@pytest.mark.libreoffice
@pytest.mark.parametrize("saved_by", ["gate2xlsx", "LibreOffice"])
def test_edits_reach_every_dependent_cell_in_a_visible_window(saved_by, uno, display, engine,
                                                              tmp_path):  # fmt: skip
    shown = _check_live(uno, engine, tmp_path, "mmult", saved_by, display)
    assert shown["window_visible"]


def _check_live(uno, engine, tmp_path, mode, saved_by, display=None) -> dict:
    book = tmp_path / "xor.xlsx"
    export_workbook(gate2xlsx.load(SAMPLES / "xor.h5"), book, formulas=mode)
    if saved_by == "LibreOffice":
        book = recalculate([book], tmp_path / "saved")[0]
    edits = [["dense_kernel", 1, 0, 5.0], ["dense_1_kernel", 0, 0, -3.0], ["input", 0, 0, 1.0]]
    shown = _live(uno, book, edits, display)

    edited = _edited_copy(book, edits, tmp_path / "edited.xlsx")
    model = gate2xlsx.read_workbook(edited)  # the network with the same edits
    x = named_values(openpyxl.load_workbook(edited), "input")
    assert np.allclose(shown["output"], model.forward(x), rtol=1e-12, atol=1e-12)
    full = engine.recalc(edited)[0]  # what a hard recalculation of the same edits shows
    for name in ("data_outputs", "accuracy", "loss"):
        assert np.allclose(shown[name], named_values(full, name), rtol=1e-12, atol=1e-12), name
    assert shown["check_result"] == [["FAIL"]]  # the edits moved the outputs
    before = openpyxl.load_workbook(book, data_only=True)
    assert not np.allclose(shown["loss"], named_values(before, "loss")), "the loss never moved"
    return shown


@pytest.mark.libreoffice
@pytest.mark.parametrize("saved_by", ["gate2xlsx", "LibreOffice"])
def test_training_reruns_live_when_the_learning_rate_changes(saved_by, uno, tmp_path):
    """Half the learning rate and flip use_trained, typed in: the whole unrolled training
    reruns, and the Truth table computes with the weights it reaches."""
    from test_training_sheet import _numpy_run, _record, exported

    case = "xor_tanh_cce"
    r = _record(case)
    book = exported(case, tmp_path / "training.xlsx")
    if saved_by == "LibreOffice":
        book = recalculate([book], tmp_path / "saved")[0]
    edits = [["learning_rate", 0, 0, r["lr"] / 2], ["use_trained", 0, 0, 1]]
    names = ["trained_dense_2_kernel", "train_loss", "data_outputs"]
    shown = _live(uno, book, edits, names=names)
    slower, history = _numpy_run(case, lr=r["lr"] / 2)
    np.testing.assert_allclose(
        np.ravel(shown["trained_dense_2_kernel"]),
        slower.layers[0].kernel.values.ravel(),
        rtol=1e-9,
        atol=1e-12,
    )
    np.testing.assert_allclose(np.ravel(shown["train_loss"]), history, rtol=1e-9, atol=1e-12)
    x = np.array(r["x"])
    np.testing.assert_allclose(shown["data_outputs"], slower.forward(x), rtol=1e-9, atol=1e-12)
