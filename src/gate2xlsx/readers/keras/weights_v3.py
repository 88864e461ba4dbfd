"""The Keras 3 weights tree (`.keras` archives' model.weights.h5, tf.keras 2.12-2.15's
variables.h5 / model.weights.h5, and Keras 3 `.weights.h5` files) matched to a config.

Keras does not store layer names here. Each container (a model's layer list) holds one group
per tracked layer, named after the layer's class in snake case with a per-class counter in
list order (`layers/dense`, `layers/dense_1`, `layers/batch_normalization`); a nested model's
layers sit one level deeper (`layers/sequential/layers/dense`). Each layer's variables are
datasets `vars/0..n` in the layer's own order. tf.keras 2.12-2.14 tracked layers under
`_layer_checkpoint_dependencies`, where each layer is listed twice and its counter may skip
numbers: so a layer is matched to the i-th existing group of its class, counters sorted.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import h5py

from ...errors import InputError, UnsupportedModelError
from ...formats.keras_naming import snake_case, tf_snake_case
from ...ir.model import Model, Source
from ..hdf5 import read_array, walk
from . import config as C
from . import graph_config as G
from .map_layers import build_graph

CONTAINERS = ("layers", "_layer_checkpoint_dependencies")
MODEL_GROUPS = {
    "Sequential": ("sequential",),
    "Functional": ("functional", "model"),
    "Model": ("functional", "model"),
}
_VAR = re.compile(r"^(?:(.*)/)?vars/(\d+)$")


def looks_like_v3(handle: h5py.File) -> bool:
    """A Keras 3 style weights tree: top-level `layers`/`vars` groups (any separator)."""
    return any(name.replace("\\", "/").split("/")[0] in (*CONTAINERS, "vars") for name in handle)


def snake_names(class_name: str) -> set[str]:
    """The group names Keras gives a class: Keras 3's and tf.keras's to_snake_case."""
    return {snake_case(class_name), tf_snake_case(class_name)}


class Tree:
    """Groups and `vars` datasets of a weights file, by normalised path."""

    def __init__(self, handle: h5py.File, *, path: Path, stored_bytes: int | None):
        self.groups: set[str] = set()
        self.vars: dict[str, list[C.RawWeight]] = {}
        found: dict[str, dict[int, C.RawWeight]] = {}
        for name, node in walk(handle, file=path):
            if isinstance(node, h5py.Group):  # with its ancestors: `layers\\dense` is one name
                parts = name.split("/")
                self.groups.update("/".join(parts[:k]) for k in range(1, len(parts) + 1))
                continue
            match = _VAR.match(name)
            if match is None:
                continue  # optimizer state, metrics and the like
            values = read_array(node, file=path, stored_bytes=stored_bytes)
            raw = C.RawWeight(name, node.name.lstrip("/"), values, str(node.dtype))
            found.setdefault(match.group(1) or "", {})[int(match.group(2))] = raw
        for owner, by_index in found.items():
            if sorted(by_index) != list(range(len(by_index))):
                raise InputError(
                    f"weights group {owner}/vars has gaps in its numbering ({sorted(by_index)})",
                    path=path,
                )
            self.vars[owner] = [by_index[i] for i in range(len(by_index))]

    def owned(self, group: str) -> list[C.RawWeight]:
        """A layer group's weights: its own `vars`, then those of the layers it holds
        (a recurrent layer's `cell`, a wrapper's `layer`; Bidirectional's forward_layer
        before its backward_layer, Keras's order)."""
        inside = [o for o in self.vars if o.startswith(group + "/")]
        inside.sort(key=lambda o: o.replace("forward_layer", "0").replace("backward_layer", "1"))
        return [w for owner in ([group] if group in self.vars else []) + inside
                for w in self.vars[owner]]  # fmt: skip

    def children(self, container: str) -> list[str]:
        prefix = container + "/"
        return [
            g[len(prefix) :]
            for g in self.groups
            if g.startswith(prefix) and "/" not in g[len(prefix) :]
        ]


def assign(config: dict | list, tree: Tree, *, path: Path) -> dict[str, str]:
    """Layer name -> its group path in the tree, for every layer of the config (nested too)."""
    found: dict[str, str] = {}
    _assign(config, "", tree, found, path)
    return found


def _entries(config: dict | list) -> list[dict]:
    if isinstance(config, list):
        return config
    inner = config.get("config") or {}
    return inner if isinstance(inner, list) else list(inner.get("layers", []))


def _container(prefix: str, tree: Tree) -> str | None:
    """The container holding the most weights: `layers`, or tf.keras 2.12-2.14's own."""
    best, count = None, -1
    for name in CONTAINERS:
        full = prefix + name
        if full not in tree.groups:
            continue
        n = sum(1 for owner in tree.vars if owner.startswith(full + "/"))
        if n > count:
            best, count = full, n
    return best


def _counter(group: str, stem: str) -> int | None:
    if group == stem:
        return 0
    if group.startswith(stem + "_") and group[len(stem) + 1 :].isdigit():
        return int(group[len(stem) + 1 :])
    return None


def _assign(
    config: dict | list, prefix: str, tree: Tree, found: dict[str, str], path: Path
) -> None:
    container = _container(prefix, tree)
    if container is None:
        return  # a model without any tracked layers stored: layers then expect no weights
    children = tree.children(container)
    seen: dict[tuple[str, ...], int] = {}
    for entry in _entries(config):
        cls = str(entry.get("class_name"))
        if cls == "InputLayer":
            continue
        stems = tuple(sorted(MODEL_GROUPS.get(cls) or snake_names(cls)))
        groups = sorted(
            (k, g) for g in children for stem in stems if (k := _counter(g, stem)) is not None
        )
        index = seen.get(stems, 0)
        seen[stems] = index + 1
        if index >= len(groups):
            continue  # no group: the layer must expect no weights (checked when matching)
        group = f"{container}/{groups[index][1]}"
        name = C.layer_name(entry)
        if cls in C.MODEL_CLASSES:
            _assign(entry, group + "/", tree, found, path)
        elif name in found:
            raise UnsupportedModelError(
                f"two layers are named {name!r}; gate2xlsx needs unique layer "
                "names across nested models",
                path=path,
            )
        else:
            found[name] = group


def lookup(config: dict | list, tree: Tree, *, path: Path) -> C.WeightLookup:
    groups = assign(config, tree, path=path)

    def weights_of(spec: C.LayerSpec) -> list[C.RawWeight]:
        group = groups.get(spec.name)
        return tree.owned(group) if group is not None else []

    return weights_of


def keras_version_of(architecture: dict | list) -> str:
    """The Keras version a config came from: stated (`to_json()`), else told by its style."""
    if isinstance(architecture, dict) and isinstance(architecture.get("keras_version"), str):
        return architecture["keras_version"]
    text = json.dumps(architecture)
    if any(mark in text for mark in ('"DTypePolicy"', '"__keras_tensor__"', '"batch_shape"')):
        return "3"
    return ""


def model_from_tree(
    architecture: dict | list,
    handle: h5py.File,
    *,
    path: Path,
    keras_version: str,
    fmt: str,
    stored_bytes: int | None = None,
) -> Model:
    """A Model from a config and the weights tree that goes with it."""
    config = C.unwrap(architecture)
    tree = Tree(handle, path=path, stored_bytes=stored_bytes)
    weights = lookup(config, tree, path=path)
    graph = build_graph(G.graph_spec(config, path=path), weights, keras_version=keras_version,
                        path=path)  # fmt: skip
    body = Model(graph)
    return replace(
        body,
        name=C.model_name(config, path),
        source=Source(str(path), fmt, keras_version, ""),
    )


def read_weights(path: Path, architecture: dict | list | None, handle: h5py.File) -> Model:
    """A Keras 3 `.weights.h5` file (open as `handle`), with the architecture given separately."""
    if architecture is None:
        raise InputError(
            "the file holds weights only (a Keras 3 .weights.h5), without the architecture",
            path=path,
            hint="give the model's config.json or "
            "model.to_json() text with --architecture MODEL.json",
        )
    return model_from_tree(
        architecture,
        handle,
        path=path,
        keras_version=keras_version_of(architecture),
        fmt="Keras 3 weights (.weights.h5)",
    )
