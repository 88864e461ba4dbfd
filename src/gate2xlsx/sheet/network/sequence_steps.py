"""The cells of the sequence layers: an Embedding looks each token's row up with INDEX; a
recurrent layer is unrolled, one sheet row per time step, its gates and states side by side
(LSTM: i, f, c~, o, c, h; GRU: z, r, h~, h), each row reading the input row of its step and
the row above (h and c of the step before), so the memory can be followed down the sheet.

A gate's cell is activation(MMULT(x_t, W_g column) + MMULT(h_prev, U_g column) + b_g), the
Dense layer's MMULT per unit. Cached values come from Recurrent.trace, the NumPy step rule.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ...errors import LayoutError, UnsupportedModelError
from ...ir.families.embeddings import Embedding
from ...ir.families.pooling import GlobalPool
from ...ir.families.recurrent import Bidirectional, Recurrent
from ...templates_text import say
from .. import formulas as F
from ..layout import Block, ConditionalFormat, Region, text
from ..placement import WeightRefs
from .activation_cells import inline
from .tensor_grid import Drawn, GridPlacer, NodeState, bound

TITLES = {
    "i": "i: input gate", "f": "f: forget gate", "c~": "c~: candidate", "o": "o: output gate",
    "c": "c: cell state (memory)", "z": "z: update gate", "r": "r: reset gate",
    "r*h": "r * h_prev", "h~": "h~: candidate", "m": "m: token <> 0",
    "y": "y: output (0 for padding)", "h": "h: output (hidden state)",
}  # fmt: skip
STATES = ("c", "h")  # coloured on a scale centred on 0: the memory, step by step
MERGE_OPS = {"sum": "add", "mul": "multiply", "ave": "average"}


def _embedding(layer: Embedding, s: NodeState) -> Drawn:
    table = s.w.name(layer, "embeddings")
    drawn = s.grids.draw(tuple(s.out.shape), "INDEX(embeddings, token + 1, column)")
    on = s.grids.sheet.title
    s.grids.fill(drawn, "computed", s.out,
                 lambda ch, i, j: F.embedding(table, s.x.ref(i, on), ch + 1))  # fmt: skip
    return drawn


def _token_ids(layer, s: NodeState) -> Drawn | None:
    """A masked layer's last read: the token ids whose zeros are padding steps."""
    return s.reads[-1] if layer.masked else None


def _recurrent(layer: Recurrent, s: NodeState) -> Drawn | tuple[Drawn, ...]:
    """Its output; with return_state, its output and its last states (graph.tensor_names'
    order)."""
    ids = _token_ids(layer, s)
    initial = s.reads[1:-1] if ids else s.reads[1:]
    unrolled = _unrolled(layer, s.x, s.given, s.grids, s.w, initial=initial, ids=ids)
    return unrolled.made if layer.return_state else unrolled.output


def seq_row(x: Drawn, i: int, on: str) -> str:
    """Row i of a sequence (its channels' cells side by side) as one range."""
    first = x.grids[0]
    if len(x.shape) == 1:
        return first.row(0, on=on)
    if any(g.top != first.top or g.left != first.left + k for k, g in enumerate(x.grids)):
        raise LayoutError("a recurrent layer reads a sequence whose channels are not adjacent")
    return Block(first.sheet, first.top + i, first.left, 1, len(x.grids)).row(0, on=on)


class _Unrolled:
    """The blocks of one recurrent layer: {gate or state: (t, units) block}, processing order."""

    def __init__(self, layer: Recurrent, blocks: dict[str, Block], steps: int):
        self.layer, self.blocks, self.steps = layer, blocks, steps

    @property
    def output(self) -> Drawn:
        """return_sequences: every row of h (Keras's order is the processing order), or of y
        when padding steps output zeros; else the last row."""
        h, units = self.blocks.get("y", self.blocks["h"]), self.layer.size
        if not self.layer.return_sequences:
            return Drawn((units,), (Block(h.sheet, h.top + self.steps - 1, h.left, 1, units),))
        cols = tuple(Block(h.sheet, h.top, h.left + j, self.steps, 1) for j in range(units))
        return Drawn((self.steps, units), cols)

    @property
    def made(self) -> tuple[Drawn, ...]:
        """The output, then each state's last row (return_state)."""
        last = [self.blocks[state] for state in self.layer.states]
        rows = [Block(b.sheet, b.top + self.steps - 1, b.left, 1, b.cols) for b in last]
        return (self.output, *(Drawn((self.layer.size,), (row,)) for row in rows))


