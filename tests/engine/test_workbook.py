"""The learner's workbook, recalculated by LibreOffice: live accuracy and loss equal Keras's
`model.evaluate`, the decision map equals the NumPy forward pass, Check turns FAIL after an
edit, every formula style computes the same, and no cell anywhere holds an error value."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pytest
from conftest import FIXTURES, SAMPLES

import gate2xlsx
from gate2xlsx.app.export import export_workbook
from gate2xlsx.data import gates
from gate2xlsx.ir.families.dense import Dense
from gate2xlsx.ir.layer import Act, Param
from gate2xlsx.ir.model import Model, Source
from gate2xlsx.readers.xlsx import named_cells, named_values, set_named_values

EVALUATED = [
    SAMPLES / "or.hdf",
    SAMPLES / "and.hdf",
    SAMPLES / "xor.h5",
    *(
        FIXTURES / g / f"eval_{loss}.h5"
        for g in ("keras2", "keras3")
        for loss in ("bce", "cce", "mse")
    ),
]
ERROR_PREFIXES = ("#NAME", "#VALUE", "#REF", "#DIV", "#NUM", "#N/A", "#NULL", "Err:")


def gate_of(y_true: np.ndarray) -> str:
    """The gate whose truth table the Keras evaluation used (targets as one-hot or one column)."""
    true = y_true[:, -1] > 0.5
    return next(g for g in gates.TRUTH if np.array_equal(true, np.array(gates.TRUTH[g], bool)))


def errors(wb: openpyxl.Workbook) -> list[tuple[str, str, str]]:
    return [
        (ws.title, c.coordinate, c.value)
        for ws in wb
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value.startswith(ERROR_PREFIXES)
    ]


def scalar(wb: openpyxl.Workbook, name: str):
    return named_cells(wb, name)[0][0].value


def existing(paths):
    found = [p for p in paths if p.exists()]
    if not found:
        pytest.skip("no Keras-evaluated fixtures present")
    return found


def test_accuracy_and_loss_equal_keras_evaluate(engine, tmp_path):
    sources = existing(EVALUATED)
    books, expected = [], []
    for source in sources:
        ref = np.load(source.with_suffix(".expected.npz"))
        gate = gate_of(ref["y_true"])
        book = tmp_path / f"{source.parent.name}_{source.stem}.xlsx"
        export_workbook(gate2xlsx.load(source), book, gate=gate)
        books.append(book)
        expected.append((source, float(ref["loss"]), float(ref["accuracy"]), ref["x_eval"]))
    for wb, (source, loss, accuracy, x_eval) in zip(engine.recalc(*books), expected):
        assert errors(wb) == [], source
        assert np.array_equal(named_values(wb, "data_inputs"), x_eval), source
        assert abs(scalar(wb, "loss") - loss) < 1e-6, (source, scalar(wb, "loss"), loss)
        assert abs(scalar(wb, "accuracy") - accuracy) < 1e-9, (
            source,
            scalar(wb, "accuracy"),
            accuracy,
        )
        assert scalar(wb, "check_result") == "PASS", source


def sigmoid_model(keras_version: str, backend: str) -> Model:
    """One sigmoid output (2 -> 3 tanh -> 1 sigmoid), confident enough that clipping matters."""
    rng = np.random.default_rng(3)
    return Model.chain(
        2,
        [
            Dense(
                "hidden",
                "Dense",
                Param(rng.normal(size=(2, 3)) * 4),
                Param(rng.normal(size=3)),
                Act("tanh"),
            ),
            Dense(
                "out",
                "Dense",
                Param(rng.normal(size=(3, 1)) * 9),
                Param(np.array([0.3])),
                Act("sigmoid"),
            ),
        ],
        name="one_sigmoid",
        loss="binary_crossentropy",
        source=Source(keras_version=keras_version, backend=backend),
    )


def keras_bce(model: Model, x: np.ndarray, y: np.ndarray) -> float:
    """Keras's binary cross-entropy as its source spells it (see sheet/keras_eval.py)."""
    trace = model.trace(x)
    if model.source.backend == "tensorflow":  # logits path: the sigmoid's input
        out = model.layers[-1]
        z = trace[-2] @ out.kernel.values + out.bias.values
        return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))
    lo, hi = float(np.float32(1e-7)), float(np.float32(1) - np.float32(1e-7))
    p = np.clip(trace[-1], lo, hi)
    return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))


def test_single_sigmoid_output_threshold_and_loss(engine, tmp_path):
    books, models = [], []
    for version, backend in (("2.15.0", "tensorflow"), ("3.3.3", "torch")):
        model = sigmoid_model(version, backend)
        book = tmp_path / f"sig_{backend}.xlsx"
        export_workbook(model, book, gate="xor")
        books.append(book)
        models.append(model)
    x, y = gates.dataset("xor").x, gates.dataset("xor").y[:, 1:]
    for wb, model in zip(engine.recalc(*books), models):
        assert errors(wb) == []
        p = model.forward(x)
        assert np.allclose(named_values(wb, "data_outputs"), p, rtol=1e-12, atol=1e-15)
        assert scalar(wb, "accuracy") == pytest.approx(np.mean((p > 0.5) == (y > 0.5)), abs=1e-12)
        assert scalar(wb, "loss") == pytest.approx(keras_bce(model, x, y), abs=1e-9)


