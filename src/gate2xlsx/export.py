"""Model -> workbook: the export behind `gate2xlsx MODEL -o OUT.xlsx`.

Besides the model, the export decides which rows the Truth table / Data sheet shows (a
gate's truth table, a CSV file, the file's own training data, or every 0/1 input), which
loss it evaluates, and the names of classes and inputs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import gates, limits
from .errors import InputError, OutputError, UnsupportedModelError
from .model import Model
from .progress import Report
from .sheet import sheets, writer
from .sheet.batch import Rows, capped, default_rows
from .sheet.keras_eval import canonical_loss, default_loss, require_loss
from .sheet.steps import MODES


@dataclass
class ExportInfo:
    """What the export decided, for the CLI to state."""

    path: Path
    rows: str
    gate: str | None
    gate_from: str | None
    loss: str | None
    sheets: list[str]


def infer_gate(model: Model, path: str | os.PathLike | None = None) -> tuple[str | None, str | None]:
    """(gate, how it was found): from the training data in the file, else from the file name."""
    if model.data is not None and model.data.y is not None and model.n_inputs == 2:
        for gate in gates.TRUTH:
            table = gates.dataset(gate)
            if _same_table(model.data.x, model.data.y, table.x, table.y):
                return gate, "the training data stored in the file"
        name = (model.data.name or "").lower()
        if name in gates.TRUTH:
            return name, "the data set's name stored in the file"
    stem = Path(path or model.source.path or "").stem.lower()
    if model.n_inputs == 2 and stem in gates.TRUTH:
        return stem, f"the file name ({Path(path or model.source.path).name})"
    return None, None


def _same_table(x: np.ndarray, y: np.ndarray, gx: np.ndarray, gy: np.ndarray) -> bool:
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.shape != gx.shape:
        return False
    order = np.lexsort(x.T[::-1])
    targets = y[order].reshape(len(x), -1)
    classes = targets[:, -1] if targets.shape[1] in (1, 2) else None
    return classes is not None and np.array_equal(x[order], gx) and np.array_equal(classes > 0.5, gy[:, 1] > 0.5)


def gate_rows(model: Model, gate: str, how: str) -> Rows:
    """A gate's truth table, with targets shaped like the model's output (one-hot, or 0/1)."""
    if model.n_inputs != 2 or model.n_outputs > 2:
        raise UnsupportedModelError(f"--gate needs a model with 2 inputs and 1 or 2 outputs, not "
                                    f"{model.n_inputs} inputs and {model.n_outputs} outputs")
    table = gates.dataset(gate)  # raises InputError for an unknown gate
    x, y = table.x, table.y[:, 1:] if model.n_outputs == 1 else table.y
    return Rows(x, y, f"Rows: the truth table of {gate.upper()} (gate from {how})", truth_table=True)


def csv_rows(model: Model, path: str | os.PathLike) -> Rows:
    """Rows from a CSV with a header: the inputs, then a label column (data.load_csv), or the
    inputs alone (predictions only)."""
    from . import data as data_module

    header = Path(path).read_text(encoding="utf-8-sig").splitlines()[:1] if Path(path).is_file() else []
    if header and len(header[0].split(",")) == model.n_inputs:
        x = np.genfromtxt(path, delimiter=",", skip_header=1, dtype=np.float64, ndmin=2)
        if np.isnan(x).any():
            raise InputError("CSV inputs must be numbers (one header row)", path=path)
        return Rows(x, None, f"Rows: {Path(path).name} (no label column: predictions only)")
    table = data_module.load_csv(path)
    x, y = table.data.x, table.data.y
    m = model.n_outputs
    if x.shape[1] != model.n_inputs or y.shape[1] != max(m, 2):
        raise InputError(f"CSV has {x.shape[1]} inputs and {y.shape[1]} classes; the model takes "
                         f"{model.n_inputs} inputs and predicts {max(m, 2)} classes", path=path)
    model.input_names = model.input_names or table.input_names
    model.class_names = model.class_names or table.class_names
    return Rows(x, y[:, 1:] if m == 1 else y, f"Rows: {Path(path).name}")


def write_workbook(model: Model, path: str | os.PathLike, **options) -> Path:
    """Write the workbook that computes `model` with live formulas; return its path.

    Options as for `export_workbook`.
    """
    return export_workbook(model, path, **options).path


def export_workbook(model: Model, path: str | os.PathLike, *, formulas: str = "mmult",
                    input_values: np.ndarray | None = None, gate: str | None = None,
                    data: str | os.PathLike | None = None, loss: str | None = None,
                    labels: list[str] | None = None, inputs: list[str] | None = None,
                    infer: bool = True, progress: Report | None = None) -> ExportInfo:
    """Write the workbook that computes `model` with live formulas; return what was decided.

    formulas: "mmult" (array formulas, default), "sumproduct" (one per unit) or "expanded"
    (every product written out). gate / data: the rows of the Truth table / Data sheet
    (default: a gate inferred from the file's data or name, else the file's data, else every
    0/1 input). loss: overrides the file's training loss. labels / inputs: class and input names.
    progress: called with (rows written, rows in all) while the file streams out.
    """
    if formulas not in MODES:
        raise InputError(f"--formulas must be one of {', '.join(MODES)}, not {formulas!r}")
    limits.check_model(model)  # cheap, before planning: a hostile config never costs minutes
    if model.source.path and Path(model.source.path).resolve() == Path(path).resolve():
        raise OutputError("refusing to write the workbook over the model file it was read from",
                          path=path, hint="choose another name with -o OUT.xlsx")
    if labels is not None and len(labels) != max(model.n_outputs, 2):
        raise InputError(f"--labels needs {max(model.n_outputs, 2)} names, got {len(labels)}")
    if inputs is not None:
        if len(inputs) != model.n_inputs:
            raise InputError(f"--inputs needs {model.n_inputs} names, got {len(inputs)}")
        model.input_names = list(inputs)
    how = "--gate"
    if gate is None and data is None and infer:
        gate, how = infer_gate(model)
    rows = csv_rows(model, data) if data is not None else gate_rows(model, gate.lower(), how) if gate \
        else default_rows(model)
    rows = capped(rows)
    chosen = require_loss(loss) if loss else canonical_loss(model.loss)
    if chosen is None and rows.y is not None:
        chosen = default_loss(model)
    facts = {"loss": chosen or "none", "data": rows.source}
    plan = sheets.build(model, mode=formulas, input_values=input_values, rows=rows, loss=chosen,
                        labels=labels, facts=facts)
    written = writer.write(plan, path, progress)
    return ExportInfo(written, rows.source, gate, how if gate else None,
                      chosen, [s.title for s in plan.sheets if not s.hidden])
