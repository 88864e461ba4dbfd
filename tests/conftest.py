"""Shared test fixtures: a real spreadsheet engine (headless LibreOffice) and model helpers.

Layers: tests/unit (readers -> Model, formula text, the plan, writers), tests/engine (workbooks
recalculated in LibreOffice), tests/keras (real Keras in throwaway venvs), tests/cli (the
command line as a user runs it). A test that starts LibreOffice carries the `libreoffice`
marker: given by the `engine` fixture, by tests/engine's own marks, and enforced below, so
`pytest -m "not libreoffice"` is the fast layer and no engine test hides in it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from hypothesis import settings

from gate2xlsx.engines.libreoffice import recalculate, soffice_path
from gate2xlsx.readers.xlsx import named_values

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SAMPLES = ROOT / "samples"


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


try:  # the `formulas` engine's progress bars start tqdm's monitor thread, and in a process with
    # other threads model files are read in-process (readers/isolation.py): keep it from starting
    from tqdm import tqdm as _tqdm

    _tqdm.monitor_interval = 0
except ImportError:  # pragma: no cover - formulas (a test extra) brings tqdm
    pass

# CI replays the same Hypothesis examples every run (a red CI must be reproducible); by hand,
# each run explores new ones.
settings.register_profile("ci", derandomize=True)
if _in_ci():
    settings.load_profile("ci")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use the engine fixture are LibreOffice tests; tests/keras need real Keras."""
    for item in items:
        if "engine" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.libreoffice)
        if "keras" in Path(str(item.fspath)).relative_to(ROOT / "tests").parts[:1]:
            item.add_marker(pytest.mark.keras)


@pytest.fixture(autouse=True)
def _libreoffice_only_when_marked(request, monkeypatch) -> None:
    """An unmarked test that starts LibreOffice fails at once, naming the marker it lacks."""
    if request.node.get_closest_marker("libreoffice") is None:
        from gate2xlsx.engines import libreoffice

        def refuse(*_args, **_kwargs):
            pytest.fail("this test starts LibreOffice: mark it @pytest.mark.libreoffice")

        monkeypatch.setattr(libreoffice, "_run_soffice", refuse)


class Engine:
    """Recalculate workbooks in LibreOffice and read values back by defined name."""

    def __init__(self, scratch: Path):
        self.scratch = scratch

    def recalc(self, *books: Path) -> list[openpyxl.Workbook]:
        out = recalculate(list(books), self.scratch / "recalculated")
        return [openpyxl.load_workbook(p, data_only=True) for p in out]

    def values(self, book: Path, *names: str) -> dict[str, np.ndarray]:
        wb = self.recalc(book)[0]
        return {n: named_values(wb, n) for n in names}


@pytest.fixture
def engine(tmp_path) -> Engine:
    """LibreOffice, or a skip on a machine without it; in CI (CI=true) its absence fails."""
    if soffice_path() is None:
        message = "LibreOffice (soffice) is not installed"
        if _in_ci():
            pytest.fail(message + ": in CI the engine tests must run")
        pytest.skip(message)
    return Engine(tmp_path)


def cli_run(
    *args: str, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """Run `python -m gate2xlsx ARGS` as a user would: a real process, its output as text."""
    return subprocess.run([sys.executable, "-m", "gate2xlsx", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=timeout)  # fmt: skip


def runtime_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """The command as the user installed it: CI's venv of the runtime dependencies alone
    (GATE2XLSX_RUNTIME_BIN), else this interpreter's `python -m gate2xlsx`."""
    runtime = os.environ.get("GATE2XLSX_RUNTIME_BIN")
    command = [runtime] if runtime else [sys.executable, "-m", "gate2xlsx"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=timeout)


def cli_exit(args: list[str]) -> int:
    """Run the gate2xlsx CLI in this process (output reaches capsys); return its exit code."""
    from gate2xlsx.cli import main

    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def edit_weights(
    book: Path,
    model,
    rng: np.random.Generator,
    *,
    scale: float,
    as_float32: bool = False,
    x: np.ndarray | None = None,
) -> None:
    """Change every weight of a workbook as a learner would (variances kept positive), and
    optionally the input; float32-exact values when a Keras file must hold them unchanged."""
    from gate2xlsx.readers.xlsx import set_named_values
    from gate2xlsx.sheet.names import weight_names

    names = weight_names(model)
    wb = openpyxl.load_workbook(book)
    for layer in model.layers:
        for key, param in layer.weights().items():
            new = param.values + rng.normal(0, scale, param.values.shape)
            if key == "moving_variance":
                new = np.abs(new) + 0.1
            set_named_values(wb, names[(layer.name, key)], np.float32(new) if as_float32 else new)
    if x is not None:
        set_named_values(wb, "input", x)
    wb.save(book)
