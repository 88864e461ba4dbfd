"""Model -> workbook: the export behind `gate2xlsx MODEL -o OUT.xlsx`.

Every choice about the workbook that is not the network itself is made here, once, into one
WorkbookSpec handed to the planner: which rows the Truth table / Data sheet shows (a gate's
truth table, a CSV file, the file's own training data, or every 0/1 input), which loss it
evaluates, and the names of classes and inputs. The caller's Model is never changed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..data import csv_tables as tables
from ..data import gates
from ..errors import InputError, UnsupportedModelError
from ..files import check_workbook_target
from ..ir import losses, optimizers
from ..ir.families.dense import Dense
from ..ir.families.embeddings import starting_row, token_inputs
from ..ir.fit import Settings, glorot_uniform
from ..ir.model import Model, chain_graph, returned_by
from ..progress import OnProgress
from ..sheet import limits
from ..sheet.plan import plan_workbook
from ..sheet.spec import MODES, Rows, TrainingSpec, WorkbookSpec
from ..sheet.writing import writer
from .options import ExportOptions, TrainingOptions

MAX_ROWS = 2000  # batch rows beyond this are left out (and the sheet says so)
GRAPH_CELLS = 200_000  # a graph's Data sheet: cells of its rows' networks, all rows together
SAMPLE_CELLS = 4096  # input cells of the random sample shown when a wide model has no data
DEFAULTS = ExportOptions()


@dataclass
class ExportInfo:
    """What the export decided, for the CLI to state."""

    path: Path
    rows: str
    gate: str | None
    gate_from: str | None
    loss: str | None
    sheets: list[str]
    layers: int  # of the network written (after a fresh start)
    weights: int


def write_workbook(model: Model, path: str | os.PathLike, **options) -> Path:
    """Write the workbook that computes `model` with live formulas; return its path.

    options: ExportOptions' fields (the read's aside), as `export_workbook` takes them.
    """
    return export_workbook(model, path, **options).path


def export_workbook(
    model: Model, path: str | os.PathLike, *, progress: OnProgress | None = None, **options
) -> ExportInfo:
    """Write the workbook that computes `model` with live formulas; return what was decided.

    options: ExportOptions' fields (the read's aside): formulas, gate, data, loss, labels,
    inputs, input_values, infer, training (a TrainingSpec or TrainingOptions), init, seed.
    progress: called with (rows written, rows in all) while the file streams out.
    """
    check_workbook_target(path, model.source.path or None)
    return write(model, Path(path), ExportOptions(**options), progress)


def write(
    model: Model, path: Path, options: ExportOptions, progress: OnProgress | None = None
) -> ExportInfo:
    """The export once its target is checked: the Training sheet's settings, the fresh start,
    the workbook's spec (`decide`), then plan and write."""
    training = training_spec(model, options.training, options.loss)
    if options.init is not None:
        model = fresh_start(model, options.seed)
    limits.check_model(model)  # cheap, before planning: a hostile config never costs minutes
    spec, gate, how = decide(model, replace(options, training=training))
    plan = plan_workbook(model, spec)
    written = writer.write(plan, path, progress)
    shown = [sheet.title for sheet in plan.sheets if not sheet.hidden]
    return ExportInfo(written, spec.rows.source, gate, how, spec.loss, shown,
                      len(model.layers), model.count_params())  # fmt: skip


def training_spec(
    model: Model, training: TrainingOptions | TrainingSpec | None, loss: str | None = None
) -> TrainingSpec | None:
    """The Training sheet `gate2xlsx MODEL --epochs N` asks for (None without epochs); a
    TrainingSpec given is decided already. A setting `training` leaves None is the file's
    own where its training config has one for the optimizer chosen, else train's default."""
    if training is None or isinstance(training, TrainingSpec):
        return training
    given = training.given()
    if training.epochs is None:
        if given:
            flags = ", ".join("--" + k.replace("_", "-") for k in given)
            raise InputError(f"{flags} set up the Training sheet, which --epochs N asks for")
        return None
    settings = _settings(model, training, loss)
    problems = []
    if settings.epochs < 1 or settings.batch_size < 1:
        problems.append("--epochs and --batch-size must be at least 1")
    if not (settings.lr > 0 and np.isfinite(settings.lr)):
        problems.append("--lr must be a positive number")
    if not 0 <= settings.momentum < 1:
        problems.append("--momentum must be in [0, 1)")
    if problems:
        raise InputError("; ".join(problems))
    return TrainingSpec(settings, training.use_trained)


