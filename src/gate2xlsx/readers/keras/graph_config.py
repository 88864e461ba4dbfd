"""Keras model configs of every generation -> a graph spec: named inputs, layer specs in
computation order (each with the tensors it reads) and named outputs; readers/map_layers.py
makes the layers. Sequential configs (a list in Keras 1 and 2.0-2.2.2, else {"layers": [...]})
are a chain of nodes; Functional ones ("Model", "Functional") follow their inbound nodes (lists
in Keras 1/2, `__keras_tensor__` dicts in Keras 3); a model nested in a model (a
data-augmentation Sequential, a base model) becomes its layers, in line. A dense chain is the
simplest graph (Model.as_chain tells).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...errors import InputError, UnsupportedModelError
from . import config as C
from .config import (
    CONV_CLASSES,
    GLOBAL_CLASSES,
    MERGE_CLASSES,
    POOL_CLASSES,
    REARRANGE_CLASSES,
    SEPARABLE_CLASSES,
    TENSOR_CLASSES,
)

__all__ = [
    "SEPARABLE_CLASSES",
    "CONV_CLASSES",
    "GLOBAL_CLASSES",
    "MERGE_CLASSES",
    "POOL_CLASSES",
    "REARRANGE_CLASSES",
    "TENSOR_CLASSES",
    "GraphSpec",
    "graph_spec",
]


@dataclass
class GraphSpec:
    """A config read: its inputs, layer specs with what each reads, and outputs."""

    # (name, shape without the batch axis), model order; None: a Sequential config that gives
    # no input shape (its first kernel tells, map_layers.build_graph)
    inputs: list[tuple[str, list[int] | None]]
    nodes: list[tuple[C.LayerSpec, list[str]]]  # (layer, names of the tensors it reads)
    outputs: list[str]

    @property
    def specs(self) -> list[C.LayerSpec]:
        return [spec for spec, _ in self.nodes]


def graph_spec(config: dict | list, *, path: Path) -> GraphSpec:
    """Inputs, nodes and outputs of a Sequential or Functional config (each input's shape
    checked), nested models in line. One input may come without a shape: its first kernel
    tells (map_layers.build_graph)."""
    spec = _walk(config, path, None)
    alone = len(spec.inputs) == 1
    spec.inputs = [(name, None if shape is None and alone else _shape(shape, name, path))
                   for name, shape in spec.inputs]  # fmt: skip
    return spec


def _walk(config: dict | list, path: Path, owner: str | None) -> GraphSpec:
    """The spec of one model config; `owner`: the top-level layer holding a nested model's
    weights."""
    if isinstance(config, list):  # Keras 1 and 2.0-2.2.2 Sequential
        return _sequential(config, path, owner)
    if not isinstance(config, dict) or "class_name" not in config:
        raise InputError("the model configuration has no class_name; not a Keras model", path=path)
    class_name, inner = config["class_name"], config.get("config") or {}
    if class_name == "Sequential":
        layers = inner if isinstance(inner, list) else inner.get("layers", [])
        spec = _sequential(layers, path, owner)
        if spec.inputs[0][1] is None and isinstance(inner, dict) and inner.get("build_input_shape"):
            spec.inputs = [(spec.inputs[0][0], list(inner["build_input_shape"])[1:])]
        return spec
    if class_name in ("Model", "Functional"):
        return _functional(inner, path, owner)
    raise UnsupportedModelError(
        f"the file holds a {class_name!r}, not a Sequential or Functional model", path=path
    )


def _sequential(layers: list, path: Path, owner: str | None) -> GraphSpec:
    """A chain: each layer reads the one before; the first layer's config may give the shape."""
    named = [C.layer_name(e) for e in layers if e.get("class_name") == "InputLayer"]
    port = named[0] if named else "input"
    shape, nodes, previous = None, [], port
    for entry in layers:
        name, cls = C.layer_name(entry), str(entry.get("class_name"))
        if shape is None and not nodes:
            shape = C.input_shape_of(entry)
        if cls in C.MODEL_CLASSES:
            inner = _walk(entry, path, owner or name)
            shape = shape if shape is not None or nodes else inner.inputs[0][1]
            more, previous = _in_line(inner, name, [previous], path)
            nodes += more
        elif cls != "InputLayer":
            nodes.append((C.LayerSpec(cls, name, entry.get("config") or {}, owner or name),
                          [previous]))  # fmt: skip
            previous = name
    return GraphSpec([(port, shape)], nodes, [previous])


