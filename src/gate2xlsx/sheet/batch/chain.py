"""Batch sheets: many examples computed at once, one row each (Truth table / Data).

`compute` lays a whole batch out with array formulas (one MMULT per layer over all rows) and
is shared by the Truth table, the Decision map and the Check sheet. The Truth table adds the
predicted and expected labels, a correct/wrong column, per-row loss, and the live `accuracy`
and `loss` cells that equal Keras's `model.evaluate`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ...ir.model import Model, final_layer
from ...templates_text import say
from .. import formulas as F
from ..keras_eval import LossRule, accuracy_name
from ..layout import (
    Block,
    Chart,
    ConditionalFormat,
    Region,
    SheetPlan,
    fit_headings,
    paragraph,
    text,
    text_row,
)
from ..network.chain_steps import chain
from ..placement import ColumnPlacer, WeightRefs
from ..spec import WorkbookSpec

MAX_CHART_ROWS = 32
HEADER_ROW = 5
TOP = HEADER_ROW + 3


@dataclass
class Computed:
    """A batch block laid out: its regions, where the outputs and logits are, its values."""

    regions: list[Region]
    outputs: Block  # the network's output block (k x n_outputs)
    logits: Block | None  # the last activation's input, for the loss
    next_col: int
    values: dict[Block, np.ndarray]  # what the blocks compute, where the inputs are known


def output_headers(labels: list[str], n_outputs: int) -> list[str]:
    return [f"P({labels[-1]})"] if n_outputs == 1 else labels[:n_outputs]


def predicted_index(probs_row: str, n_outputs: int) -> str:
    """0-based predicted class: p > 0.5 for one sigmoid output, else argmax."""
    return F.above_half(probs_row) if n_outputs == 1 else F.argmax_index(probs_row)


def predicted_indices(probs: np.ndarray) -> np.ndarray:
    """What predicted_index computes, for each row: p > 0.5, else the first argmax."""
    if probs.shape[1] == 1:
        return (probs[:, 0] > 0.5).astype(np.int64)
    return np.argmax(probs, axis=1)


def confidences(probs: np.ndarray) -> np.ndarray:
    """The predicted class's probability, for each row (F.row_max / F.binary_confidence)."""
    if probs.shape[1] == 1:
        p = probs[:, 0]
        return np.where(p > 0.5, p, 1 - p)
    return np.max(probs, axis=1)


def compute(
    model: Model,
    refs: WeightRefs,
    inputs: Block,
    header_row: int,
    left: int,
    spec: WorkbookSpec,
    x_values: np.ndarray | None = None,
) -> Computed:
    """Every layer's steps for the batch in `inputs`, placed side by side from column `left`;
    `x_values`, the inputs' values, give every step its cached values."""
    placer = ColumnPlacer(inputs.sheet, header_row, inputs.top, inputs.rows, left)
    if x_values is not None:
        placer.values[inputs] = np.asarray(x_values, dtype=np.float64).reshape(inputs.rows, -1)
    record: dict[str, Block] = {}
    last = chain(
        model,
        refs,
        placer,
        inputs,
        mode=spec.mode,
        output_labels=output_headers(spec.labels, model.n_outputs),
        record=record,
    )
    final = final_layer(model)
    logits = record.get(final.name) if final is not None else None
    return Computed(placer.regions, last, logits, placer.col, placer.values)


def copy_of(
    block: Block,
    source: Block,
    style: str,
    name: str | None = None,
    comment: str | None = None,
    values: np.ndarray | None = None,
) -> Region:
    """A block whose cells show another block's cells (e.g. the named output block), whose
    `values` they are."""
    return Region(
        block,
        style,
        cell_formula=lambda i, j: F.formula(F.reference(source.cell(i, j, on=block.sheet))),
        name=name,
        comment=comment,
        results=values,
        fill_down=True,
    )


def data_plan(
    model: Model,
    refs: WeightRefs,
    spec: WorkbookSpec,
    rule: LossRule | None,
    *,
    title: str,
    steps: Callable[[SheetPlan, Block, int], Computed] | None = None,
) -> SheetPlan:
    """The Truth table / Data sheet, with `data_inputs`, `data_outputs`, `accuracy`, `loss`.

    steps(sheet, inputs, left): how the network is computed for the rows (default: a dense
    chain's steps side by side, from column `left`)."""
    rows, n = spec.rows, model.n_inputs
    sheet = SheetPlan(title, widths={1: 16}, freeze=f"B{TOP}")
    sheet.add(
        text(title, 1, 1, say("data_title", model=spec.title), "title"),
        text(title, 3, 1, rows.source, "note"),
    )
    paragraph(sheet, 2, say("data_intro" if steps is None else "graph_data_intro"))
    inputs = _input_columns(sheet, spec, n)
    if steps is None:
        done = compute(model, refs, inputs, HEADER_ROW, n + 3, spec, rows.x)
    else:
        done = steps(sheet, inputs, n + 3)
    sheet.add(*done.regions)
    table = _output_columns(sheet, done, inputs.rows, spec, model.n_outputs)
    _predicted_column(table)
    summary = table.label_block.top + 2
    if rows.y is not None and len(rows.y):
        summary = _scored(table, rows.y, rule, summary)
    else:
        sheet.add(text(title, summary, 1, say("no_labels_note"), "note"))
    if inputs.rows <= MAX_CHART_ROWS:
        sheet.charts.append(_chart(table, summary))
    fit_header_rows(sheet, HEADER_ROW)
    return sheet


