"""A graph on the Data sheet: the table at the top (`data_inputs`, `data_outputs`, predictions,
loss, accuracy: batch.data_plan's) and, below it, one band per example that draws the whole
network as the Network sheet does, its inputs read from the example's row of `data_inputs`.
The table's outputs read each band's outputs, every output flattened in Keras's order side
by side."""

from __future__ import annotations

import numpy as np

from ...ir.families.dense import Dense
from ...ir.families.embeddings import random_rows
from ...ir.model import Model, final_layer
from .. import formulas as F
from ..layout import Block, ConditionalFormat, Region, SheetPlan
from ..network.chain_steps import pre_activation
from ..network.graph import draw_layers, shape_text
from ..network.tensor_grid import Drawn, GridPlacer
from ..placement import WeightRefs
from .chain import Computed

BANDS_BELOW = 40  # rows between the table and the first band: its summary and chart
CHECK_CELLS = 60_000  # the Check sheet's rows share this many cells of drawn networks
CHECK_ROWS = 3


def check_rows(model: Model, spec) -> np.ndarray:
    """The Check sheet's inputs: the first rows given, else seeded uniform [0, 1) rows (an
    all-zero input would check the biases only), as many as CHECK_CELLS allow."""
    k = max(1, min(CHECK_ROWS, CHECK_CELLS // max(model.graph.cells(), 1)))
    if not spec.rows.sample:
        return np.asarray(spec.rows.x, dtype=np.float64)[:k]
    return random_rows(model.graph, k)


def graph_rows(sheet: SheetPlan, model: Model, refs: WeightRefs, inputs: Block, left: int,
               x_values: np.ndarray) -> Computed:  # fmt: skip
    """Each example's band under the table; the outputs block (k x outputs) at column
    `left` of the table's rows reads them."""
    graph, title = model.graph, sheet.title
    x = np.asarray(x_values, dtype=np.float64).reshape(inputs.rows, -1)
    grids = GridPlacer(sheet, top=inputs.bottom + BANDS_BELOW)
    outs, logits, regions_before = [], [], len(sheet.regions)
    final = final_layer(model)
    for i in range(inputs.rows):
        values = {name: v[0] for name, v in graph.run(x[i : i + 1]).items()}
        grids.heading(f"Example {i + 1}: the network on row {i + 1} of data_inputs", "title")
        drawn, at = {}, 0
        for port in graph.inputs:
            grids.heading(f"Input {port.name!r} ({shape_text(port.shape)})")
            drawn[port.name] = _linked(sheet, grids, port.shape, inputs, i, at, values[port.name])
            at += port.size
        record: dict[str, Block] = {}
        draw_layers(sheet, grids, graph, values, drawn, refs, record)
        outs.append([drawn[name] for name in graph.outputs])
        logits.append(record.get(final.name) if final is not None else None)
        grids.row += 1
    m = sum(p.size for p in graph.output_ports())
    out = Block(title, inputs.top, left, inputs.rows, m)
    flat = [[d.ref(k, title) for d in row for k in range(d.size)] for row in outs]
    y = model.forward(x)
    sheet.add(Region(out, "computed", results=y,
                     cell_formula=lambda i, j: F.formula(F.reference(flat[i][j]))))  # fmt: skip
    regions = sheet.regions[regions_before:]
    del sheet.regions[regions_before:]  # data_plan adds them, with the table's
    z = _logits(sheet, out, logits, left + m + 1) if all(logits) else None
    if z is None:
        return Computed(regions, out, None, left + m + 1, {out: y})
    z[1].results = _logit_values(model, x)
    return Computed([*regions, z[1]], out, z[0], left + 2 * m + 2,
                    {out: y, z[0]: z[1].results})  # fmt: skip


def _logit_values(model: Model, x: np.ndarray) -> np.ndarray:
    """What the last layer's activation reads, for each row (NumPy)."""
    final = final_layer(model)
    node = next(n for n in model.graph.nodes if n.layer is final)
    given = model.graph.run(x)[node.inputs[0]]
    return pre_activation(final, given) if isinstance(final, Dense) else given


def _logits(sheet: SheetPlan, out: Block, bands: list[Block], left: int):
    """The last layer's input for each example, beside the outputs (the loss reads it)."""
    block = Block(sheet.title, out.top, left, out.rows, out.cols)
    if any(b.cols != out.cols or b.rows != 1 for b in bands):
        return None
    region = Region(block, "computed", cell_formula=lambda i, j: F.formula(
        F.reference(bands[i].cell(0, j, on=sheet.title))))  # fmt: skip
    return block, region


def _linked(sheet: SheetPlan, grids: GridPlacer, shape, inputs: Block, i: int, at: int,
            value) -> Drawn:  # fmt: skip
    """An input of the band: its cells read row i of the table, drawn as the Network sheet
    draws an input (an image as its grid, coloured by value)."""
    drawn = grids.draw(tuple(shape), f"row {i + 1} of data_inputs")
    grids.fill(drawn, "map" if len(shape) == 3 else "computed", value,
               lambda ch, r, c: F.reference(inputs.cell(i, at + drawn.index(ch, r, c),
                                                        on=sheet.title)))  # fmt: skip
    if len(shape) == 3:
        sheet.conditional.append(ConditionalFormat(drawn.refs(sheet.title), "map"))
    return drawn
