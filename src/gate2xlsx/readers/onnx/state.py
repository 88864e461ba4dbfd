"""What the ONNX translation knows while it walks the graph: what each ONNX name stands for,
the IR ports, nodes and shapes made so far, and the steps every operator's handler shares
(read an operand, add a layer, put a tensor channels last or back)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np

from ...errors import UnsupportedModelError
from ...formats.onnx_operators import ACTIVATIONS
from ...ir.families.pooling import Rearrange
from ...ir.graph import Node, Port, made_shapes
from ...ir.layer import Layer
from .values import Above, Const, Labels, Shape, Tensor


class State:
    """The IR graph so far, built node by node from an ONNX graph (`graph`, its proto)."""

    def __init__(self, model, arrays: dict[str, np.ndarray], path: Path):
        self.path, self.graph = path, model.graph
        self.values: dict[str, Tensor | Const | Labels | Above] = {
            k: Const(v) for k, v in arrays.items()
        }
        self.ports: list[Port] = []
        self.nodes: list[Node] = []
        self.shapes: dict[str, Shape] = {}
        self.taken: set[str] = set()
        self.done: set[int] = set()  # nodes already translated (a pattern's run)
        self.index = 0  # the node being translated
        self.class_names: list[str] | None = None
        self.batch: int | None = None  # the inputs' batch size, when the file fixes it
        self.outputs = {o.name for o in model.graph.output}
        self.uses = Counter(name for node in model.graph.node for name in node.input)
        self.uses.update(o.name for o in model.graph.output)

    def refused(self, node, why: str) -> UnsupportedModelError:
        """The error for a node gate2xlsx does not compute, and why."""
        return UnsupportedModelError(f"node {node.name!r} ({node.op_type}) {why}", path=self.path)

    def claim(self, raw: str) -> str:
        """A new IR name from an ONNX one, unique (case aside)."""
        base = raw.strip("/").replace("/", "_").removeprefix("node_") or "layer"
        name, n = base, 2
        while name.lower() in self.taken:
            name, n = f"{base}_{n}", n + 1
        self.taken.add(name.lower())
        return name

    def layer_name(self, node) -> str:
        """The node's name, unless it says nothing (dynamo's n0, n1, ...) or names another
        operator (skl2onnx calls its output Sigmoid "Relu1"): then its operator's."""
        raw = node.name or node.op_type
        generic = raw.startswith("n") and raw[1:].isdigit()
        misleading = node.op_type in ACTIVATIONS and node.op_type.lower() not in raw.lower()
        return self.claim(node.op_type if generic or misleading else raw)

    def add(self, layer: Layer, reads: list[Tensor], channels_last: bool = False) -> Tensor:
        """The layer, reading `reads`, added to the graph: its output."""
        given = [self.shapes[t.name] for t in reads]
        try:
            made = made_shapes(layer, given)
        except ValueError as exc:
            raise UnsupportedModelError(
                f"node {layer.name!r} ({layer.class_name}) does not fit the shapes it reads "
                f"{given}: {exc}",
                path=self.path,
            ) from None
        if any(len(s) > 3 or min(s, default=1) <= 0 for s in made.values()):
            raise UnsupportedModelError(
                f"node {layer.name!r} ({layer.class_name}) makes shape {made[layer.name]}; "
                "gate2xlsx computes vectors, sequences and maps",
                path=self.path,
            )
        self.shapes.update(made)
        self.nodes.append(Node(layer, tuple(t.name for t in reads)))
        return Tensor(layer.name, channels_last)

    def tensor(self, node, k: int = 0) -> Tensor:
        """The node's k-th input, which must be computed from the graph's inputs."""
        value = self.values.get(node.input[k]) if k < len(node.input) else None
        if not isinstance(value, Tensor):
            raise self.refused(node, f"reads {node.input[k]!r} as a constant where gate2xlsx "
                                     "computes a tensor")  # fmt: skip
        return value

    def const(self, node, k: int) -> np.ndarray | None:
        """The node's k-th input when it is a constant, else None."""
        if k >= len(node.input) or not node.input[k]:
            return None
        value = self.values.get(node.input[k])
        return value.values if isinstance(value, Const) else None

    def rank(self, t: Tensor) -> int:
        return len(self.shapes[t.name])

    def bind(self, node, value) -> None:
        """The node's (first) output stands for `value`."""
        self.values[node.output[0]] = value

    def channels_last(self, t: Tensor, node) -> Tensor:
        """t channels last (a map or sequence the convolutions read)."""
        if t.channels_last:
            return t
        rank = self.rank(t)
        if rank not in (2, 3):
            raise self.refused(node, f"reads shape {self.shapes[t.name]}; gate2xlsx convolves "
                                     "(C, L) and (C, H, W) tensors")  # fmt: skip
        order = (2, 3, 1) if rank == 3 else (2, 1)
        self.ports = [
            replace(p, channels_first=p.channels_first or (p.name == t.name and rank == 3))
            for p in self.ports
        ]  # an image input: drawn channel by channel
        layer = Rearrange(self.claim(f"{t.name}_channels_last"), "Transpose", op="permute",
                          arg=order)  # fmt: skip
        return self.add(layer, [t], channels_last=True)

    def channels_first(self, t: Tensor) -> Tensor:
        """t in ONNX's own order (channels first)."""
        if not t.channels_last:
            return t
        order = (3, 1, 2) if self.rank(t) == 3 else (2, 1)
        layer = Rearrange(self.claim(f"{t.name}_channels_first"), "Transpose", op="permute",
                          arg=order)  # fmt: skip
        return self.add(layer, [t])
