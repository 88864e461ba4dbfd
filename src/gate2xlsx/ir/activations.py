"""The activation table: for each activation, its NumPy function and its spreadsheet formula.

This is the single source of truth. Adding an activation is one `_entry(...)` call; a test
walks every entry through LibreOffice against the NumPy column.

A formula is a list of steps, each a template with placeholders that the workbook fills:
  {x}      this unit's input value (one cell)
  {z}      the layer's whole input row
  {<step>} an earlier step's value: this unit's cell, or the single cell of a `single` step
  {<param>} a parameter: a number, or a reference to an editable cell (PReLU's alpha)
Templates use only functions that LibreOffice 7 and Excel 2010+ share, and stay finite
wherever the function is finite (no EXP of a large positive argument).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


@dataclass(frozen=True)
class Step:
    """One cell of an activation's formula chain: its name, column label and template."""

    name: str
    label: str
    template: str
    single: bool = False  # one cell for the whole row (e.g. the softmax sum)
    # What an intermediate step computes, in NumPy: (layer input, earlier steps by name) ->
    # values (the workbook's cached values). The last step ("a") computes the activation.
    value: Callable[[np.ndarray, dict[str, np.ndarray]], np.ndarray] | None = None


@dataclass(frozen=True)
class ActivationDef:
    """An activation, once: its NumPy function, its cells (steps), parameters and derivative."""

    name: str
    numpy: Callable[..., np.ndarray]
    steps: Callable[..., tuple[Step, ...]]  # params -> steps
    defaults: dict[str, float | None]
    doc: str
    # Backward pass for the trainer at default parameters: (input x, output y, upstream
    # gradient g) -> gradient at x; None where gate2xlsx does not train through it.
    vjp: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None
    # The same backward step as a cell template (the Training sheet): {x} the unit's input,
    # {y} its output, {g} the upstream gradient; {y_row} / {g_row} the layer's whole rows.
    vjp_formula: str | None = None

    def formula_steps(self, **params: float | None) -> tuple[Step, ...]:
        return self.steps(**{**self.defaults, **params})


TABLE: dict[str, ActivationDef] = {}
ALIASES = {"swish": "silu", "hard_swish": "hard_silu"}


def get(name: str) -> ActivationDef:
    """The table entry for an activation name (aliases resolved); KeyError when unknown."""
    return TABLE[ALIASES.get(name, name)]


def known() -> list[str]:
    return sorted([*TABLE, *ALIASES])


def _entry(
    name: str,
    doc: str,
    numpy_fn: Callable[..., np.ndarray],
    formula: str | Callable[..., tuple[Step, ...]],
    *,
    vjp: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None,
    vjp_formula: str | None = None,
    **defaults: float | None,
) -> None:
    def one_step(**_: float | None) -> tuple[Step, ...]:
        return (Step("a", doc, formula),)  # type: ignore[arg-type]

    steps = formula if callable(formula) else one_step
    TABLE[name] = ActivationDef(name, numpy_fn, steps, defaults, doc, vjp, vjp_formula)


# --- NumPy side (float64, stable forms) -----------------------------------------------------


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0, e) / (1.0 + e)


def _softplus(x):
    return np.logaddexp(0.0, x)


