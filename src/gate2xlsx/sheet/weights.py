"""The Weights sheet: every stored weight as a yellow, editable, named block (input index down,
unit index across, as Keras stores it), each layer's settings as named cells, and a grey
read-only copy of the trained values that turns a changed weight orange."""

from __future__ import annotations

import numpy as np

from ..ir.families.convolution import CONV_KERNELS, Conv, SeparableConv, as_kernel4, kernel_grid
from ..ir.families.embeddings import Embedding
from ..ir.families.recurrent import GATE_NAMES, Bidirectional, Recurrent
from ..ir.layer import Layer, layer_label
from ..ir.model import Model
from ..templates_text import say
from .layout import Block, ConditionalFormat, Region, SheetPlan, own, paragraph, text, text_row
from .names import weight_names
from .placement import WeightRefs
from .spec import WorkbookSpec

WEIGHTS = "Weights"
LABEL_WIDTH = 46
# Above this many weights the Weights sheet drops its read-only trained copy (it doubles the
# cells to write and recalculate); the Check sheet still catches every change.
TRAINED_COPY_LIMIT = 20_000


def _grid(layer: Layer, key: str, values: np.ndarray) -> np.ndarray:
    """How a weight is laid out: a convolution's kernel as its (input channel, filter) matrix
    of kh x kw grids (kernel_grid), anything else input index down, unit across."""
    if _is_kernel(layer, key):
        return kernel_grid(as_kernel4(values))
    return values.reshape(values.shape[0], -1) if values.ndim >= 2 else values.reshape(1, -1)


def _is_kernel(layer: Layer, key: str) -> bool:
    return isinstance(layer, (Conv, SeparableConv)) and key in CONV_KERNELS


def weights_plan(model: Model, spec: WorkbookSpec) -> tuple[SheetPlan, WeightRefs]:
    """The sheet, and where each weight and setting lives (what every formula reads)."""
    sheet = SheetPlan(WEIGHTS, widths={1: LABEL_WIDTH}, freeze="B3")
    with_copy = model.count_params() <= TRAINED_COPY_LIMIT
    intro = (
        say("weights_intro") if with_copy else say("weights_intro_large", limit=TRAINED_COPY_LIMIT)
    )
    sheet.add(
        text(WEIGHTS, 1, 1, say("weights_title", model=spec.title), "title"),
    )
    paragraph(sheet, 2, intro)
    refs = WeightRefs()
    names = weight_names(model)
    widths = chain.widths() if (chain := model.as_chain()) is not None else []
    row = 4
    for index, layer in enumerate(model.layers, start=1):
        if not layer.weights() and not layer.settings():
            continue
        first = len(sheet.regions)
        sheet.add(
            text(WEIGHTS, row, 1, f"Layer {index}: {layer.name} ({layer.class_name})", "layer")
        )
        row += 1
        if layer.settings():
            row = _settings(sheet, layer, names, refs, row, with_copy)
        for key, param in layer.weights().items():
            grid = _grid(layer, key, param.values)
            rows, cols = grid.shape
            shape = " x ".join(str(d) for d in param.values.shape) or "scalar"
            units = _column_labels(layer, key, cols)
            sheet.add(
                text(WEIGHTS, row, 1, f"{_title(layer, key)}  [{shape}]  {param.path}", "step"),
                text_row(WEIGHTS, row, 2, units),
            )
            row += 1
            if _is_kernel(layer, key):
                sheet.add(Region(Block(WEIGHTS, row, 1, rows, 1), "header",
                                 values=[[v] for v in _kernel_rows(param.values)]))  # fmt: skip
            elif rows > 1:
                inputs = _sequence_rows(layer, key, rows) or (
                    spec.inputs
                    if index == 1 and key == "kernel"
                    else [f"in {i + 1}" for i in range(rows if not widths else widths[index - 1])]
                )
                labels = inputs if len(inputs) == rows else [f"row {i + 1}" for i in range(rows)]
                sheet.add(
                    Region(Block(WEIGHTS, row, 1, rows, 1), "header", values=[[v] for v in labels])
                )
            name = names[(layer.name, key)]
            block = Block(WEIGHTS, row, 2, rows, cols)
            sheet.add(Region(block, "weight", values=grid, name=name))
            if with_copy:
                _trained_copy(sheet, block, grid)
            refs.entries[(layer.name, key)] = (name, block)
            row += rows + 1
        own(sheet.regions, first, layer_label(index, layer))
        row += 1
    return sheet, refs


