"""The loss table: each loss gate2xlsx computes (in the sheets and in the trainer), the names
that mean it, and the ways Keras computes it, each way (a form) with its NumPy value and
gradient beside the spreadsheet formulas of the same.

Which form a loss takes depends on the Keras that computes it (see `Keras`) and on the output
activation, and is chosen in one place, `choose`. Formulas are templates, as in the activation
table; the sheet fills them:
  row formula       {p} {z} {y} one row's probabilities, logits and targets (ranges),
                    {n} the outputs
  gradient formula  {p} {z} {y} one output's cells, {z_row} {y_row} its row's ranges,
                    {scale} what the batch's mean divides by (see `Loss.scale`)
and both read the CONSTANTS. Like the activation table's, templates use only functions that
LibreOffice 7 and Excel 2010+ share; a row's loss reads whole ranges inside SUMPRODUCT, with
0/1 masks for the elementwise choices (IF or ABS there fail in Excel and IronCalc).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import UnsupportedModelError
from .activations import SIGMOID
from .model import Model, final_activation

# Keras's epsilon: the clip of probabilities to [CLIP, 1 - CLIP], and what tf.keras adds inside
# LN. A loss's value clips at CLIP as float32 rounds it (Keras's tensors are float32); the
# trainer's gradient (fit, float64) at CLIP itself.
CLIP = 1e-7
CONSTANTS: dict[str, float] = {
    "lo32": float(np.float32(CLIP)),
    "hi32": float(np.float32(1) - np.float32(CLIP)),
    "lo": CLIP,
    "hi": 1 - CLIP,
    "eps": CLIP,
}
# The output activations whose input (the logits) tf.keras's cross-entropies read.
LOGIT_OUTPUTS = ("softmax", "sigmoid")

Values = Callable[[np.ndarray, np.ndarray | None, np.ndarray], np.ndarray]
Gradient = Callable[[np.ndarray, np.ndarray, np.ndarray, int], np.ndarray]


@dataclass(frozen=True)
class Form:
    """One way a loss is computed: its row value and its gradient, in NumPy and as formulas."""

    kind: str
    logits: bool  # reads the output activation's input z, not its output p
    value: Values  # (p, z, y) -> each row's loss
    formula: str
    about: str  # the note beside the loss; {act} the output activation
    # (p, z, y, scale) -> dLoss/d(z if logits else p) of the batch's mean; None where
    # gate2xlsx does not train through this form
    gradient: Gradient | None = None
    gradient_formula: str | None = None
    about_gradient: str | None = None  # the Training sheet's note

    def rows(self, p: np.ndarray, z: np.ndarray | None, y: np.ndarray) -> np.ndarray:
        """Each row's loss; inf or NaN where the arithmetic gives them, as the cells will."""
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return self.value(p, z, y)


@dataclass(frozen=True)
class Loss:
    """A loss: its names, whether a row's loss sums its outputs' terms (else averages them),
    and its forms: plain, from the logits, and with 1e-7 inside LN (None: no such form)."""

    name: str
    aliases: tuple[str, ...]
    sums: bool
    plain: Form
    logits: Form | None = None
    eps_in_log: Form | None = None

    def scale(self, rows: int, outputs: int) -> int:
        """What the batch's mean loss divides an output's term by."""
        return rows if self.sums else rows * outputs


@dataclass(frozen=True)
class Keras:
    """What a Keras version does that changes a loss: the output activations whose logits
    each loss reads, and whether the clipped cross-entropy adds 1e-7 inside LN."""

    logits_of: Mapping[str, tuple[str, ...]]
    eps_in_log: bool


# tf.keras 2.15's `fit`, which the trainer (and the Training sheet) follows.
TF_KERAS_FIT = Keras(
    {"binary_crossentropy": LOGIT_OUTPUTS, "categorical_crossentropy": LOGIT_OUTPUTS}, True
)
# The logits `evaluate` reads on the TensorFlow backend from tf.keras 2.4 on (measured: see
# sheet/keras_eval.py), by loss.
TF_EVALUATE_LOGITS = {
    "binary_crossentropy": ("sigmoid", "softmax"),
    "categorical_crossentropy": ("softmax",),
}


# --- NumPy side -------------------------------------------------------------------------------


