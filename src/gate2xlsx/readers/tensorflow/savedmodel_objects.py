"""What a SavedModel's protobufs say, decoded by hand (protobuf_wire.py): the Keras
metadata (`keras_metadata.pb`: each layer's node in the object graph with its JSON), the
checkpoint's object graph (which variable belongs to which object, under which checkpoint
key) and, from `saved_model.pb`, the SavedObjectGraph's user objects (what the root object
is). Field numbers are those of TensorFlow's and Keras's .proto files:

    SavedMetadata      nodes=1 -> {node_id=2, node_path=3, identifier=4, metadata=5}
    TrackableObjectGraph  nodes=1 -> {children=1 {node_id=1, local_name=2},
                                      attributes=2 {name=1, full_name=2, checkpoint_key=3}}
    SavedModel meta_graphs=2 -> MetaGraphDef object_graph_def=7 -> SavedObjectGraph nodes=1
                               -> SavedObject user_object=4 {identifier=1, metadata=3}
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .protobuf_wire import Message, WireError

# children of a Keras object that are not its own weights: views of variables held
# elsewhere, the model's layers (each a spec of its own), functions, training state
NOT_WEIGHTS = {"trainable_variables", "non_trainable_variables", "regularization_losses",
               "keras_api", "signatures", "optimizer", "_default_save_signature"}  # fmt: skip


@dataclass
class KerasNode:
    """One Keras object of the SavedModel: where it sits in the object graph, its JSON."""

    node_id: int
    node_path: str  # "root.layer_with_weights-1.layer-0"; "" when only the id is known
    identifier: str  # "_tf_keras_layer", "_tf_keras_sequential", ...
    metadata: dict


@dataclass
class Variable:
    """One variable of the checkpoint: its TensorFlow name and the key of its value."""

    full_name: str  # "dense/kernel", "lstm/lstm_cell/recurrent_kernel"
    checkpoint_key: str


def _json(text: str, where: str) -> dict:
    try:
        found = json.loads(text) if text else {}
    except json.JSONDecodeError as exc:
        raise WireError(f"{where}: its metadata is not valid JSON ({exc})") from None
    return found if isinstance(found, dict) else {}


def keras_metadata(data: bytes) -> list[KerasNode]:
    """The nodes of keras_metadata.pb (SavedMetadata), in the order stored."""
    nodes = []
    for node in Message(data).messages(1):
        path = node.text(3)
        nodes.append(KerasNode(node.int(2), path, node.text(4), _json(node.text(5), path)))
    return nodes


def user_objects(saved_model: bytes) -> list[tuple[str, str]]:
    """(identifier, metadata) of every node of the first MetaGraph's SavedObjectGraph; an
    object that is not a user object (a variable, a function) has identifier ""."""
    graphs = Message(saved_model).messages(2)
    if not graphs:
        raise WireError("it holds no MetaGraph")
    found = []
    for node in graphs[0].message(7).messages(1):
        user = node.message(4)
        found.append((user.text(1), user.text(3)))
    return found


def keras_nodes_of(objects: list[tuple[str, str]]) -> list[KerasNode]:
    """The Keras objects of a SavedObjectGraph whose user objects carry their metadata
    (tf.keras 2.0-2.4 kept it there, before keras_metadata.pb)."""
    return [KerasNode(i, "", ident, _json(meta, f"node {i}"))
            for i, (ident, meta) in enumerate(objects)
            if ident.startswith("_tf_keras_") and meta]  # fmt: skip


class ObjectGraph:
    """The checkpoint's TrackableObjectGraph: each node's children and variable attribute."""

    def __init__(self, data: bytes):
        self.children: list[list[tuple[str, int]]] = []
        self.variables: list[Variable | None] = []
        for node in Message(data).messages(1):
            self.children.append([(c.text(2), c.int(1)) for c in node.messages(1)])
            value = [a for a in node.messages(2) if a.text(1) == "VARIABLE_VALUE"]
            self.variables.append(Variable(value[0].text(2), value[0].text(3)) if value else None)
        for kids in self.children:
            if any(not 0 <= i < len(self.children) for _, i in kids):
                raise WireError("the object graph names a node it does not hold")

    def walk(self, node_path: str) -> int:
        """The node at a Keras node path ("root.layer_with_weights-0.cell")."""
        names = node_path.split(".")
        if names[0] != "root":
            raise WireError(f"node path {node_path!r} does not start at root")
        node = 0
        for name in names[1:]:
            node = dict(self.children[node]).get(name, -1)
            if node < 0:
                raise WireError(f"the object graph has no {node_path!r}")
        return node

    def weights_of(self, node: int) -> list[Variable]:
        """A layer's variables in Keras's order: its `variables` list when the graph holds
        one (what layer.weights returns), else every variable below it, depth first."""
        listed = dict(self.children[node]).get("variables")
        if listed is not None:
            order = sorted(self.children[listed], key=lambda c: int(c[0]) if c[0].isdigit() else 0)
            found = [self.variables[i] for _, i in order]
            return [v for v in found if v is not None]
        found, seen = [], set()
        self._below(node, found, seen)
        return found

    def _below(self, node: int, found: list[Variable], seen: set[int]) -> None:
        if node in seen:
            return
        seen.add(node)
        if self.variables[node] is not None:
            found.append(self.variables[node])
            return
        for name, child in self.children[node]:
            skip = name in NOT_WEIGHTS or name.startswith(("layer-", "layer_with_weights-", "__"))
            if not skip and not name.startswith("call_and_return"):
                self._below(child, found, seen)