def _unrolled(layer: Recurrent, x: Drawn, given: list, grids: GridPlacer, w: WeightRefs,
              side: str = "", initial: list[Drawn] = (),
              ids: Drawn | None = None) -> _Unrolled:  # fmt: skip
    """`given`: the values of what it reads (the sequence, any initial states, the token ids
    when masked); `initial`: the initial states' cells, which the first step reads as the row
    above; `ids`: the token ids whose zeros are padding steps."""
    steps, units, on = x.shape[0], layer.size, grids.sheet.title
    trace = layer.trace(*(np.asarray(v, np.float64)[None] for v in given))
    names = list(trace[0])
    order = layer.order(steps)
    reading = ", last input row first" if layer.go_backwards else ""
    grids.label(f"{side}{layer.class_name}, one row per step{reading}")
    top = grids.row + 1
    blocks, left = {}, grids.left
    for name in names:  # m (a padding step or not) is one column; the rest a unit each
        blocks[name] = Block(on, top, left, steps, 1 if name == "m" else units)
        left = blocks[name].right + 2
    for name, block in blocks.items():
        grids.sheet.add(text(on, grids.row, block.left, TITLES.get(name, name),
                             "note"))  # fmt: skip
    for s, source in enumerate(order):
        grids.sheet.add(text(on, top + s, 1, f"step {s + 1}: input row {source + 1}", "note"))
    cell = StepCells(layer, x, order, blocks, w, on, dict(zip(layer.states, initial)))
    if ids is not None:
        cell = _masked(cell, ids)
    for k, (name, block) in enumerate(blocks.items()):
        results = np.stack([values[name][0] for values in trace])
        body = partial(_formula, cell, name)
        comment = say("recurrent_comment") if k == 0 else None
        grids.sheet.add(Region(block, "computed", results=results, cell_formula=body,
                               comment=comment))  # fmt: skip
        if name in STATES:
            grids.sheet.conditional.append(ConditionalFormat(
                block.ref(absolute=False, on=on), "map", bound=bound(results)))  # fmt: skip
    grids.row = top + steps + 1
    return _Unrolled(layer, blocks, steps)


def _masked(cell: StepCells, ids: Drawn):
    """The step formulas under a mask: m reads the step's token; a padding step keeps the
    states (c, h) of the step before; y, the output, is h or 0."""

    def masked(name: str, i: int, j: int) -> str:
        m = cell.at("m", i, 0)
        if name == "m":
            return F.kept(ids.ref(cell.order[i], cell.on))
        if name == "y":
            return F.masked_state(m, cell.at("h", i, j), None)
        if name in STATES:
            return F.masked_state(m, cell(name, i, j), cell.before(name, i, j))
        return cell(name, i, j)

    return masked


def masked_average(layer: GlobalPool, s: NodeState) -> Drawn:
    """GlobalAveragePooling1D under a mask: a column of m (1: a real step), then each
    channel's SUMPRODUCT(channel, m) / SUM(m)."""
    x, ids, tokens, out, grids = s.x, _token_ids(layer, s), s.given[-1], s.out, s.grids
    on, steps = grids.sheet.title, x.shape[0]
    kept = grids.draw((steps, 1), "m: 1 where the token is not 0 (padding is left out)")
    ones = (np.asarray(tokens, float) != 0).astype(float)
    grids.fill(kept, "computed", ones.reshape(steps, 1),
               lambda ch, i, j: F.kept(ids.ref(i, on)))  # fmt: skip
    column = kept.grids[0].ref(absolute=False, on=on)
    drawn = grids.draw(tuple(out.shape), "SUMPRODUCT(channel, m) / SUM(m)")
    grids.fill(drawn, "computed", out, lambda ch, i, j: F.masked_average(
        x.grids[j].ref(absolute=False, on=on), column))  # fmt: skip
    return drawn