def _bce_logits(p, z, y):
    terms = np.maximum(z, 0) - z * y + np.log(1 + np.exp(-np.abs(z)))
    return terms.sum(axis=1) / p.shape[1]


def _bce_clipped(eps: float) -> Values:
    def value(p, z, y):
        c = np.clip(p, CONSTANTS["lo32"], CONSTANTS["hi32"])
        return -(y * np.log(c + eps) + (1 - y) * np.log(1 - c + eps)).sum(axis=1) / p.shape[1]

    return value


def _cce_logits(p, z, y):
    top = z.max(axis=1, keepdims=True)
    lse = top[:, 0] + np.log(np.exp(z - top).sum(axis=1))
    return y.sum(axis=1) * lse - (y * z).sum(axis=1)


def _cce_clipped(p, z, y):
    c = np.clip(p / p.sum(axis=1, keepdims=True), CONSTANTS["lo32"], CONSTANTS["hi32"])
    return -(y * np.log(c)).sum(axis=1)


def _bce_logits_gradient(p, z, y, scale):  # tf.nn.sigmoid_cross_entropy_with_logits's
    return (1 / (1 + np.exp(-z)) - y) / scale


def _bce_clipped_gradient(p, z, y, scale):  # zero where the clip holds p at a bound
    lo, hi, eps = CONSTANTS["lo"], CONSTANTS["hi"], CONSTANTS["eps"]
    pc = np.clip(p, lo, hi)
    inside = (p >= lo) & (p <= hi)
    return -(y / (pc + eps) - (1 - y) / (1 - pc + eps)) * inside / scale


def _cce_logits_gradient(p, z, y, scale):  # tf.nn.softmax_cross_entropy_with_logits's
    shifted = z - z.max(axis=-1, keepdims=True)
    log_sm = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return (np.exp(log_sm) * y.sum(axis=-1, keepdims=True) - y) / scale


def _cce_clipped_gradient(p, z, y, scale):  # through the renormalisation and the clip
    lo, hi = CONSTANTS["lo"], CONSTANTS["hi"]
    total = p.sum(axis=-1, keepdims=True)
    q = p / total
    qc = np.clip(q, lo, hi)
    dq = -y / qc * ((q >= lo) & (q <= hi)) / scale
    return (dq - (dq * q).sum(axis=-1, keepdims=True)) / total


# --- formula side -----------------------------------------------------------------------------


def _clipped(v: str) -> str:
    """Elementwise clip of a range to [lo32, hi32], exact: one term of three is non-zero."""
    lo, hi = "{lo32}", "{hi32}"
    return f"(({v})<{lo})*{lo}+(({v})>{hi})*{hi}+(({v})>={lo})*(({v})<={hi})*({v})"


def _bce_clipped_formula(eps: str) -> str:
    c = _clipped("{p}")
    return f"-SUMPRODUCT({{y}}*LN({c}{eps})+(1-{{y}})*LN(1-({c}){eps}))/{{n}}"


# max(z,0) - z*y + LN(1+EXP(-|z|)), TensorFlow's stable form, with max and -|z| as masks
BCE_LOGITS = "SUMPRODUCT(({z}>0)*{z}-{z}*{y}+LN(1+EXP(({z}<0)*{z}-({z}>=0)*{z})))/{n}"
# sum(y) * logsumexp(z) - y.z
CCE_LOGITS = "SUM({y})*(MAX({z})+LN(SUMPRODUCT(EXP({z}-MAX({z})))))-SUMPRODUCT({y},{z})"
SOFTMAX_OF_Z = "EXP({z}-MAX({z_row}))/SUMPRODUCT(EXP({z_row}-MAX({z_row})))"
CLIPPED_P = "MIN(MAX({p},{lo}),{hi})"
CLIP_HOLDS = "({p}>={lo})*({p}<={hi})"


# --- the table --------------------------------------------------------------------------------

BCE_CLIPPED = "binary cross-entropy of p clipped to [1e-7, 1-1e-7]"