def _settings(model: Model, training: TrainingOptions, loss: str | None) -> Settings:
    """The settings given, else the file's own for its optimizer, else train's defaults."""
    given = training.given()
    stored = model.optimizer or {}
    name = str(given.get("optimizer") or stored.get("name") or optimizers.DEFAULT).lower()
    if name not in optimizers.TABLE:
        raise InputError(f"--optimizer must be one of {', '.join(optimizers.NAMES)}, not {name!r}")
    same = stored.get("name") == name  # the file's settings apply to its own optimizer only
    base = Settings()

    def pick(key: str, stored_key: str, default):
        if key in given:
            return given[key]
        value = stored.get(stored_key) if same else None
        return default if value is None else _as_typed(value)

    return Settings(
        loss=losses.require(loss)
        if loss
        else losses.canonical(model.loss) or losses.default_for(model),
        optimizer=name,
        lr=float(pick("lr", "learning_rate", base.lr)),
        momentum=float(pick("momentum", "momentum", base.momentum)),
        nesterov=bool(pick("nesterov", "nesterov", base.nesterov)),
        epochs=int(training.epochs),
        batch_size=int(given.get("batch_size", base.batch_size)),
        shuffle=False,
        beta_1=float(pick("beta_1", "beta_1", base.beta_1)),
        beta_2=float(pick("beta_2", "beta_2", base.beta_2)),
        epsilon=float(pick("epsilon", "epsilon", base.epsilon)),
        rho=float(pick("rho", "rho", base.rho)),
    )


def _as_typed(value: object) -> object:
    """A stored float32 setting (0.10000000149011612) as the number it was typed as (0.1)."""
    if isinstance(value, float):
        return float(str(np.float32(value)))
    return value


def fresh_start(model: Model, seed: int | None) -> Model:
    """A copy of `model` with Keras's fresh start: glorot-uniform kernels, zero biases."""
    rng = np.random.default_rng(seed)
    layers = []
    for layer in model.layers:
        if isinstance(layer, Dense):
            n_in, n_out = layer.kernel.values.shape
            kernel = replace(layer.kernel, values=glorot_uniform(n_in, n_out, rng))
            bias = None if layer.bias is None else replace(layer.bias, values=np.zeros(n_out))
            layer = replace(layer, kernel=kernel, bias=bias)
        layers.append(layer)
    return replace(model, graph=chain_graph(model.n_inputs, layers))


KERAS_DEFAULT_NAMES = re.compile(r"(sequential|model|functional)(_\d+)?")


def display_name(model: Model) -> str:
    """How sheet titles name the network: the name its author gave it, else (Keras's own
    "sequential", "model_1", ...) the file's name."""
    if model.source.path and KERAS_DEFAULT_NAMES.fullmatch(model.name or "model"):
        return Path(model.source.path).stem
    return model.name or "model"


def decide(
    model: Model, options: ExportOptions = DEFAULTS
) -> tuple[WorkbookSpec, str | None, str | None]:
    """The workbook's spec, and the gate of its rows with how it was found (or None, None).

    From `options`: formulas; gate / data, the rows of the Truth table / Data sheet (default:
    a gate inferred from the file's data or name, else the file's data, else every 0/1
    input); loss (instead of the file's training loss); labels / inputs (class and input
    names); input_values (the Network sheet's first input); training (a TrainingSpec, as
    `training_spec` decides it).
    """
    _check_names(model, options)
    gate, data, training = options.gate, options.data, options.training
    how = "--gate" if gate else None
    if gate is None and data is None and options.infer and model.as_chain() is not None:
        gate, how = infer_gate(model)
    table = tables.for_model(data, model.n_inputs) if data is not None else None
    named_inputs = options.inputs or (
        None if model.input_names or table is None else table.input_names
    )
    named_labels = options.labels or (
        None if model.class_names or table is None else table.class_names
    )
    named_labels = named_labels if model.labels(named_labels) == named_labels else None
    if table is not None:
        rows = csv_rows(model, table, Path(data), model.labels(named_labels))
    elif gate:
        rows = gate_rows(model, gate.lower(), how)
    else:
        rows = default_rows(model)
    rows = capped(rows, row_limit(model))
    loss = options.loss
    chosen = losses.require(loss) if loss else losses.canonical(model.loss)
    if chosen is None and rows.y is not None:
        chosen = losses.default_for(model)
    spec = WorkbookSpec(
        rows=rows,
        labels=model.labels(named_labels),
        inputs=model.inputs(named_inputs),
        mode=options.formulas,
        loss=chosen,
        input_values=options.input_values,
        described_labels=named_labels,
        described_inputs=named_inputs,
        about={"loss": chosen or "none", "data": rows.source},
        title=display_name(model),
        returns=returned_by(model),
        training=training,
    )
    return spec, gate, how if gate else None


def _check_names(model: Model, options: ExportOptions) -> None:
    """The options the model itself refuses: a formula mode, too few or many names, rows or
    training for a network that is no dense chain."""
    formulas, labels, inputs = options.formulas, options.labels, options.inputs
    gate, training = options.gate, options.training
    if formulas not in MODES:
        raise InputError(f"--formulas must be one of {', '.join(MODES)}, not {formulas!r}")
    if labels is not None and len(labels) != max(model.n_outputs, 2):
        raise InputError(f"--labels needs {max(model.n_outputs, 2)} names, got {len(labels)}")
    if inputs is not None and len(inputs) != model.n_inputs:
        raise InputError(f"--inputs needs {model.n_inputs} names, got {len(inputs)}")
    if model.as_chain() is None and (gate or training):
        raise UnsupportedModelError(
            f"{'--gate' if gate else '--epochs'} needs a dense chain; this network has tensors "
            "or branches (its Network sheet computes one example)"
        )


