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

from ..model import Model, final_layer
from ..templates_text import say
from . import formulas as F
from .keras_eval import LossRule, accuracy_name
from .layout import (
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
from .placement import ColumnPlacer, WeightRefs
from .spec import Rows, WorkbookSpec
from .steps import chain

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
    rows, labels = spec.rows, spec.labels
    k, n, m = len(rows.x), model.n_inputs, model.n_outputs
    sheet = SheetPlan(title, widths={1: 16}, freeze=f"B{TOP}")
    sheet.add(
        text(title, 1, 1, say("data_title", model=spec.title), "title"),
        text(title, 3, 1, rows.source, "note"),
    )
    paragraph(sheet, 2, say("data_intro" if steps is None else "graph_data_intro"))
    inputs = Block(title, TOP, 2, k, n)
    sheet.add(
        text(title, HEADER_ROW, 2, "Input", "layer"),
        text(title, HEADER_ROW + 1, 2, "x (edit me)", "step"),
        text_row(title, HEADER_ROW + 2, 2, spec.inputs),
        text(title, HEADER_ROW + 2, 1, "example", "header"),
        Region(
            inputs, "input", values=rows.x, name="data_inputs", comment=say("data_inputs_comment")
        ),
        _example_names(inputs, rows.x),
    )
    if steps is None:
        done = compute(model, refs, inputs, HEADER_ROW, n + 3, spec, rows.x)
    else:
        done = steps(sheet, inputs, n + 3)
    sheet.add(*done.regions)
    col = done.next_col
    probs = Block(title, TOP, col, k, m)
    out = done.values[probs] = done.values[done.outputs]
    label_row = TOP + k + 2
    label_block = Block(title, label_row, 2, 1, len(labels))
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
        text(title, label_row, 1, "class labels", "step"),
        Region(label_block, "header", values=[labels]),
    )
    col += m + 1
    pred = Block(title, TOP, col, k, 1)
    sheet.add(
        text(title, HEADER_ROW + 1, col, "predicted", "step"),
        Region(
            pred,
            "prediction",  # neutral; coloured right or wrong once the targets are known
            cell_formula=lambda i, j: F.formula(
                F.choose_label(label_block.ref(), predicted_index(probs.row(i), m))
            ),
            results=[[labels[c]] for c in predicted_indices(out)],
            fill_down=True,
        ),
    )
    col += 2
    summary = label_row + 2
    if rows.y is not None and len(rows.y):
        summary = _scored(
            sheet,
            rows,
            rule,
            (probs, pred, done.logits),
            (label_block, labels),
            (col, summary),
            done.values,
        )
    else:
        sheet.add(text(title, summary, 1, say("no_labels_note"), "note"))
    if k <= MAX_CHART_ROWS:
        sheet.charts.append(
            Chart(
                say("data_chart_title"),
                probs,
                Block(title, TOP, 1, k, 1),
                F.cell(summary + 2, 2),
                series_in_rows=False,
                series_names=output_headers(labels, m),
            )
        )
    for row in (HEADER_ROW, HEADER_ROW + 1):  # layer titles, then step labels
        fit_headings(sheet, row)
    sheet.print_titles = (HEADER_ROW, HEADER_ROW + 2)  # every printed page names its columns
    return sheet


def _scored(
    sheet: SheetPlan,
    rows: Rows,
    rule: LossRule | None,
    blocks: tuple[Block, Block, Block | None],
    label_info: tuple[Block, list[str]],
    where: tuple[int, int],
    values: dict[Block, np.ndarray],
) -> int:
    """Expected labels, correct/wrong (the predicted label coloured alike), per-row loss, and
    the `accuracy` and `loss` cells. blocks: the probabilities, predicted labels, logits;
    where: the first free column and the summary row; values: what the blocks compute."""
    probs, pred, logits = blocks
    col, summary = where
    title, k, m = sheet.title, probs.rows, probs.cols
    label_block, labels = label_info
    y = np.asarray(rows.y, dtype=np.float64).reshape(k, -1)
    expected = Block(title, TOP, col, k, m)
    sheet.add(
        text(title, HEADER_ROW, col, "Target", "layer"),
        text(title, HEADER_ROW + 1, col, "y (expected)", "step"),
        text_row(title, HEADER_ROW + 2, col, output_headers(labels, m)),
        Region(expected, "input", values=y, name="data_targets"),
    )
    col += m + 1
    p = values[probs]
    truth = y[:, 0] if m == 1 else np.argmax(y, axis=1)  # as _true_index compares
    hits = (predicted_indices(p) == truth).astype(np.int64)
    exp_label = Block(title, TOP, col, k, 1)
    correct = Block(title, TOP, col + 1, k, 1)
    sheet.add(
        text(title, HEADER_ROW + 1, col, "expected", "step"),
        text(title, HEADER_ROW + 1, col + 1, "correct", "step"),
        Region(
            exp_label,
            "prediction",
            cell_formula=lambda i, j: F.formula(
                F.choose_label(label_block.ref(), predicted_index(expected.row(i), m))
            ),
            results=[[labels[c]] for c in predicted_indices(y)],
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
    for shown in (correct, pred):
        sheet.conditional += [
            ConditionalFormat(shown.ref(absolute=False, on=title), "good", F.equals(right, 1)),
            ConditionalFormat(shown.ref(absolute=False, on=title), "bad", F.equals(right, 0)),
        ]
    sheet.add(
        text(title, summary, 1, "accuracy", "layer"),
        Region(
            Block(title, summary, 2),
            "percent",
            cell_formula=lambda i, j: F.formula(F.average(correct.ref())),
            results=[[float(np.mean(hits))]],
            name="accuracy",
            comment=say("accuracy_comment"),
        ),
        text(title, summary, 3, accuracy_name(m), "note"),
    )
    if rule is None:
        sheet.add(text(title, summary + 1, 1, say("no_loss_note"), "note"))
        return summary + 2
    per_row = Block(title, TOP, col + 2, k, 1)
    z = logits if rule.needs_logits else None
    row_losses = rule.row_values(p, values[z] if z else None, y)
    sheet.add(
        text(title, HEADER_ROW + 1, col + 2, "loss of row", "step"),
        Region(
            per_row,
            "computed",
            cell_formula=lambda i, j: F.formula(
                rule.row_formula(probs.row(i), z.row(i) if z else None, expected.row(i), m)
            ),
            results=row_losses.reshape(-1, 1),
            fill_down=True,
        ),
        text(title, summary + 1, 1, "loss", "layer"),
        Region(
            Block(title, summary + 1, 2),
            "summary",
            cell_formula=lambda i, j: F.formula(F.average(per_row.ref())),
            results=[[float(np.mean(row_losses))]],
            name="loss",
            comment=say("loss_comment"),
        ),
        text(title, summary + 1, 3, f"{rule.loss}: {rule.description}", "note"),
    )
    return summary + 2


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
