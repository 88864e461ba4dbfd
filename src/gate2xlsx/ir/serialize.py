"""Model <-> plain JSON-able dict: the architecture that travels inside .npz files, workbooks
and the Keras files gate2xlsx writes. Readers and writers both use this module (and only it)
for gate2xlsx's own description, so the two directions never need each other.

Weights are kept apart (as arrays keyed "<layer index>/<weight key>") so a workbook can carry
the architecture while its weights live in editable cells.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError
from .families.convolution import Conv, SeparableConv
from .families.dense import Activation, Dense, Identity, PReLU
from .families.embeddings import Embedding
from .families.merges import Merge
from .families.normalization import BatchNorm, Normalization, Rescaling
from .families.pooling import GlobalPool, Pool, Rearrange
from .families.recurrent import Bidirectional, Recurrent
from .graph import Graph, Node, Port
from .layer import Act, Layer, Param
from .model import Dataset, Model, Source, chain_graph

FORMAT = "gate2xlsx-model"
VERSION = 1
# Where the description rides in files Keras also reads (Keras ignores both), and in .npz.
H5_ATTRIBUTE = "gate2xlsx_model"
KERAS_MEMBER = "gate2xlsx.json"
NPZ_ARCHITECTURE = "gate2xlsx_architecture"
_KINDS: dict[str, type[Layer]] = {
    cls.kind: cls
    for cls in (
        Dense,
        Activation,
        PReLU,
        BatchNorm,
        Normalization,
        Rescaling,
        Identity,
        Conv,
        SeparableConv,
        Pool,
        GlobalPool,
        Rearrange,
        Merge,
        Embedding,
    )  # fmt: skip
}
# The settings of the layers on tensors (ir/families), stored as JSON lists, read back as tuples.
_TENSOR_SETTINGS = {
    "conv": ("strides", "dilation", "padding", "depthwise"),
    "separable": ("strides", "dilation", "padding"),
    "pool": ("op", "pool", "strides", "padding", "rank"),
    "global_pool": ("op", "keepdims", "masked"),
    "embedding": ("mask_zero",),
    "rearrange": ("op", "arg"),
    "merge": ("op", "axis"),
}
_SCALARS = ("epsilon", "invert", "scale", "offset")
_RECURRENT_SETTINGS = ("cell", "return_sequences", "go_backwards", "reset_after", "return_state",
                       "masked", "zero_output_for_mask")  # fmt: skip


def key(index: int, name: str) -> str:
    """The key of a layer's weight or setting: "<layer index>/<name>"."""
    return f"{index}/{name}"


def to_dict(model: Model) -> dict[str, Any]:
    """The architecture (no weight values) as JSON-able data."""
    layers = []
    for layer in model.layers:
        if isinstance(layer, (Recurrent, Bidirectional)):
            layers.append(_recurrent_entry(layer))
            continue
        entry: dict[str, Any] = {
            "kind": layer.kind,
            "name": layer.name,
            "class_name": layer.class_name,
        }
        act = getattr(layer, "activation", None)
        if act is not None:
            entry["activation"] = {"name": act.name, "params": act.kwargs}
        for attr in _SCALARS:
            if hasattr(layer, attr):
                entry[attr] = getattr(layer, attr)
        for attr in _TENSOR_SETTINGS.get(layer.kind, ()):
            entry[attr] = _listed(getattr(layer, attr))
        entry["weights"] = {
            k: {"shape": list(p.values.shape), "path": p.path, "dtype": p.dtype}
            for k, p in layer.weights().items()
        }
        layers.append(entry)
    out: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "name": model.name,
        "n_inputs": model.n_inputs,
        "input_names": model.input_names,
        "class_names": model.class_names,
        "loss": model.loss,
        "source": vars(model.source).copy(),
        "layers": layers,
    }
    if model.as_chain() is None:  # a chain is its layers alone
        graph = model.graph
        out["graph"] = {
            "inputs": [
                [port.name, list(port.shape), *(["channels_first"] * port.channels_first)]
                for port in graph.inputs
            ],  # fmt: skip
            "reads": [list(node.inputs) for node in graph.nodes],
            "outputs": list(graph.outputs),
        }
    if model.data is not None:
        out["data"] = {
            "name": model.data.name,
            "x": model.data.x.tolist(),
            "y": None if model.data.y is None else model.data.y.tolist(),
        }
    return out


def weights_of(model: Model) -> dict[str, np.ndarray]:
    """Every weight array keyed "<layer index>/<weight key>"."""
    return {
        key(i, k): p.values
        for i, layer in enumerate(model.layers)
        for k, p in layer.weights().items()
    }


def apply_setting(entry: dict[str, Any], key: str, value: float, *, path: object = None) -> None:
    """Put an edited setting (see Layer.settings) back into a layer's architecture entry."""
    params = entry.get("activation", {}).get("params", {})
    if key in params:
        params[key] = value
    elif key in entry and key in _SCALARS:
        entry[key] = value
    else:
        raise InputError(f"layer {entry.get('name')!r} has no setting {key!r}", path=path)