def fit_header_rows(sheet: SheetPlan, header_row: int) -> None:
    """A batch sheet's header rows (layer titles, then step labels) fitted to their text;
    every printed page repeats them, so each names its columns."""
    for row in (header_row, header_row + 1):
        fit_headings(sheet, row)
    sheet.print_titles = (header_row, header_row + 2)


@dataclass
class _Table:
    """The Data sheet's table as it grows left to right: the blocks later columns read, what
    they compute, and the next free column."""

    sheet: SheetPlan
    labels: list[str]
    probs: Block  # the outputs (k x m)
    label_block: Block  # the class labels, one row
    logits: Block | None
    values: dict[Block, np.ndarray]
    col: int
    pred: Block | None = None  # the predicted labels, once placed


def _input_columns(sheet: SheetPlan, spec: WorkbookSpec, n: int) -> Block:
    """The editable inputs (`data_inputs`) and column A naming each example."""
    title, x = sheet.title, spec.rows.x
    inputs = Block(title, TOP, 2, len(x), n)
    sheet.add(
        text(title, HEADER_ROW, 2, "Input", "layer"),
        text(title, HEADER_ROW + 1, 2, "x (edit me)", "step"),
        text_row(title, HEADER_ROW + 2, 2, spec.inputs),
        text(title, HEADER_ROW + 2, 1, "example", "header"),
        Region(inputs, "input", values=x, name="data_inputs", comment=say("data_inputs_comment")),
        _example_names(inputs, x),
    )
    return inputs


def _output_columns(sheet: SheetPlan, done: Computed, k: int, spec: WorkbookSpec, m: int) -> _Table:
    """The k rows' outputs (`data_outputs`, a view of the network's) and, under the table, the
    class labels."""
    title, labels, col = sheet.title, spec.labels, done.next_col
    probs = Block(title, TOP, col, k, m)
    out = done.values[probs] = done.values[done.outputs]
    label_block = Block(title, TOP + k + 2, 2, 1, len(labels))
    sheet.add(
        text(title, HEADER_ROW, col, "Output", "layer"),
        text(title, HEADER_ROW + 1, col, "probabilities", "step"),
        text_row(title, HEADER_ROW + 2, col, output_headers(labels, m)),
        copy_of(
            probs,
            done.outputs,
            "output",
            "data_outputs",
            say("data_outputs_comment", returns=spec.returns),
            out,
        ),
        text(title, label_block.top, 1, "class labels", "step"),
        Region(label_block, "header", values=[labels]),
    )
    return _Table(sheet, labels, probs, label_block, done.logits, done.values, col + m + 1)


def _predicted_column(table: _Table) -> None:
    """Each row's predicted label: neutral, coloured right or wrong once targets are known."""
    probs, m, labels = table.probs, table.probs.cols, table.labels
    pred = table.pred = Block(table.sheet.title, TOP, table.col, probs.rows, 1)
    table.sheet.add(
        text(table.sheet.title, HEADER_ROW + 1, table.col, "predicted", "step"),
        Region(
            pred,
            "prediction",
            cell_formula=lambda i, j: F.formula(
                F.choose_label(table.label_block.ref(), predicted_index(probs.row(i), m))
            ),
            results=[[labels[c]] for c in predicted_indices(table.values[probs])],
            fill_down=True,
        ),
    )
    table.col += 2


def _chart(table: _Table, summary: int) -> Chart:
    """Each example's probabilities as bars, below the summary."""
    probs, title = table.probs, table.sheet.title
    return Chart(
        say("data_chart_title"),
        probs,
        Block(title, TOP, 1, probs.rows, 1),
        F.cell(summary + 2, 2),
        series_in_rows=False,
        series_names=output_headers(table.labels, probs.cols),
    )


def _scored(table: _Table, targets, rule: LossRule | None, summary: int) -> int:
    """Expected labels, correct/wrong (the predicted label coloured alike), per-row loss, and
    the `accuracy` and `loss` cells from the summary row on; returns the row below them."""
    y = np.asarray(targets, dtype=np.float64).reshape(table.probs.rows, -1)
    expected = _target_columns(table, y)
    correct, hits = _correct_column(table, expected, y)
    _accuracy(table, correct, hits, summary)
    if rule is None:
        table.sheet.add(text(table.sheet.title, summary + 1, 1, say("no_loss_note"), "note"))
    else:
        _loss(table, rule, expected, y, summary + 1)
    return summary + 2


