"""The optimizer table: for each optimizer gate2xlsx trains with, its settings, its NumPy update
(tf.keras 2.15's `update_step`, keras/src/optimizers/{sgd,adam,rmsprop}.py) and the Training
sheet's formulas of the same, side by side. Adding an optimizer is one entry.

Formulas are templates the Training sheet fills:
  {<setting>}  the setting's defined name (learning_rate, momentum, ...)
  a state's formula: {prior} the state a step before (0 at the start), {g} this step's
      gradient, {m} / {v} this step's new m / v (a state listed before it)
  the step's formula (the weight after the step): {w} the weight before it, {g} its gradient,
      {m} / {v} the states after it, {alpha} the step size of that step (Adam's)
  the step size's formula (one cell per step): {t} the step's number, 1-based
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np


class Settings(Protocol):
    """What an update reads of the trainer's settings (gate2xlsx.ir.fit.Settings)."""

    lr: float
    momentum: float
    nesterov: bool
    beta_1: float
    beta_2: float
    epsilon: float
    rho: float


@dataclass(frozen=True)
class Setting:
    """An editable setting: its defined name, its `Settings` field and the note beside it
    ({nesterov}: " (Nesterov)" when Nesterov momentum is on)."""

    name: str
    field: str
    note: str


@dataclass(frozen=True)
class State:
    """A per-weight array the optimizer keeps: its label, its formula after the step, and its
    slot ("m" or "v": where fit keeps it; the label where that is one of them)."""

    label: str
    formula: str
    slot: str = ""

    def __post_init__(self) -> None:
        if not self.slot:
            object.__setattr__(self, "slot", self.label)


@dataclass(frozen=True)
class Hyper:
    """The settings in the update's dtype at step t: float32 rounds as Keras's variables do,
    float64 as the Training sheet computes."""

    one: np.floating
    lr: np.floating
    beta_1: np.floating
    beta_2: np.floating
    epsilon: np.floating
    rho: np.floating
    momentum: np.floating
    alpha: np.floating  # Adam's step size at step t, bias correction included
    nesterov: bool


def hyper(s: Settings, t: int, dtype: type) -> Hyper:
    """The settings of step t (1-based) in `dtype`."""
    f, step = dtype, dtype(t)
    lr, b1, b2 = f(s.lr), f(s.beta_1), f(s.beta_2)
    alpha = lr * np.sqrt(f(1) - b2**step) / (f(1) - b1**step)
    return Hyper(f(1), lr, b1, b2, f(s.epsilon), f(s.rho), f(s.momentum), alpha, s.nesterov)


# An update changes w (the weight), m and v (its states) in place from g (its gradient).
Update = Callable[[Hyper, np.ndarray, np.ndarray, np.ndarray, np.ndarray], None]


@dataclass(frozen=True)
class OptimizerDef:
    """An optimizer, once: its settings, NumPy update, states and formulas."""

    name: str
    settings: tuple[Setting, ...]
    update: Update
    states: tuple[State, ...]
    step: str
    nesterov_step: str | None = None
    step_size: str | None = None  # a cell per step the step's formula reads as {alpha}

    def step_formula(self, nesterov: bool) -> str:
        return self.nesterov_step if nesterov and self.nesterov_step else self.step

    def shown(self, s: Settings) -> list[tuple[str, float, str]]:
        """(defined name, value, note) of each setting, as the Training sheet lists them."""
        nesterov = " (Nesterov)" if s.nesterov else ""
        return [
            (one.name, getattr(s, one.field), one.note.format(nesterov=nesterov))
            for one in self.settings
        ]


# --- NumPy side -------------------------------------------------------------------------------


def _sgd(h: Hyper, w, g, m, v) -> None:
    """momentum 0 gives plain SGD's w - g * lr to the bit, and m shows the step."""
    m[...] = -g * h.lr + m * h.momentum
    w += (-g * h.lr + m * h.momentum) if h.nesterov else m


def _adam(h: Hyper, w, g, m, v) -> None:
    m += (g - m) * (h.one - h.beta_1)
    v += (g * g - v) * (h.one - h.beta_2)
    w -= (m * h.alpha) / (np.sqrt(v) + h.epsilon)


def _rmsprop(h: Hyper, w, g, m, v) -> None:
    """epsilon inside the square root; momentum 0: m is the step itself, to the bit."""
    v[...] = h.rho * v + (h.one - h.rho) * (g * g)
    m[...] = h.momentum * m + h.lr * g / np.sqrt(v + h.epsilon)
    w -= m


# --- the table --------------------------------------------------------------------------------

LEARNING_RATE = Setting("learning_rate", "lr", "the step size (edit me: the whole training reruns)")


def _settings(**notes: str) -> tuple[Setting, ...]:
    """The learning rate, then settings named as their `Settings` fields, with their notes."""
    return (LEARNING_RATE, *(Setting(name, name, note) for name, note in notes.items()))


_TABLE = (
    OptimizerDef(
        "sgd",
        _settings(momentum="SGD momentum{nesterov}: 0 is plain SGD"),
        _sgd,
        (State("velocity", "-{g}*{learning_rate}+{prior}*{momentum}", slot="m"),),
        step="{w}+{m}",
        nesterov_step="{w}+(-{g}*{learning_rate}+{m}*{momentum})",
    ),
    OptimizerDef(
        "adam",
        _settings(
            beta_1="decay of the mean of gradients (Adam's m)",
            beta_2="decay of the mean of squared gradients (Adam's v)",
            epsilon="added to SQRT(v) before dividing",
        ),
        _adam,
        (
            State("m", "{prior}+({g}-{prior})*(1-{beta_1})"),
            State("v", "{prior}+({g}*{g}-{prior})*(1-{beta_2})"),
        ),
        step="{w}-({m}*{alpha})/(SQRT({v})+{epsilon})",
        step_size="{learning_rate}*SQRT(1-{beta_2}^{t})/(1-{beta_1}^{t})",
    ),
    OptimizerDef(
        "rmsprop",
        _settings(
            rho="decay of the mean of squared gradients (RMSprop's v)",
            momentum="momentum of the steps: 0 is plain RMSprop",
            epsilon="added to v inside SQRT before dividing",
        ),
        _rmsprop,
        (
            State("v", "{rho}*{prior}+(1-{rho})*({g}*{g})"),
            State("step", "{momentum}*{prior}+{learning_rate}*{g}/SQRT({v}+{epsilon})", slot="m"),
        ),
        step="{w}-{m}",
    ),
)
TABLE: dict[str, OptimizerDef] = {entry.name: entry for entry in _TABLE}
NAMES = tuple(TABLE)
DEFAULT = "sgd"


def get(name: str) -> OptimizerDef:
    """The table entry of an optimizer name; KeyError when unknown."""
    return TABLE[name]
