"""Operator patterns exporters write for one function: TorchScript's GELU (Div, Erf, Add, Mul, or
the tanh form), found by evaluating the run of arithmetic on sample values, and torch's
Softplus threshold (Greater and Where). A mixin of onnx_graph.Translation."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from ..activations import TABLE
from ..errors import UnsupportedModelError
from ..model import Act, Activation
from .onnx_values import ARITHMETIC, Above, Const, Tensor


class PatternOps:
    """Needs the Translation's _tensor, _const, _add, _claim, _set, graph, values, uses, nodes."""

    def _op_Greater(self, node) -> None:
        x, t = self._tensor(node), self._const(node, 1)
        if t is None or t.size != 1:
            raise UnsupportedModelError(f"node {node.name!r} (Greater) compares two tensors",
                                        path=self.path)  # fmt: skip
        self._set(node, Above(x.name, float(t.reshape(-1)[0])))

    def _op_Where(self, node) -> None:
        """torch's Softplus(threshold=t): x where x > t, else softplus(x). Above t (20) the two
        differ by less than e^-t (2e-9), so the sheet computes softplus throughout."""
        cond, x, soft = (self.values.get(name) for name in node.input)
        made = next((n.layer for n in self.nodes if isinstance(soft, Tensor)
                     and n.layer.name == soft.name), None)  # fmt: skip
        if (isinstance(cond, Above) and isinstance(x, Tensor) and cond.x == x.name
                and isinstance(made, Activation) and made.activation.name == "softplus"
                and cond.threshold >= 15):  # fmt: skip
            return self._set(node, soft)
        raise UnsupportedModelError(
            f"node {node.name!r} (Where) is not torch's Softplus threshold", path=self.path
        )

    # --- TorchScript's GELU ---------------------------------------------------------------

    def _gelu(self, index: int, node) -> bool:
        """A run of arithmetic on one tensor x (Mul, Div, Pow, Add, Erf, Tanh with constants)
        that computes GELU, exact or tanh, is one gelu activation. Found by evaluating the
        run on sample values: no pattern to keep in step with the exporter."""
        start = next((self.values.get(n) for n in node.input
                      if isinstance(self.values.get(n), Tensor)), None)  # fmt: skip
        if start is None:
            return False
        run = _arithmetic_run(self.graph.node, index, start, self.values)
        probe = np.linspace(-6, 6, 121)
        for end in range(len(run), 3, -1):
            out = _evaluate(run[:end], self.values, start, probe)
            inner = [n.output[0] for _, n in run[: end - 1]]
            read_inside = Counter(name for _, n in run[:end] for name in n.input)
            if out is None or any(self.uses[name] != read_inside[name] for name in inner):
                continue
            for approximate in (0.0, 1.0):
                want = TABLE["gelu"].numpy(probe, approximate=approximate)
                if np.allclose(out, want, rtol=1e-6, atol=1e-6):
                    return self._fold_gelu(run[:end], start, approximate)
        return False

    def _fold_gelu(self, run: list, start: Tensor, approximate: float) -> bool:
        last = run[-1][1]
        module = last.name.strip("/").split("/")[0] or "gelu"
        layer = Activation(self._claim(f"{module}_Gelu"), "Gelu",
                           activation=Act.of("gelu", approximate=approximate))  # fmt: skip
        self.values[last.output[0]] = self._add(layer, [start], start.channels_last)
        self.done.update(i for i, _ in run)
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
        if node.op_type not in ARITHMETIC or not known or not any(n in inside for n in reads):
            break
        run.append((i, node))
        inside.add(node.output[0])
    return run


def _evaluate(run: list, values: dict, start: Tensor, probe: np.ndarray) -> np.ndarray | None:
    env = {name: probe for name, v in values.items() if v is start}

    ops = {
        "Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide,
        "Pow": np.power, "Tanh": np.tanh, "Sqrt": np.sqrt, "Neg": np.negative,
        "Erf": np.vectorize(math.erf),
    }  # fmt: skip
    for _, node in run:
        args = [env[n] if n in env else values[n].values.astype(np.float64) for n in node.input]
        env[node.output[0]] = ops[node.op_type](*args)
    result = np.asarray(env[run[-1][1].output[0]], dtype=np.float64)
    return result if result.shape == probe.shape else None
