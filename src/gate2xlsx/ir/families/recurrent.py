"""The recurrent family: SimpleRNN, GRU and LSTM, alone or Bidirectional, on sequences
`(t, c)`.

A recurrent layer keeps its weights split by gate (`kernel_i`, `recurrent_kernel_i`,
`bias_i`, ...): that is how the Weights sheet shows them and the sheet's formulas read them.
Keras packs the gates side by side in one matrix (LSTM: i, f, c, o; GRU: z, r, h);
`split_gates` and `Recurrent.packed` are the one place that knows that order.

`Recurrent.trace` is the step rule both the NumPy pass and the sheet's cached values use:
every gate and state at every step, in the order the layer processes the steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ..layer import Act, Layer, Param, Shape

TANH, SIGMOID = Act("tanh"), Act("sigmoid")


# Each cell's gates in Keras's packed order, and what the sheet shows per step after them.
GATES = {"simple": ("h",), "gru": ("z", "r", "h"), "lstm": ("i", "f", "c", "o")}


GATE_NAMES = {  # a gate's letter -> what it is, per cell
    "i": {"lstm": "input gate"}, "f": {"lstm": "forget gate"},
    "c": {"lstm": "candidate cell"}, "o": {"lstm": "output gate"},
    "z": {"gru": "update gate"}, "r": {"gru": "reset gate"}, "h": {"gru": "candidate state"},
}  # fmt: skip


CLASS_CELLS = {"SimpleRNN": "simple", "GRU": "gru", "LSTM": "lstm"}


MERGE_MODES = ("concat", "sum", "mul", "ave")


def split_gates(values: np.ndarray, cell: str) -> list[np.ndarray]:
    """A packed kernel (rows, g·u) or bias (g·u,) -> one array per gate, Keras's order."""
    return np.split(np.asarray(values), len(GATES[cell]), axis=-1)


@dataclass(eq=False)
class Recurrent(Layer):
    """SimpleRNN, GRU or LSTM over a sequence (t, c), the state starting at zero or at the
    initial states it also reads (h, and c for an LSTM: Keras's initial_state). With
    return_state it makes the output, then the last h (and c) as `<name>:1` (and `:2`).

    `params` holds the split weights: `kernel_<g>` (c, u), `recurrent_kernel_<g>` (u, u),
    `bias_<g>` (u,) per gate g, and for a GRU with reset_after `recurrent_bias_<g>`; a
    SimpleRNN's are plain `kernel`, `recurrent_kernel`, `bias`."""

    cell: str = "lstm"
    params: dict[str, Param] = field(default_factory=dict)
    activation: Act = TANH
    recurrent_activation: Act = SIGMOID
    return_sequences: bool = False
    go_backwards: bool = False
    reset_after: bool = True
    return_state: bool = False
    # `masked`: its last read is the token ids; a step whose id is 0 keeps the state before
    # it (Embedding mask_zero); `zero_output_for_mask`: that step outputs zeros
    masked: bool = False
    zero_output_for_mask: bool = False
    kind: ClassVar[str] = "recurrent"

    @property
    def gates(self) -> tuple[str, ...]:
        return GATES[self.cell]

    def key(self, weight: str, gate: str) -> str:
        return weight if self.cell == "simple" else f"{weight}_{gate}"

    def param(self, weight: str, gate: str) -> Param | None:
        return self.params.get(self.key(weight, gate))

    def value(self, weight: str, gate: str) -> np.ndarray | float:
        param = self.param(weight, gate)
        return 0.0 if param is None else param.values

    @property
    def size(self) -> int:
        return self.params[self.key("recurrent_kernel", self.gates[0])].values.shape[0]

    def weights(self) -> dict[str, Param]:
        return dict(self.params)

    def packed(self) -> list[tuple[str, np.ndarray]]:
        """The weights as Keras stores them: kernel, recurrent_kernel, bias (a GRU with
        reset_after: bias of shape (2, 3u), input bias over recurrent bias)."""

        def joined(weight: str) -> np.ndarray:
            return np.concatenate([self.params[self.key(weight, g)].values for g in self.gates],
                                  axis=-1)  # fmt: skip

        found = [("kernel", joined("kernel")), ("recurrent_kernel", joined("recurrent_kernel"))]
        if self.key("bias", self.gates[0]) in self.params:
            bias = joined("bias")
            if self.cell == "gru" and self.reset_after:
                bias = np.stack([bias, joined("recurrent_bias")])
            found.append(("bias", bias))
        return found

    @property
    def states(self) -> tuple[str, ...]:
        """The states it carries from step to step (what initial_state and return_state hold)."""
        return ("h", "c") if self.cell == "lstm" else ("h",)

    def output_shape(self, shape: Shape, *rest: Shape) -> Shape | list[Shape]:
        out = (shape[0], self.size) if self.return_sequences else (self.size,)
        return [out, *[(self.size,)] * len(self.states)] if self.return_state else out

    def trace_keys(self) -> list[str]:
        """What each step shows, in order (trace's keys): gates, states, and under a mask m and
        y."""
        c = self.params[self.key("kernel", self.gates[0])].values.shape[0]
        x, zeros = np.zeros((1, 1, c)), np.zeros((1, 1))
        return list(self.trace(x, *([zeros] if self.masked else []))[0])

    def sheet_cells(self, shape: Shape, *rest: Shape) -> int:
        """The unrolled drawing: every gate and state at every step."""
        return shape[0] * self.size * len(self.trace_keys())

    def order(self, steps: int) -> list[int]:
        """The input rows in the order the layer reads them."""
        return list(range(steps))[::-1] if self.go_backwards else list(range(steps))

    def step(self, x: np.ndarray, h: np.ndarray, c: np.ndarray) -> dict[str, np.ndarray]:
        """One step's gates and new states (keys as the sheet shows them, "h" and "c" last)."""

        def pre(gate: str, state: np.ndarray) -> np.ndarray:
            return (x @ self.value("kernel", gate) + self.value("bias", gate)
                    + state @ self.value("recurrent_kernel", gate))  # fmt: skip

        act, gate_act = self.activation, self.recurrent_activation
        if self.cell == "simple":
            return {"h": act(pre("h", h))}
        if self.cell == "lstm":
            i, f = gate_act(pre("i", h)), gate_act(pre("f", h))
            g, o = act(pre("c", h)), gate_act(pre("o", h))
            c_new = f * c + i * g
            return {"i": i, "f": f, "c~": g, "o": o, "c": c_new, "h": o * act(c_new)}
        z = gate_act(pre("z", h) + self.value("recurrent_bias", "z"))
        r = gate_act(pre("r", h) + self.value("recurrent_bias", "r"))
        x_h = x @ self.value("kernel", "h") + self.value("bias", "h")
        if self.reset_after:
            recurrent = h @ self.value("recurrent_kernel", "h") + self.value("recurrent_bias", "h")
            h_new = act(x_h + r * recurrent)
            return {"z": z, "r": r, "h~": h_new, "h": z * h + (1 - z) * h_new}
        rh = r * h
        h_new = act(x_h + rh @ self.value("recurrent_kernel", "h"))
        return {"z": z, "r": r, "r*h": rh, "h~": h_new, "h": z * h + (1 - z) * h_new}

    def trace(self, x: np.ndarray, *rest: np.ndarray) -> list[dict[str, np.ndarray]]:
        """Every step's gates and states for input (n, t, c), in processing order, from the
        initial states (h, c) when given, else zeros; `rest`: the initial states, then the
        token ids when masked. A masked step shows `m` (1: computed) and, when it outputs
        zeros for the padding, `y` (the output)."""
        n, units = x.shape[0], self.size
        initial, ids = (rest[:-1], rest[-1]) if self.masked else (rest, None)
        h, c = np.zeros((n, units)), np.zeros((n, units))
        if initial:
            h, c = initial[0], initial[1] if len(initial) > 1 else c
        found = []
        for t in self.order(x.shape[1]):
            values = self.step(x[:, t], h, c)
            if ids is not None:
                keep = (ids[:, t] != 0)[:, None]
                values = {"m": keep.astype(np.float64), **values}
                values["h"] = np.where(keep, values["h"], h)
                if "c" in values:
                    values["c"] = np.where(keep, values["c"], c)
                if self.zero_output_for_mask and self.return_sequences:
                    values["y"] = np.where(keep, values["h"], 0.0)
            h, c = values["h"], values.get("c", c)
            found.append(values)
        return found

    def forward(self, x: np.ndarray, *rest: np.ndarray) -> np.ndarray | tuple:
        steps = self.trace(np.asarray(x, np.float64), *rest)
        hs = [values.get("y", values["h"]) for values in steps]
        out = np.stack(hs, axis=1) if self.return_sequences else hs[-1]
        if not self.return_state:
            return out
        return (out, *(steps[-1][state] for state in self.states))


