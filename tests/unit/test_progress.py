"""The progress bar: only on a terminal, only after a second, never with --quiet."""

from __future__ import annotations

import io

import numpy as np

import gate2xlsx
from gate2xlsx import progress
from gate2xlsx.ir.families.dense import Dense
from gate2xlsx.ir.layer import Act, Param
from gate2xlsx.ir.model import Model


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def wide_model() -> Model:
    rng = np.random.default_rng(0)
    return Model.chain(
        40,
        [
            Dense(
                "d",
                "Dense",
                kernel=Param(rng.normal(size=(40, 30))),
                bias=Param(rng.normal(size=30)),
                activation=Act("relu"),
            )
        ],
    )


def test_bar_appears_on_a_terminal_once_the_delay_has_passed(tmp_path, monkeypatch):
    monkeypatch.setattr(progress, "DELAY", 0.0)
    seen = []
    terminal = FakeTerminal()
    with progress.ProgressBar("Writing w.xlsx", stream=terminal) as bar:

        def report(done, total):
            seen.append((done, total))
            bar(done, total)

        gate2xlsx.export_workbook(wide_model(), tmp_path / "w.xlsx", progress=report)
    assert (
        seen
        and seen[-1][0] <= seen[-1][1]
        and all(a <= b for (a, _), (b, _) in zip(seen, seen[1:]))
    )
    assert "Writing w.xlsx" in terminal.getvalue()


def test_no_bar_when_not_a_terminal_quiet_or_quick(monkeypatch):
    plain = io.StringIO()
    bar = progress.ProgressBar("x", stream=plain)
    bar(1, 2)
    assert plain.getvalue() == ""
    quiet = FakeTerminal()
    progress.ProgressBar("x", enabled=False, stream=quiet)(1, 2)
    quick = FakeTerminal()
    progress.ProgressBar("x", stream=quick)(1, 2)  # well within the first second
    assert quiet.getvalue() == "" and quick.getvalue() == ""
