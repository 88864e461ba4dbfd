"""The workbook's sheets, planned from a Model: Network (one example, step by step), Truth
table / Data (the batch, accuracy, loss), Decision map, Weights, Check and About.

Defined names (the contract others rely on): `input`, `output`, `<layer>_<weight>` for every
stored weight, `accuracy`, `loss`, `data_inputs`/`data_outputs`, `map_inputs`/`map_outputs`,
`map_grid`, `map_class` (several classes only), `tolerance`, `check_result`; each legal, unique and never a cell reference.
"""

from __future__ import annotations

import numpy as np

from ..errors import LayoutError
from ..model import Model
from ..templates_text import say
from . import formulas as F, meta
from .layout import Block, Chart, ConditionalFormat, Region, SheetPlan, WorkbookPlan, text, text_row
from .about import about_plan
from .batch import Rows, capped, class_labels, default_rows, data_plan, output_headers, predicted_index
from .check import check_plan
from .decision_map import map_plan
from .keras_eval import loss_rule
from .steps import RowPlacer, WeightRefs, chain

NETWORK, WEIGHTS, TRUTH_TABLE, DATA = "Network", "Weights", "Truth table", "Data"
RESERVED_NAMES = ("input", "output", "accuracy", "loss", "labels", "tolerance", "check_result",
                  "data_inputs", "data_outputs", "data_targets", "map_inputs", "map_outputs", "map_grid",
                  "map_class")
# Above this many weights the Weights sheet drops its read-only trained copy (it doubles the
# cells to write and recalculate); the Check sheet still catches every change.
TRAINED_COPY_LIMIT = 20_000
LABEL_WIDTH = 46
VALUE_WIDTH = 11


def build(model: Model, *, mode: str = "mmult", input_values: np.ndarray | None = None,
          rows: Rows | None = None, loss: str | None = None, labels: list[str] | None = None,
          facts: dict[str, str] | None = None) -> WorkbookPlan:
    """Plan the whole workbook for a model.

    rows: the examples of the Truth table / Data sheet (default: the file's data, else every
    0/1 input); loss: the loss whose live value the sheet shows (None: no loss cell);
    labels: class names; facts: extra lines for the About sheet.
    """
    labels = class_labels(model, labels)
    rows = capped(rows) if rows is not None else default_rows(model)
    weights_sheet, refs = weights_plan(model)
    if input_values is None and len(rows.x):
        input_values = rows.x[min(1, len(rows.x) - 1)]
    network = network_plan(model, refs, mode=mode, input_values=input_values, labels=labels)
    rule = loss_rule(model, loss) if loss else None
    title = TRUTH_TABLE if rows.truth_table else DATA
    facts = dict(facts or {})
    batch = lambda make: _if_it_fits(make, facts)  # noqa: E731
    sheets = [network]
    if rows.sample:  # made-up inputs teach nothing a Data sheet would add; Check runs them
        facts["notes"] = (facts.get("notes", "") + " " + say("no_data_sheet")).strip()
    else:
        sheets.append(batch(lambda: data_plan(model, refs, rows, rule, mode=mode, labels=labels,
                                              title=title)))
    if model.n_inputs == 2:
        sheets.append(batch(lambda: map_plan(model, refs, rows.x if rows.y is not None or model.data
                                             else None, mode=mode, labels=labels)))
    sheets += [weights_sheet, batch(lambda: check_plan(model, refs, rows.x, mode=mode, labels=labels,
                                                       reference_name="NumPy forward pass at export"))]
    sheets = [sheet for sheet in sheets if sheet is not None] + [about_plan(model, facts)]
    plan = WorkbookPlan(sheets)
    plan.sheets.append(meta.meta_plan(model, weight_names(model)))  # hidden: extract rebuilds from it
    for sheet in plan.sheets:
        sheet.check_limits()
    return plan