@dataclass(eq=False)
class Bidirectional(Layer):
    """A recurrent layer read forwards and a copy read backwards; with return_sequences the
    backward outputs are put back in time order (as Keras does) before they merge."""

    forward_layer: Recurrent = None  # type: ignore[assignment]
    backward_layer: Recurrent = None  # type: ignore[assignment]
    merge_mode: str = "concat"
    kind: ClassVar[str] = "bidirectional"

    @property
    def masked(self) -> bool:
        return self.forward_layer.masked

    def sides(self) -> dict[str, Recurrent]:
        return {"forward": self.forward_layer, "backward": self.backward_layer}

    def weights(self) -> dict[str, Param]:
        return {f"{side}_{k}": p for side, layer in self.sides().items()
                for k, p in layer.params.items()}  # fmt: skip

    def output_shape(self, shape: Shape, *mask: Shape) -> Shape:
        one = self.forward_layer.output_shape(shape)
        size = one[-1] + self.backward_layer.size if self.merge_mode == "concat" else one[-1]
        return (*one[:-1], size)

    def sheet_cells(self, shape: Shape, *mask: Shape) -> int:
        own = int(np.prod(self.output_shape(shape)))
        return self.forward_layer.sheet_cells(shape) + self.backward_layer.sheet_cells(shape) + own

    def halves(self, x: np.ndarray, *ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ahead, back = self.forward_layer.forward(x, *ids), self.backward_layer.forward(x, *ids)
        return ahead, back[:, ::-1] if self.backward_layer.return_sequences else back

    def forward(self, x: np.ndarray, *ids: np.ndarray) -> np.ndarray:
        return merge_halves(self.merge_mode, *self.halves(x, *ids))


def merge_halves(mode: str, ahead: np.ndarray, back: np.ndarray) -> np.ndarray:
    if mode == "concat":
        return np.concatenate([ahead, back], axis=-1)
    return {"sum": ahead + back, "mul": ahead * back, "ave": (ahead + back) / 2}[mode]
