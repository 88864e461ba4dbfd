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

from ..errors import LayoutError, UnsupportedModelError
from ..maps import GlobalPool
from ..sequences import Bidirectional, Embedding, Recurrent
from ..templates_text import say
from . import formulas as F
from .activation_cells import inline
from .layout import Block, ConditionalFormat, Region, text
from .placement import WeightRefs
from .tensor_grid import Drawn, GridPlacer, bound

TITLES = {
    "i": "i: input gate", "f": "f: forget gate", "c~": "c~: candidate", "o": "o: output gate",
    "c": "c: cell state (memory)", "z": "z: update gate", "r": "r: reset gate",
    "r*h": "r * h_prev", "h~": "h~: candidate", "m": "m: token <> 0",
    "y": "y: output (0 for padding)", "h": "h: output (hidden state)",
}  # fmt: skip
STATES = ("c", "h")  # coloured on a scale centred on 0: the memory, step by step
MERGE_OPS = {"sum": "add", "mul": "multiply", "ave": "average"}


def sequence_cells(layer, reads: list[Drawn], given: list, out, grids: GridPlacer,
                   w: WeightRefs) -> Drawn | tuple[Drawn, ...]:  # fmt: skip
    """The layer's cells; a recurrent layer with return_state gives its output and its last
    states (graph.tensor_names' order)."""
    x = reads[0]
    if isinstance(layer, Embedding):
        return _embedding(layer, x, out, grids, w)
    ids = reads[-1] if getattr(layer, "masked", False) else None  # masked: its last read
    if isinstance(layer, GlobalPool):
        return _masked_average(x, ids, given[-1], out, grids)
    if isinstance(layer, Recurrent):
        initial = reads[1:-1] if ids else reads[1:]
        unrolled = _unrolled(layer, x, given, grids, w, initial=initial, ids=ids)
        return unrolled.made if layer.return_state else unrolled.output
    return _bidirectional(layer, x, given, out, grids, w, ids)


def _embedding(layer: Embedding, x: Drawn, out, grids: GridPlacer, w: WeightRefs) -> Drawn:
    table = w.name(layer, "embeddings")
    drawn = grids.draw(tuple(out.shape), "INDEX(embeddings, token + 1, column)")
    on = grids.sheet.title
    grids.fill(drawn, "computed", out,
               lambda ch, i, j: F.embedding(table, x.ref(i, on), ch + 1))  # fmt: skip
    return drawn


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
    cell = _step_formulas(layer, x, order, blocks, w, on, dict(zip(layer.states, initial)))
    if ids is not None:
        cell = _masked(cell, blocks, ids, order, on, dict(zip(layer.states, initial)))
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


def _masked(cell, blocks: dict[str, Block], ids: Drawn, order: list[int], on: str,
            initial: dict[str, Drawn]):  # fmt: skip
    """The step formulas under a mask: m reads the step's token; a padding step keeps the
    states (c, h) of the step before; y, the output, is h or 0."""

    def before(name: str, i: int, j: int) -> str | None:
        if i == 0:
            return initial[name].ref(j, on) if name in initial else None
        return blocks[name].cell(i - 1, j, on=on)

    def masked(name: str, i: int, j: int) -> str:
        m = blocks["m"].cell(i, 0, on=on)
        if name == "m":
            return F.kept(ids.ref(order[i], on))
        if name == "y":
            return F.masked_state(m, blocks["h"].cell(i, j, on=on), None)
        if name in STATES:
            return F.masked_state(m, cell(name, i, j), before(name, i, j))
        return cell(name, i, j)

    return masked


def _masked_average(x: Drawn, ids: Drawn, tokens, out, grids: GridPlacer) -> Drawn:
    """GlobalAveragePooling1D under a mask: a column of m (1: a real step), then each
    channel's SUMPRODUCT(channel, m) / SUM(m)."""
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


def _step_formulas(layer: Recurrent, x: Drawn, order: list[int], blocks: dict[str, Block],
                   w: WeightRefs, on: str, initial: dict[str, Drawn]):  # fmt: skip
    """cell(name, step, unit) -> the formula body of that gate or state. The first step's
    "row above" is the initial state's cells, or nothing (zeros)."""
    act, gate_act = _activation(layer, "activation"), _activation(layer, "recurrent_activation")

    def at(name: str, i: int, j: int) -> str:
        return blocks[name].cell(i, j, on=on)

    def before(name: str, i: int, j: int) -> str | None:
        if i == 0:
            return initial[name].ref(j, on) if name in initial else None
        return at(name, i - 1, j)

    def h_row(i: int) -> str | None:
        """h of the step before, as one row."""
        if i == 0:
            return seq_row(initial["h"], 0, on) if "h" in initial else None
        return blocks["h"].row(i - 1, on=on)

    def column(weight: str, gate: str, j: int) -> str:
        return w.block(layer, layer.key(weight, gate)).column(j, absolute=True, on=on)

    def pre(gate: str, i: int, j: int, recurrent: bool = True) -> str:
        terms = [F.mmult(seq_row(x, order[i], on), column("kernel", gate, j))]
        terms += [b for b in [w.element(layer, layer.key("bias", gate), j)] if b]
        if recurrent and h_row(i):
            terms.append(F.mmult(h_row(i), column("recurrent_kernel", gate, j)))
        if recurrent:
            terms += [b for b in [w.element(layer, layer.key("recurrent_bias", gate), j)] if b]
        return F.add(*terms)

    def candidate(i: int, j: int) -> str:  # GRU's h~
        x_part = pre("h", i, j, recurrent=False)
        if not layer.reset_after:
            if h_row(i) is None:
                return act(x_part)
            rh = F.mmult(blocks["r*h"].row(i, on=on), column("recurrent_kernel", "h", j))
            return act(F.add(x_part, rh))
        rec = [F.mmult(h_row(i), column("recurrent_kernel", "h", j))] if h_row(i) else []
        rec += [b for b in [w.element(layer, "recurrent_bias_h", j)] if b]
        return act(F.add(x_part, F.product(at("r", i, j), F.add(*rec)))) if rec else act(x_part)

    cells = {
        "i": lambda i, j: gate_act(pre("i", i, j)),
        "f": lambda i, j: gate_act(pre("f", i, j)),
        "c~": lambda i, j: act(pre("c", i, j)),
        "o": lambda i, j: gate_act(pre("o", i, j)),
        "c": lambda i, j: F.lstm_cell(
            at("f", i, j), before("c", i, j), at("i", i, j), at("c~", i, j)
        ),  # fmt: skip
        "z": lambda i, j: gate_act(pre("z", i, j)),
        "r": lambda i, j: gate_act(pre("r", i, j)),
        "r*h": lambda i, j: F.product(at("r", i, j), before("h", i, j)) if h_row(i) else "0",
        "h~": candidate,
    }

    def cell(name: str, i: int, j: int) -> str:
        if name != "h":
            return cells[name](i, j)
        if layer.cell == "simple":
            return act(pre("h", i, j))
        if layer.cell == "lstm":
            return F.product(at("o", i, j), act(at("c", i, j)))
        return F.gru_state(at("z", i, j), before("h", i, j), at("h~", i, j))

    return cell


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


def _bidirectional(layer: Bidirectional, x: Drawn, given: list, out, grids: GridPlacer,
                   w: WeightRefs, ids: Drawn | None) -> Drawn:  # fmt: skip
    made = [_unrolled(inner, x, given, grids, _side_refs(layer, side, w), f"{side}: ",
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