def _if_it_fits(make, facts: dict[str, str]) -> SheetPlan | None:
    """A batch sheet (one row per example, steps side by side), or None with a note saying why
    it was left out when the network is too wide for a sheet's columns."""
    try:
        return make()
    except LayoutError as exc:
        note = f"Left out: {exc}."
        facts["notes"] = f"{facts['notes']} {note}" if facts.get("notes") else note
        return None


def weight_names(model: Model) -> dict[tuple[str, str], str]:
    """The defined name of every weight, then of every setting (Layer.settings), stable across
    runs for the same model: (layer name, key) -> name."""
    table = F.NameTable(RESERVED_NAMES)
    names = {(layer.name, key): table.claim(f"{layer.name}_{key}")
             for layer in model.layers for key in layer.weights()}
    names.update({(layer.name, key): table.claim(f"{layer.name}_{key}")
                  for layer in model.layers for key in layer.settings()})
    return names


def _grid(values: np.ndarray) -> np.ndarray:
    return values.reshape(values.shape[0], -1) if values.ndim >= 2 else values.reshape(1, -1)


def weights_plan(model: Model) -> tuple[SheetPlan, WeightRefs]:
    sheet = SheetPlan(WEIGHTS, widths={1: LABEL_WIDTH}, freeze="B3")
    with_copy = model.count_params() <= TRAINED_COPY_LIMIT
    intro = say("weights_intro") if with_copy else say("weights_intro_large", limit=TRAINED_COPY_LIMIT)
    sheet.add(text(WEIGHTS, 1, 1, say("weights_title", model=model.name), "title"),
              text(WEIGHTS, 2, 1, intro, "subtitle"))
    refs = WeightRefs()
    names = weight_names(model)
    widths = model.widths()
    row = 4
    for index, layer in enumerate(model.layers, start=1):
        if not layer.weights() and not layer.settings():
            continue
        sheet.add(text(WEIGHTS, row, 1, f"Layer {index}: {layer.name} ({layer.class_name})", "layer"))
        row += 1
        if layer.settings():
            row = _settings(sheet, layer, names, refs, row, with_copy)
        for key, param in layer.weights().items():
            grid = _grid(param.values)
            rows, cols = grid.shape
            shape = " x ".join(str(d) for d in param.values.shape) or "scalar"
            sheet.add(text(WEIGHTS, row, 1, f"{key}  [{shape}]  {param.path}", "step"),
                      text_row(WEIGHTS, row, 2, [f"unit {j + 1}" for j in range(cols)]))
            row += 1
            if rows > 1:
                inputs = model.inputs() if index == 1 and key == "kernel" else [
                    f"in {i + 1}" for i in range(widths[index - 1])]
                labels = inputs if len(inputs) == rows else [f"row {i + 1}" for i in range(rows)]
                sheet.add(Region(Block(WEIGHTS, row, 1, rows, 1), "header", values=[[v] for v in labels]))
            name = names[(layer.name, key)]
            block = Block(WEIGHTS, row, 2, rows, cols)
            sheet.add(Region(block, "weight", values=grid, name=name))
            if with_copy:
                _trained_copy(sheet, block, grid)
            refs.entries[(layer.name, key)] = (name, block)
            row += rows + 1
        row += 1
    return sheet, refs


def _settings(sheet: SheetPlan, layer, names: dict, refs: WeightRefs, row: int, with_copy: bool) -> int:
    """The layer's scalar settings as one row of named, editable cells; returns the next row."""
    keys = list(layer.settings())
    sheet.add(text(WEIGHTS, row, 1, "settings (from the layer's configuration)", "step"),
              text_row(WEIGHTS, row, 2, keys))
    for j, key in enumerate(keys):
        cell = Block(WEIGHTS, row + 1, 2 + j)
        sheet.add(Region(cell, "weight", values=[[layer.settings()[key]]], name=names[(layer.name, key)]))
        refs.entries[(layer.name, key)] = (names[(layer.name, key)], cell)
    block = Block(WEIGHTS, row + 1, 2, 1, len(keys))
    if with_copy:
        _trained_copy(sheet, block, np.array([list(layer.settings().values())], dtype=np.float64))
    return row + 3


