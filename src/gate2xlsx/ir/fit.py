"""The trainer's math: a dense network trained in NumPy with tf.keras 2.15's semantics, to the
digit. Pure: no files, no output (the recipe that reads data and writes models is app/train.py).

What "Keras's semantics" means here, each point checked against real `model.fit` runs
(tests/fixtures/training):
- kernels glorot-uniform (limit sqrt(6 / (fan_in + fan_out))), biases zero;
- mini-batches in row order, reshuffled every epoch when asked (seeded NumPy, not TF's RNG);
- the batch loss is the mean over the batch of the per-row loss; the epoch loss Keras reports
  is the mean of the batch losses weighted by batch size, each taken before its update;
- cross-entropy on a softmax or sigmoid output uses the logits (tf.keras 2.15's
  `backend._get_logits`: those activations cache their input and the loss reads it), so
  binary cross-entropy on the lesson's softmax is sigmoid cross-entropy *of the pre-softmax
  values*. Only on other outputs does it clip to [1e-7, 1 - 1e-7] and add 1e-7 inside the log;
- SGD (momentum, nesterov), Adam (epsilon 1e-7, bias correction) and RMSprop (rho 0.9,
  epsilon inside the square root, optional momentum; not centered) update exactly as
  keras/src/optimizers/{sgd,adam,rmsprop}.py do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import Gate2XlsxError, UnsupportedModelError
from . import activations, losses, optimizers
from .families.dense import Activation, Dense
from .layer import Act, Layer, Param
from .model import Model


class TrainingDiverged(Gate2XlsxError):
    """The loss became infinite or NaN."""


@dataclass
class Settings:
    """The `compile` + `fit` arguments that decide the result."""

    loss: str | None = "binary_crossentropy"  # None: app/train picks it by the class count
    optimizer: str = optimizers.DEFAULT
    lr: float = 0.2
    momentum: float = 0.0
    nesterov: bool = False
    epochs: int = 50
    batch_size: int = 128
    shuffle: bool = True
    seed: int | None = None
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-7  # Adam's and RMSprop's
    rho: float = 0.9  # RMSprop's


# --- building ---------------------------------------------------------------------------------


def glorot_uniform(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(np.float32).astype(np.float64)


def new_network(
    n_inputs: int,
    n_outputs: int,
    hidden: list[int],
    activation: str,
    output: str,
    rng: np.random.Generator,
) -> Model:
    """Dense(h, activation) for each hidden width, then Dense(n_outputs) + Activation(output),
    named as Keras names them (dense, dense_1, ..., activation)."""
    layers: list[Layer] = []
    width = n_inputs
    for i, units in enumerate([*hidden, n_outputs]):
        name = "dense" if i == 0 else f"dense_{i}"
        act = Act(activation) if i < len(hidden) else Act("linear")
        layers.append(
            Dense(
                name,
                "Dense",
                Param(glorot_uniform(width, units, rng), f"{name}/kernel:0"),
                Param(np.zeros(units), f"{name}/bias:0"),
                act,
            )
        )
        width = units
    layers.append(Activation("activation", "Activation", Act(output)))
    return Model.chain(n_inputs, layers, name="sequential")


# --- activation derivatives: the activation table's `vjp` column -----------------------------

TRAINABLE_ACTIVATIONS = sorted(name for name, entry in activations.TABLE.items() if entry.vjp)


def _act_vjp(act: Act, x: np.ndarray, y: np.ndarray, g: np.ndarray) -> np.ndarray:
    return activations.get(act.name).vjp(x, y, g)


def check_trainable(model: Model) -> None:
    """Refuse, by layer name and class, what this trainer cannot differentiate."""
    for layer in model.layers:
        act = getattr(layer, "activation", None)
        if not isinstance(layer, (Dense, Activation)):
            raise UnsupportedModelError(
                f"layer {layer.name!r} ({layer.class_name or type(layer).__name__}) cannot be "
                "trained here; training supports Dense and Activation layers"
            )
        if (
            act.name not in TRAINABLE_ACTIVATIONS
            or (act.kwargs and act.name != "elu")
            or (act.name == "elu" and act.kwargs.get("alpha", 1.0) != 1.0)
        ):
            raise UnsupportedModelError(
                f"layer {layer.name!r} ({layer.class_name or type(layer).__name__}): activation "
                f"{act.name} cannot be trained here; supported: {', '.join(TRAINABLE_ACTIVATIONS)}"
            )


# --- loss: the loss table's forms, as tf.keras 2.15's fit computes them ------------------------


def output_activation(model: Model) -> Act:
    """The activation of the model's last layer (a Dense or an Activation)."""
    return model.layers[-1].activation  # type: ignore[attr-defined]


