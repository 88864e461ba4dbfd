"""The Training sheet's formula text besides the loss and optimizer tables' templates: the
weights' gradients, the gradient check and the epoch's sums. Like `formulas`, only functions
Excel 2010+ and LibreOffice share.
"""

from __future__ import annotations

from ..formulas import call, number


def column_sum(column: str) -> str:
    return call("SUM", column)


def products(left: str, right: str) -> str:
    """Sum of elementwise products of two ranges of one shape."""
    return call("SUMPRODUCT", left, right)


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
