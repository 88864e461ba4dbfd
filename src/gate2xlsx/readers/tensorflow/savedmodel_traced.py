"""A Keras model that `tf.saved_model.save` wrote (tf.keras 2.5-2.15): no keras_metadata.pb and
no configuration anywhere, so the architecture is read back from what the SavedModel does keep.

The SavedObjectGraph lists the model's layers in order (`layer-0`, `layer-1`, ...), each with
its variables (`kernel`, `bias`, `gamma`, ...) and the functions TensorFlow traced from its
`call` (`__inference_<layer name>_layer_call_and_return_conditional_losses_<n>`, one per
training flag). The operators of its training=False trace (the functions it calls included)
tell its kind: MatMul and BiasAdd with Relu is a Dense with relu; AddV2, Rsqrt, Mul and Sub
over moving statistics a BatchNormalization (its epsilon the `batchnorm/add/y` constant);
nothing but Identity a Dropout.
Only those plain layers are recognised (Dense, BatchNormalization, the activation layers,
Dropout, Flatten, nested Sequential or chain models); any other operators are refused by name.
The graph is only ever read, never run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import UnsupportedModelError
from .protobuf_wire import Message, WireError

HINT = 'save the Keras model itself: model.save("model.keras") (or "model.h5")'
MODELS = ("_tf_keras_network", "_tf_keras_sequential", "_tf_keras_model")
PLUMBING = {"Identity", "NoOp", "ReadVariableOp", "Const"}
CALLS = {"StatefulPartitionedCall", "PartitionedCall"}
ACTIVATIONS = {
    frozenset(): "linear", frozenset({"Relu"}): "relu", frozenset({"Sigmoid"}): "sigmoid",
    frozenset({"Tanh"}): "tanh", frozenset({"Softmax"}): "softmax", frozenset({"Elu"}): "elu",
    frozenset({"Selu"}): "selu", frozenset({"Softplus"}): "softplus",
    frozenset({"Softsign"}): "softsign", frozenset({"Relu6"}): "relu6",
    frozenset({"Exp"}): "exponential", frozenset({"Sigmoid", "Mul"}): "swish",
    frozenset({"Sigmoid", "Mul", "IdentityN"}): "swish",  # tf.nn.silu's custom gradient
    frozenset({"LogSoftmax"}): "log_softmax",
}  # fmt: skip
BATCHNORM_OPS = {"AddV2", "Rsqrt", "Mul", "Sub", "Neg"}  # Neg: center=False
_TRACE = re.compile(r"^__inference_(.+)_layer_call_and_return_conditional_losses_\d+$")


@dataclass
class SavedNode:
    """One object of the SavedObjectGraph: its kind, children, traced functions and, for a
    variable, its shape."""

    identifier: str
    children: dict[str, int]
    traces: list[str] = field(default_factory=list)
    shape: tuple[int, ...] | None = None


def _node(message: Message) -> SavedNode:
    node = SavedNode(message.message(4).text(1), {c.text(2): c.int(1) for c in message.messages(1)})
    if message.has(7):  # SavedVariable: shape=2
        node.shape = tuple(d.int(1) for d in message.message(7).message(2).messages(2))
    return node


class SavedGraph:
    """saved_model.pb's first MetaGraph: the object graph and the function library."""

    def __init__(self, data: bytes):
        graphs = Message(data).messages(2)
        if not graphs:
            raise WireError("it holds no MetaGraph")
        meta = graphs[0]
        self.tf_version = meta.message(1).text(5)
        raw = meta.message(7).messages(1)
        self.nodes = [_node(m) for m in raw]
        # a function object's concrete functions (SavedFunction concrete_functions=1)
        self.calls = [[v.decode("utf-8") for v in m.message(6).all(1) if isinstance(v, bytes)]
                      for m in raw]  # fmt: skip
        for node in self.nodes:  # a layer's traces: its call function's concrete functions
            call = node.children.get("call_and_return_all_conditional_losses", -1)
            node.traces = self.calls[call] if 0 <= call < len(raw) else []
        library = meta.message(2).message(2)
        self.functions = {f.message(1).text(1): f for f in library.messages(1)}
        self.training = {e.text(1): _flags(e.message(2)) for e in meta.message(7).messages(2)}

    def name_of(self, node: SavedNode) -> str:
        for trace in node.traces:
            if found := _TRACE.match(trace):
                return found.group(1)
        return ""

    def variables(self, node: SavedNode) -> dict[str, tuple[int, ...]]:
        """A layer's own variables by attribute name ("kernel", "moving_mean"), with shapes."""
        found = {}
        for name, index in node.children.items():
            child = self.nodes[index] if 0 <= index < len(self.nodes) else None
            if child is not None and child.shape is not None:
                found[name] = child.shape
        return found

    def ops(self, node: SavedNode) -> tuple[set[str] | None, dict[str, Message]]:
        """The operators of a layer's call at inference, those of the functions it calls
        included (plumbing left out), and every node of its traces by name. The inference
        trace is the one traced with training=False; without one, every trace must compute
        the same operators (else None: the kind cannot be told)."""
        inference = [t for t in node.traces if False in self.training.get(t, ())]
        found: list[set[str]] = []
        by_name: dict[str, Message] = {}
        for trace in inference[:1] or node.traces:
            ops: set[str] = set()
            self._collect(trace, ops, by_name, set())
            found.append(ops - PLUMBING)
        same = all(ops == found[0] for ops in found)
        return (found[0] if found and same else None), by_name

    def _collect(self, name: str, ops: set[str], by_name: dict, seen: set[str]) -> None:
        """The operators of one function and of every function it calls, once each."""
        function = self.functions.get(name)
        if function is None:
            raise WireError(f"the function library lacks {name!r}")
        seen.add(name)
        for node_def in function.messages(3):
            op = node_def.text(2)
            by_name.setdefault(node_def.text(1), node_def)
            called = _called(node_def) if op in CALLS else op if op in self.functions else None
            if called is None:
                ops.add(op)
            elif called not in seen:
                self._collect(called, ops, by_name, seen)

    def outputs(self, node: SavedNode) -> int:
        """How many tensors a model's `__call__` returns (its first trace's signature)."""
        call = node.children.get("__call__", -1)
        names = self.calls[call] if 0 <= call < len(self.calls) else []
        function = self.functions.get(names[0]) if names else None
        return len(function.message(1).messages(3)) if function is not None else 1