def _formula(cell, name: str, i: int, j: int) -> str:
    return F.formula(cell(name, i, j))


class StepCells:
    """cell(name, step, unit) -> the formula body of a recurrent layer's gate or state there,
    from the gate and state tables below. The first step's "row above" is the initial state's
    cells, or nothing (zeros)."""

    def __init__(self, layer: Recurrent, x: Drawn, order: list[int], blocks: dict[str, Block],
                 w: WeightRefs, on: str, initial: dict[str, Drawn]):  # fmt: skip
        self.layer, self.x, self.order, self.blocks = layer, x, order, blocks
        self.w, self.on, self.initial = w, on, initial
        self.act = _activation(layer, "activation")
        self.gate_act = _activation(layer, "recurrent_activation")

    def __call__(self, name: str, i: int, j: int) -> str:
        if name == "h":
            return STATE_CELLS[self.layer.cell](self, i, j)
        return GATE_CELLS[name](self, i, j)

    def at(self, name: str, i: int, j: int) -> str:
        return self.blocks[name].cell(i, j, on=self.on)

    def before(self, name: str, i: int, j: int) -> str | None:
        """The state's cell in the step before (the initial state's, else None: zeros)."""
        if i == 0:
            return self.initial[name].ref(j, self.on) if name in self.initial else None
        return self.at(name, i - 1, j)

    def h_row(self, i: int) -> str | None:
        """h of the step before, as one row."""
        if i == 0:
            return seq_row(self.initial["h"], 0, self.on) if "h" in self.initial else None
        return self.blocks["h"].row(i - 1, on=self.on)

    def column(self, weight: str, gate: str, j: int) -> str:
        return self.w.block(self.layer, self.layer.key(weight, gate)).column(
            j, absolute=True, on=self.on
        )

    def bias(self, weight: str, gate: str, j: int) -> list[str]:
        """The bias term of unit j, if the layer has that bias."""
        return [b for b in [self.w.element(self.layer, self.layer.key(weight, gate), j)] if b]

    def pre(self, gate: str, i: int, j: int, recurrent: bool = True) -> str:
        """The gate's input: MMULT(x_t, W_g column) + b_g (+ MMULT(h_prev, U_g column) + its
        bias, when recurrent)."""
        terms = [F.mmult(seq_row(self.x, self.order[i], self.on), self.column("kernel", gate, j))]
        terms += self.bias("bias", gate, j)
        if recurrent and self.h_row(i):
            terms.append(F.mmult(self.h_row(i), self.column("recurrent_kernel", gate, j)))
        if recurrent:
            terms += self.bias("recurrent_bias", gate, j)
        return F.add(*terms)


def _gru_candidate(s: StepCells, i: int, j: int) -> str:
    """GRU's h~: the reset gate applied to h_prev before its kernel, or after (reset_after)."""
    x_part, h_row = s.pre("h", i, j, recurrent=False), s.h_row(i)
    if not s.layer.reset_after:
        if h_row is None:
            return s.act(x_part)
        rh = F.mmult(s.blocks["r*h"].row(i, on=s.on), s.column("recurrent_kernel", "h", j))
        return s.act(F.add(x_part, rh))
    rec = [F.mmult(h_row, s.column("recurrent_kernel", "h", j))] if h_row else []
    rec += s.bias("recurrent_bias", "h", j)
    return s.act(F.add(x_part, F.product(s.at("r", i, j), F.add(*rec)))) if rec else s.act(x_part)


