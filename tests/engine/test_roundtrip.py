"""Workbook -> model: read_workbook and `gate2xlsx extract`, checked against LibreOffice's values.

Edits are made with openpyxl (as a script would) and once more carried through LibreOffice
so the file extracted is one LibreOffice saved. The reference for "what the workbook
computes" is always LibreOffice's recalculation, never the numbers we typed.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import openpyxl
import pytest
from conftest import FIXTURES, SAMPLES, edit_weights
from conftest import cli_exit as _run

import gate2xlsx
from gate2xlsx.errors import InputError
from gate2xlsx.ir.model import Dataset
from gate2xlsx.readers.xlsx import named_values, read_workbook
from gate2xlsx.sheet import meta
from gate2xlsx.sheet.names import weight_names

REAL_KERAS = [
    SAMPLES / "or.hdf",
    SAMPLES / "xor.h5",
    FIXTURES / "keras2" / "seq_dense.h5",
    FIXTURES / "keras3" / "nested_seq_in_func.h5",
    FIXTURES / "keras2" / "nested_seq_in_func.h5",
]


def _available(paths: list[Path]) -> list[Path]:
    found = [p for p in paths if p.exists()]
    if not found:
        pytest.skip("no real-Keras fixtures present")
    return found


def _bits(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.float32).view(np.uint32)


def _stored_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every dataset in an HDF5 file by path, read with h5py alone (independent of our readers)."""
    found: dict[str, np.ndarray] = {}
    with h5py.File(path, "r") as handle:
        handle.visititems(
            lambda name, node: (
                found.__setitem__(name, node[()]) if isinstance(node, h5py.Dataset) else None
            )
        )
    return found


def test_untouched_workbook_gives_back_the_stored_weights_bit_for_bit(tmp_path):
    for source in _available(REAL_KERAS):
        model = gate2xlsx.load(source)
        book = tmp_path / f"{source.stem}.xlsx"
        gate2xlsx.write_workbook(model, book)
        back = read_workbook(book)
        assert [type(a) for a in back.layers] == [type(a) for a in model.layers]
        assert [a.name for a in back.layers] == [a.name for a in model.layers]
        assert (
            back.forward(np.eye(model.n_inputs)).shape
            == model.forward(np.eye(model.n_inputs)).shape
        )
        for a, b in zip(model.layers, back.layers):
            for key, param in a.weights().items():
                assert np.array_equal(_bits(b.weights()[key].values), _bits(param.values)), (
                    source,
                    key,
                )
                assert b.weights()[key].path == param.path
        # and through `extract` into a legacy .h5: the same float32 bits as the Keras-written file
        out = tmp_path / f"{source.stem}.extracted.h5"
        assert _run(["extract", str(book), "-o", str(out)]) == 0
        again = gate2xlsx.load(out)
        for a, b in zip(model.layers, again.layers):
            for key, param in a.weights().items():
                assert np.array_equal(_bits(b.weights()[key].values), _bits(param.values)), (
                    source,
                    key,
                )
        # h5py alone: the same float32 arrays under model_weights/ as in the Keras-written file
        assert _weight_bytes(out) == _weight_bytes(source), source


def _weight_bytes(path: Path) -> list[tuple[str, tuple[int, ...], bytes]]:
    return sorted(
        (str(v.dtype), v.shape, v.tobytes())
        for k, v in _stored_arrays(path).items()
        if k.startswith("model_weights/")
    )


