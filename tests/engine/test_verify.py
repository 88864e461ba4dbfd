"""verify: LibreOffice recalculates, NumPy (of the workbook's weights or a given model) compares."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pytest
from conftest import FIXTURES, SAMPLES
from conftest import cli_exit as _run

import gate2xlsx
from gate2xlsx.app.verify import verify
from gate2xlsx.errors import EngineMissing
from gate2xlsx.readers.xlsx import named_cells, set_named_values
from gate2xlsx.sheet.names import weight_names

pytestmark = pytest.mark.libreoffice


def _book(tmp_path: Path, source: Path, name: str | None = None, **kw) -> Path:
    target = tmp_path / (name or source.stem + ".xlsx")
    gate2xlsx.write_workbook(gate2xlsx.load(source), target, **kw)
    return target


def test_fresh_workbooks_pass(tmp_path, engine, capsys):
    sources = [
        SAMPLES / "xor.h5",
        FIXTURES / "keras3" / "nested_seq_in_func.h5",
        FIXTURES / "keras2" / "acts_chain_a.h5",
    ]
    for source in [s for s in sources if s.exists()]:
        book = _book(
            tmp_path, source, input_values=np.linspace(-1.5, 2, gate2xlsx.load(source).n_inputs)
        )
        report = verify(book)
        assert report.ok, str(report)
        names = {c.name for c in report.comparisons}
        assert names >= (
            {"output", "data_outputs", "map_outputs"} if source.name == "xor.h5" else {"output"}
        )
        assert report.worst.max_diff < 1e-12 and "!" in report.worst.where
    book = _book(tmp_path, SAMPLES / "or.hdf", formulas="sumproduct")
    assert _run(["verify", str(book), "--model", str(SAMPLES / "or.hdf")]) == 0
    assert "PASS" in capsys.readouterr().out


def test_output_formulas_replaced_by_numbers_fail(tmp_path, engine, capsys):
    """Numbers equal to what the formulas computed still fail: the workbook no longer computes."""
    book = _book(tmp_path, SAMPLES / "or.hdf")
    [computed] = engine.recalc(book)
    shown = [c.value for row in named_cells(computed, "output") for c in row]
    wb = openpyxl.load_workbook(book)
    for row in named_cells(wb, "output"):
        for c, value in zip(row, shown):
            c.value = value
    wb.save(book)
    report = verify(book)
    assert not report.ok and report.comparisons[0].not_live
    assert _run(["verify", str(book)]) == 1
    err = capsys.readouterr().err
    assert "holds a number where a formula belongs" in err and "Network!" in err


def test_wrong_numbers_and_a_different_model_fail_with_the_place(tmp_path, engine, capsys):
    book = _book(tmp_path, SAMPLES / "or.hdf")
    assert _run(["verify", str(book), "--model", str(SAMPLES / "and.hdf")]) == 1
    captured = capsys.readouterr()
    assert "exceeds the tolerance" in captured.err and "Network!" in captured.out
    # a weight edited in the sheet is followed: still passes against the workbook's own weights
    model = gate2xlsx.load(SAMPLES / "or.hdf")
    wb = openpyxl.load_workbook(book)
    set_named_values(
        wb, weight_names(model)[("dense", "kernel")], np.array([[2.0, -1.0], [0.5, 3.0]])
    )
    wb.save(book)
    assert verify(book).ok
    assert not verify(book, model).ok  # ... and fails against the file it came from


def test_libreoffice_missing_exits_2_with_the_install_hint(tmp_path, monkeypatch, capsys):
    book = _book(tmp_path, SAMPLES / "or.hdf")
    monkeypatch.setattr("gate2xlsx.engines.libreoffice.soffice_path", lambda: None)
    with pytest.raises(EngineMissing):
        verify(book)
    assert _run(["verify", str(book)]) == 2
    err = capsys.readouterr().err
    assert "LibreOffice" in err and "apt-get install" in err