def _flags(function: Message) -> list[bool]:
    """The booleans among a concrete function's positional arguments (`training`): its
    SavedConcreteFunction's canonicalized_input_signature=3, a StructuredValue tuple (args,
    kwargs) whose args tuple holds a bool_value=14 per flag."""
    signature = function.message(3).message(52).messages(1)
    args = signature[0].message(52).messages(1) if signature else []
    return [bool(value.int(14)) for value in args if value.has(14)]


def _called(node_def: Message) -> str | None:
    """The function a (Stateful)PartitionedCall runs: its attr `f` (AttrValue func=10)."""
    for entry in node_def.messages(5):
        if entry.text(1) == "f":
            return entry.message(2).message(10).text(1)
    return None


def architecture(data: bytes, *, path: Path) -> tuple[dict, dict[str, int], str]:
    """(a Keras Sequential config, layer name -> its node, the TensorFlow version) of a
    tf.saved_model.save SavedModel whose root is a Keras model."""
    graph = SavedGraph(data)
    nodes: dict[str, int] = {}
    layers = _layers(graph, 0, nodes, path)
    first = next((entry for entry in layers if entry.get("width")), None)
    if first is None:
        raise UnsupportedModelError("cannot tell the input size of the model tf.saved_model."
                                    "save wrote (no Dense or BatchNormalization)", path=path,
                                    hint=HINT)  # fmt: skip
    inputs = {"class_name": "InputLayer", "config": {"batch_input_shape": [None, first["width"]]}}
    name = graph.name_of(graph.nodes[0]) or path.stem
    config = {"class_name": "Sequential", "config": {"name": name, "layers": [inputs, *layers]}}
    return _strip(config), nodes, graph.tf_version


def _strip(value: object) -> object:
    """The config without the widths kept for finding the input size."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k != "width"}
    return [_strip(v) for v in value] if isinstance(value, list) else value


def _layers(
    graph: SavedGraph, model: int, nodes: dict[str, int], path: Path, within: tuple = ()
) -> list[dict]:
    """The entries of one model's layer list, nested models as Sequential entries."""
    if model in within:
        raise WireError("the object graph nests a model inside itself")
    children = graph.nodes[model].children
    order = sorted((int(k[6:]), v) for k, v in children.items()
                   if re.fullmatch(r"layer-\d+", k) and 0 <= v < len(graph.nodes))  # fmt: skip
    entries, inputs = [], 0
    for _, index in order:
        node = graph.nodes[index]
        if node.identifier == "_tf_keras_input_layer":
            inputs += 1
            continue
        name = graph.name_of(node) or f"layer_{index}"
        if node.identifier in MODELS:
            inner = _layers(graph, index, nodes, path, (*within, model))
            width = next((e["width"] for e in inner if e.get("width")), None)
            entries.append({"class_name": "Sequential", "width": width,
                            "config": {"name": name, "layers": inner}})  # fmt: skip
            continue
        if name in nodes:
            raise UnsupportedModelError(f"two layers are named {name!r}", path=path, hint=HINT)
        nodes[name] = index
        entries.append(_layer(graph, node, name, path))
    outputs = graph.outputs(graph.nodes[model])
    if inputs > 1 or outputs > 1:
        what = f"{inputs} inputs" if inputs > 1 else f"{outputs} outputs"
        raise UnsupportedModelError(f"the model tf.saved_model.save wrote has {what}; without "
                                    "its Keras configuration gate2xlsx reads chains", path=path,
                                    hint=HINT)  # fmt: skip
    return entries


