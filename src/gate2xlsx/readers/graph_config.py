"""Keras model configs that are graphs: layers on tensors (convolutions, pooling, ...), merges,
several inputs or outputs. Turns a Sequential or Functional config into named inputs, nodes in
computation order (each with the layers it reads) and named outputs; readers/map_layers.py
makes the layers. A dense chain on one vector never comes here (readers/config.py keeps it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, UnsupportedModelError
from . import config as C
from .config import (  # noqa: E402  (re-exported: the graph's layer classes)
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
    "needs_graph",
]


@dataclass
class GraphSpec:
    """A graph config read: its inputs, layer specs with what each reads, and outputs."""

    inputs: list[tuple[str, list[int]]]  # (name, shape without the batch axis), model order
    nodes: list[tuple[C.LayerSpec, list[str]]]  # (layer, names of the tensors it reads)
    outputs: list[str]

    @property
    def specs(self) -> list[C.LayerSpec]:
        return [spec for spec, _ in self.nodes]


def needs_graph(config: dict | list) -> bool:
    """Whether the model computes on tensors or is more than one chain: any tensor layer or
    merge, several inputs or outputs, a layer reading several tensors."""
    entries = _entries(config)
    if any(e.get("class_name") in TENSOR_CLASSES | MERGE_CLASSES for e in entries):
        return True
    layers = [e for e in entries if e.get("class_name") not in C.MODEL_CLASSES]
    shape = next((C.input_shape_of(e) for e in layers if C.input_shape_of(e)), None)
    computing = [
        e for e in layers if e.get("class_name") not in ("InputLayer", *C.IDENTITY_CLASSES)
    ]
    if shape and len(shape) > 1 and computing and computing[0].get("class_name") not in (
        "Flatten", "Reshape"
    ):  # fmt: skip
        return True  # layers on a sequence or a map before any Flatten
    inner = config.get("config") if isinstance(config, dict) else None
    if isinstance(config, dict) and config.get("class_name") in ("Model", "Functional"):
        ins, outs = (
            C._history(inner.get("input_layers", [])),
            C._history(inner.get("output_layers", [])),
        )
        feeds = [len(C._history(n)) for e in entries for n in (e.get("inbound_nodes") or [])]
        return len(ins) > 1 or len(outs) > 1 or any(f > 1 for f in feeds)
    return False


def _entries(config: dict | list) -> list[dict]:
    """Every layer entry, nested models' too."""
    if isinstance(config, list):
        layers = config
    elif isinstance(config, dict):
        inner = config.get("config")
        layers = inner if isinstance(inner, list) else (inner or {}).get("layers", [])
    else:
        return []
    found = []
    for entry in layers:
        if isinstance(entry, dict):
            found.append(entry)
            if entry.get("class_name") in C.MODEL_CLASSES:
                found.extend(_entries(entry))
    return found


def graph_spec(config: dict | list, *, path: Path) -> GraphSpec:
    """Inputs, nodes and outputs of a Sequential or Functional config; a model nested in it
    (a data-augmentation Sequential, a base model) becomes its layers, in line."""
    if isinstance(config, dict) and config.get("class_name") in ("Model", "Functional"):
        return _functional(config.get("config") or {}, path)
    return _sequential(config, path)


def _sequential(config: dict | list, path: Path) -> GraphSpec:
    shape, specs = C.flatten(config, path=path)
    if shape is None:
        raise InputError("the model's configuration gives no input shape", path=path)
    layers = config if isinstance(config, list) else (config.get("config") or {})
    layers = layers if isinstance(layers, list) else layers.get("layers", [])
    named = [C.layer_name(e) for e in layers if e.get("class_name") == "InputLayer"]
    name, nodes, previous = (named[0] if named else "input"), [], None
    for spec in specs:
        nodes.append((spec, [previous or name]))
        previous = spec.name
    return GraphSpec([(name, _shape(shape, name, path))], nodes, [previous or name])


def _functional(inner: dict, path: Path) -> GraphSpec:
    inputs, nodes, alias = [], [], {}
    for entry in inner.get("layers", []):
        name, cls = C.layer_name(entry), str(entry.get("class_name"))
        inbound = entry.get("inbound_nodes") or []
        if cls == "InputLayer":
            inputs.append((name, _shape(C.input_shape_of(entry), name, path)))
            continue
        if cls == "NotEqual":  # Keras 3 writes an Embedding's mask_zero mask as this op;
            continue  # gate2xlsx computes it from the Embedding (sequence_layers.masked_reads)
        if len(inbound) != 1:
            raise UnsupportedModelError(
                f"layer {name!r} ({cls}) is used {len(inbound)} times; gate2xlsx computes each "
                "layer once",
                path=path,
            )
        reads = C._history(inbound[0])
        if cls in C.MODEL_CLASSES:  # a nested model: its chain of layers, read in line
            chain = _nested(entry, name, reads, path)
            nodes += chain
            alias[name] = chain[-1][0].name if chain else reads[0]
            continue
        nodes.append((C.LayerSpec(cls, name, entry.get("config") or {}, name), reads))
    order = C._history(inner.get("input_layers", []))
    by_name = dict(inputs)
    missing = [n for n in order if n not in by_name]
    if missing:
        raise InputError(f"the configuration names an unknown input {missing[0]!r}", path=path)
    nodes = [(spec, [_follow(alias, t) for t in reads]) for spec, reads in nodes]
    outputs = [_follow(alias, t) for t in C._history(inner.get("output_layers", []))]
    return GraphSpec([(n, by_name[n]) for n in order], _ordered(nodes, order, path), outputs)


def _nested(entry: dict, name: str, reads: list[str], path: Path) -> list:
    """A model used as a layer: its own chain of layers (weights under its name), the first
    reading what the model reads."""
    if len(reads) != 1:
        raise UnsupportedModelError(f"model {name!r} nested in the network reads {len(reads)} "
                                    "tensors; gate2xlsx follows nested models of one input",
                                    path=path)  # fmt: skip
    _, specs = C.flatten(entry, path=path, owner=name)
    chain, previous = [], reads[0]
    for spec in specs:
        chain.append((spec, [previous]))
        previous = spec.name
    return chain


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
