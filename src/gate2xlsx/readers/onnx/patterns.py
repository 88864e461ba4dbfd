"""Operator patterns exporters write for one function: TorchScript's GELU (Div, Erf, Add, Mul, or
the tanh form), found by evaluating the run of arithmetic on sample values, and torch's
Softplus threshold (Greater and Where). Each a handler over the translation's State."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from ...ir.activations import TABLE
from ...ir.families.dense import Activation
from ...ir.layer import Act
from .state import State
from .values import Above, Const, Tensor

# the arithmetic a GELU's run may hold, as NumPy evaluates it on the sample values
EVALUATED = {
    "Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide,
    "Pow": np.power, "Tanh": np.tanh, "Sqrt": np.sqrt, "Neg": np.negative,
    "Erf": np.vectorize(math.erf),
}  # fmt: skip


def greater(s: State, node) -> None:
    x, t = s.tensor(node), s.const(node, 1)
    if t is None or t.size != 1:
        raise s.refused(node, "compares two tensors")
    s.bind(node, Above(x.name, float(t.reshape(-1)[0])))


def where(s: State, node) -> None:
    """torch's Softplus(threshold=t): x where x > t, else softplus(x). Above t (20) the two
    differ by less than e^-t (2e-9), so the sheet computes softplus throughout."""
    cond, x, soft = (s.values.get(name) for name in node.input)
    made = next((n.layer for n in s.nodes if isinstance(soft, Tensor)
                 and n.layer.name == soft.name), None)  # fmt: skip
    if (isinstance(cond, Above) and isinstance(x, Tensor) and cond.x == x.name
            and isinstance(made, Activation) and made.activation.name == "softplus"
            and cond.threshold >= 15):  # fmt: skip
        return s.bind(node, soft)
    raise s.refused(node, "is not torch's Softplus threshold")


# --- TorchScript's GELU -------------------------------------------------------------------


def gelu_or(otherwise):
    """The handler of an operator a GELU's run may start with (Mul, Div, Pow): the run folded
    into one gelu when it computes one, else `otherwise`."""

    def handler(s: State, node) -> None:
        if not gelu(s, node):
            otherwise(s, node)

    return handler


def alone(s: State, node) -> None:
    """Arithmetic read only inside a GELU's run."""
    raise s.refused(node, "is not part of a pattern gate2xlsx knows (the TorchScript GELU)")


def gelu(s: State, node) -> bool:
    """A run of arithmetic on one tensor x (Mul, Div, Pow, Add, Erf, Tanh with constants),
    from the node being translated, that computes GELU, exact or tanh, is one gelu
    activation. Found by evaluating the run on sample values: no pattern to keep in step
    with the exporter."""
    start = next((s.values.get(n) for n in node.input
                  if isinstance(s.values.get(n), Tensor)), None)  # fmt: skip
    if start is None:
        return False
    run = _arithmetic_run(s.graph.node, s.index, start, s.values)
    probe = np.linspace(-6, 6, 121)
    for end in range(len(run), 3, -1):
        out = _evaluate(run[:end], s.values, start, probe)
        inner = [n.output[0] for _, n in run[: end - 1]]
        read_inside = Counter(name for _, n in run[:end] for name in n.input)
        if out is None or any(s.uses[name] != read_inside[name] for name in inner):
            continue
        for approximate in (0.0, 1.0):
            want = TABLE["gelu"].numpy(probe, approximate=approximate)
            if np.allclose(out, want, rtol=1e-6, atol=1e-6):
                return _fold_gelu(s, run[:end], start, approximate)
    return False


def _fold_gelu(s: State, run: list, start: Tensor, approximate: float) -> bool:
    last = run[-1][1]
    module = last.name.strip("/").split("/")[0] or "gelu"
    layer = Activation(s.claim(f"{module}_Gelu"), "Gelu",
                       activation=Act.of("gelu", approximate=approximate))  # fmt: skip
    s.values[last.output[0]] = s.add(layer, [start], start.channels_last)
    s.done.update(i for i, _ in run)
    return True


def _arithmetic_run(nodes, index: int, start: Tensor, values: dict) -> list:
    """The nodes from `index` on that compute only from `start` and constants, in order."""
    inside = {name for name, v in values.items() if v is start}
    run = []
    for i in range(index, len(nodes)):
        node = nodes[i]
        if node.op_type == "Constant":
            continue
        reads = [n for n in node.input if n]
        known = all(n in inside or isinstance(values.get(n), Const) for n in reads)
        if node.op_type not in EVALUATED or not known or not any(n in inside for n in reads):
            break
        run.append((i, node))
        inside.add(node.output[0])
    return run


def _evaluate(run: list, values: dict, start: Tensor, probe: np.ndarray) -> np.ndarray | None:
    env = {name: probe for name, v in values.items() if v is start}
    for _, node in run:
        args = [env[n] if n in env else values[n].values.astype(np.float64) for n in node.input]
        env[node.output[0]] = EVALUATED[node.op_type](*args)
    result = np.asarray(env[run[-1][1].output[0]], dtype=np.float64)
    return result if result.shape == probe.shape else None