# Each gate and state but h, by name: (cells, step, unit) -> formula body.
GATE_CELLS = {
    "i": lambda s, i, j: s.gate_act(s.pre("i", i, j)),
    "f": lambda s, i, j: s.gate_act(s.pre("f", i, j)),
    "c~": lambda s, i, j: s.act(s.pre("c", i, j)),
    "o": lambda s, i, j: s.gate_act(s.pre("o", i, j)),
    "c": lambda s, i, j: F.lstm_cell(
        s.at("f", i, j), s.before("c", i, j), s.at("i", i, j), s.at("c~", i, j)
    ),
    "z": lambda s, i, j: s.gate_act(s.pre("z", i, j)),
    "r": lambda s, i, j: s.gate_act(s.pre("r", i, j)),
    "r*h": lambda s, i, j: F.product(s.at("r", i, j), s.before("h", i, j)) if s.h_row(i) else "0",
    "h~": _gru_candidate,
}
# h, the output, by the layer's cell kind.
STATE_CELLS = {
    "simple": lambda s, i, j: s.act(s.pre("h", i, j)),
    "lstm": lambda s, i, j: F.product(s.at("o", i, j), s.act(s.at("c", i, j))),
    "gru": lambda s, i, j: F.gru_state(s.at("z", i, j), s.before("h", i, j), s.at("h~", i, j)),
}


def _activation(layer: Recurrent, attr: str):
    act = getattr(layer, attr)
    found = inline(act)
    if found is None:
        raise UnsupportedModelError(
            f"layer {layer.name!r} ({layer.class_name}) {attr} {act.name!r} has no one-cell "
            "formula; gate2xlsx unrolls recurrent layers with one-cell activations (tanh, "
            "sigmoid, hard_sigmoid, relu, ...)"
        )
    return found


def _side_refs(layer: Bidirectional, side: str, w: WeightRefs) -> WeightRefs:
    """The weights of one side, keyed by the side's own layer (their names stay the
    Bidirectional's: `forward_kernel_i`, ...)."""
    inner = layer.sides()[side]
    entries = {(inner.name, k): w.entries[(layer.name, f"{side}_{k}")] for k in inner.params}
    addressed = {(inner.name, k) for k in inner.params
                 if (layer.name, f"{side}_{k}") in w.addressed}  # fmt: skip
    return WeightRefs(entries, addressed)


def _bidirectional(layer: Bidirectional, s: NodeState) -> Drawn:
    x, given, out, grids, ids = s.x, s.given, s.out, s.grids, _token_ids(layer, s)
    made = [_unrolled(inner, x, given, grids, _side_refs(layer, side, s.w), f"{side}: ",
                      ids=ids).output for side, inner in layer.sides().items()]  # fmt: skip
    ahead, back = made
    on = grids.sheet.title
    steps = len(out) if out.ndim == 2 else 1

    def side_ref(drawn: Drawn, i: int, j: int, backward: bool) -> str:
        row = steps - 1 - i if backward and out.ndim == 2 else i  # put back in time order
        return drawn.ref(row * drawn.shape[-1] + j, on)

    label = ("forward then backward side by side" if layer.merge_mode == "concat"
             else f"{layer.merge_mode} of forward and backward")  # fmt: skip
    if out.ndim == 2:
        label += " (backward rows put back in time order)"
    drawn = grids.draw(tuple(out.shape), label)

    def cell(ch: int, i: int, j: int) -> str:
        row, unit = (i, ch) if out.ndim == 2 else (0, j)
        if layer.merge_mode == "concat":
            first = unit < ahead.shape[-1]
            part = ahead if first else back
            return F.reference(side_ref(part, row, unit if first else unit - ahead.shape[-1],
                                        not first))  # fmt: skip
        pair = [side_ref(ahead, row, unit, False), side_ref(back, row, unit, True)]
        return F.merge(MERGE_OPS[layer.merge_mode], pair)

    grids.fill(drawn, "computed", out, cell)
    return drawn


# The sequence layers' cells by layer type (graph_steps.NODE_CELLS takes them in).
SEQUENCE_CELLS = {Embedding: _embedding, Recurrent: _recurrent, Bidirectional: _bidirectional}