def from_dict(
    data: dict[str, Any], weights: dict[str, np.ndarray], *, path: object = None
) -> Model:
    """Rebuild a Model from `to_dict` output and its weights."""
    if data.get("format") != FORMAT:
        raise InputError("no gate2xlsx model description found", path=path)
    layers = [_layer(i, entry, weights, path) for i, entry in enumerate(data["layers"])]
    dataset = None
    if data.get("data"):
        d = data["data"]
        dataset = Dataset(
            np.asarray(d["x"], dtype=np.float64),
            None if d.get("y") is None else np.asarray(d["y"], dtype=np.float64),
            d.get("name", ""),
        )
    if data.get("graph"):
        graph = _graph(data["graph"], layers, path)
    else:
        graph = chain_graph(int(data["n_inputs"]), layers)
    return Model(
        graph,
        name=data.get("name", "model"),
        input_names=data.get("input_names"),
        class_names=data.get("class_names"),
        loss=data.get("loss"),
        source=Source(**data.get("source", {})),
        data=dataset,
    )


def _layer(
    index: int, entry: dict[str, Any], weights: dict[str, np.ndarray], path: object
) -> Layer:
    if entry.get("kind") in ("recurrent", "bidirectional"):
        return _recurrent_layer(entry, _params(index, entry, weights, path))
    cls = _KINDS.get(entry.get("kind", ""))
    if cls is None:
        raise InputError(
            f"layer {entry.get('name')!r}: unknown kind {entry.get('kind')!r}", path=path
        )
    kwargs: dict[str, Any] = {"name": entry["name"], "class_name": entry.get("class_name", "")}
    if "activation" in entry:
        kwargs["activation"] = Act.of(entry["activation"]["name"], **entry["activation"]["params"])
    for attr in _SCALARS:
        if attr in entry:
            kwargs[attr] = entry[attr]
    for attr in _TENSOR_SETTINGS.get(entry.get("kind", ""), ()):
        if attr in entry:
            kwargs[attr] = _tupled(entry[attr])
    kwargs.update(_params(index, entry, weights, path))
    return cls(**kwargs)


def _params(
    index: int, entry: dict[str, Any], weights: dict[str, np.ndarray], path: object
) -> dict[str, Param]:
    found = {}
    for name, meta in entry.get("weights", {}).items():
        if key(index, name) not in weights:
            raise InputError(f"layer {entry['name']!r}: weight {name!r} is missing", path=path)
        values = np.asarray(weights[key(index, name)], dtype=np.float64).reshape(meta["shape"])
        found[name] = Param(values, meta.get("path", ""), meta.get("dtype", "float32"))
    return found


def _recurrent_entry(layer: Recurrent | Bidirectional) -> dict[str, Any]:
    """A recurrent layer's settings; a Bidirectional's two sides, each under its own key."""
    entry: dict[str, Any] = {"kind": layer.kind, "name": layer.name,
                             "class_name": layer.class_name}  # fmt: skip
    if isinstance(layer, Bidirectional):
        entry["merge_mode"] = layer.merge_mode
        for side, inner in layer.sides().items():
            entry[side] = {k: v for k, v in _recurrent_entry(inner).items() if k != "weights"}
    else:
        entry.update({attr: getattr(layer, attr) for attr in _RECURRENT_SETTINGS})
        for attr in ("activation", "recurrent_activation"):
            act = getattr(layer, attr)
            entry[attr] = {"name": act.name, "params": act.kwargs}
    entry["weights"] = {
        k: {"shape": list(p.values.shape), "path": p.path, "dtype": p.dtype}
        for k, p in layer.weights().items()
    }
    return entry


def _recurrent_layer(entry: dict[str, Any], params: dict[str, Param]) -> Layer:
    if entry["kind"] == "bidirectional":
        sides = {
            side: _recurrent_layer(
                {**entry[side], "kind": "recurrent"},
                {
                    k.removeprefix(side + "_"): p
                    for k, p in params.items()
                    if k.startswith(side + "_")
                },
            )  # fmt: skip
            for side in ("forward", "backward")
        }
        return Bidirectional(entry["name"], entry.get("class_name", ""),
                             forward_layer=sides["forward"], backward_layer=sides["backward"],
                             merge_mode=entry["merge_mode"])  # fmt: skip
    acts = {attr: Act.of(entry[attr]["name"], **entry[attr]["params"])
            for attr in ("activation", "recurrent_activation")}  # fmt: skip
    settings = {attr: entry[attr] for attr in _RECURRENT_SETTINGS if attr in entry}
    return Recurrent(entry["name"], entry.get("class_name", ""), params=params, **acts,
                     **settings)  # fmt: skip


def _listed(value: Any) -> Any:
    return [_listed(v) for v in value] if isinstance(value, (tuple, list)) else value


def _tupled(value: Any) -> Any:
    return tuple(_tupled(v) for v in value) if isinstance(value, list) else value


def _graph(data: dict[str, Any], layers: list[Layer], path: object) -> Graph:
    reads = data.get("reads", [])
    if len(reads) != len(layers):
        raise InputError("the graph's description does not match its layers", path=path)
    inputs = [Port(str(name), tuple(int(d) for d in shape), "channels_first" in flags)
              for name, shape, *flags in data["inputs"]]  # fmt: skip
    nodes = [Node(layer, tuple(map(str, r))) for layer, r in zip(layers, reads)]
    return Graph(inputs, nodes, [str(name) for name in data["outputs"]])
