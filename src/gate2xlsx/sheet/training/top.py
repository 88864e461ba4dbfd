"""The top of the Training sheet, above its bands: the editable settings (the optimizer
table's) and the `use_trained` switch, the trained weights and the weights every other sheet
computes with, the rows trained on, and the loss and accuracy per epoch with their chart."""

from __future__ import annotations

import numpy as np

from ...errors import UnsupportedModelError
from ...templates_text import say
from .. import formulas as F
from ..layout import Block, Chart, Region, WholeNumberRule, text, text_row
from ..placement import WeightRefs
from . import formulas as T
from .state import TITLE, Band, Run, layer_named


def draw_settings(run: Run, row: int) -> int:
    """The settings from `row` down, each a named editable cell; the row below them."""
    s = run.s
    shown = run.entry.shown(s)
    run.sheet.add(text(TITLE, row, 1, "Settings", "layer"))
    for offset, (name, value, note) in enumerate(shown, start=1):
        run.sheet.add(
            text(TITLE, row + offset, 1, name, "step"),
            Region(
                Block(TITLE, row + offset, 2),
                "input_small" if value < 1e-3 else "weight",
                values=[[value]],
                name=name,
            ),  # fmt: skip
            text(TITLE, row + offset, 3, note, "note"),
        )
    row += len(shown) + 1
    switch = Block(TITLE, row, 2)
    run.sheet.add(
        text(TITLE, row, 1, "use_trained (0 or 1)", "step"),
        Region(switch, "choice", values=[[int(run.how.use_trained)]], name="use_trained"),
        text(TITLE, row, 3, say("use_trained_note"), "note"),
    )
    run.sheet.validations.append(WholeNumberRule(switch, 0, 1, say("use_trained_note")))
    lines = [
        f"optimizer: {s.optimizer}; loss: {run.rule.loss} ({run.rule.gradient_description})",
        f"{s.epochs} epochs of {run.steps_per_epoch} steps: batches of {s.batch_size} "
        f"rows in order (shuffle=False), {len(run.x)} rows",
    ]
    for offset, line in enumerate(lines, start=1):
        run.sheet.add(text(TITLE, row + offset, 1, line, "note"))
    return row + len(lines) + 2


def rows_table(run: Run, top: int) -> tuple[Block, Block]:
    """The rows trained on (editable), right of the epoch table: inputs, then targets."""
    n, k = run.x.shape[1], run.y.shape[1]
    x = Block(TITLE, top + 3, 6, len(run.x), n)
    y = Block(TITLE, top + 3, x.right + 2, len(run.x), k)
    run.sheet.add(
        text(TITLE, top, x.left, "Training rows (edit me)", "layer"),
        text(TITLE, top + 1, x.left, "x", "step"),
        text_row(TITLE, top + 2, x.left, run.spec.inputs),
        Region(x, "input", values=run.x),
        text(TITLE, top + 1, y.left, "y (target)", "step"),
        text_row(TITLE, top + 2, y.left, [str(j + 1) for j in range(k)]),
        Region(y, "input", values=run.y),
    )
    return x, y


def draw_epochs(run: Run, top: int, bands: list[Band], rows: tuple[Block, Block]) -> None:
    """`train_loss` and `train_accuracy`, one row per epoch (as Keras's history reports them:
    the epoch's running sums over its rows), and their chart."""
    epochs, count = run.s.epochs, len(run.x)
    last = [bands[(e + 1) * run.steps_per_epoch - 1] for e in range(epochs)]
    run.sheet.add(
        text(TITLE, top, 1, "Per epoch, as Keras's history reports it", "layer"),
        text_row(TITLE, top + 2, 1, ["epoch", "train_loss", "train_accuracy"]),
        Region(
            Block(TITLE, top + 3, 1, epochs, 1), "header", values=[[e + 1] for e in range(epochs)]
        ),
    )
    shown = (("loss", "summary", "train_loss"), ("hits", "percent", "train_accuracy"))
    for col, (key, style, name) in enumerate(shown, start=2):
        sums = [band.sums[key] for band in last]
        run.sheet.add(
            Region(
                Block(TITLE, top + 3, col, epochs, 1),
                style,
                cell_formula=lambda i, j, s=sums: F.formula(T.share(s[i][0].cell(on=TITLE), count)),
                name=name,
                results=np.array([total / count for _, total in sums]).reshape(-1, 1),
            )
        )
    run.sheet.charts.append(
        Chart(
            "Loss and accuracy per epoch",
            Block(TITLE, top + 3, 2, epochs, 2),
            Block(TITLE, top + 3, 1, epochs, 1),
            F.cell(top, rows[1].right + 2),
            series_in_rows=False,
            y_title="loss, accuracy",
            series_names=["train_loss", "train_accuracy"],
            line=True,
            x_title="epoch",
        )
    )


def weights_area(run: Run, top: int, final: Band) -> WeightRefs:
    """The trained weights (named), and the weights every other sheet computes with."""
    refs = WeightRefs(dict(run.start.entries), set(run.start.addressed))
    taken = {name for name, _ in run.start.entries.values()}
    row = top
    for q, (layer, key) in enumerate(run.params):
        rows, cols = run.shapes()[q]
        name = "trained_" + run.start.name(layer, key)
        if name in taken:
            raise UnsupportedModelError(
                f"the model already has a weight named {name!r}, the "
                "name the Training sheet gives a trained weight"
            )
        trained = Block(TITLE, row + 1, 2, rows, cols)
        used = Block(TITLE, row + 1, trained.right + 2, rows, cols)
        start = run.start.block(layer, key)
        last, values = final.weights[q], np.reshape(layer.weights()[key].values, (rows, cols))
        given = layer_named(run.model, layer.name).weights()[key].values
        shown = values if run.how.use_trained else np.reshape(given, (rows, cols))
        run.sheet.add(
            text(TITLE, row, 1, f"{layer.name} {key}", "step"),
            text(TITLE, row, trained.left, f"{name} (after training)", "note"),
            text(TITLE, row, used.left, "in use by the other sheets", "note"),
            Region(
                trained,
                "output",
                name=name,
                results=values,
                cell_formula=lambda i, j, b=last: F.formula(F.reference(b.cell(i, j, on=TITLE))),
            ),
            Region(
                used,
                "computed",
                results=shown,
                cell_formula=lambda i, j, a=trained, b=start: F.formula(
                    F.switch(
                        "use_trained", a.cell(i, j, on=TITLE), b.cell(i, j, absolute=True, on=TITLE)
                    )
                ),
            ),
        )
        refs.entries[(layer.name, key)] = (run.start.name(layer, key), used)
        refs.addressed.add((layer.name, key))
        row += rows + 2
    return refs
