"""A network as a graph of layers on tensors: named inputs with shapes, nodes in computation
order (each reading tensors by name), named outputs. Plain data and its NumPy forward pass.

A tensor is named after what makes it: an input's name, or the layer that computes it (a layer
that makes several, like an LSTM with return_state, names the others `<layer>:1`, ...). Rows
of numbers cross the boundary flat: every input flattened in Keras's order (row-major,
channels last), several inputs side by side in the model's order; outputs the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .layer import Layer, Shape


@dataclass(frozen=True)
class Port:
    """A named input or output tensor and its shape (without the batch axis). `channels_first`:
    an image input (C, H, W) as PyTorch takes it (the sheet draws each channel as its grid)."""

    name: str
    shape: Shape
    channels_first: bool = False

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))


@dataclass
class Node:
    """One layer applied to the tensors it reads; it makes the tensor named after it."""

    layer: Layer
    inputs: tuple[str, ...]


@dataclass
class Graph:
    """A network that is not a chain: named inputs, nodes in computation order, outputs."""

    inputs: list[Port]
    nodes: list[Node]
    outputs: list[str]

    def shapes(self) -> dict[str, Shape]:
        """Every tensor's shape, by name."""
        found = {port.name: tuple(port.shape) for port in self.inputs}
        for node in self.nodes:
            found.update(made_shapes(node.layer, [found[t] for t in node.inputs]))
        return found

    def cells(self) -> int:
        """How many cells one example's drawing takes: every tensor, plus what a layer shows
        besides its output (a recurrent layer's gates at every step)."""
        shapes = self.shapes()
        found = sum(port.size for port in self.inputs)
        for node in self.nodes:
            shown = getattr(node.layer, "sheet_cells", None)
            given = [shapes[t] for t in node.inputs]
            found += shown(*given) if shown else int(np.prod(shapes[node.layer.name]))
        return found

    def output_ports(self) -> list[Port]:
        shapes = self.shapes()
        return [Port(name, shapes[name]) for name in self.outputs]

    def split(self, x: np.ndarray) -> list[np.ndarray]:
        """Flat rows (k, inputs side by side) -> one (k, *shape) array per input."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        found, at = [], 0
        for port in self.inputs:
            found.append(x[:, at : at + port.size].reshape(len(x), *port.shape))
            at += port.size
        return found

    def run(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Every tensor's value (k, *shape) for flat input rows x."""
        values = dict(zip((p.name for p in self.inputs), self.split(x)))
        for node in self.nodes:
            made = node.layer.forward(*(values[t] for t in node.inputs))
            made = made if isinstance(made, tuple) else (made,)
            values.update(zip(tensor_names(node.layer.name, len(made)), made))
        return values

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The outputs, each flattened, side by side: (k, total output size)."""
        values = self.run(x)
        rows = len(next(iter(values.values())))
        return np.concatenate([values[name].reshape(rows, -1) for name in self.outputs], axis=1)


def tensor_names(layer: str, count: int) -> list[str]:
    """The names of the tensors a layer makes: its own, then `<layer>:1`, `<layer>:2`, ..."""
    return [layer] + [f"{layer}:{k}" for k in range(1, count)]


def made_shapes(layer: Layer, shapes: list[Shape]) -> dict[str, Shape]:
    """Each tensor the layer makes and its shape (output_shape gives a list for several)."""
    made = output_shape(layer, shapes)
    made = made if isinstance(made, list) else [made]
    return dict(zip(tensor_names(layer.name, len(made)), made))


def output_shape(layer: Layer, shapes: list[Shape]) -> Shape | list[Shape]:
    """The shape a layer makes from the shapes it reads (a list: one per tensor it makes).
    Vector layers (Dense, activations, BatchNorm, ...) act on the last axis, so they keep
    the rest."""
    own = getattr(layer, "output_shape", None)
    if own is not None:
        made = own(*shapes)
        return [tuple(m) for m in made] if isinstance(made, list) else tuple(made)
    shape = shapes[0]
    return (*shape[:-1], layer.units(shape[-1]))