def test_decision_map_equals_numpy_forward(engine, tmp_path):
    model = gate2xlsx.load(SAMPLES / "xor.h5")
    book = tmp_path / "xor.xlsx"
    export_workbook(model, book)
    wb = engine.recalc(book)[0]
    points = named_values(wb, "map_inputs")
    grid = named_values(wb, "map_grid")
    assert grid.shape[0] >= 21 and grid.shape[1] >= 21
    expected = model.forward(points)[:, -1].reshape(grid.shape)
    assert np.max(np.abs(grid - expected)) < 1e-12
    assert np.max(np.abs(named_values(wb, "map_outputs") - model.forward(points))) < 1e-12


def test_decision_map_shows_the_class_chosen_in_map_class(engine, tmp_path):
    rng = np.random.default_rng(7)
    dense = [
        Dense(
            f"d{i}",
            "Dense",
            kernel=Param(rng.standard_normal(shape).astype(np.float32)),
            bias=Param((rng.standard_normal(shape[1]) * 0.3).astype(np.float32)),
            activation=Act(act),
        )
        for i, (shape, act) in enumerate((((2, 8), "tanh"), ((8, 3), "softmax")))
    ]
    model = Model.chain(2, dense, name="three_classes")
    book, first = tmp_path / "three.xlsx", tmp_path / "three_first_class.xlsx"
    export_workbook(model, book)
    wb = openpyxl.load_workbook(book)
    (rule,) = wb["Decision map"].data_validations.dataValidation
    assert (rule.type, rule.formula1, rule.formula2, str(rule.sqref)) == ("whole", "0", "2", "B3")
    set_named_values(wb, "map_class", np.array([[0]]))
    wb.save(first)
    for wb, shown in zip(engine.recalc(book, first), (2, 0)):  # the last class until edited
        assert errors(wb) == []
        assert scalar(wb, "map_class") == shown
        assert wb["Decision map"]["C3"].value == str(shown)  # the class's label beside it
        assert wb["Decision map"]["A1"].value == f"Decision map: P({shown}) over the inputs"
        grid = named_values(wb, "map_grid")
        expected = model.forward(named_values(wb, "map_inputs"))[:, shown].reshape(grid.shape)
        assert np.max(np.abs(grid - expected)) < 1e-12


def test_check_passes_fresh_and_fails_after_an_edit(engine, tmp_path):
    book = tmp_path / "or.xlsx"
    export_workbook(gate2xlsx.load(SAMPLES / "or.hdf"), book)
    edited = tmp_path / "or_edited.xlsx"
    wb = openpyxl.load_workbook(book)
    kernel = named_values(wb, "dense_kernel")
    kernel[0, 0] += 0.25
    set_named_values(wb, "dense_kernel", kernel)
    wb.save(edited)
    fresh, changed = engine.recalc(book, edited)
    assert scalar(fresh, "check_result") == "PASS"
    assert scalar(changed, "check_result") == "FAIL"
    assert errors(changed) == []


def test_every_formula_style_computes_the_same(engine, tmp_path):
    model = gate2xlsx.load(SAMPLES / "xor.h5")
    books = []
    for mode in ("mmult", "sumproduct", "expanded"):
        books.append(tmp_path / f"xor_{mode}.xlsx")
        export_workbook(model, books[-1], formulas=mode)
    names = ("output", "data_outputs", "map_grid", "loss", "accuracy")
    results = []
    for wb in engine.recalc(*books):
        assert errors(wb) == []
        assert scalar(wb, "check_result") == "PASS"
        results.append({n: named_values(wb, n) for n in names})
    for other in results[1:]:
        for n in names:
            assert np.max(np.abs(other[n] - results[0][n])) < 1e-12, n


def formulas_values(book: Path) -> dict[tuple[str, str], object]:
    """Every cell the `formulas` package computed: (SHEET, A1) -> value (ranges split into
    cells)."""
    import formulas
    from openpyxl.utils.cell import get_column_letter, range_boundaries

    solution = formulas.ExcelModel().loads(str(book)).finish().calculate()
    cells = {}
    for key, ranges in solution.items():
        sheet, _, ref = key.rpartition("!")
        sheet = sheet.strip("'").split("]", 1)[-1].upper()
        try:
            c1, r1, c2, r2 = range_boundaries(ref)
        except ValueError:
            continue  # a defined name's own entry; its cells are listed under their sheet
        grid = np.asarray(ranges.value, dtype=object).reshape(r2 - r1 + 1, c2 - c1 + 1)
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                cells[(sheet, f"{get_column_letter(c)}{r}")] = grid[r - r1, c - c1]
    return cells


def test_formulas_package_agrees_with_libreoffice(engine, tmp_path):
    """A second engine that follows Excel's rules evaluates the small workbook to the same
    values."""
    pytest.importorskip("formulas")
    book = tmp_path / "or.xlsx"
    export_workbook(gate2xlsx.load(SAMPLES / "or.hdf"), book)
    lo = engine.recalc(book)[0]
    values = formulas_values(book)
    for name in ("output", "data_outputs", "accuracy", "loss", "map_grid", "check_result"):
        for row in named_cells(lo, name):
            for cell in row:
                got = values[(cell.parent.title.upper(), cell.coordinate)]
                if isinstance(cell.value, str):
                    assert got == cell.value, (name, cell.coordinate)
                else:
                    assert abs(float(got) - cell.value) < 1e-12, (
                        name,
                        cell.coordinate,
                        got,
                        cell.value,
                    )