def _layer(graph: SavedGraph, node: SavedNode, name: str, path: Path) -> dict:
    """One layer's config entry, its kind told by its variables and shared operators."""
    if not node.traces:
        raise UnsupportedModelError(f"layer {name!r} ({node.identifier}) of this "
                                    "tf.saved_model.save SavedModel keeps no traced call to "
                                    "tell its kind by", path=path, hint=HINT)  # fmt: skip
    ops, defs = graph.ops(node)
    if ops is None:
        raise UnsupportedModelError(f"layer {name!r} of this tf.saved_model.save SavedModel "
                                    "computes differently by its training flag and keeps no "
                                    "inference trace", path=path, hint=HINT)  # fmt: skip
    shapes = graph.variables(node)
    if "kernel" in shapes and "MatMul" in ops:
        activation = ACTIVATIONS.get(frozenset(ops - {"MatMul", "BiasAdd"}))
        if activation is not None and len(shapes["kernel"]) == 2:
            config = {"name": name, "units": shapes["kernel"][1], "activation": activation,
                      "use_bias": "bias" in shapes}  # fmt: skip
            return {"class_name": "Dense", "config": config, "width": shapes["kernel"][0]}
    if "moving_mean" in shapes and ops <= BATCHNORM_OPS:
        epsilon = _constant(defs.get("batchnorm/add/y"))
        if epsilon is not None:
            config = {"name": name, "epsilon": epsilon, "axis": -1, "center": "beta" in shapes,
                      "scale": "gamma" in shapes}  # fmt: skip
            width = shapes["moving_mean"][0] if shapes["moving_mean"] else None
            return {"class_name": "BatchNormalization", "config": config, "width": width}
    if not shapes:
        if not ops:
            return {"class_name": "Dropout", "config": {"name": name, "rate": 0.0}}
        if ops == {"Reshape"}:
            return {"class_name": "Flatten", "config": {"name": name}}
        if activation := ACTIVATIONS.get(frozenset(ops)):
            return {"class_name": "Activation", "config": {"name": name, "activation": activation}}
        if ops == {"LeakyRelu"}:
            leaky = next(d for d in defs.values() if d.text(2) == "LeakyRelu")
            alpha = _float_attr(leaky, "alpha", 0.2)  # the operator's default
            return {"class_name": "LeakyReLU", "config": {"name": name, "alpha": alpha}}
    what = ", ".join(sorted(ops)) or "no operators"
    held = f" and variables {', '.join(sorted(shapes))}" if shapes else ""
    raise UnsupportedModelError(
        f"layer {name!r} of this tf.saved_model.save SavedModel computes {what}{held}; "
        "without the Keras configuration gate2xlsx reads Dense, BatchNormalization, "
        "activation, Dropout and Flatten layers only",
        path=path,
        hint=HINT,
    )


def _float32(raw: bytes) -> float:
    """A float32's bytes as the shortest decimal that is that float32 (0.01, as the Keras
    configuration said, not 0.009999999776482582)."""
    import numpy as np

    return float(str(np.frombuffer(raw, "<f4")[0]))


def _attrs(node_def: Message) -> dict[str, Message]:
    return {entry.text(1): entry.message(2) for entry in node_def.messages(5)}


def _constant(node_def: Message | None) -> float | None:
    """A float32 scalar Const's value (TensorProto float_val, packed or not, or its content)."""
    if node_def is None or node_def.text(2) != "Const":
        return None
    tensor = _attrs(node_def).get("value", Message(b"")).message(8)
    if tensor.int(1) != 1:
        return None
    for value in tensor.all(5):
        raw = value if isinstance(value, bytes) else int(value).to_bytes(4, "little")
        if len(raw) == 4:
            return _float32(raw)
    content = tensor.bytes(4)
    return _float32(content) if len(content) == 4 else None


def _float_attr(node_def: Message, name: str, default: float) -> float:
    """A float attribute of an operator; TensorFlow leaves out one equal to its default."""
    value = _attrs(node_def).get(name)
    raw = value.all(4) if value is not None else []
    if not raw:
        return default
    if not isinstance(raw[-1], int):
        raise WireError(f"operator {node_def.text(1)!r}: {name} is not a float")
    return _float32(raw[-1].to_bytes(4, "little"))
