"""The Network sheet of a graph (layers on tensors, branches, several inputs or outputs): each
input, then every layer's output drawn as its tensor (feature maps as coloured grids), then
each output in Keras's order. A dense chain keeps network/chain.py's sheet.

Names (the contract): `input` / `output` with one of each; with several, `input_1`, ... and
`output_1`, ... in the model's order, `input` and `output` naming the first. The cells of each
name, read row by row, are the tensor flattened in Keras's order.
"""

from __future__ import annotations

import numpy as np

from ...ir.families.embeddings import starting_row, token_inputs
from ...ir.graph import Port, tensor_names
from ...ir.layer import layer_label
from ...ir.model import Model
from ...templates_text import say
from .. import formulas as F
from ..batch.chain import confidences, predicted_index, predicted_indices
from ..layout import (
    Block,
    Chart,
    ConditionalFormat,
    Region,
    SheetPlan,
    WholeNumberRule,
    own,
    paragraph,
    text,
)
from ..placement import WeightRefs
from ..spec import WorkbookSpec
from .graph_steps import node_cells
from .tensor_grid import ChannelsFirst, Drawn, GridPlacer, bound

NETWORK = "Network"
LABEL_WIDTH = 46
VALUE_WIDTH = 7.5


def port_names(count: int, base: str) -> list[str]:
    """`input` for one, `input_1`, `input_2`, ... for several."""
    return [base] if count == 1 else [f"{base}_{k + 1}" for k in range(count)]


def shape_text(shape: tuple[int, ...]) -> str:
    return " x ".join(str(d) for d in shape)


def graph_network_plan(
    model: Model, refs: WeightRefs, spec: WorkbookSpec, input_values: np.ndarray | None = None
) -> SheetPlan:
    graph = model.graph
    # the value columns' width first: the intro paragraph's merge is measured with it
    sheet = SheetPlan(NETWORK, widths={1: LABEL_WIDTH, **dict.fromkeys(range(2, 40), VALUE_WIDTH)},
                      freeze="B3")  # fmt: skip
    sheet.add(text(NETWORK, 1, 1, say("network_title", model=spec.title), "title"))
    paragraph(sheet, 2, say("graph_network_intro"))
    x = starting_row(graph) if input_values is None else np.asarray(input_values, float)
    values = {name: v[0] for name, v in graph.run(x.reshape(1, -1)).items()}
    grids = GridPlacer(sheet, top=3)
    drawn: dict[str, Drawn] = {}
    tokens = token_inputs(graph)
    for port, name in zip(graph.inputs, port_names(len(graph.inputs), "input")):
        grids.heading(f"Input {port.name!r} ({shape_text(port.shape)})")
        drawn[port.name] = _input(sheet, grids, port, values[port.name], name,
                                  "choice" if port.name in tokens else None)  # fmt: skip
        if port.name in tokens:  # token ids: whole numbers the Embedding has a row for
            last = tokens[port.name] - 1
            sheet.validations.append(WholeNumberRule(drawn[port.name].grids[0], 0, last,
                                                     say("token_prompt", last=last)))  # fmt: skip
    draw_layers(sheet, grids, graph, values, drawn, refs)
    outs = graph.output_ports()
    blocks = [
        _output(sheet, grids, port, drawn[port.name], values[port.name], name, spec.returns)
        for port, name in zip(outs, port_names(len(outs), "output"))
    ]
    if len(graph.inputs) > 1:  # `input` and `output` name the first of several
        sheet.names["input"] = _named(sheet, "input_1")
    if len(outs) > 1:
        sheet.names["output"] = blocks[0]
    if len(outs[0].shape) == 1:
        _prediction(sheet, grids, blocks[0], values[outs[0].name], spec)
    for col in range(2, sheet.extent()[1] + 1):
        sheet.widths.setdefault(col, VALUE_WIDTH)
    return sheet


def draw_layers(sheet: SheetPlan, grids: GridPlacer, graph, values: dict, drawn: dict[str, Drawn],
                refs: WeightRefs, record: dict[str, Block] | None = None) -> None:  # fmt: skip
    """Every layer's cells under the inputs already in `drawn`, which receives each tensor;
    `values`: every tensor's NumPy value for the example (the cached values)."""
    for index, node in enumerate(graph.nodes, start=1):
        first, layer = len(sheet.regions), node.layer
        shape = values[layer.name].shape
        grids.heading(f"Layer {index}: {layer.name} ({layer.class_name}, "
                      f"{' + '.join(shape_text(drawn[t].shape) for t in node.inputs)} -> "
                      f"{shape_text(shape)})")  # fmt: skip
        reads = [drawn[t] for t in node.inputs]
        made = node_cells(layer, reads, [values[t] for t in node.inputs], values[layer.name],
                          grids, refs, record)  # fmt: skip
        several = made if isinstance(made, tuple) else (made,)  # return_state: output, states
        drawn.update(zip(tensor_names(layer.name, len(several)), several))
        made = several[0]
        if len(shape) == 3 and made not in reads:  # a colour scale per layer
            sheet.conditional.append(
                ConditionalFormat(made.refs(sheet.title), "map", bound=bound(values[layer.name]))
            )
        own(sheet.regions, first, layer_label(index, layer))


def _named(sheet: SheetPlan, name: str) -> Block:
    return next(r.block for r in sheet.regions if r.name == name)