def _target_columns(table: _Table, y: np.ndarray) -> Block:
    """The expected outputs (`data_targets`), editable."""
    title, m = table.sheet.title, table.probs.cols
    expected = Block(title, TOP, table.col, table.probs.rows, m)
    table.sheet.add(
        text(title, HEADER_ROW, table.col, "Target", "layer"),
        text(title, HEADER_ROW + 1, table.col, "y (expected)", "step"),
        text_row(title, HEADER_ROW + 2, table.col, output_headers(table.labels, m)),
        Region(expected, "input", values=y, name="data_targets"),
    )
    table.col += m + 1
    return expected


def _correct_column(table: _Table, expected: Block, y: np.ndarray) -> tuple[Block, np.ndarray]:
    """The expected label and whether the prediction is it (1 or 0), each row's correct cell
    colouring itself and the predicted label; returns the column and its values."""
    sheet, probs, m, col = table.sheet, table.probs, table.probs.cols, table.col
    title, k = sheet.title, probs.rows
    truth = y[:, 0] if m == 1 else np.argmax(y, axis=1)  # as true_index compares
    hits = (predicted_indices(table.values[probs]) == truth).astype(np.int64)
    correct = Block(title, TOP, col + 1, k, 1)
    sheet.add(
        text(title, HEADER_ROW + 1, col, "expected", "step"),
        text(title, HEADER_ROW + 1, col + 1, "correct", "step"),
        Region(
            Block(title, TOP, col, k, 1),
            "prediction",
            cell_formula=lambda i, j: F.formula(
                F.choose_label(table.label_block.ref(), predicted_index(expected.row(i), m))
            ),
            results=[[table.labels[c]] for c in predicted_indices(y)],
            fill_down=True,
        ),
        Region(
            correct,
            "result",
            cell_formula=lambda i, j: F.formula(
                F.same(predicted_index(probs.row(i), m), true_index(expected, i, m))
            ),
            results=hits.reshape(-1, 1),
            fill_down=True,
        ),
    )
    right = correct.cell(on=title)  # each row's correct cell decides both colours
    for shown in (correct, table.pred):
        sheet.conditional += [
            ConditionalFormat(shown.ref(absolute=False, on=title), "good", F.equals(right, 1)),
            ConditionalFormat(shown.ref(absolute=False, on=title), "bad", F.equals(right, 0)),
        ]
    table.col += 2
    return correct, hits


def _accuracy(table: _Table, correct: Block, hits: np.ndarray, row: int) -> None:
    """The `accuracy` cell: the mean of the correct column, as Keras names the metric."""
    note = accuracy_name(table.probs.cols)
    table.sheet.add(*_mean_cell(table, row, "accuracy", "percent", correct, hits, note))


def _mean_cell(
    table: _Table, row: int, name: str, style: str, column: Block, values: np.ndarray, note: str
) -> list:
    """A named summary cell (`accuracy`, `loss`): its label, the AVERAGE of `column`, a note."""
    title = table.sheet.title
    return [
        text(title, row, 1, name, "layer"),
        Region(
            Block(title, row, 2),
            style,
            cell_formula=lambda i, j: F.formula(F.average(column.ref())),
            results=[[float(np.mean(values))]],
            name=name,
            comment=say(f"{name}_comment"),
        ),
        text(title, row, 3, note, "note"),
    ]


def _loss(table: _Table, rule: LossRule, expected: Block, y: np.ndarray, row: int) -> None:
    """Each row's loss and their mean, the `loss` cell (what Keras's evaluate returns)."""
    title, probs, m = table.sheet.title, table.probs, table.probs.cols
    per_row = Block(title, TOP, table.col, probs.rows, 1)
    z = table.logits if rule.needs_logits else None
    row_losses = rule.row_values(table.values[probs], table.values[z] if z else None, y)
    table.sheet.add(
        text(title, HEADER_ROW + 1, table.col, "loss of row", "step"),
        Region(
            per_row,
            "computed",
            cell_formula=lambda i, j: F.formula(
                rule.row_formula(probs.row(i), z.row(i) if z else None, expected.row(i), m)
            ),
            results=row_losses.reshape(-1, 1),
            fill_down=True,
        ),
        *_mean_cell(table, row, "loss", "summary", per_row, row_losses,
                    f"{rule.loss}: {rule.description}"),
    )  # fmt: skip


def _example_names(inputs: Block, x: np.ndarray) -> Region:
    """Column A: each row's inputs joined ("0, 1") for the chart, or its number when wide."""
    names = Block(inputs.sheet, inputs.top, 1, inputs.rows, 1)
    if inputs.cols > 4:
        return Region(names, "header", values=[[f"row {i + 1}"] for i in range(inputs.rows)])
    return Region(
        names,
        "header",
        cell_formula=lambda i, j: F.formula(
            F.joined(inputs.cell(i, c) for c in range(inputs.cols))
        ),
        results=[[F.joined_text(row)] for row in np.asarray(x, dtype=np.float64)],
        fill_down=True,
    )


def true_index(expected: Block, i: int, m: int) -> str:
    """Row i's true class: the 0/1 target itself for one output, else its argmax."""
    # binary_accuracy compares the target itself with the thresholded prediction
    return expected.cell(i, 0) if m == 1 else F.argmax_index(expected.row(i))
