"""The Training sheet's formula text: the loss's gradient, the weights' gradients and the
optimizers' updates, as tf.keras 2.15 computes them (gate2xlsx.fit is the NumPy twin of every
function here). Like `formulas`, only functions Excel 2010+ and LibreOffice share; the
elementwise choices in SUMPRODUCT are 0/1 masks, never IF inside an array.
"""

from __future__ import annotations

from .formulas import call, number


def column_sum(column: str) -> str:
    return call("SUM", column)


def products(left: str, right: str) -> str:
    """Sum of elementwise products of two ranges of one shape."""
    return call("SUMPRODUCT", left, right)


# --- optimizers (keras/src/optimizers/{sgd,adam,rmsprop}.py, tf.keras 2.15) -----------------


def sgd_velocity(m: str, g: str, lr: str, momentum: str) -> str:
    """m <- -g * lr + m * momentum (with momentum 0 the step is plain SGD's, to the bit)."""
    return f"-{g}*{lr}+{m}*{momentum}"


def sgd_step(w: str, g: str, m_new: str, lr: str, momentum: str, nesterov: bool) -> str:
    """The weight after one SGD step: w + m, or with Nesterov w + (-g * lr + m * momentum)."""
    if nesterov:
        return f"{w}+(-{g}*{lr}+{m_new}*{momentum})"
    return f"{w}+{m_new}"


def adam_m(m: str, g: str, beta_1: str) -> str:
    return f"{m}+({g}-{m})*(1-{beta_1})"


def adam_v(v: str, g: str, beta_2: str) -> str:
    return f"{v}+({g}*{g}-{v})*(1-{beta_2})"


def adam_alpha(lr: str, beta_1: str, beta_2: str, t: str) -> str:
    """The step size of Adam's step t (1-based), bias correction included."""
    return f"{lr}*SQRT(1-{beta_2}^{t})/(1-{beta_1}^{t})"


def adam_step(w: str, m_new: str, v_new: str, alpha: str, epsilon: str) -> str:
    return f"{w}-({m_new}*{alpha})/(SQRT({v_new})+{epsilon})"


def rmsprop_v(v: str, g: str, rho: str) -> str:
    return f"{rho}*{v}+(1-{rho})*({g}*{g})"


def rmsprop_velocity(m: str, g: str, v_new: str, lr: str, momentum: str, epsilon: str) -> str:
    """The step: momentum * m + lr * g / SQRT(v + epsilon) (with momentum 0, the step alone)."""
    return f"{momentum}*{m}+{lr}*{g}/SQRT({v_new}+{epsilon})"


def rmsprop_step(w: str, m_new: str) -> str:
    return f"{w}-{m_new}"


def central_difference(plus: str, minus: str, h: str) -> str:
    return f"({plus}-{minus})/(2*{h})"


def moved(ref: str, h: float) -> str:
    """A cell's value moved by h (the gradient check's +h and -h)."""
    return f"{ref}{'+' if h > 0 else '-'}{number(abs(h))}"


def absolute_difference(a: str, b: str) -> str:
    return f"ABS({a}-{b})"


def running_sum(before: str | None, value: str, weight: int = 1) -> str:
    """An epoch's running sum: the previous batch's (None: the epoch's first) + value x weight."""
    term = value if weight == 1 else f"{value}*{weight}"
    return term if before is None else f"{before}+{term}"


def share(total: str, count: int) -> str:
    """A sum over the epoch's rows as their mean."""
    return f"{total}/{count}"