def _elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def _softmax(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def _log_softmax(x):
    shifted = x - np.max(x, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def _relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Keras's relu with its three options, in Keras's own order of operations."""
    if negative_slope and max_value is None and threshold == 0:
        return np.where(x >= 0, x, negative_slope * x)
    y = np.where(x > threshold, x, 0.0) if threshold else np.maximum(x, 0.0)
    if max_value is not None:
        y = np.clip(y, 0.0, max_value)
    if negative_slope:
        y = y - negative_slope * np.maximum(threshold - x, 0.0)
    return y


_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def _gelu(x, approximate=0.0):
    if approximate:
        return 0.5 * x * (1.0 + np.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x**3)))
    return 0.5 * x * _erfc(-x / math.sqrt(2))


# --- formula side ---------------------------------------------------------------------------

SIGMOID = "IF({x}>=0,1,EXP({x}))/(1+EXP(-ABS({x})))"
# ln(1+e^x) = max(x,0) + ln(1+e^-|x|); for |x| > 15 the two-term series keeps full precision.
SOFTPLUS = "(MAX({x},0)+IF(ABS({x})>15,EXP(-ABS({x}))*(1-EXP(-ABS({x}))/2),LN(1+EXP(-ABS({x})))))"
ELU = "IF({x}>0,{x},{alpha}*(EXP(MIN({x},0))-1))"


def _relu_steps(negative_slope=0.0, max_value=None, threshold=0.0):
    if negative_slope and max_value is None and threshold == 0:
        return (Step("a", "leaky relu", "IF({x}>=0,{x},{negative_slope}*{x})"),)
    # Whenever the threshold appears in the formula it is read in both places, so an edited
    # threshold cell keeps Keras's meaning (IF(x>0,x,0) is max(x,0) at the default 0).
    body = "IF({x}>{threshold},{x},0)" if threshold or negative_slope else "MAX({x},0)"
    if max_value is not None:
        body = f"MIN(MAX({body},0),{{max_value}})"
    if negative_slope:
        body = f"{body}-{{negative_slope}}*MAX({{threshold}}-{{x}},0)"
    return (Step("a", "relu", body),)


# e = EXP(z - max z); a z more than 800 below the max gives 0 without subtracting (z - max
# of two huge numbers of opposite sign would overflow where NumPy gives exp(-inf) = 0).
SHIFTED_EXP = "IF({x}<MAX({z})-800,0,EXP({x}-MAX({z})))"


def _shifted_exp(x: np.ndarray, _: dict) -> np.ndarray:
    top = np.max(x, axis=-1, keepdims=True)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.where(x < top - 800, 0.0, np.exp(x - top))


def _sum_of_e(_: np.ndarray, done: dict) -> np.ndarray:
    return np.sum(done["e"], axis=-1, keepdims=True)


def _softmax_steps():
    return (
        Step("e", "e = EXP(z - max z)", SHIFTED_EXP, value=_shifted_exp),
        Step("sum", "sum of e", "SUM({e_row})", single=True, value=_sum_of_e),
        Step("a", "softmax = e / sum", "{e}/{sum}"),
    )


def _log_softmax_steps():
    return (
        Step("e", "e = EXP(z - max z)", SHIFTED_EXP, value=_shifted_exp),
        Step("sum", "sum of e", "SUM({e_row})", single=True, value=_sum_of_e),
        Step("a", "log softmax = z - max z - LN(sum)", "{x}-MAX({z})-LN({sum})"),
    )


def _gelu_steps(approximate=0.0):
    if approximate:
        return (
            Step(
                "a",
                "gelu (tanh form)",
                # the cube is clamped: past |x| = 1e100 TANH is +-1 anyway, and x^3 of a
                # larger x would overflow where NumPy (via tanh(inf)) stays finite
                "0.5*{x}*(1+TANH("
                + repr(SQRT_2_OVER_PI)
                + "*({x}+0.044715*MIN(MAX({x},-1E+100),1E+100)^3)))",
            ),
        )
    return (Step("a", "gelu = x * normal cdf(x)", "0.5*{x}*ERFC(-{x}/SQRT(2))"),)


_entry("linear", "linear (identity)", lambda x: x, "{x}", vjp=lambda x, y, g: g, vjp_formula="{g}")
_entry(
    "relu",
    "relu = max(x, 0)",
    _relu,
    _relu_steps,
    vjp=lambda x, y, g: (x > 0) * g,
    vjp_formula="({x}>0)*{g}",
    negative_slope=0.0,
    max_value=None,
    threshold=0.0,
)
_entry(
    "sigmoid",
    "sigmoid = 1 / (1 + e^-x)",
    _sigmoid,
    SIGMOID,
    vjp=lambda x, y, g: y * (1 - y) * g,
    vjp_formula="{y}*(1-{y})*{g}",
)
_entry(
    "tanh",
    "tanh",
    np.tanh,
    "TANH({x})",
    vjp=lambda x, y, g: (1 - y * y) * g,
    vjp_formula="(1-{y}*{y})*{g}",
)
_entry(
    "softmax",
    "softmax",
    _softmax,
    lambda: _softmax_steps(),
    vjp=lambda x, y, g: y * (g - np.sum(g * y, axis=-1, keepdims=True)),
    vjp_formula="{y}*({g}-SUMPRODUCT({g_row},{y_row}))",
)
_entry("log_softmax", "log softmax", _log_softmax, lambda: _log_softmax_steps())
_entry(
    "elu",
    "elu",
    _elu,
    ELU,
    vjp=lambda x, y, g: np.where(x > 0, 1.0, y + 1.0) * g,
    vjp_formula="IF({x}>0,1,{y}+1)*{g}",
    alpha=1.0,
)
_entry(
    "selu",
    "selu = scale * elu(x, alpha)",
    lambda x, scale=SELU_SCALE, selu_alpha=SELU_ALPHA: scale * _elu(x, selu_alpha),
    "{scale}*" + ELU.replace("{alpha}", "{selu_alpha}"),
    scale=SELU_SCALE,
    selu_alpha=SELU_ALPHA,
)
_entry(
    "softplus",
    "softplus = ln(1 + e^x)",
    _softplus,
    SOFTPLUS,
    vjp=lambda x, y, g: _sigmoid(x) * g,
    vjp_formula=SIGMOID + "*{g}",
)
_entry(
    "softsign",
    "softsign = x / (1 + |x|)",
    lambda x: x / (1 + np.abs(x)),
    "{x}/(1+ABS({x}))",
    vjp=lambda x, y, g: g / (1 + np.abs(x)) ** 2,
    vjp_formula="{g}/(1+ABS({x}))^2",
)
_entry(
    "exponential",
    "exponential",
    np.exp,
    "EXP({x})",
    vjp=lambda x, y, g: y * g,
    vjp_formula="{y}*{g}",
)
# Keras 1, 2 and tf.keras: clip(0.2x + 0.5); Keras 3: relu6(x + 3) / 6, i.e. slope 1/6.
_entry(
    "hard_sigmoid",
    "hard sigmoid",
    lambda x, slope=0.2: np.clip(slope * x + 0.5, 0, 1),
    "MAX(0,MIN(1,{slope}*{x}+0.5))",
    slope=0.2,
)
_entry(
    "silu",
    "silu = x * sigmoid(x)",
    lambda x: x * _sigmoid(x),
    "{x}*" + SIGMOID,
    vjp=lambda x, y, g: _sigmoid(x) * (1 + x * (1 - _sigmoid(x))) * g,
    vjp_formula=f"{SIGMOID}*(1+{{x}}*(1-{SIGMOID}))*{{g}}",
)
_entry("gelu", "gelu", _gelu, _gelu_steps, approximate=0.0)
_entry("relu6", "relu6 = min(max(x, 0), 6)", lambda x: np.clip(x, 0, 6), "MIN(MAX({x},0),6)")
_entry(
    "leaky_relu",
    "leaky relu",
    lambda x, alpha=0.2: np.where(x >= 0, x, alpha * x),
    "IF({x}>=0,{x},{alpha}*{x})",
    alpha=0.2,
)
_entry(
    "mish",
    "mish = x * tanh(softplus(x))",
    lambda x: x * np.tanh(_softplus(x)),
    "{x}*TANH(" + SOFTPLUS + ")",
)
_entry(
    "hard_silu",
    "hard silu = x * relu6(x + 3) / 6",
    lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "{x}*MIN(MAX({x}+3,0),6)/6",
)
_entry(
    "thresholded_relu",
    "x if x > theta else 0",
    lambda x, theta=1.0: np.where(x > theta, x, 0.0),
    "IF({x}>{theta},{x},0)",
    theta=1.0,
)
_entry(
    "prelu",
    "prelu = max(x, 0) + alpha * min(x, 0)",
    lambda x, alpha=0.0: np.maximum(x, 0) + alpha * np.minimum(x, 0),
    "MAX({x},0)+{alpha}*MIN({x},0)",
    alpha=0.0,
)
