"""The backward half of a Training band: the loss's gradient (the loss table's gradient
formula), backpropagation down to every weight's gradient (the activation table's vjp
formulas), in fit.backprop's order."""

from __future__ import annotations

import numpy as np

from ...ir import activations, fit
from ...ir.families.dense import Dense
from .. import formulas as F
from ..layout import Block, Region
from ..placement import ColumnPlacer
from . import formulas as T
from .state import TITLE, Band, Run

Batch = tuple[Block, Block, Block, Block]  # x, y, the output p and the logits z


def backward(run: Run, placer: ColumnPlacer, band: Band, found: fit.Backprop, batch: Batch,
             record: dict[str, Block], outputs: dict[str, Block]) -> None:  # fmt: skip
    """From the loss's gradient back to every weight's gradient (fit.backprop's order)."""
    x = batch[0]
    layers = run.work.layers
    placer.heading("Backpropagation", [])
    g = _loss_gradient(run, placer, found, batch)
    grads: dict[int, Block] = {}
    index = {(layer.name, key): q for q, (layer, key) in enumerate(run.params)}
    for i in range(len(layers) - 1, -1, -1):
        layer = layers[i]
        inp = outputs[layers[i - 1].name] if i > 0 else x
        if not (found.at_logits and i == len(layers) - 1):
            g = _vjp(placer, layer, record[layer.name], outputs[layer.name], g, found.local[i])
        if not isinstance(layer, Dense):
            continue
        for key in layer.weights():
            q = index[(layer.name, key)]
            grads[q] = _gradient(placer, layer, key, inp, g, found.grads[q])
        if any(isinstance(before, Dense) for before in layers[:i]):
            kernel = band.weights[index[(layer.name, "kernel")]]
            g = _input_gradient(placer, layer, inp, g, kernel, found.upstream[i - 1])
    band.grads = [grads[q] for q in range(len(run.params))]


def _loss_gradient(run: Run, placer: ColumnPlacer, found: fit.Backprop, batch: Batch) -> Block:
    """dL/dz at the logits, or dL/dp at the output, of every output cell."""
    _, y, p, z = batch
    rule, k = run.rule, p.cols
    scale = rule.scale(p.rows, k)
    label = "dL/dz (the loss's gradient at the logits)" if found.at_logits else "dL/dp"
    g = placer.step(label, k)
    at = found.local[-1] if found.at_logits else found.upstream[-1]

    def cell(i: int, j: int) -> str:
        cells = {name: block.cell(i, j, on=TITLE) for name, block in (("p", p), ("z", z), ("y", y))}
        rows = {"z": z.row(i, on=TITLE), "y": y.row(i, on=TITLE)}
        return F.formula(rule.gradient_formula(cells, rows, scale))

    placer.regions.append(Region(g, "computed", results=at, fill_down=True, cell_formula=cell))
    return g


def _vjp(placer: ColumnPlacer, layer, pre: Block, out: Block, g: Block, values) -> Block:
    """dL/dz from dL/da through the layer's activation (the table's vjp formula)."""
    act = layer.activation
    template = activations.get(act.name).vjp_formula
    if act.name == "linear":
        return g
    gz = placer.step(f"{layer.name}: dL/dz through {act.name}", g.cols)

    def cell(i: int, j: int) -> str:
        return F.formula(
            F.render(
                template,
                {
                    "x": pre.cell(i, j, on=TITLE),
                    "y": out.cell(i, j, on=TITLE),
                    "g": g.cell(i, j, on=TITLE),
                    "g_row": g.row(i, on=TITLE),
                    "y_row": out.row(i, on=TITLE),
                },
            )
        )

    placer.regions.append(Region(gz, "computed", cell_formula=cell, results=values, fill_down=True))
    return gz


def _gradient(placer: ColumnPlacer, layer, key: str, inp: Block, g: Block, values) -> Block:
    """dL/dW = SUMPRODUCT(input column, dL/dz column); dL/db = SUM(dL/dz column)."""
    if key == "bias":
        block = placer.step(f"{layer.name} bias gradient = SUM(dL/dz)", g.cols, rows=1)
        body = lambda i, j: T.column_sum(g.column(j, on=TITLE))  # noqa: E731
    else:
        block = placer.step(
            f"{layer.name} kernel gradient = SUMPRODUCT(x, dL/dz)", g.cols, rows=inp.cols
        )
        body = lambda i, j: T.products(inp.column(i, on=TITLE), g.column(j, on=TITLE))  # noqa: E731
    placer.regions.append(
        Region(
            block,
            "computed",
            results=np.reshape(values, (block.rows, block.cols)),
            cell_formula=lambda i, j: F.formula(body(i, j)),
        )
    )
    return block


def _input_gradient(placer: ColumnPlacer, layer, inp: Block, g: Block, kernel: Block,
                    values) -> Block:  # fmt: skip
    """dL/d(the layer's input): each row of dL/dz against each row of the kernel."""
    ga = placer.step(f"dL/d(input of {layer.name}) = SUMPRODUCT(dL/dz, W row)", inp.cols)
    placer.regions.append(
        Region(
            ga,
            "computed",
            results=values,
            fill_down=True,
            cell_formula=lambda e, j: F.formula(
                T.products(g.row(e, on=TITLE), kernel.row(j, on=TITLE))
            ),
        )
    )
    return ga