def _functional(inner: dict, path: Path, owner: str | None) -> GraphSpec:
    inputs, nodes, alias = [], [], {}
    for entry in inner.get("layers", []):
        name, cls = C.layer_name(entry), str(entry.get("class_name"))
        inbound = entry.get("inbound_nodes") or []
        if cls == "InputLayer":
            inputs.append((name, C.input_shape_of(entry)))
            continue
        if cls == "NotEqual":  # Keras 3 writes an Embedding's mask_zero mask as this op;
            continue  # gate2xlsx computes it from the Embedding (sequence_layers.masked_reads)
        if len(inbound) != 1:
            raise UnsupportedModelError(
                f"layer {name!r} ({cls}) is used {len(inbound)} times; gate2xlsx computes each "
                "layer once",
                path=path,
            )
        reads = C.history(inbound[0])
        if cls in C.MODEL_CLASSES:  # a nested model: its layers, read in line
            more, alias[name] = _in_line(_walk(entry, path, owner or name), name, reads, path)
            nodes += more
            continue
        nodes.append((C.LayerSpec(cls, name, entry.get("config") or {}, owner or name), reads))
    order = C.history(inner.get("input_layers", []))
    by_name = dict(inputs)
    missing = [n for n in order if n not in by_name]
    if missing:
        raise InputError(f"the configuration names an unknown input {missing[0]!r}", path=path)
    nodes = [(spec, [_follow(alias, t) for t in reads]) for spec, reads in nodes]
    outputs = [_follow(alias, t) for t in C.history(inner.get("output_layers", []))]
    return GraphSpec([(n, by_name[n]) for n in order], _ordered(nodes, order, path), outputs)


def _in_line(inner: GraphSpec, name: str, reads: list[str], path: Path) -> tuple[list, str]:
    """A model used as a layer: its nodes, its input being what the model reads, and the
    tensor it outputs."""
    if len(reads) != 1 or len(inner.inputs) != 1 or len(inner.outputs) != 1:
        raise UnsupportedModelError(f"model {name!r} nested in the network reads {len(reads)} "
                                    "tensors; gate2xlsx follows nested models of one input and "
                                    "one output", path=path)  # fmt: skip
    port, out = inner.inputs[0][0], inner.outputs[0]
    nodes = [(spec, [reads[0] if t == port else t for t in given]) for spec, given in inner.nodes]
    return nodes, reads[0] if out == port else out


def _follow(alias: dict[str, str], name: str) -> str:
    while name in alias:
        name = alias[name]
    return name


def _ordered(nodes: list, ready: list[str], path: Path) -> list:
    """Nodes in an order where every layer comes after the tensors it reads: the config's own
    order when it already is one (Keras's: the order its weights follow), else the first
    layer that can run, again and again."""
    done, left, found = set(ready), list(nodes), []
    while left:
        node = next((n for n in left if all(_maker(t) in done for t in n[1])), None)
        if node is None:
            spec, reads = left[0]
            unknown = [t for t in reads if _maker(t) not in done]
            raise InputError(
                f"layer {spec.name!r} reads {unknown[0]!r}, which nothing computes", path=path
            )
        found.append(node)
        done.add(node[0].name)
        left.remove(node)
    return found


def _maker(tensor: str) -> str:
    """The layer that makes a tensor: `lstm` for `lstm:1` (its second output)."""
    layer, _, index = tensor.rpartition(":")
    return layer if layer and index.isdigit() else tensor


def _shape(shape: list | None, name: str, path: Path) -> list[int]:
    if not shape or any(not isinstance(d, int) or d <= 0 for d in shape):
        raise UnsupportedModelError(
            f"input {name!r} has shape {shape}; gate2xlsx needs every size known", path=path
        )
    if len(shape) > 3:
        raise UnsupportedModelError(
            f"input {name!r} has {len(shape)} axes {tuple(shape)}; gate2xlsx computes vectors, "
            "sequences (t, c) and maps (h, w, c)",
            path=path,
        )
    return [int(d) for d in shape]
