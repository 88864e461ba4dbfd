"""The intermediate representation: a network as plain data (its graph, graph.py; the layers
on vectors here), plus its NumPy forward pass.

Readers build a `Model`; the workbook writer, the trainer and the writers consume it.
Nothing here does I/O. `Model.forward` is the reference every spreadsheet value is checked
against, so it follows Keras's inference semantics exactly (float64 throughout).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .families.dense import Activation, Dense, Identity, PReLU
from .families.normalization import BatchNorm, Normalization, Rescaling
from .graph import Graph, Node, Port
from .layer import Layer


@dataclass
class Source:
    """Where a model came from, for the About sheet and `inspect`."""

    path: str = ""
    format: str = ""
    keras_version: str = ""
    backend: str = ""


@dataclass
class Dataset:
    """Labelled rows: inputs x (k, n) and one-hot or probability targets y (k, classes)."""

    x: np.ndarray
    y: np.ndarray | None = None
    name: str = ""

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dataset):
            return NotImplemented
        same_y = (self.y is None and other.y is None) or (
            self.y is not None and other.y is not None and np.array_equal(self.y, other.y)
        )
        return np.array_equal(self.x, other.x) and same_y and self.name == other.name


@dataclass
class Chain:
    """A network as a chain of vector layers on one flat input of `n_inputs` features: the
    view the dense sheets, the trainer and the Sequential writers compute (Model.as_chain)."""

    n_inputs: int
    layers: list[Layer]

    def widths(self) -> list[int]:
        """The width of the input and of every layer's output."""
        sizes = [self.n_inputs]
        for layer in self.layers:
            sizes.append(layer.units(sizes[-1]))
        return sizes


@dataclass
class Model:
    """A network: its graph of layers (graph.py; a dense chain is the simplest graph) and what
    the file says around it. `Model.chain` builds a chain; `as_chain` tells whether it is one."""

    graph: Graph
    name: str = "model"
    input_names: list[str] | None = None
    class_names: list[str] | None = None
    loss: str | None = None
    # the optimizer `compile` stored: {"name": "sgd", "learning_rate": 0.2, ...} (readers)
    optimizer: dict[str, object] | None = None
    source: Source = field(default_factory=Source)
    data: Dataset | None = None
    _chain: Chain | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._chain = chain_of(self.graph)

    @classmethod
    def chain(cls, n_inputs: int, layers: list[Layer], **fields) -> Model:
        """A chain of layers on a flat input of `n_inputs` features."""
        return cls(chain_graph(n_inputs, layers), **fields)

    def as_chain(self) -> Chain | None:
        """The network as a chain of vector layers on one flat input, None when it is not one
        (tensors, branches, several inputs or outputs)."""
        return self._chain

    @property
    def layers(self) -> list[Layer]:
        """The layers in computation order (a chain's as `as_chain` shows them)."""
        if self._chain is not None:
            return list(self._chain.layers)
        return [node.layer for node in self.graph.nodes]

    @property
    def n_inputs(self) -> int:
        """How many numbers one example holds: every input flattened, side by side."""
        return sum(port.size for port in self.graph.inputs)

    def widths(self) -> list[int]:
        """The width of the input and of every layer's output (a chain's)."""
        return Chain(self.n_inputs, self.layers).widths()

    @property
    def n_outputs(self) -> int:
        return sum(port.size for port in self.graph.output_ports())

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The network's output for each row of x, as Keras's `predict` computes it (a graph's
        outputs flattened, side by side)."""
        return self.graph.forward(x)

    def trace(self, x: np.ndarray) -> list[np.ndarray]:
        """The input and every layer's output, in order (a chain's)."""
        out = [np.atleast_2d(np.asarray(x, dtype=np.float64))]
        for layer in self.layers:
            out.append(layer.forward(out[-1]))
        return out

    def weighted_layers(self) -> list[Layer]:
        return [layer for layer in self.layers if layer.weights()]

    def count_params(self) -> int:
        return sum(p.values.size for layer in self.layers for p in layer.weights().values())

    def labels(self, given: list[str] | None = None) -> list[str]:
        """The class names: `given`, else the file's, else False/True for one or two outputs
        (one sigmoid unit tells two classes apart), else 0 .. n-1. The one rule everywhere."""
        n = max(self.n_outputs, 2)
        for names in (given, self.class_names):
            if names and len(names) == n:
                return list(names)
        return ["False", "True"] if n == 2 else [str(i) for i in range(n)]

    def inputs(self, given: list[str] | None = None) -> list[str]:
        """The input names: `given`, else the file's, else x1 .. xn."""
        for names in (given, self.input_names):
            if names and len(names) == self.n_inputs:
                return list(names)
        return [f"x{i + 1}" for i in range(self.n_inputs)]


VECTOR_LAYERS = (Dense, Activation, PReLU, BatchNorm, Normalization, Rescaling, Identity)


def chain_graph(n_inputs: int, layers: list[Layer]) -> Graph:
    """A chain as a graph: the input, each layer reading the one before, the last the output."""
    taken = {layer.name for layer in layers}
    port = next(n for n in ("input", *(f"input_{k}" for k in range(len(layers) + 1)))
                if n not in taken)  # fmt: skip
    nodes, previous = [], port
    for layer in layers:
        nodes.append(Node(layer, (previous,)))
        previous = layer.name
    return Graph([Port(port, (n_inputs,))], nodes, [previous])


def chain_of(graph: Graph) -> Chain | None:
    """The graph as a chain of vector layers, when it is one: one input, each node reading the
    one before, the last one the output. A leading flatten of a multi-axis input is the flat
    reading itself (dropped); a flatten or reshape of a vector is an identity on it."""
    if len(graph.inputs) != 1 or len(graph.outputs) != 1 or not graph.nodes:
        return None
    port, nodes = graph.inputs[0], list(graph.nodes)
    previous = port.name
    if len(port.shape) > 1:
        if not _flattens(nodes[0].layer) or nodes[0].inputs != (previous,):
            return None
        previous, nodes = nodes[0].layer.name, nodes[1:]
    layers = []
    for node in nodes:
        layer = node.layer
        if _flattens(layer):
            layer = Identity(layer.name, layer.class_name)
        if node.inputs != (previous,) or not isinstance(layer, VECTOR_LAYERS):
            return None
        layers.append(layer)
        previous = layer.name
    if graph.outputs != [previous] or not layers:
        return None
    return Chain(port.size, layers)


def _flattens(layer: Layer) -> bool:
    """A Rearrange (families/pooling.py) that makes a vector: Flatten, or Reshape to one axis."""
    op, arg = getattr(layer, "op", None), getattr(layer, "arg", ())
    return layer.kind == "rearrange" and (op == "flatten" or op == "reshape" and len(arg) == 1)


def final_layer(model: Model) -> Layer | None:
    """The last layer that computes something (identity layers such as Dropout skipped)."""
    computing = [layer for layer in model.layers if not isinstance(layer, Identity)]
    return computing[-1] if computing else None


def final_activation(model: Model) -> str:
    """The name of the activation the network's output comes from ("" when there is none)."""
    last = final_layer(model)
    act = getattr(last, "activation", None) if isinstance(last, (Dense, Activation)) else None
    return act.name if act is not None else ""


def returned_by(model: Model) -> str:
    """The call of the framework the model came from that `output` equals."""
    made = model.source.format
    if "scikit-learn" in made or "skl2onnx" in made:
        return f"scikit-learn's {'predict_proba' if model.class_names else 'predict'}"
    if "pytorch" in made:
        return "the PyTorch model"
    if made.startswith("ONNX"):
        return "the ONNX model"
    return "Keras's predict"