def loss_form(model: Model, loss: str) -> losses.Form:
    """The form of `loss` tf.keras 2.15's fit computes for this model's output."""
    return losses.choose(loss, output_activation(model).name, losses.TF_KERAS_FIT)


def loss_and_grad(
    loss: str, form: losses.Form, z: np.ndarray, p: np.ndarray, y: np.ndarray
) -> tuple[float, np.ndarray, bool]:
    """Batch loss, its gradient, and whether that gradient is w.r.t. the logits z (True) or
    the output p (False)."""
    assert form.gradient is not None  # every form tf.keras's fit takes has one
    scale = losses.get(loss).scale(*p.shape)
    return float(form.rows(p, z, y).mean()), form.gradient(p, z, y, scale), form.logits


# --- one step -----------------------------------------------------------------------------------


@dataclass
class Backprop:
    """One batch's forward and backward pass, every intermediate kept (the Training sheet
    shows them all). Per layer i: `pres[i]` the activation's input (z), `outs[i + 1]` its
    output (`outs[0]` is the batch), `upstream[i]` the loss's gradient w.r.t. the output
    (None for the last layer when the loss reads the logits), `local[i]` w.r.t. z."""

    loss: float
    at_logits: bool
    pres: list[np.ndarray]
    outs: list[np.ndarray]
    upstream: list[np.ndarray | None]
    local: list[np.ndarray]
    grads: list[np.ndarray]  # in `params(model)` order


def backprop(model: Model, loss: str, x: np.ndarray, y: np.ndarray) -> Backprop:
    """The batch loss and the gradient of every trainable array, by backpropagation."""
    pres, outs = [], [x]
    for layer in model.layers:
        pre = (
            outs[-1] @ layer.kernel.values + (0 if layer.bias is None else layer.bias.values)
            if isinstance(layer, Dense)
            else outs[-1]
        )
        pres.append(pre)
        outs.append(layer.activation(pre))  # type: ignore[attr-defined]
    form = loss_form(model, loss)
    value, g, at_logits = loss_and_grad(loss, form, pres[-1], outs[-1], y)
    count = len(model.layers)
    upstream: list[np.ndarray | None] = [None] * count
    local: list[np.ndarray] = [g] * count
    grads: list[np.ndarray] = []
    for i in range(count - 1, -1, -1):
        layer = model.layers[i]
        if not (at_logits and i == count - 1):
            upstream[i] = g
            g = _act_vjp(layer.activation, pres[i], outs[i + 1], g)  # type: ignore[attr-defined]
        local[i] = g
        if isinstance(layer, Dense):
            if layer.bias is not None:
                grads.append(g.sum(axis=0))
            grads.append(outs[i].T @ g)
            g = g @ layer.kernel.values.T
    return Backprop(value, at_logits, pres, outs, upstream, local, grads[::-1])


def gradients(
    model: Model, loss: str, x: np.ndarray, y: np.ndarray
) -> tuple[float, list[np.ndarray]]:
    """Batch loss and the gradient of every trainable array (in `params(model)` order)."""
    found = backprop(model, loss, x, y)
    return found.loss, found.grads