@pytest.mark.libreoffice
def test_edited_workbooks_extract_to_what_libreoffice_computes(tmp_path, engine):
    """Edit with openpyxl; extract; the extracted model's NumPy forward equals the recalculated
    sheet.

    The same edited file carried through LibreOffice (a LibreOffice-saved workbook, with its
    own cached values and array-formula encoding) must extract to the same weights.
    """
    sources = _available(
        [
            SAMPLES / "xor.h5",
            FIXTURES / "keras2" / "seq_inputlayer.h5",
            FIXTURES / "keras3" / "nested_seq_in_func.h5",
        ]
    )
    books, models, inputs = [], [], []
    for k, source in enumerate(sources):
        model = gate2xlsx.load(source)
        x = np.linspace(-1, 1, model.n_inputs) + 0.25 * k
        book = tmp_path / f"{source.stem}.xlsx"
        gate2xlsx.write_workbook(model, book)
        edit_weights(book, model, np.random.default_rng(k), scale=0.3, as_float32=True, x=x)
        books.append(book), models.append(model), inputs.append(x)
    recalculated = engine.recalc(*books)  # values LibreOffice computed from the edited cells
    lo_saved = [Path(p) for p in sorted((engine.scratch / "recalculated").glob("*.xlsx"))]
    assert len(lo_saved) == len(books)
    for book, saved, wb, model, x in zip(books, lo_saved, recalculated, models, inputs):
        shown = named_values(wb, "output")
        for workbook in (book, saved):
            for suffix in (".h5", ".npz"):
                out = tmp_path / f"{workbook.stem}.x{suffix}"
                assert _run(["extract", str(workbook), "-o", str(out)]) == 0
                extracted = gate2xlsx.load(out)
                np.testing.assert_allclose(
                    extracted.forward(x),
                    shown,
                    rtol=0,
                    atol=1e-12,
                    err_msg=f"{workbook.name} -> {out.name}",
                )
                assert not np.allclose(extracted.forward(x), model.forward(x)), "the edit must show"


@pytest.mark.libreoffice
def test_long_description_spans_cells_and_survives_libreoffice(tmp_path, engine):
    model = gate2xlsx.load(SAMPLES / "or.hdf")
    rng = np.random.default_rng(3)
    model.data = Dataset(rng.normal(size=(600, 2)), np.eye(2)[rng.integers(0, 2, 600)], "noise")
    assert len(meta.chunks(meta.describe(model))) > 3
    book = tmp_path / "long.xlsx"
    gate2xlsx.write_workbook(model, book)
    engine.recalc(book)
    [saved] = list((engine.scratch / "recalculated").glob("*.xlsx"))
    for workbook in (book, saved):
        back = read_workbook(workbook)
        assert back.data == model.data
        assert openpyxl.load_workbook(workbook, read_only=True)[meta.SHEET].sheet_state == "hidden"


def _weights_cell(book: Path, name: str) -> tuple[openpyxl.Workbook, object]:
    wb = openpyxl.load_workbook(book)
    sheet, ref = next(iter(wb.defined_names[name].destinations))
    first = ref.replace("$", "").split(":")[0]
    return wb, wb[sheet][first]


@pytest.mark.parametrize(
    "bad, says",
    [("abc", "holds 'abc', not a number"), ("#DIV/0!", "error value #DIV/0!"), (None, "is empty")],
)
def test_a_bad_weight_cell_is_named_with_its_layer_and_weight(tmp_path, capsys, bad, says):
    model = gate2xlsx.load(SAMPLES / "or.hdf")
    book = tmp_path / "or.xlsx"
    gate2xlsx.write_workbook(model, book)
    wb, cell = _weights_cell(book, weight_names(model)[("dense", "bias")])
    cell.value = bad
    wb.save(book)
    where = f"Weights!{cell.coordinate}"
    with pytest.raises(InputError) as caught:
        read_workbook(book)
    message = str(caught.value)
    assert (
        where in message
        and "'dense' (Dense)" in message
        and "'bias'" in message
        and says in message
    )
    out = tmp_path / "or.h5"
    assert _run(["extract", str(book), "-o", str(out)]) == 2
    assert where in capsys.readouterr().err and not out.exists()


def test_a_workbook_gate2xlsx_did_not_make_is_refused(tmp_path, capsys):
    foreign = tmp_path / "budget.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = 42
    wb.save(foreign)
    with pytest.raises(InputError, match="not a workbook written by gate2xlsx"):
        read_workbook(foreign)
    not_xlsx = tmp_path / "notes.xlsx"
    not_xlsx.write_text("hello")
    assert _run(["extract", str(not_xlsx), "-o", str(tmp_path / "m.h5")]) == 2
    assert "not an .xlsx workbook" in capsys.readouterr().err
    assert _run(["extract", str(foreign), "-o", str(tmp_path / "m.h5")]) == 2
    assert "not a workbook written by gate2xlsx" in capsys.readouterr().err
    assert not (tmp_path / "m.h5").exists()
