"""The formulas of a graph's layers on tensors: a convolution's cell is the sum over input
channels of SUMPRODUCT(window, kernel slice), plus bias, then the activation; pooling is MAX /
AVERAGE over the window; merges and rearranging layers go cell by cell. Windows come from
families.convolution.taps, the rule the NumPy pass follows. Vector layers (dense,
normalization) on vectors and sequences go through chain_steps.py, the Network sheet's own
steps for a dense chain.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ...errors import UnsupportedModelError
from ...ir.families.convolution import Conv, SeparableConv, as_map, taps
from ...ir.families.dense import Activation, Identity
from ...ir.families.merges import Merge
from ...ir.families.normalization import BatchNorm, Rescaling
from ...ir.families.pooling import GlobalPool, Pool, Rearrange
from ...ir.layer import Layer
from ...templates_text import say
from .. import formulas as F
from ..layout import Block, Region
from ..placement import WeightRefs
from .activation_cells import inline, reads_once
from .chain_steps import UNIT_FORMULAS, StepState, layer_steps
from .sequence_steps import SEQUENCE_CELLS, masked_average
from .tensor_grid import Drawn, GridPlacer, NodeState


def node_cells(
    layer: Layer,
    reads: list[Drawn],
    given: list[np.ndarray],
    out: np.ndarray,
    grids: GridPlacer,
    w: WeightRefs,
    record: dict[str, Block] | None = None,
) -> Drawn | tuple[Drawn, ...]:
    """Place the cells that compute `layer` from the tensors it reads; `given` are their
    values and `out` the layer's (its first tensor's), for the example shown (NumPy: the
    cached values). `record` receives a vector layer's pre-activation block by layer name
    (the loss's logits). A layer making several tensors returns one Drawn for each."""
    state = NodeState(reads, given, out, grids, w, {} if record is None else record)
    return NODE_CELLS.get(type(layer), _per_position)(layer, state)


def _identity(layer: Identity, s: NodeState) -> Drawn:
    s.grids.label("passes its input through unchanged at inference", "note")
    s.grids.row += 1
    return s.x


def _rearranged(layer: Rearrange, s: NodeState) -> Drawn:
    return _moved(
        layer.sources(s.x.shape), [s.x], s.out, s.grids, "each cell copies one input cell"
    )


def _separable(layer: SeparableConv, s: NodeState) -> Drawn:
    """The depthwise step's maps, then the pointwise's."""
    first, second = layer.steps()
    inner = first.forward(np.asarray(s.given[0], float)[None])[0]
    mid = _conv(first, s.x, s.given[0], inner, s.grids, s.w, "depthwise_kernel", "depthwise")
    return _conv(second, mid, inner, s.out, s.grids, s.w, "pointwise_kernel", "pointwise")


def _global_pool(layer: GlobalPool, s: NodeState) -> Drawn:
    if layer.masked:  # its last read is the token ids
        return masked_average(layer, s)
    x, out, grids = s.x, s.out, s.grids
    fn = "MAX" if layer.op == "max" else "AVERAGE"
    drawn = grids.draw(tuple(out.shape), f"{fn} of each channel")
    grids.fill(drawn, "map" if len(out.shape) == 3 else "computed", out,
               lambda ch, i, j: F.call(fn, x.grids[drawn.index(ch, i, j) % x.shape[-1]].ref(
                   absolute=False, on=drawn.grids[0].sheet)))  # fmt: skip
    return drawn


def _per_position(layer: Layer, s: NodeState) -> Drawn:
    """The chain's layers (Dense, activations, BatchNorm, ...): cell by cell on a map, else
    the chain's steps on a vector or on each row of a sequence."""
    return _on_map(layer, s) if len(s.x.shape) == 3 else _vector_steps(layer, s)


def _sub(block: Block, r0: int, c0: int, r1: int, c1: int, on: str, absolute=False) -> str:
    """Rows r0..r1, columns c0..c1 (inclusive, 0-based) of a block, as a range or one cell."""
    sheet = None if on == block.sheet else block.sheet
    if r0 == r1 and c0 == c1:
        return F.cell(block.top + r0, block.left + c0, absolute=absolute, sheet=sheet)
    return F.area(block.top + r0, block.left + c0, block.top + r1, block.left + c1,
                  absolute=absolute, sheet=sheet)  # fmt: skip


def _moved(sources: np.ndarray, reads: list[Drawn], out, grids: GridPlacer, label: str,
           code=lambda s: (0, s)) -> Drawn:  # fmt: skip
    """A tensor each of whose cells copies one cell of what it reads (-1: a zero)."""
    drawn = grids.draw(tuple(out.shape), label)
    flat = sources.reshape(-1)
    on = drawn.grids[0].sheet

    def cell(ch: int, i: int, j: int) -> str:
        source = int(flat[drawn.index(ch, i, j)])
        if source < 0:
            return "0"
        which, k = code(source)
        return F.reference(reads[which].ref(k, on))

    grids.fill(drawn, "map" if len(out.shape) == 3 else "computed", out, cell)
    return drawn


def _merge(layer: Merge, s: NodeState) -> Drawn:
    reads, out, grids = s.reads, s.out, s.grids
    if layer.op == "concatenate":
        sources = layer.sources([r.shape for r in reads])
        return _moved(sources, reads, out, grids, "side by side (Concatenate)",
                      code=lambda s: (s >> 32, s & 0xFFFFFFFF))  # fmt: skip
    drawn = grids.draw(tuple(out.shape), f"{layer.op} cell by cell")
    on = drawn.grids[0].sheet

    def cell(ch: int, i: int, j: int) -> str:
        k = drawn.index(ch, i, j)
        return F.merge(layer.op, [r.ref(k, on) for r in reads])

    grids.fill(drawn, "map" if len(out.shape) == 3 else "computed", out, cell)
    return drawn


def _conv(layer: Conv, x: Drawn, given, out, grids: GridPlacer, w: WeightRefs,
          kernel_key: str = "kernel", step: str = "") -> Drawn:  # fmt: skip
    k4 = layer.kernel4()
    kh, kw, cin, cout = k4.shape
    h, wd, _ = as_map(x.shape)
    (_, top), (_, left) = layer.window((h, wd))
    (sh, sw), (dh, dw) = layer.strides, layer.dilation
    kernel = w.block(layer, kernel_key)
    bias = w.block(layer, "bias") if layer.bias is not None else None
    act = inline(layer.activation)
    if act is None:
        raise UnsupportedModelError(
            f"layer {layer.name!r} ({layer.class_name}) activation {layer.activation.name!r} "
            "has no one-step cell formula for maps yet"
        )
    summed = "sum over channels: " if cin > 1 and not layer.depthwise else ""
    label = (f"{step}: " if step else "") + summed + "SUMPRODUCT(window, kernel)"
    label += " + b" if bias else ""
    name, once = layer.activation.name, reads_once(layer.activation)
    shape = tuple(out.shape)
    drawn = grids.draw(shape, label + (f", {name}" if name != "linear" and once else ""))
    on = drawn.grids[0].sheet

    def cell(co: int, i: int, j: int) -> str:
        rows = taps(i, h, kh, sh, dh, top)
        cols = taps(j, wd, kw, sw, dw, left)
        pairs = [(co // cout, co % cout)] if layer.depthwise else [(ci, co) for ci in range(cin)]
        terms = [_window_product(x.grids[ci], kernel, ci * kh, g * kw, rows, cols, on)
                 for ci, g in pairs]  # fmt: skip
        body = F.add(*terms) if terms else "0"
        if bias is not None:
            body = F.add(body, bias.cell(0, co, absolute=True, on=on))
        return act(body) if once else body

    comment = say("conv_comment")
    if once:
        grids.fill(drawn, _style(out), out, cell, comment=comment)
        return drawn
    grids.fill(drawn, _style(out), layer.pre_activation(np.asarray(given, float)[None])[0], cell)
    after = grids.draw(shape, f"{name}, cell by cell")
    grids.fill(after, _style(out), out, lambda ch, i, j: act(drawn.grids[ch].cell(i, j, on=on)))
    return after


def _convolved(layer: Conv, s: NodeState) -> Drawn:
    return _conv(layer, s.x, s.given[0], s.out, s.grids, s.w)


def _window_product(grid: Block, kernel: Block, k_row: int, k_col: int, rows, cols, on: str) -> str:
    """SUMPRODUCT of a window of one input channel and the matching kernel slice (taps next
    to each other), else the products written out (dilated taps)."""
    if not rows or not cols:
        return "0"
    (a0, r0), (a1, r1) = rows[0], rows[-1]
    (b0, q0), (b1, q1) = cols[0], cols[-1]
    if r1 - r0 == a1 - a0 == len(rows) - 1 and q1 - q0 == b1 - b0 == len(cols) - 1:
        xs = _sub(grid, r0, q0, r1, q1, on)
        ks = _sub(kernel, k_row + a0, k_col + b0, k_row + a1, k_col + b1, on, absolute=True)
        return F.window_product(xs, ks)
    pairs = [
        (grid.cell(r, q, on=on), kernel.cell(k_row + a, k_col + b, absolute=True, on=on))
        for a, r in rows
        for b, q in cols
    ]
    return F.expanded_dot(pairs, None)


def _pool(layer: Pool, s: NodeState) -> Drawn:
    x, out, grids = s.x, s.out, s.grids
    h, wd, _ = as_map(x.shape)
    (_, top), (_, left) = layer.window((h, wd))
    fn = "MAX" if layer.op == "max" else "AVERAGE"
    drawn = grids.draw(tuple(out.shape), f"{fn} over each {layer.pool[0]} x {layer.pool[1]} window")
    on = drawn.grids[0].sheet

    def cell(ch: int, i: int, j: int) -> str:
        rows = taps(i, h, layer.pool[0], layer.strides[0], 1, top)
        cols = taps(j, wd, layer.pool[1], layer.strides[1], 1, left)
        return F.call(fn, _sub(x.grids[ch], rows[0][1], cols[0][1], rows[-1][1], cols[-1][1], on))

    grids.fill(drawn, _style(out), out, cell, comment=say("pool_comment"))
    return drawn


def _style(out: np.ndarray) -> str:
    return "map" if out.ndim == 3 else "computed"


def _on_map(layer: Layer, s: NodeState) -> Drawn:
    """Activation, BatchNormalization and Rescaling on a map: cell by cell, per channel."""
    cells = MAP_CELLS.get(type(layer))
    drawn = cells(layer, s) if cells else None
    if drawn is None:
        raise UnsupportedModelError(
            f"layer {layer.name!r} ({layer.class_name}) on a map {s.x.shape} has no cell "
            "formulas yet"
        )
    return drawn


def _map_activation(layer: Activation, s: NodeState) -> Drawn | None:
    """None for an activation with no one-cell formula."""
    cells = {k: s.w.setting(layer, k, v) for k, v in layer.settings().items()}
    act = inline(layer.activation, cells)
    if act is None:
        return None
    on = s.grids.sheet.title
    drawn = s.grids.draw(tuple(s.out.shape), f"{layer.activation.name}, cell by cell")
    s.grids.fill(drawn, "map", s.out, lambda ch, i, j: act(s.x.grids[ch].cell(i, j, on=on)))
    return drawn


def _map_unit(layer: Layer, s: NodeState) -> Drawn:
    """A layer of steps.UNIT_FORMULAS, channel ch's cells reading its unit ch."""
    label, body = UNIT_FORMULAS[type(layer)](layer, s.w)
    on = s.grids.sheet.title
    drawn = s.grids.draw(tuple(s.out.shape), label)
    s.grids.fill(drawn, "map", s.out, lambda ch, i, j: body(s.x.grids[ch].cell(i, j, on=on), ch))
    return drawn


class _Band:
    """steps.py's Placer protocol for a vector (one row) or a sequence (t rows): each step is
    a block of the tensor's rows, one under the other."""

    compact = True

    def __init__(self, grids: GridPlacer, rows: int):
        self.grids, self.rows, self.sheet = grids, rows, grids.sheet.title
        self.regions: list[Region] = []
        self.values: dict[Block, np.ndarray] = {}

    def heading(self, title: str, unit_labels: list[str]) -> None:
        pass

    def step(self, label: str, cols: int) -> Block:
        self.grids.label(label)
        block = Block(self.sheet, self.grids.row, self.grids.left, self.rows, cols)
        self.grids.row += self.rows + (1 if self.rows > 1 else 0)
        return block

    def note(self, label: str) -> None:
        self.grids.label(label, "note")
        self.grids.row += 1


def _vector_steps(layer: Layer, s: NodeState) -> Drawn:
    """Dense, activations, BatchNorm, ... on a vector or on each row of a sequence."""
    x, out = s.x, s.out
    rows = 1 if len(x.shape) == 1 else x.shape[0]
    block = Block(x.grids[0].sheet, x.grids[0].top, x.grids[0].left, rows, x.shape[-1])
    band = _Band(s.grids, rows)
    band.values[block] = np.asarray(s.given[0], np.float64).reshape(rows, -1)
    last = layer_steps(layer, StepState(block, s.w, band, "mmult", s.record))
    band.values[last] = np.asarray(out, np.float64).reshape(rows, -1)
    for region in band.regions:
        if region.results is None and region.block in band.values:
            region.results = band.values[region.block]
    s.grids.sheet.add(*band.regions)
    if len(out.shape) == 1:
        return Drawn(tuple(out.shape), (last,))
    cols = tuple(Block(last.sheet, last.top, last.left + ch, rows, 1) for ch in range(last.cols))
    return Drawn(tuple(out.shape), cols)


# Layers on maps cell by cell; the handler gives None where it has no cell formula.
MAP_CELLS: dict[type, Callable[[Layer, NodeState], Drawn | None]] = {
    Activation: _map_activation,
    **{kind: _map_unit for kind in (BatchNorm, Rescaling)},
}
# How each layer on tensors is drawn; any other layer: _per_position.
NODE_CELLS: dict[type, Callable[[Layer, NodeState], Drawn | tuple[Drawn, ...]]] = {
    **SEQUENCE_CELLS,
    Identity: _identity,
    Rearrange: _rearranged,
    Merge: _merge,
    Conv: _convolved,
    SeparableConv: _separable,
    Pool: _pool,
    GlobalPool: _global_pool,
}