def _trained_copy(sheet: SheetPlan, block: Block, grid: np.ndarray) -> None:
    """A grey read-only copy right of the block, and an orange mark on every changed weight."""
    trained = Block(WEIGHTS, block.top, block.right + 2, block.rows, block.cols)
    sheet.add(text(WEIGHTS, block.top - 1, trained.left, "trained value (read-only copy)", "note"),
              Region(trained, "trained", values=grid))
    sheet.conditional.append(ConditionalFormat(block.ref(absolute=False, on=WEIGHTS), "changed",
                                               f"{block.cell()}<>{trained.cell()}"))


def default_input(model: Model) -> np.ndarray:
    """The input the Network sheet opens with: a data row when there is one, else zeros."""
    if model.data is not None and len(model.data.x):
        return np.asarray(model.data.x[min(1, len(model.data.x) - 1)], dtype=np.float64)
    return np.zeros(model.n_inputs)


def network_plan(model: Model, refs: WeightRefs, *, mode: str = "mmult",
                 input_values: np.ndarray | None = None, labels: list[str] | None = None) -> SheetPlan:
    sheet = SheetPlan(NETWORK, widths={1: LABEL_WIDTH}, freeze="B3")
    sheet.add(text(NETWORK, 1, 1, say("network_title", model=model.name), "title"),
              text(NETWORK, 2, 1, say("network_intro"), "subtitle"))
    x = default_input(model) if input_values is None else np.asarray(input_values, dtype=np.float64)
    inputs = Block(NETWORK, 5, 2, 1, model.n_inputs)
    sheet.add(text(NETWORK, 4, 1, "Input", "layer"),
              text_row(NETWORK, 4, 2, model.inputs()),
              text(NETWORK, 5, 1, "input (edit me)", "step"),
              Region(inputs, "input", values=x.reshape(1, -1), name="input",
                     comment=say("input_comment")))
    placer = RowPlacer(NETWORK, top=6)
    labels = labels or class_labels(model)
    n = model.n_outputs
    heads = output_headers(labels, n)
    last = chain(model, refs, placer, inputs, mode=mode, output_labels=heads)
    sheet.add(*placer.regions)
    row = placer.row + 1
    out = Block(NETWORK, row + 1, 2, 1, n)
    classes = Block(NETWORK, row + 2, 2, 1, len(labels))
    sheet.add(text(NETWORK, row, 1, "Output", "layer"), text_row(NETWORK, row, 2, heads),
              text(NETWORK, row + 1, 1, "output (what Keras's predict returns)", "step"),
              Region(out, "output", cell_formula=lambda i, j: F.formula(last.cell(i, j)),
                     name="output", comment=say("output_comment")),
              text(NETWORK, row + 2, 1, "class labels", "step"),
              Region(classes, "header", values=[labels]))
    pred = Block(NETWORK, row + 3, 2)
    confidence = F.row_max(out.ref()) if n > 1 else F.binary_confidence(out.cell())
    sheet.add(text(NETWORK, row + 3, 1, "predicted class: index, label, confidence", "layer"),
              Region(pred, "result",
                     cell_formula=lambda i, j: F.formula(predicted_index(out.ref(), n)),
                     comment=say("predicted_comment")),
              Region(Block(NETWORK, row + 3, 3), "result",
                     cell_formula=lambda i, j: F.formula(F.pick(classes.ref(), pred.cell(0, 0)))),
              Region(Block(NETWORK, row + 3, 4), "percent",
                     cell_formula=lambda i, j: F.formula(confidence)))
    sheet.charts.append(Chart(say("network_chart_title"), out, Block(NETWORK, row, 2, 1, n),
                              F.cell(row + 5, 2)))
    for col in range(2, max(sheet.extent()[1], 4) + 1):
        sheet.widths.setdefault(col, VALUE_WIDTH)
    return sheet
