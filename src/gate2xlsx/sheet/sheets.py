"""The workbook's sheets, planned from a Model: Network (one example, step by step) and Weights.

Defined names (the contract others rely on): `input`, `output`, and `<layer>_<weight>` for
every stored weight, each legal, unique and never a cell reference.
"""

from __future__ import annotations

import numpy as np

from ..model import Model
from ..templates_text import say
from . import formulas as F, meta
from .layout import Block, Region, SheetPlan, ConditionalFormat, WorkbookPlan, text, text_row
from .steps import RowPlacer, WeightRefs, chain

NETWORK, WEIGHTS = "Network", "Weights"
RESERVED_NAMES = ("input", "output", "accuracy", "loss", "labels", "tolerance", "check_result")
LABEL_WIDTH = 46
VALUE_WIDTH = 11


def build(model: Model, *, mode: str = "mmult", input_values: np.ndarray | None = None) -> WorkbookPlan:
    """Plan the whole workbook for a model."""
    weights_sheet, refs = weights_plan(model)
    network = network_plan(model, refs, mode=mode, input_values=input_values)
    plan = WorkbookPlan([network, weights_sheet])
    plan.sheets.append(meta.meta_plan(model, weight_names(model)))  # hidden: extract rebuilds from it
    for sheet in plan.sheets:
        sheet.check_limits()
    return plan


def weight_names(model: Model) -> dict[tuple[str, str], str]:
    """The defined name of every weight, stable across runs for the same model."""
    table = F.NameTable(RESERVED_NAMES)
    return {(layer.name, key): table.claim(f"{layer.name}_{key}")
            for layer in model.layers for key in layer.weights()}


def _grid(values: np.ndarray) -> np.ndarray:
    return values.reshape(values.shape[0], -1) if values.ndim >= 2 else values.reshape(1, -1)


def weights_plan(model: Model) -> tuple[SheetPlan, WeightRefs]:
    sheet = SheetPlan(WEIGHTS, widths={1: LABEL_WIDTH}, freeze="B3")
    sheet.add(text(WEIGHTS, 1, 1, say("weights_title", model=model.name), "title"),
              text(WEIGHTS, 2, 1, say("weights_intro"), "subtitle"))
    refs = WeightRefs()
    names = weight_names(model)
    widths = model.widths()
    row = 4
    for index, layer in enumerate(model.layers, start=1):
        if not layer.weights():
            continue
        sheet.add(text(WEIGHTS, row, 1, f"Layer {index}: {layer.name} ({layer.class_name})", "layer"))
        row += 1
        for key, param in layer.weights().items():
            grid = _grid(param.values)
            rows, cols = grid.shape
            shape = " x ".join(str(d) for d in param.values.shape) or "scalar"
            sheet.add(text(WEIGHTS, row, 1, f"{key}  [{shape}]  {param.path}", "step"),
                      text_row(WEIGHTS, row, 2, [f"unit {j + 1}" for j in range(cols)]))
            trained_left = 2 + cols + 1
            sheet.add(text(WEIGHTS, row, trained_left, "trained value (read-only copy)", "note"))
            row += 1
            if rows > 1:
                inputs = model.inputs() if index == 1 and key == "kernel" else [
                    f"in {i + 1}" for i in range(widths[index - 1])]
                labels = inputs if len(inputs) == rows else [f"row {i + 1}" for i in range(rows)]
                sheet.add(Region(Block(WEIGHTS, row, 1, rows, 1), "header", values=[[v] for v in labels]))
            name = names[(layer.name, key)]
            block = Block(WEIGHTS, row, 2, rows, cols)
            trained = Block(WEIGHTS, row, trained_left, rows, cols)
            sheet.add(Region(block, "weight", values=grid, name=name),
                      Region(trained, "trained", values=grid))
            sheet.conditional.append(ConditionalFormat(
                block.ref(absolute=False, on=WEIGHTS), "changed",
                f"{block.cell()}<>{trained.cell()}"))
            refs.entries[(layer.name, key)] = (name, block)
            row += rows + 1
        row += 1
    return sheet, refs


def default_input(model: Model) -> np.ndarray:
    """The input the Network sheet opens with: a data row when there is one, else zeros."""
    if model.data is not None and len(model.data.x):
        return np.asarray(model.data.x[min(1, len(model.data.x) - 1)], dtype=np.float64)
    return np.zeros(model.n_inputs)


def network_plan(model: Model, refs: WeightRefs, *, mode: str = "mmult",
                 input_values: np.ndarray | None = None) -> SheetPlan:
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
    labels = model.labels()
    last = chain(model, refs, placer, inputs, mode=mode, output_labels=labels)
    sheet.add(*placer.regions)
    row = placer.row + 1
    n = model.n_outputs
    out = Block(NETWORK, row + 1, 2, 1, n)
    classes = Block(NETWORK, row + 2, 2, 1, n)
    sheet.add(text(NETWORK, row, 1, "Output", "layer"), text_row(NETWORK, row, 2, labels),
              text(NETWORK, row + 1, 1, "output (what Keras's predict returns)", "step"),
              Region(out, "output", cell_formula=lambda i, j: F.formula(last.cell(i, j)),
                     name="output", comment=say("output_comment")),
              text(NETWORK, row + 2, 1, "class labels", "step"),
              Region(classes, "header", values=[labels]))
    pred = Block(NETWORK, row + 3, 2, 1, 3)
    sheet.add(text(NETWORK, row + 3, 1, "predicted class: index, label, confidence", "layer"),
              Region(Block(NETWORK, row + 3, 2), "result",
                     cell_formula=lambda i, j: F.formula(F.argmax_index(out.ref())),
                     comment=say("predicted_comment")),
              Region(Block(NETWORK, row + 3, 3), "result",
                     cell_formula=lambda i, j: F.formula(F.pick(classes.ref(), pred.cell(0, 0)))),
              Region(Block(NETWORK, row + 3, 4), "percent",
                     cell_formula=lambda i, j: F.formula(F.row_max(out.ref()))))
    for col in range(2, max(sheet.extent()[1], 4) + 1):
        sheet.widths.setdefault(col, VALUE_WIDTH)
    return sheet
