"""The intermediate representation: a network as plain data (its graph, graph.py; the layers
on vectors here), plus its NumPy forward pass.

Readers build a `Model`; the workbook writer, the trainer and the writers consume it.
Nothing here does I/O. `Model.forward` is the reference every spreadsheet value is checked
against, so it follows Keras's inference semantics exactly (float64 throughout).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from . import activations
from .graph import Graph, Node, Port
from .ir.layer import Layer, Param


@dataclass(frozen=True)
class Act:
    """An activation: a name from the activation table and its parameters."""

    name: str
    params: tuple[tuple[str, float | None], ...] = ()

    @classmethod
    def of(cls, name: str, **params: float | None) -> Act:
        return cls(name, tuple(sorted(params.items())))

    @property
    def kwargs(self) -> dict[str, float | None]:
        return dict(self.params)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return activations.get(self.name).numpy(x, **self.kwargs)


LINEAR = Act("linear")


@dataclass(eq=False)
class Dense(Layer):
    """x @ kernel + bias, then the activation."""

    kernel: Param = None  # type: ignore[assignment]
    bias: Param | None = None
    activation: Act = LINEAR
    kind: ClassVar[str] = "dense"

    def weights(self) -> dict[str, Param]:
        found = {"kernel": self.kernel}
        if self.bias is not None:
            found["bias"] = self.bias
        return found

    def units(self, n_in: int) -> int:
        return self.kernel.values.shape[1]

    def forward(self, x: np.ndarray) -> np.ndarray:
        z = x @ self.kernel.values
        if self.bias is not None:
            z = z + self.bias.values
        return self.activation(z)


@dataclass(eq=False)
class Activation(Layer):
    """Activation, Softmax, ReLU, LeakyReLU, ELU, ThresholdedReLU: no weights, one function."""

    activation: Act = LINEAR
    kind: ClassVar[str] = "activation"

    def settings(self) -> dict[str, float]:
        """The parameters the activation's formula reads (ReLU's unused threshold 0 is not one)."""
        steps = activations.get(self.activation.name).formula_steps(**self.activation.kwargs)
        used = {
            key for step in steps for key in self.activation.kwargs if f"{{{key}}}" in step.template
        }
        return {k: v for k, v in self.activation.kwargs.items() if k in used and v is not None}

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self.activation(x)


@dataclass(eq=False)
class PReLU(Layer):
    """max(x, 0) + alpha * min(x, 0), with a learned alpha per unit."""

    alpha: Param = None  # type: ignore[assignment]
    kind: ClassVar[str] = "prelu"

    def weights(self) -> dict[str, Param]:
        return {"alpha": self.alpha}

    def forward(self, x: np.ndarray) -> np.ndarray:
        alpha = self.alpha.values.reshape(-1)
        return np.maximum(x, 0) + alpha * np.minimum(x, 0)


@dataclass(eq=False)
class BatchNorm(Layer):
    """y = gamma * (x - moving_mean) / sqrt(moving_variance + epsilon) + beta."""

    gamma: Param | None = None
    beta: Param | None = None
    moving_mean: Param = None  # type: ignore[assignment]
    moving_variance: Param = None  # type: ignore[assignment]
    epsilon: float = 1e-3
    kind: ClassVar[str] = "batchnorm"

    @classmethod
    def affine(cls, name: str, class_name: str, width: int, **given: Param) -> BatchNorm:
        """A scaler's per-feature affine (StandardScaler, MinMaxScaler, ONNX's Scaler) as a
        BatchNorm with epsilon 0: a missing mean is 0 and a missing variance 1, so nothing
        but the given numbers enters the arithmetic."""
        found = {"moving_mean": Param(np.zeros(width), "(none: 0)"),
                 "moving_variance": Param(np.ones(width), "(none: 1)"), **given}  # fmt: skip
        return cls(name, class_name, epsilon=0.0, **found)

    def settings(self) -> dict[str, float]:
        return {"epsilon": self.epsilon}

    def weights(self) -> dict[str, Param]:
        found = {
            "gamma": self.gamma,
            "beta": self.beta,
            "moving_mean": self.moving_mean,
            "moving_variance": self.moving_variance,
        }
        return {k: v for k, v in found.items() if v is not None}

    def forward(self, x: np.ndarray) -> np.ndarray:
        y = (x - self.moving_mean.values) / np.sqrt(self.moving_variance.values + self.epsilon)
        if self.gamma is not None:
            y = y * self.gamma.values
        if self.beta is not None:
            y = y + self.beta.values
        return y


@dataclass(eq=False)
class Normalization(Layer):
    """(x - mean) / max(sqrt(variance), 1e-7), or its inverse when `invert` is set."""

    mean: Param = None  # type: ignore[assignment]
    variance: Param = None  # type: ignore[assignment]
    count: Param | None = None
    invert: bool = False
    kind: ClassVar[str] = "normalization"

    def weights(self) -> dict[str, Param]:
        found = {"mean": self.mean, "variance": self.variance}
        if self.count is not None:
            found["count"] = self.count
        return found

    def forward(self, x: np.ndarray) -> np.ndarray:
        mean = self.mean.values.reshape(-1)
        std = np.maximum(np.sqrt(self.variance.values.reshape(-1)), 1e-7)
        return mean + x * std if self.invert else (x - mean) / std


@dataclass(eq=False)
class Rescaling(Layer):
    """y = x * scale + offset, with constant scale and offset from the config."""

    scale: float = 1.0
    offset: float = 0.0
    kind: ClassVar[str] = "rescaling"

    def settings(self) -> dict[str, float]:
        return {"scale": self.scale, "offset": self.offset}

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x * self.scale + self.offset


@dataclass(eq=False)
class Identity(Layer):
    """Layers that do nothing at inference on a vector: Dropout and friends, Flatten, Reshape,
    InputLayer."""

    kind: ClassVar[str] = "identity"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x


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
    """A Rearrange (maps.py) that makes a vector: Flatten, or Reshape to one axis."""
    op, arg = getattr(layer, "op", None), getattr(layer, "arg", ())
    return layer.kind == "rearrange" and (op == "flatten" or op == "reshape" and len(arg) == 1)


def layer_label(index: int, layer: Layer) -> str:
    """How messages name a layer: "layer 3 'dense_1' (Dense)", `index` counted from 1."""
    return f"layer {index} {layer.name!r} ({layer.class_name or type(layer).__name__})"


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
