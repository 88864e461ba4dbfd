"""TensorFlow SavedModel folders (what tf.keras 2.x's `model.save("or.hdf")` writes: any name
without .h5, .hdf5 or .keras), read without TensorFlow: nothing of TensorFlow is imported and
nothing in the graph is run.

The Keras configuration comes from `keras_metadata.pb` (the root node's JSON; tf.keras
2.0-2.4 kept it in saved_model.pb's user objects instead), the weights from the tensor bundle
in `variables/` (readers/tensor_bundle.py), each matched to its layer through the object graph:
a layer's node (found by its Keras node path) lists its own variables in Keras's order. The
model is then built as the HDF5 reader builds it. A Keras model that tf.saved_model.save wrote
keeps no configuration: its plain layers are told by their traced operators
(readers/savedmodel_traced.py). Only files inside the folder are opened.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import InputError, UnsafeModelError, UnsupportedModelError

if TYPE_CHECKING:
    from ...ir.model import Model
    from .savedmodel_objects import KerasNode

PB = "saved_model.pb"
METADATA = "keras_metadata.pb"
FORMAT = "TensorFlow SavedModel (Keras metadata)"
MAX_PB_BYTES = 1 << 30
HINT = 'save the Keras model itself: model.save("model.keras") (or "model.h5")'


def is_savedmodel(path: Path) -> bool:
    """A folder holding saved_model.pb, or that file given directly."""
    path = Path(path)
    if path.is_dir():
        return (path / PB).is_file()
    return path.name == PB and path.is_file()


def read(path: Path) -> Model:
    """The Keras model of a SavedModel folder (or of its saved_model.pb given directly)."""
    from .protobuf_wire import WireError

    path = Path(path)
    folder = path if path.is_dir() else path.parent
    try:
        return _read(path, folder)
    except RecursionError:
        from ..keras.config import TOO_DEEP

        raise InputError(TOO_DEEP, path=path) from None
    except WireError as exc:  # raised outside a file's own check: the folder's protobufs
        raise InputError(f"damaged SavedModel ({exc})", path=path) from None


def _read(path: Path, folder: Path) -> Model:
    from . import savedmodel_objects as O
    from .protobuf_wire import WireError

    if (folder / METADATA).is_file():
        target = _inside(folder, METADATA, path)
        try:
            nodes = O.keras_metadata(_read_file(target))
        except (WireError, UnicodeDecodeError) as exc:
            raise InputError(f"damaged Keras metadata ({exc})", path=target) from None
        return _from_metadata(path, folder, nodes)
    target = _inside(folder, PB, path)
    saved = _read_file(target)
    try:
        objects = O.user_objects(saved)
    except (WireError, UnicodeDecodeError) as exc:
        raise InputError(f"damaged SavedModel ({exc})", path=target) from None
    nodes = O.keras_nodes_of(objects)  # tf.keras 2.0-2.4 kept the metadata in saved_model.pb
    if nodes:
        return _from_metadata(path, folder, nodes)
    root = objects[0][0] if objects else ""
    if root.startswith(KERAS_MODELS):
        return _from_traces(path, folder, saved, target)
    kind = "a tf.Module" if root == "_generic_user_object" else f"root object {root or 'none'!r}"
    raise UnsupportedModelError(f"a TensorFlow SavedModel without a Keras model ({kind})",
                                path=path, hint=HINT)  # fmt: skip


KERAS_MODELS = ("_tf_keras_network", "_tf_keras_sequential", "_tf_keras_model")


def _inside(folder: Path, name: str, shown: Path) -> Path:
    """A file of the folder, refused when it is missing or (through a link) lies outside."""
    target = folder / name
    if not target.is_file():
        raise InputError(f"the SavedModel folder has no {name}", path=shown,
                         hint="copy the whole folder, not saved_model.pb alone")  # fmt: skip
    if not target.resolve().is_relative_to(folder.resolve()):
        raise UnsafeModelError(f"{name} links outside the SavedModel folder", path=shown)
    return target


def _read_file(target: Path) -> bytes:
    try:
        size = target.stat().st_size
        if size > MAX_PB_BYTES:
            raise InputError(f"{size:,} bytes, more than the {MAX_PB_BYTES:,} gate2xlsx reads",
                             path=target)  # fmt: skip
        return target.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read it ({exc.strerror or exc})", path=target) from None


def _checkpoint(path: Path, folder: Path):
    """The tensor bundle and its object graph."""
    from .protobuf_wire import WireError
    from .savedmodel_objects import ObjectGraph
    from .tensor_bundle import Bundle

    bundle = Bundle(_inside(folder, "variables/variables.index", path).with_suffix(""), shown=path)
    try:
        return bundle, ObjectGraph(bundle.string("_CHECKPOINTABLE_OBJECT_GRAPH"))
    except (WireError, UnicodeDecodeError) as exc:
        raise InputError(f"damaged checkpoint object graph ({exc})", path=bundle.index) from None


def _from_metadata(path: Path, folder: Path, nodes: list[KerasNode]) -> Model:
    """The model the Keras metadata describes: the root's config, each layer's node."""
    from .protobuf_wire import WireError

    bundle, graph = _checkpoint(path, folder)
    root = next((n for n in nodes if n.node_path in ("root", "") and n.node_id == 0), None)
    if root is None or not root.identifier.startswith(KERAS_MODELS):
        what = root.identifier if root else "none"
        raise UnsupportedModelError(f"the SavedModel's Keras root object is {what!r}, not a "
                                    "model", path=path, hint=HINT)  # fmt: skip
    try:
        by_name = _layer_nodes(path, nodes, graph)
    except WireError as exc:
        raise InputError(f"damaged checkpoint object graph ({exc})", path=bundle.index) from None
    meta = root.metadata
    architecture = meta.get("model_config") or {"class_name": meta.get("class_name"),
                                                 "config": meta.get("config")}  # fmt: skip
    version, backend = str(meta.get("keras_version", "")), str(meta.get("backend", ""))
    lookup = _lookup(by_name, graph, bundle)
    return _build(path, _untuple(architecture), lookup, _untuple(meta.get("training_config")),
                  _source(path, FORMAT, version, backend))  # fmt: skip


def _from_traces(path: Path, folder: Path, saved: bytes, target: Path) -> Model:
    """A Keras model tf.saved_model.save wrote: its layers told by their traced operators."""
    from .protobuf_wire import WireError
    from .savedmodel_traced import architecture

    try:
        config, by_name, tf_version = architecture(saved, path=path)
    except (WireError, UnicodeDecodeError) as exc:
        raise InputError(f"damaged SavedModel ({exc})", path=target) from None
    bundle, graph = _checkpoint(path, folder)
    for name, node in by_name.items():  # the two graphs number their objects alike: check
        names = (
            [v.full_name for v in graph.weights_of(node)] if node < len(graph.children) else [""]
        )
        if any(not n.startswith(name + "/") for n in names):
            raise InputError("the checkpoint's object graph does not match saved_model.pb's "
                             f"(layer {name!r})", path=bundle.index)  # fmt: skip
    fmt = f"{TRACED_FORMAT}, TensorFlow {tf_version}" if tf_version else TRACED_FORMAT
    return _build(path, config, _lookup(by_name, graph, bundle), None,
                  _source(path, fmt, "", "tensorflow"))  # fmt: skip


TRACED_FORMAT = "TensorFlow SavedModel (tf.saved_model.save; layers told by their operators)"


def _source(path: Path, fmt: str, version: str, backend: str):
    from ...ir.model import Source

    return Source(str(path), fmt, version, backend)


def _build(path: Path, architecture: object, lookup, training: object, source) -> Model:
    """The Model, built as the HDF5 reader builds it (the graph of its layers)."""
    from dataclasses import replace

    from ...ir.model import Model
    from ..keras import config as C
    from ..keras import graph_config as G
    from ..keras.map_layers import build_graph

    config = C.unwrap(architecture)
    graph = build_graph(G.graph_spec(config, path=path), lookup,
                        keras_version=source.keras_version, path=path)  # fmt: skip
    body = Model(graph)
    return replace(body, name=C.model_name(config, path), loss=C.training_loss(training),
                   optimizer=C.optimizer_settings(training), source=source)  # fmt: skip


# activations the metadata names by their TensorFlow function (tf.nn.log_softmax's name)
TF_ACTIVATIONS = {"log_softmax_v2": "log_softmax"}


def _untuple(value: object) -> object:
    """Keras's JSON for tuples and shapes ({"class_name": "__tuple__", "items": [...]}) as
    the plain lists every other Keras file holds, activations by their Keras names."""
    if isinstance(value, dict):
        if value.get("class_name") in ("__tuple__", "TensorShape") and "items" in value:
            return [_untuple(v) for v in value["items"]]
        found = {k: _untuple(v) for k, v in value.items()}
        if isinstance(found.get("activation"), str):
            found["activation"] = TF_ACTIVATIONS.get(found["activation"], found["activation"])
        return found
    if isinstance(value, list):
        return [_untuple(v) for v in value]
    return value


def _lookup(by_name: dict[str, int], graph, bundle):
    """WeightLookup: a layer's variables, found through its node in the object graph."""
    from ..keras import config as C

    def lookup(spec: C.LayerSpec) -> list[C.RawWeight]:
        node = by_name.get(spec.name)
        if node is None:
            return []
        found = []
        for variable in graph.weights_of(node):
            values = bundle.array(variable.checkpoint_key)
            name = variable.full_name or variable.checkpoint_key
            found.append(C.RawWeight(name, variable.checkpoint_key, values, str(values.dtype)))
        return found

    return lookup