def params(model: Model) -> list[Param]:
    return [
        p for layer in model.layers if isinstance(layer, Dense) for p in layer.weights().values()
    ]


class Optimizer:
    """An optimizer's `update_step` (the optimizer table's) on a list of arrays, step by step."""

    def __init__(self, settings: Settings, shapes: list[tuple[int, ...]], dtype: type = np.float64):
        self.s, self.dtype = settings, dtype
        self.entry = optimizers.get(settings.optimizer)
        self.m = [np.zeros(shape, dtype=dtype) for shape in shapes]
        self.v = [np.zeros(shape, dtype=dtype) for shape in shapes]
        self.iterations = 0

    def apply(self, variables: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """Update in `dtype`: float32 rounds as Keras's variables do, float64 as the Training
        sheet computes."""
        h = optimizers.hyper(self.s, self.iterations + 1, self.dtype)
        for var, grad, m, v in zip(variables, grads, self.m, self.v):
            w, g = var.astype(self.dtype), grad.astype(self.dtype)
            self.entry.update(h, w, g, m, v)
            var[...] = w
        self.iterations += 1


def fit(
    model: Model,
    x: np.ndarray,
    y: np.ndarray,
    settings: Settings,
    on_epoch: Callable[[int, float], None] | None = None,
    dtype: type = np.float64,
) -> list[float]:
    """Train `model` in place like `model.fit(x, y, ...)`; return the per-epoch losses.

    dtype: of the weights' updates. float64 (the default) is the Training sheet's arithmetic,
    so a workbook's training and this one agree to the last digits; float32 rounds as Keras's
    variables do. Both end as close to Keras's own fit (11 real runs, tests/fixtures/training:
    at most 9.1e-6 and 8.8e-6), but over 1,000 Adam steps they drift 2e-4 apart."""
    check_trainable(model)
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    weights = params(model)
    optimizer = Optimizer(settings, [p.values.shape for p in weights], dtype)
    rng = np.random.default_rng(settings.seed)
    history: list[float] = []
    with np.errstate(all="ignore"):  # overflow shows up as a non-finite loss, reported below
        for epoch in range(1, settings.epochs + 1):
            history.append(_epoch(model, x, y, settings, optimizer, weights, rng, epoch))
            if on_epoch is not None:
                on_epoch(epoch, history[-1])
    return history


def _epoch(
    model: Model,
    x: np.ndarray,
    y: np.ndarray,
    settings: Settings,
    optimizer: Optimizer,
    weights: list[Param],
    rng: np.random.Generator,
    epoch: int,
) -> float:
    """One pass over the rows; the batch-size-weighted mean of the batch losses."""
    order = rng.permutation(len(x)) if settings.shuffle else np.arange(len(x))
    total = 0.0
    for start in range(0, len(x), settings.batch_size):
        rows = order[start : start + settings.batch_size]
        value, grads = gradients(model, settings.loss, x[rows], y[rows])
        if not np.isfinite(value) or not all(np.isfinite(g).all() for g in grads):
            raise TrainingDiverged(
                f"training diverged in epoch {epoch}: the loss became {value}",
                hint="try a smaller --lr",
            )
        optimizer.apply([p.values for p in weights], grads)
        if not all(np.isfinite(np.float32(p.values)).all() for p in weights):
            # Keras's float32 variables would be infinite (or NaN) here, and so would a file
            raise TrainingDiverged(
                f"training diverged in epoch {epoch}: the weights passed float32's range",
                hint="try a smaller --lr",
            )
        total += value * len(rows)
    return total / len(x)


def accuracy(model: Model, x: np.ndarray, y: np.ndarray) -> float:
    """Keras's accuracy for the targets' shape: argmax match, or 0.5 threshold for one output."""
    p = model.forward(x)
    if p.shape[1] == 1:
        return float(np.mean((p[:, 0] > 0.5) == (y[:, 0] > 0.5)))
    return float(np.mean(p.argmax(axis=1) == y.argmax(axis=1)))
