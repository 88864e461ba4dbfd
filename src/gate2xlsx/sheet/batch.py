"""Batch sheets: many examples computed at once, one row each (Truth table / Data).

`compute` lays a whole batch out with array formulas (one MMULT per layer over all rows) and
is shared by the Truth table, the Decision map and the Check sheet. The Truth table adds the
predicted and expected labels, a correct/wrong column, per-row loss, and the live `accuracy`
and `loss` cells that equal Keras's `model.evaluate`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model import Model
from ..templates_text import say
from . import formulas as F
from .keras_eval import LossRule, accuracy_name, final_layer
from .layout import Block, Chart, ConditionalFormat, Region, SheetPlan, text, text_row
from .steps import ColumnPlacer, WeightRefs, chain

MAX_ROWS = 2000  # rows beyond this are left out (and the sheet says so)
MAX_CHART_ROWS = 32
HEADER_ROW = 5
TOP = HEADER_ROW + 3


@dataclass
class Rows:
    """The examples a batch sheet shows: inputs, optional targets, and where they came from."""

    x: np.ndarray
    y: np.ndarray | None
    source: str
    truth_table: bool = False
    sample: bool = False  # random inputs made up for a wide model that came without data


@dataclass
class Computed:
    regions: list[Region]
    outputs: Block  # the network's output block (k x n_outputs)
    logits: Block | None  # the last activation's input, for the loss
    next_col: int


def class_labels(model: Model, labels: list[str] | None = None) -> list[str]:
    """Names of the classes: given, from the file, False/True for one or two outputs, else 0..n-1."""
    n = model.n_outputs
    if labels:
        return list(labels)
    if model.class_names and len(model.class_names) == max(n, 2):
        return list(model.class_names)
    return ["False", "True"] if n <= 2 else [str(i) for i in range(n)]


def output_headers(labels: list[str], n_outputs: int) -> list[str]:
    return [f"P({labels[-1]})"] if n_outputs == 1 else labels[:n_outputs]


def predicted_index(probs_row: str, n_outputs: int) -> str:
    """0-based predicted class: p > 0.5 for one sigmoid output, else argmax."""
    return F.above_half(probs_row) if n_outputs == 1 else F.argmax_index(probs_row)


def compute(model: Model, refs: WeightRefs, inputs: Block, header_row: int, left: int,
            mode: str, labels: list[str]) -> Computed:
    """Every layer's steps for the batch in `inputs`, placed side by side from column `left`."""
    placer = ColumnPlacer(inputs.sheet, header_row, inputs.top, inputs.rows, left)
    record: dict[str, Block] = {}
    last = chain(model, refs, placer, inputs, mode=mode,
                 output_labels=output_headers(labels, model.n_outputs), record=record)
    final = final_layer(model)
    logits = record.get(final.name) if final is not None else None
    return Computed(placer.regions, last, logits, placer.col)


def copy_of(block: Block, source: Block, style: str, name: str | None = None,
            comment: str | None = None) -> Region:
    """A block whose cells show another block's cells (e.g. the named output block)."""
    return Region(block, style, cell_formula=lambda i, j: F.formula(F.reference(source.cell(i, j, on=block.sheet))),
                  name=name, comment=comment)


def data_plan(model: Model, refs: WeightRefs, rows: Rows, rule: LossRule | None, *,
              mode: str, labels: list[str], title: str) -> SheetPlan:
    """The Truth table / Data sheet, with `data_inputs`, `data_outputs`, `accuracy`, `loss`."""
    k, n, m = len(rows.x), model.n_inputs, model.n_outputs
    sheet = SheetPlan(title, widths={1: 16}, freeze=f"B{TOP}")
    sheet.add(text(title, 1, 1, say("data_title", model=model.name), "title"),
              text(title, 2, 1, say("data_intro"), "subtitle"),
              text(title, 3, 1, rows.source, "note"))
    inputs = Block(title, TOP, 2, k, n)
    sheet.add(text(title, HEADER_ROW, 2, "Input", "layer"), text(title, HEADER_ROW + 1, 2, "x (edit me)", "step"),
              text_row(title, HEADER_ROW + 2, 2, model.inputs()),
              text(title, HEADER_ROW + 2, 1, "example", "header"),
              Region(inputs, "input", values=rows.x, name="data_inputs", comment=say("data_inputs_comment")),
              _example_names(inputs))
    done = compute(model, refs, inputs, HEADER_ROW, n + 3, mode, labels)
    sheet.add(*done.regions)
    col = done.next_col
    probs = Block(title, TOP, col, k, m)
    label_row = TOP + k + 2
    label_block = Block(title, label_row, 2, 1, len(labels))
    sheet.add(text(title, HEADER_ROW, col, "Output", "layer"),
              text(title, HEADER_ROW + 1, col, "probabilities", "step"),
              text_row(title, HEADER_ROW + 2, col, output_headers(labels, m)),
              copy_of(probs, done.outputs, "output", "data_outputs", say("data_outputs_comment")),
              text(title, label_row, 1, "class labels", "step"),
              Region(label_block, "header", values=[labels]))
    col += m + 1
    pred = Block(title, TOP, col, k, 1)
    sheet.add(text(title, HEADER_ROW + 1, col, "predicted", "step"),
              Region(pred, "result", cell_formula=lambda i, j: F.formula(F.choose_label(
                  label_block.ref(), predicted_index(probs.row(i), m)))))
    col += 2
    summary = label_row + 2
    if rows.y is not None and len(rows.y):
        summary = _scored(sheet, rows, rule, probs, done.logits, (label_block, labels), col, summary)
    else:
        sheet.add(text(title, summary, 1, say("no_labels_note"), "note"))
    if k <= MAX_CHART_ROWS:
        sheet.charts.append(Chart(say("data_chart_title"), probs, Block(title, TOP, 1, k, 1),
                                  F.cell(summary + 2, 2), series_in_rows=False,
                                  series_names=output_headers(labels, m)))
    return sheet


