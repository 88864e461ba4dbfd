"""TF.js graph models (`"format": "graph-model"`: a TensorFlow GraphDef in JSON, the weights in
the shards under their Const nodes' names), computed where the graph is a dense chain: from
the one Placeholder, MatMul or _FusedMatMul (its BiasAdd and activation fused in), BiasAdd /
Add of a constant vector, and the activation ops the activation table has; Identity passes
through. That is what tensorflowjs_converter writes for a Keras Dense chain saved with
`tf.saved_model.save`. Anything else is named for what it is, in one line."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np

from ...errors import UnsupportedModelError
from ...ir.families.dense import Dense
from ...ir.layer import Act, Param
from ...ir.model import Model, Source

FORMAT = "TensorFlow.js graph model"
# TensorFlow ops that are an activation of the table
ACTIVATIONS = {"Relu": "relu", "Relu6": "relu6", "Sigmoid": "sigmoid", "Tanh": "tanh",
               "Elu": "elu", "Selu": "selu", "Softplus": "softplus", "Softsign": "softsign",
               "Softmax": "softmax", "LogSoftmax": "log_softmax", "Exp": "exponential",
               "LeakyRelu": "leaky_relu"}  # fmt: skip
MATMULS = ("MatMul", "_FusedMatMul")
ADDS = ("BiasAdd", "Add", "AddV2")


class NotAChain(Exception):
    """The graph is more than a dense chain; the words say where."""


def describe(topology: object) -> str:
    """What the graph model is, in words: its op count and kinds."""
    nodes = topology.get("node") if isinstance(topology, dict) else None
    ops = sorted({str(n.get("op")) for n in nodes or [] if isinstance(n, dict)} - {"Const"})
    more = f" and {len(ops) - 8} more" if len(ops) > 8 else ""
    shown = f" ({len(nodes)} nodes; ops {', '.join(ops[:8])}{more})" if nodes else ""
    return f"this is a TF.js graph model{shown}, converted from a SavedModel or frozen graph"


def read(topology: dict, weights: list, *, path: Path, file: Path, hint: str) -> Model:
    """The dense chain the graph computes, else one UnsupportedModelError."""
    try:
        layers = _chain(topology, {w.name: w for w in weights})
    except NotAChain as exc:
        raise UnsupportedModelError(f"{describe(topology)}; gate2xlsx computes graph models "
                                    f"that are dense chains only, and {exc}", path=file,
                                    hint=hint) from None  # fmt: skip
    name = path.name if path.is_dir() else path.parent.name
    source = Source(str(path), FORMAT, "", "")
    return Model.chain(layers[0].kernel.values.shape[0], layers, name=name, source=source)


def _chain(topology: dict, consts: dict) -> list[Dense]:
    nodes = [n for n in topology.get("node") or [] if isinstance(n, dict)]
    by_name = {str(n.get("name")): n for n in nodes}
    users: dict[str, list[dict]] = {}
    for node in nodes:
        for given in node.get("input") or []:
            users.setdefault(_base(given), []).append(node)
    starts = [n for n in nodes if n.get("op") == "Placeholder"]
    if len(starts) != 1:
        raise NotAChain(f"it has {len(starts)} inputs (Placeholder ops)")
    layers: list[Dense] = []
    flat: list[tuple[int, int]] = []  # (layers before, width) of each Reshape to [-1, width]
    seen = {starts[0]["name"]}
    current = starts[0]
    while users.get(current["name"]):
        after = users[current["name"]]
        if len(after) != 1:
            raise NotAChain(f"{current['name']!r} feeds {len(after)} ops (a branch)")
        current = after[0]
        seen.add(current["name"])
        if current.get("op") == "Reshape":
            flat.append((len(layers), _flat_width(current, consts, by_name, seen)))
            continue
        _step(current, layers, by_name, consts, seen)
    left = sorted({str(n.get("op")) for n in nodes if n["name"] not in seen} - {"Const"})
    if left or not layers:
        raise NotAChain(f"its ops {', '.join(left)} lie off the chain" if left else "it has no "
                        "MatMul")  # fmt: skip
    for before, width in flat:  # a Keras Flatten of a flat tensor: it changes nothing
        given = (
            layers[before - 1].kernel.values.shape[1]
            if before
            else layers[0].kernel.values.shape[0]
        )
        if given != width:
            raise NotAChain(f"a Reshape to [-1, {width}] meets a tensor of width {given}")
    return layers


def _flat_width(node: dict, consts: dict, by_name: dict, seen: set) -> int:
    """The width of a Reshape to [-1, width] (what Flatten writes), else NotAChain."""
    inputs = [_base(i) for i in node.get("input") or []]
    target = _const(inputs[1], consts, by_name, seen).reshape(-1) if len(inputs) == 2 else []
    if len(target) != 2 or target[0] != -1 or target[1] < 1:
        raise NotAChain(f"{node['name']!r} is a Reshape to {list(target)}, not to [-1, width]")
    return int(target[1])


def _step(node: dict, layers: list[Dense], by_name: dict, consts: dict, seen: set) -> None:
    """One op of the chain applied to the layers so far."""
    op, inputs = str(node.get("op")), [_base(i) for i in node.get("input") or []]
    others = [_const(i, consts, by_name, seen) for i in inputs[1:]]
    if op == "Identity":
        return
    if op in MATMULS:
        attr = node.get("attr") or {}
        if _flag(attr, "transpose_a"):
            raise NotAChain(f"{node['name']!r} transposes its input")
        kernel = others[0].T if _flag(attr, "transpose_b") else others[0]
        layers.append(Dense(_layer_name(node, layers), "Dense", kernel=Param(kernel, inputs[1])))
        fused = [base64.b64decode(s).decode() for s in
                 (attr.get("fused_ops") or {}).get("list", {}).get("s", [])]  # fmt: skip
        if fused[:1] == ["BiasAdd"]:
            layers[-1].bias = Param(others[1], inputs[2])
            fused = fused[1:]
        for fused_op in fused:
            _activate(layers, fused_op, node, attr, alpha_key="leakyrelu_alpha")
        return
    if (
        op in ADDS
        and layers
        and len(others) == 1
        and others[0].shape == layers[-1].kernel.values.shape[1:]
    ):
        if layers[-1].bias is not None or layers[-1].activation.name != "linear":
            raise NotAChain(f"{node['name']!r} adds a second bias")
        layers[-1].bias = Param(others[0], inputs[1])
        return
    if op in ACTIVATIONS and layers and not others:
        _activate(layers, op, node, node.get("attr") or {}, alpha_key="alpha")
        return
    raise NotAChain(f"{node['name']!r} is a {op}, which it cannot compute there")


def _activate(layers: list[Dense], op: str, node: dict, attr: dict, *, alpha_key: str) -> None:
    if op not in ACTIVATIONS:
        raise NotAChain(f"{node['name']!r} fuses a {op}")
    if layers[-1].activation.name != "linear":
        raise NotAChain(f"{node['name']!r} is a second activation on one layer")
    alpha = (attr.get(alpha_key) or {}).get("f", 0.2)
    name = ACTIVATIONS[op]
    layers[-1].activation = Act.of(name, alpha=alpha) if name == "leaky_relu" else Act(name)


def _const(name: str, consts: dict, by_name: dict, seen: set) -> np.ndarray:
    node = by_name.get(name)
    if node is None or node.get("op") != "Const" or name not in consts:
        raise NotAChain(f"{name!r} is not a stored constant")
    seen.add(name)
    return np.asarray(consts[name].values, dtype=np.float64)


def _base(given: str) -> str:
    """A node's name from an input reference (`name:1`, `^name` for a control input)."""
    return str(given).lstrip("^").split(":")[0]


def _flag(attr: dict, key: str) -> bool:
    return bool((attr.get(key) or {}).get("b", False))


def _layer_name(node: dict, layers: list[Dense]) -> str:
    """The Keras layer a MatMul came from (`.../dense_1/MatMul`), else dense_<n>."""
    parts = str(node["name"]).split("/")
    stem = parts[-2] if len(parts) > 1 else f"dense_{len(layers) + 1}"
    taken = {layer.name for layer in layers}
    return stem if stem not in taken else f"{stem}_{len(layers) + 1}"