_TABLE = (
    Loss(
        "binary_crossentropy",
        ("binarycrossentropy", "bce"),
        sums=False,
        plain=Form("bce_clip", False, _bce_clipped(0.0), _bce_clipped_formula(""), BCE_CLIPPED),
        logits=Form(
            "bce_logits",
            True,
            _bce_logits,
            BCE_LOGITS,
            "binary cross-entropy from the logits z (TensorFlow Keras reads the {act}'s input): "
            "mean of max(z,0) - z*y + LN(1+EXP(-|z|))",
            _bce_logits_gradient,
            "(" + SIGMOID.replace("{x}", "{z}") + "-{y})/{scale}",  # sigmoid(z) - y
            "binary cross-entropy from the logits z (tf.keras reads the {act}'s input); "
            "its gradient is sigmoid(z) - y",
        ),
        eps_in_log=Form(
            "bce_clip_eps",
            False,
            _bce_clipped(CLIP),
            _bce_clipped_formula("+{eps}"),
            BCE_CLIPPED + ", 1e-7 added inside LN as tf.keras does",
            _bce_clipped_gradient,
            f"-({{y}}/({CLIPPED_P}+{{eps}})-(1-{{y}})/(1-{CLIPPED_P}+{{eps}}))*{CLIP_HOLDS}"
            "/{scale}",
            BCE_CLIPPED + ", 1e-7 added inside LN",
        ),
    ),
    Loss(
        "categorical_crossentropy",
        ("categoricalcrossentropy", "cce"),
        sums=True,
        plain=Form(
            "cce_clip",
            False,
            _cce_clipped,
            "-SUMPRODUCT({y}*LN(" + _clipped("{p}/SUM({p})") + "))",
            "categorical cross-entropy: -SUM(y * LN(p)), p renormalised and clipped to "
            "[1e-7, 1-1e-7]",
            _cce_clipped_gradient,
        ),
        logits=Form(
            "cce_logits",
            True,
            _cce_logits,
            CCE_LOGITS,
            "categorical cross-entropy from the logits z (TensorFlow Keras reads the {act}'s "
            "input): LN(SUM(EXP(z))) - y.z",
            _cce_logits_gradient,
            f"({SOFTMAX_OF_Z}*SUM({{y_row}})-{{y}})/{{scale}}",  # softmax(z) * sum(y) - y
            "categorical cross-entropy from the logits z (tf.keras reads the {act}'s input); "
            "its gradient is softmax(z) - y",
        ),
    ),
    Loss(
        "mse",
        ("mean_squared_error", "meansquarederror"),
        sums=False,
        plain=Form(
            "mse",
            False,
            lambda p, z, y: ((p - y) ** 2).sum(axis=1) / p.shape[1],
            "SUMXMY2({p},{y})/{n}",
            "mean squared error: mean of (y - p)^2",
            lambda p, z, y, scale: 2 * (p - y) / scale,
            "2*({p}-{y})/{scale}",
            "mean squared error: mean of (p - y)^2",
        ),
    ),
)
TABLE: dict[str, Loss] = {loss.name: loss for loss in _TABLE}
LOSSES = tuple(TABLE)
_NAMES = {alias: loss.name for loss in _TABLE for alias in (loss.name, *loss.aliases)}


def canonical(name: str | None) -> str | None:
    """The loss's canonical name (Keras's spellings and class names too), or None if unknown."""
    if not name:
        return None
    return _NAMES.get(str(name).lower().replace("keras.losses.", ""))


def require(name: str) -> str:
    """The canonical name; refuses a loss gate2xlsx does not compute."""
    found = canonical(name)
    if found is None:
        raise UnsupportedModelError(
            f"loss {name!r} is not supported; choose one of {', '.join(LOSSES)}"
        )
    return found


def get(name: str) -> Loss:
    """The table entry of a loss name (any spelling `canonical` knows)."""
    return TABLE[require(name)]


def choose(name: str, output: str, keras: Keras) -> Form:
    """The form `keras` computes loss `name` in on a model whose output activation is
    `output`: from the logits where it reads them, else clipped (1e-7 inside LN or not)."""
    loss = get(name)
    if loss.logits is not None and output in keras.logits_of.get(loss.name, ()):
        return loss.logits
    if loss.eps_in_log is not None and keras.eps_in_log:
        return loss.eps_in_log
    return loss.plain


def default_for(model: Model) -> str:
    """A loss for a model whose file stores none: from its last activation."""
    act = final_activation(model)
    if act == "softmax":
        return "categorical_crossentropy"
    return "binary_crossentropy" if act == "sigmoid" else "mse"