def _scored(sheet: SheetPlan, rows: Rows, rule: LossRule | None, probs: Block, logits: Block | None,
            label_info: tuple[Block, list[str]], col: int, summary: int) -> int:
    """Expected labels, correct/wrong, per-row loss, and the `accuracy` and `loss` cells."""
    title, k, m = sheet.title, probs.rows, probs.cols
    label_block, labels = label_info
    y = np.asarray(rows.y, dtype=np.float64).reshape(k, -1)
    expected = Block(title, TOP, col, k, m)
    sheet.add(text(title, HEADER_ROW, col, "Target", "layer"),
              text(title, HEADER_ROW + 1, col, "y (expected)", "step"),
              text_row(title, HEADER_ROW + 2, col, output_headers(labels, m)),
              Region(expected, "input", values=y, name="data_targets"))
    col += m + 1
    exp_label = Block(title, TOP, col, k, 1)
    correct = Block(title, TOP, col + 1, k, 1)
    sheet.add(text(title, HEADER_ROW + 1, col, "expected", "step"),
              text(title, HEADER_ROW + 1, col + 1, "correct", "step"),
              Region(exp_label, "result", cell_formula=lambda i, j: F.formula(F.choose_label(
                  label_block.ref(), predicted_index(expected.row(i), m)))),
              Region(correct, "result", cell_formula=lambda i, j: F.formula(F.same(
                  predicted_index(probs.row(i), m), _true_index(expected, i, m)))))
    sheet.conditional += [ConditionalFormat(correct.ref(absolute=False, on=title), "good", f"{correct.cell()}=1"),
                          ConditionalFormat(correct.ref(absolute=False, on=title), "bad", f"{correct.cell()}=0")]
    sheet.add(text(title, summary, 1, "accuracy", "layer"),
              Region(Block(title, summary, 2), "percent", cell_formula=lambda i, j: F.formula(
                  F.average(correct.ref())), name="accuracy", comment=say("accuracy_comment")),
              text(title, summary, 3, accuracy_name(m), "note"))
    if rule is None:
        sheet.add(text(title, summary + 1, 1, say("no_loss_note"), "note"))
        return summary + 2
    per_row = Block(title, TOP, col + 2, k, 1)
    z = logits if rule.needs_logits else None
    sheet.add(text(title, HEADER_ROW + 1, col + 2, "loss of row", "step"),
              Region(per_row, "computed", cell_arrays=True, cell_formula=lambda i, j: F.formula(rule.row_formula(
                  probs.row(i), z.row(i) if z else None, expected.row(i), m))),
              text(title, summary + 1, 1, "loss", "layer"),
              Region(Block(title, summary + 1, 2), "summary", cell_formula=lambda i, j: F.formula(
                  F.average(per_row.ref())), name="loss", comment=say("loss_comment")),
              text(title, summary + 1, 3, f"{rule.loss}: {rule.description}", "note"))
    return summary + 2


def _example_names(inputs: Block) -> Region:
    """Column A: each row's inputs joined ("0, 1") for the chart, or its number when wide."""
    names = Block(inputs.sheet, inputs.top, 1, inputs.rows, 1)
    if inputs.cols > 4:
        return Region(names, "header", values=[[f"row {i + 1}"] for i in range(inputs.rows)])
    return Region(names, "header", cell_formula=lambda i, j: F.formula(
        F.joined(inputs.cell(i, c) for c in range(inputs.cols))))


def _true_index(expected: Block, i: int, m: int) -> str:
    # binary_accuracy compares the target itself with the thresholded prediction
    return expected.cell(i, 0) if m == 1 else F.argmax_index(expected.row(i))


def capped(rows: Rows) -> Rows:
    """At most MAX_ROWS rows, saying so in the source line when rows were left out."""
    if len(rows.x) <= MAX_ROWS:
        return rows
    note = f"{rows.source}; the first {MAX_ROWS} of {len(rows.x)} rows (the rest left out to keep the sheet fast)"
    return Rows(rows.x[:MAX_ROWS], None if rows.y is None else rows.y[:MAX_ROWS], note, rows.truth_table)


SAMPLE_CELLS = 4096  # input cells of the random sample shown when a wide model has no data


def default_rows(model: Model) -> Rows:
    """Rows when neither data nor a gate is known: the file's data, all 0/1 inputs, or a sample."""
    if model.data is not None and len(model.data.x):
        name = model.data.name or "training data"
        return capped(Rows(np.asarray(model.data.x, float), model.data.y, f"Rows: {name} stored in the model file"))
    n = model.n_inputs
    if n <= 10:
        grid = np.array([[(i >> (n - 1 - b)) & 1 for b in range(n)] for i in range(2 ** n)], dtype=np.float64)
        return Rows(grid, None, f"Rows: all {2 ** n} combinations of 0/1 inputs (no data given)", truth_table=True)
    k = min(16, max(4, SAMPLE_CELLS // n))  # wide inputs: fewer rows, so the sheet stays small
    sample = np.random.default_rng(0).uniform(0, 1, size=(k, n))
    return Rows(sample, None, f"Rows: {k} random inputs in [0, 1) on the Check sheet (no data given; "
                              f"2^{n} rows would be too many)", sample=True)