_LAYER_STEP = re.compile(r"layer(_with_weights)?-\d+")


def _is_layer(node: KerasNode) -> bool:
    """A layer of the model or of a model nested in it (not the root, not a metric under
    keras_api, not an RNN's cell or a wrapper's inner layer: those belong to their layer)."""
    if node.identifier in ("_tf_keras_metric", "_tf_keras_input_layer"):
        return False
    if not node.node_path:  # tf.keras 2.0-2.4: ids only (an RNN's cell is kept, harmless:
        return node.node_id != 0  # no spec is named after it)
    steps = node.node_path.split(".")
    return (
        steps[0] == "root" and len(steps) > 1 and all(_LAYER_STEP.fullmatch(s) for s in steps[1:])
    )


def _layer_nodes(path: Path, nodes: list[KerasNode], graph) -> dict[str, int]:
    """Layer name -> its node in the checkpoint's object graph (the SavedModel's own ids)."""
    found: dict[str, int] = {}
    for node in nodes:
        name = node.metadata.get("name")
        if not _is_layer(node) or not isinstance(name, str):
            continue
        if name in found:
            raise UnsupportedModelError(f"two layers are named {name!r}; gate2xlsx needs unique "
                                        "layer names across nested models", path=path)  # fmt: skip
        at = graph.walk(node.node_path) if node.node_path else node.node_id
        if not 0 <= at < len(graph.children):
            raise InputError(f"layer {name!r} is node {at}, which the checkpoint lacks", path=path)
        found[name] = at
    return found