def _input(sheet: SheetPlan, grids: GridPlacer, port: Port, value, name: str,
           style: str | None = None) -> Drawn:  # fmt: skip
    """The editable input: a drawing grid for an image of one channel (greyscale), else its
    numbers in Keras's order, with a view of each channel as a grid for the formulas; `style`
    overrides the cells' look (token ids are whole numbers)."""
    shape = tuple(port.shape)
    if port.channels_first:
        return _channels_first_input(sheet, grids, port, value, name)
    keras = _keras_block(grids, shape, f"{name} (edit me)")
    style = style or ("pixel" if len(shape) == 3 else "input")
    sheet.add(Region(keras, style, values=np.asarray(value).reshape(keras.rows, keras.cols),
                     name=name, comment=say("input_comment")))  # fmt: skip
    if len(shape) == 3 and shape[2] == 1:
        for r in range(keras.top, keras.bottom + 1):
            sheet.heights[r] = 43.0
        sheet.conditional.append(ConditionalFormat(keras.ref(absolute=False, on=NETWORK), "ink",
                                                   bound=bound(value)))  # fmt: skip
        return Drawn(shape, (keras,))
    if len(shape) < 3:
        return Drawn(shape, _as_grids(keras, shape))
    view = grids.draw(shape, "each channel as a grid (views of the input)")
    grids.fill(view, "map", value, lambda ch, i, j: F.reference(
        _keras_cell(keras, view.index(ch, i, j))))  # fmt: skip
    sheet.conditional.append(ConditionalFormat(view.refs(NETWORK), "map", bound=bound(value)))
    return view


def _channels_first_input(sheet: SheetPlan, grids: GridPlacer, port: Port, value,
                          name: str) -> Drawn:  # fmt: skip
    """A PyTorch image (C, H, W): its channels as H x W grids one under the other, one named
    block whose cells read row by row are the tensor in torch's order; one channel is a
    drawing grid."""
    c, h, w = port.shape
    how = f"a {h} x {w} drawing grid" if c == 1 else f"{c} channels of {h} x {w}, one under another"
    grids.label(f"{name} (edit me: {how})")
    block = Block(NETWORK, grids.row, grids.left, c * h, w)
    grids.row += c * h + 1
    sheet.add(Region(block, "pixel", values=np.asarray(value).reshape(c * h, w), name=name,
                     comment=say("input_comment")))  # fmt: skip
    if c == 1:  # square cells to draw in
        for r in range(block.top, block.bottom + 1):
            sheet.heights[r] = 43.0
    look = "ink" if c == 1 else "map"
    sheet.conditional.append(ConditionalFormat(block.ref(absolute=False, on=NETWORK), look,
                                               bound=bound(value)))  # fmt: skip
    channels = tuple(Block(NETWORK, block.top + ch * h, block.left, h, w) for ch in range(c))
    return ChannelsFirst(tuple(port.shape), channels)


def _as_grids(block: Block, shape: tuple[int, ...]) -> tuple[Block, ...]:
    """A vector is its row; a sequence's channels are the block's columns."""
    if len(shape) == 1:
        return (block,)
    return tuple(Block(block.sheet, block.top, block.left + ch, block.rows, 1)
                 for ch in range(block.cols))  # fmt: skip


def _keras_block(grids: GridPlacer, shape: tuple[int, ...], label: str) -> Block:
    """A block whose cells, read row by row, are the tensor in Keras's order."""
    rows = 1 if len(shape) == 1 else shape[0]
    grids.label(label)
    block = Block(NETWORK, grids.row, grids.left, rows, int(np.prod(shape)) // rows)
    grids.row += rows + (1 if rows > 1 else 0)
    return block


def _keras_cell(block: Block, k: int) -> str:
    return block.cell(k // block.cols, k % block.cols)


def _output(sheet, grids: GridPlacer, port: Port, made: Drawn, value, name: str,
            returns: str) -> Block:  # fmt: skip
    shape = tuple(port.shape)
    grids.heading(f"Output {port.name!r} ({shape_text(shape)})")
    block = _keras_block(grids, shape, f"{name} (what {returns} returns)")
    sheet.add(Region(block, "output", name=name, comment=say("output_comment", returns=returns),
                     results=np.asarray(value).reshape(block.rows, block.cols),
                     cell_formula=lambda i, j: F.formula(F.reference(
                         made.ref(i * block.cols + j, NETWORK)))))  # fmt: skip
    return block


def _prediction(sheet: SheetPlan, grids: GridPlacer, out: Block, value, spec: WorkbookSpec) -> None:
    """The predicted class of the first output: index, label, confidence, and a chart."""
    n = out.cols
    labels = spec.labels if len(spec.labels) == max(n, 2) else (
        ["False", "True"] if n == 1 else [str(k) for k in range(n)])  # fmt: skip
    probs = np.asarray(value, float).reshape(1, -1)
    index = predicted_indices(probs)
    row = grids.row
    classes = Block(NETWORK, row, 2, 1, len(labels))
    pred = Block(NETWORK, row + 1, 2)
    confidence = F.row_max(out.ref()) if n > 1 else F.binary_confidence(out.cell())
    sheet.add(
        text(NETWORK, row, 1, "class labels", "step"),
        Region(classes, "header", values=[labels]),
        text(NETWORK, row + 1, 1, "predicted class: index, label, confidence", "layer"),
        Region(pred, "result", results=index, comment=say("predicted_comment"),
               cell_formula=lambda i, j: F.formula(predicted_index(out.ref(), n))),
        Region(Block(NETWORK, row + 1, 3), "result", results=[[labels[int(index[0])]]],
               cell_formula=lambda i, j: F.formula(F.pick(classes.ref(), pred.cell(0, 0)))),
        Region(Block(NETWORK, row + 1, 4), "percent", results=confidences(probs),
               cell_formula=lambda i, j: F.formula(confidence)),
    )  # fmt: skip
    grids.row = row + 3
    if n <= 50:
        sheet.charts.append(Chart(say("network_chart_title"), out, classes if n > 1 else None,
                                  F.cell(grids.row + 1, 2)))  # fmt: skip