def infer_gate(
    model: Model, path: str | os.PathLike | None = None
) -> tuple[str | None, str | None]:
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
    return (
        classes is not None
        and np.array_equal(x[order], gx)
        and np.array_equal(classes > 0.5, gy[:, 1] > 0.5)
    )


def gate_rows(model: Model, gate: str, how: str) -> Rows:
    """A gate's truth table, with targets shaped like the model's output (one-hot, or 0/1)."""
    if model.n_inputs != 2 or model.n_outputs > 2:
        raise UnsupportedModelError(
            f"--gate needs a model with 2 inputs and 1 or 2 outputs, not "
            f"{model.n_inputs} inputs and {model.n_outputs} outputs"
        )
    table = gates.dataset(gate)  # raises InputError for an unknown gate
    x, y = table.x, table.y[:, 1:] if model.n_outputs == 1 else table.y
    return Rows(
        x, y, f"Rows: the truth table of {gate.upper()} (gate from {how})", truth_table=True
    )


def csv_rows(model: Model, table: tables.Table, path: Path, labels: list[str]) -> Rows:
    """Rows from a CSV table: inputs alone (predictions only), or inputs and a label column
    whose classes are the model's `labels` (one class alone is fine: export does not train)."""
    if table.y is None:
        return Rows(table.x, None, f"Rows: {path.name} (no label column: predictions only)")
    if table.x.shape[1] != model.n_inputs:
        raise InputError(f"the CSV has {table.x.shape[1]} input columns and a label column, but "
                         f"the model takes {model.n_inputs} inputs", path=path)  # fmt: skip
    y = _targets(table, labels, path)
    return Rows(table.x, y[:, 1:] if model.n_outputs == 1 else y, f"Rows: {path.name}")


def _targets(table: tables.Table, labels: list[str], path: Path) -> np.ndarray:
    """One-hot targets over the model's classes: the table's classes in order when there are as
    many, else each matched by name (or by its 0-based index) to one of `labels`."""
    names = table.class_names or []
    if len(names) == len(labels):
        return table.y
    index = {}
    for name in names:
        if name in labels:
            index[name] = labels.index(name)
        elif name.isdigit() and int(name) < len(labels):
            index[name] = int(name)
        else:
            raise InputError(f"label {name!r} is none of the model's {len(labels)} classes "
                             f"({', '.join(labels)})", path=path,
                             hint="name the classes with --labels")  # fmt: skip
    y = np.zeros((len(table.x), len(labels)))
    for j, name in enumerate(names):
        y[table.y[:, j] == 1, index[name]] = 1.0
    return y


def default_rows(model: Model) -> Rows:
    """Rows when neither data nor a gate is known: the file's data, all 0/1 inputs, or a sample."""
    if model.data is not None and len(model.data.x):
        name = model.data.name or "training data"
        return Rows(
            np.asarray(model.data.x, float), model.data.y, f"Rows: {name} stored in the model file"
        )
    n = model.n_inputs
    if model.as_chain() is None:  # one example on the Network sheet: a blank drawing grid
        tokens = token_inputs(model.graph)  # token 0 may be padding: ids start at 1
        every = len(tokens) == len(model.graph.inputs)
        start = "token 1" if every else "token 1 and zeros" if tokens else "zeros"
        return Rows(starting_row(model.graph), None, f"Rows: none (the Network sheet starts "
                    f"from {start}; give rows with --data FILE.csv)", sample=True)  # fmt: skip
    if n <= 10:
        grid = np.array(
            [[(i >> (n - 1 - b)) & 1 for b in range(n)] for i in range(2**n)], dtype=np.float64
        )
        return Rows(
            grid,
            None,
            f"Rows: all {2**n} combinations of 0/1 inputs (no data given)",
            truth_table=True,
        )
    k = min(16, max(4, SAMPLE_CELLS // n))  # wide inputs: fewer rows, so the sheet stays small
    sample = np.random.default_rng(0).uniform(0, 1, size=(k, n))
    return Rows(
        sample,
        None,
        f"Rows: {k} random inputs in [0, 1) on the Check sheet (no data "
        f"given; 2^{n} rows would be too many)",
        sample=True,
    )


def capped(rows: Rows, limit: int = MAX_ROWS) -> Rows:
    """At most `limit` rows, saying so in the source line when rows were left out."""
    if len(rows.x) <= limit:
        return rows
    note = (
        f"{rows.source}; the first {limit} of {len(rows.x)} rows (the rest left out to "
        "keep the sheet fast)"
    )
    return Rows(rows.x[:limit], None if rows.y is None else rows.y[:limit], note,
                rows.truth_table, rows.sample)  # fmt: skip


def row_limit(model: Model) -> int:
    """How many rows a Data sheet shows: a graph draws every row's network in full, so its
    rows share GRAPH_CELLS cells."""
    if model.as_chain() is not None:
        return MAX_ROWS
    return max(1, min(MAX_ROWS, GRAPH_CELLS // max(model.graph.cells(), 1)))