def _column_labels(layer: Layer, key: str, cols: int) -> list[str]:
    if _is_kernel(layer, key):
        kw = as_kernel4(layer.weights()[key].values).shape[1]
        name = (
            "multiplier"
            if key == "depthwise_kernel" or getattr(layer, "depthwise", False)
            else "filter"
        )
        return [f"{name} {j // kw + 1}" if j % kw == 0 else "" for j in range(cols)]
    if isinstance(layer, (Conv, SeparableConv)):
        return [f"filter {j + 1}" for j in range(cols)]
    return [f"unit {j + 1}" for j in range(cols)]


def _sequence_rows(layer: Layer, key: str, rows: int) -> list[str] | None:
    """An Embedding's rows are token ids; a recurrent kernel's read h of the step before."""
    if isinstance(layer, Embedding):
        return [f"token {i}" for i in range(rows)]
    if isinstance(layer, (Recurrent, Bidirectional)) and "recurrent_kernel" in key:
        return [f"h_prev {i + 1}" for i in range(rows)]
    return None


def _title(layer: Layer, key: str) -> str:
    """A weight's name, with the gate it belongs to for a recurrent layer (kernel_i: input
    gate)."""
    if isinstance(layer, (Recurrent, Bidirectional)) and key.rpartition("_")[2] in GATE_NAMES:
        cell = layer.cell if isinstance(layer, Recurrent) else layer.forward_layer.cell
        return f"{key} ({GATE_NAMES[key.rpartition('_')[2]].get(cell, '')})".replace(" ()", "")
    return key


def _kernel_rows(values: np.ndarray) -> list[str]:
    kh, _, cin, _ = as_kernel4(values).shape
    return [f"in channel {ci + 1}, row {a + 1}" for ci in range(cin) for a in range(kh)]


def _settings(
    sheet: SheetPlan, layer: Layer, names: dict, refs: WeightRefs, row: int, with_copy: bool
) -> int:
    """The layer's scalar settings as one row of named, editable cells; returns the next row."""
    keys = list(layer.settings())
    sheet.add(
        text(WEIGHTS, row, 1, "settings (from the layer's configuration)", "step"),
        text_row(WEIGHTS, row, 2, keys),
    )
    for j, key in enumerate(keys):
        cell = Block(WEIGHTS, row + 1, 2 + j)
        sheet.add(
            Region(cell, "weight", values=[[layer.settings()[key]]], name=names[(layer.name, key)])
        )
        refs.entries[(layer.name, key)] = (names[(layer.name, key)], cell)
    block = Block(WEIGHTS, row + 1, 2, 1, len(keys))
    if with_copy:
        _trained_copy(sheet, block, np.array([list(layer.settings().values())], dtype=np.float64))
    return row + 3


def _trained_copy(sheet: SheetPlan, block: Block, grid: np.ndarray) -> None:
    """A grey read-only copy right of the block, and an orange mark on every changed weight."""
    trained = Block(WEIGHTS, block.top, block.right + 2, block.rows, block.cols)
    sheet.add(
        text(WEIGHTS, block.top - 1, trained.left, "trained value (read-only copy)", "note"),
        Region(trained, "trained", values=grid),
    )
    sheet.conditional.append(
        ConditionalFormat(
            block.ref(absolute=False, on=WEIGHTS), "changed", f"{block.cell()}<>{trained.cell()}"
        )
    )
