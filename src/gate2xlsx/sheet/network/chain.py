"""The Network sheet: one example, step by step: the input row (editable), then each layer's
kernel view, MMULT, bias add and activation, the output, and the predicted class."""

from __future__ import annotations

import numpy as np

from ...ir.model import Model
from ...templates_text import say
from .. import formulas as F
from ..batch.chain import confidences, output_headers, predicted_index, predicted_indices
from ..layout import Block, Chart, Region, SheetPlan, paragraph, text, text_row
from ..placement import RowPlacer, WeightRefs
from ..spec import WorkbookSpec
from .chain_steps import chain

NETWORK = "Network"
LABEL_WIDTH = 46
VALUE_WIDTH = 11
CHART_BESIDE_COLS = 12  # networks up to this many columns wide get the chart beside them


def default_input(model: Model) -> np.ndarray:
    """The input the Network sheet opens with: a data row when there is one, else zeros."""
    if model.data is not None and len(model.data.x):
        return np.asarray(model.data.x[min(1, len(model.data.x) - 1)], dtype=np.float64)
    return np.zeros(model.n_inputs)


def network_plan(
    model: Model, refs: WeightRefs, spec: WorkbookSpec, input_values: np.ndarray | None = None
) -> SheetPlan:
    """The sheet; `input_values` is the example it opens with (default: a data row, or zeros)."""
    sheet = SheetPlan(NETWORK, widths={1: LABEL_WIDTH}, freeze="B3")
    sheet.add(
        text(NETWORK, 1, 1, say("network_title", model=spec.title), "title"),
    )
    paragraph(sheet, 2, say("network_intro"))
    x = default_input(model) if input_values is None else np.asarray(input_values, dtype=np.float64)
    inputs = Block(NETWORK, 5, 2, 1, model.n_inputs)
    sheet.add(
        text(NETWORK, 4, 1, "Input", "layer"),
        text_row(NETWORK, 4, 2, spec.inputs),
        text(NETWORK, 5, 1, "input (edit me)", "step"),
        Region(
            inputs, "input", values=x.reshape(1, -1), name="input", comment=say("input_comment")
        ),
    )
    placer = RowPlacer(NETWORK, top=6)
    placer.values[inputs] = x.reshape(1, -1)
    heads = output_headers(spec.labels, model.n_outputs)
    last = chain(model, refs, placer, inputs, mode=spec.mode, output_labels=heads)
    sheet.add(*placer.regions)
    row = placer.row + 1
    out, classes = _output_rows(sheet, row, last, placer.values[last], spec, model.n_outputs)
    _prediction(sheet, row + 3, out, classes, placer.values[last], spec.labels)
    for col in range(2, max(sheet.extent()[1], 4) + 1):
        sheet.widths.setdefault(col, VALUE_WIDTH)
    sheet.charts.append(_chart(sheet, out, row))
    return sheet


def _output_rows(
    sheet: SheetPlan, row: int, last: Block, probs: np.ndarray, spec: WorkbookSpec, n: int
) -> tuple[Block, Block]:
    """From `row` down: the n outputs (`output`, a view of the last step) and the class
    labels; returns their blocks."""
    labels = spec.labels
    out = Block(NETWORK, row + 1, 2, 1, n)
    classes = Block(NETWORK, row + 2, 2, 1, len(labels))
    sheet.add(
        text(NETWORK, row, 1, "Output", "layer"),
        text_row(NETWORK, row, 2, output_headers(labels, n)),
        text(NETWORK, row + 1, 1, f"output (what {spec.returns} returns)", "step"),
        Region(
            out,
            "output",
            cell_formula=lambda i, j: F.formula(last.cell(i, j)),
            results=probs,
            name="output",
            comment=say("output_comment", returns=spec.returns),
        ),
        text(NETWORK, row + 2, 1, "class labels", "step"),
        Region(classes, "header", values=[labels]),
    )
    return out, classes


def _prediction(
    sheet: SheetPlan, row: int, out: Block, classes: Block, probs: np.ndarray, labels: list[str]
) -> None:
    """Row `row`: the predicted class's index, label and confidence."""
    n = out.cols
    index = predicted_indices(probs)
    pred = Block(NETWORK, row, 2)
    confidence = F.row_max(out.ref()) if n > 1 else F.binary_confidence(out.cell())
    sheet.add(
        text(NETWORK, row, 1, "predicted class: index, label, confidence", "layer"),
        Region(
            pred,
            "result",
            cell_formula=lambda i, j: F.formula(predicted_index(out.ref(), n)),
            results=index,
            comment=say("predicted_comment"),
        ),
        Region(
            Block(NETWORK, row, 3),
            "result",
            cell_formula=lambda i, j: F.formula(F.pick(classes.ref(), pred.cell(0, 0))),
            results=[[labels[int(index[0])]]],
        ),
        Region(
            Block(NETWORK, row, 4),
            "percent",
            cell_formula=lambda i, j: F.formula(confidence),
            results=confidences(probs),
        ),
    )


def _chart(sheet: SheetPlan, out: Block, row: int) -> Chart:
    """The output's chart: beside the steps at the top while the sheet is narrow (on the first
    printed page, never split across two); below the output for a wide network."""
    cols = sheet.extent()[1]
    anchor = F.cell(4, max(cols, 4) + 2) if cols <= CHART_BESIDE_COLS else F.cell(row + 5, 2)
    return Chart(say("network_chart_title"), out, Block(NETWORK, row, 2, 1, out.cols), anchor)
