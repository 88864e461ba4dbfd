"""TensorFlow.js layers models: a folder of `model.json` (`{"format": "layers-model",
"modelTopology": {keras_version, backend, model_config, training_config?}, "weightsManifest":
[{"paths": [...], "weights": [{name, shape, dtype, quantization?}]}]}`) and its binary weight
shards, as `tensorflowjs_converter --input_format keras`, `tfjs.converters.save_keras_model`
and a browser's `model.save` write them.

A group's weights are its shards' bytes concatenated, in manifest order, little-endian.
Quantized weights are dequantized as tfjs does: uint8 / uint16 `q * scale + min` in float64,
then rounded to the original float32 (int32: rounded to the nearest integer), float16 widened
to float32. Weights are matched to layers by name (`dense/kernel`, `lstm/lstm_cell/kernel`, a
nested model's `hidden/kernel` or `outer/inner/kernel`), never by order: the converter lists
layers alphabetically; tensorflowjs's Keras 3 path keeps the Keras 3 tree's names
(`layers/dense/vars/0`), matched as in a .keras archive (weights_v3.lookup). Shards are read
only from inside the model's own folder (no absolute path, no `..`, no symbolic link leading
out), each weight's bytes checked against its shape and dtype first. A TF.js *graph* model (a
GraphDef in JSON) is computed where it is a dense chain (tfjs_graph.py), else named for what
it is.

Deciding the kind (`is_tfjs`) reads at most a small model.json and needs no format library;
the Keras machinery is imported by `read`.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import replace
from pathlib import Path, PurePosixPath

import numpy as np

from ...errors import InputError, UnsafeModelError, UnsupportedModelError
from ...ir.model import Model, Source

MODEL_JSON = "model.json"
FORMAT = "TensorFlow.js layers model"
FORMATS = ("layers-model", "graph-model")
MAX_JSON_BYTES = 64 << 20  # a layers model's topology is kilobytes; graph models a few MB
MAX_WEIGHT_BYTES = 1 << 30  # 1 GiB, as for HDF5 datasets: beyond any sheet
PARSED_BYTES = 4 << 20  # a model.json up to this size is parsed to decide its kind
PROBE_BYTES = 1 << 20  # a larger one: its first and last MiB are searched for the keys
# the stored dtypes a weight can have, little-endian, and what they widen to
DTYPES = {"float32": "<f4", "int32": "<i4", "bool": "|b1"}
QUANTIZED = {"uint8": "<u1", "uint16": "<u2", "float16": "<f2"}
_VAR = re.compile(r"^(?:(.*)/)?vars/(\d+)$")  # a Keras 3 tree's variable
CONVERT_HINT = (
    "convert the Keras model itself: tensorflowjs_converter --input_format keras model.h5 "
    "out/ (or tfjs.converters.save_keras_model(model, 'out')), and give out/ to gate2xlsx"
)


# --- what the file is ------------------------------------------------------------------


def is_tfjs(path: Path) -> bool:
    """A TF.js model.json (any name: a JSON object with `format` "layers-model" /
    "graph-model", or `modelTopology` with `weightsManifest`), or a folder holding one
    (`model.json`, or the one .json a browser's model.save('downloads://NAME') wrote)."""
    path = Path(path)
    if path.is_dir():
        return model_json_of(path) is not None
    try:
        if not path.is_file():
            return False
        size = path.stat().st_size
        with open(path, "rb") as handle:
            head = handle.read(size if size <= PARSED_BYTES else PROBE_BYTES)
            if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] != b"{":
                return False
            if size > PARSED_BYTES:
                handle.seek(size - PROBE_BYTES)
                return _marked(head, head + handle.read(PROBE_BYTES))
    except OSError:
        return False
    try:
        return _is_document(json.loads(head.decode("utf-8-sig")))
    except (ValueError, RecursionError):  # damaged: a TF.js model still, if it says so
        return _marked(head, head)


def model_json_of(folder: Path) -> Path | None:
    """The folder's TF.js model.json: `model.json` itself, else its only .json file."""
    named = folder / MODEL_JSON
    if named.is_file() or named.is_symlink():
        return named if is_tfjs(named) else None
    try:
        found = [p for p in folder.iterdir() if p.suffix.lower() == ".json" and p.is_file()]
    except OSError:
        return None
    return found[0] if len(found) == 1 and is_tfjs(found[0]) else None


def _is_document(doc: object) -> bool:
    if not isinstance(doc, dict):
        return False
    return doc.get("format") in FORMATS or ("modelTopology" in doc and "weightsManifest" in doc)


def _marked(head: bytes, text: bytes) -> bool:
    """Unparsed text naming itself a TF.js model."""
    named = b'"format"' in head and any(f'"{f}"'.encode() in head for f in FORMATS)
    return named or (b'"modelTopology"' in text and b'"weightsManifest"' in text)


# --- reading -------------------------------------------------------------------------------


def read(path: Path) -> Model:
    """The Model of a TF.js layers model, given its folder or its model.json."""
    path = Path(path)
    file = (model_json_of(path) or path / MODEL_JSON) if path.is_dir() else path
    doc = _document(file)
    topology = doc.get("modelTopology")
    if doc.get("format") == "graph-model" or (isinstance(topology, dict) and "node" in topology):
        from . import tfjs_graph

        weights = read_weights(doc.get("weightsManifest"), file)
        return tfjs_graph.read(topology, weights, path=path, file=file, hint=CONVERT_HINT)
    from ..keras import config as C

    if not isinstance(topology, dict) or not C.is_model_config(topology):
        raise InputError(
            "the TF.js model.json holds no Keras model topology (modelTopology.model_config)",
            path=file,
        )
    return _model(topology, read_weights(doc.get("weightsManifest"), file), path, file)


def _document(file: Path) -> dict:
    size = file.stat().st_size
    if size > MAX_JSON_BYTES:
        raise InputError(
            f"the model.json is {size:,} bytes, more than the {MAX_JSON_BYTES:,} gate2xlsx reads",
            path=file,
        )
    try:
        doc = json.loads(file.read_bytes().decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"the TF.js model.json is not valid JSON ({exc})", path=file) from None
    except RecursionError:
        raise InputError("the TF.js model.json is nested too deeply to read", path=file) from None
    if not isinstance(doc, dict):
        raise InputError("the TF.js model.json is not a JSON object", path=file)
    return doc


def _model(topology: dict, weights: list, path: Path, file: Path) -> Model:
    """The Model from the topology and the weights, through the Keras HDF5 reader's machinery."""
    from ..keras import config as C
    from ..keras import graph_config as G
    from ..keras.map_layers import build_graph

    config = C.unwrap(topology)
    keras_version = str(topology.get("keras_version") or "")
    spec = G.graph_spec(config, path=file)
    if any(_VAR.match(w.name) for w in weights):  # tensorflowjs's Keras 3 path
        from ..keras import weights_v3

        lookup = weights_v3.lookup(config, _tree(weights, file), path=file)
    else:
        lookup = _lookup(weights, [layer.name for layer in spec.specs])
    body = Model(build_graph(spec, lookup, keras_version=keras_version, path=file))
    training = topology.get("training_config")
    return replace(
        body,
        name=C.model_name(config, path),
        loss=C.training_loss(training),
        optimizer=C.optimizer_settings(training),
        source=Source(str(path), FORMAT, keras_version, str(topology.get("backend") or "")),
    )


def _lookup(weights: list, layer_names: list[str]):
    """Each layer's weights, in manifest order: a weight belongs to the first component of its
    name that names a layer (`lstm` in `lstm/lstm_cell/kernel`, `hidden` in
    `outer/inner/hidden/kernel`)."""
    names, owned = set(layer_names), {}
    for weight in weights:
        owner = next((p for p in weight.name.split("/")[:-1] if p in names), None)
        if owner is not None:
            owned.setdefault(owner, []).append(weight)
    return lambda spec: owned.get(spec.name, [])


def _tree(weights: list, file: Path):
    """weights_v3's Tree of a Keras 3 weights tree spelled as manifest names
    (`layers/sequential/layers/dense/vars/0`), which is what tensorflowjs's keras_keras
    converter writes: layers are then matched by class and position, as in a .keras file."""
    from ..keras import weights_v3

    tree = weights_v3.Tree.__new__(weights_v3.Tree)
    tree.groups, tree.vars, found = set(), {}, {}
    for weight in weights:
        match = _VAR.match(weight.name)
        if match is None:
            continue
        parts = weight.name.split("/")
        tree.groups.update("/".join(parts[:k]) for k in range(1, len(parts)))
        found.setdefault(match.group(1) or "", {})[int(match.group(2))] = weight
    for owner, by_index in found.items():
        if sorted(by_index) != list(range(len(by_index))):
            raise InputError(f"weights {owner}/vars are numbered with gaps ({sorted(by_index)})",
                             path=file)  # fmt: skip
        tree.vars[owner] = [by_index[i] for i in range(len(by_index))]
    return tree


# --- the weights -----------------------------------------------------------------------------


def read_weights(manifest: object, file: Path) -> list:
    """Every weight of the manifest (optimizer state aside) as a RawWeight, dequantized."""
    from ..keras.config import RawWeight

    if not isinstance(manifest, list):
        raise InputError("the TF.js model.json has no weightsManifest list", path=file)
    found, seen = [], set()
    for number, group in enumerate(manifest, 1):
        entries = group.get("weights") if isinstance(group, dict) else None
        paths = group.get("paths") if isinstance(group, dict) else None
        if not isinstance(entries, list) or not isinstance(paths, list):
            raise InputError(
                f"weightsManifest group {number} has no paths and weights lists", path=file
            )
        specs = [_spec(entry, file) for entry in entries]
        data = _group_bytes(paths, sum(s[3] for s in specs), number, file)
        offset = 0
        for entry, (name, shape, stored, size) in zip(entries, specs):
            if name in seen:
                raise InputError(f"the weightsManifest lists weight {name!r} twice", path=file)
            seen.add(name)
            raw = np.frombuffer(data, dtype=stored, count=math.prod(shape), offset=offset)
            offset += size
            if entry.get("group") == "optimizer":
                continue  # tfjs's includeOptimizer state: not the model's
            values = _dequantize(raw, entry, name, file).reshape(shape)
            found.append(RawWeight(name, name, values, str(values.dtype)))
    return found


def _spec(entry: object, file: Path) -> tuple[str, tuple[int, ...], np.dtype, int]:
    """A manifest entry's name, shape, stored dtype and byte count, checked."""
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise InputError("a weightsManifest entry has no name", path=file)
    name, shape, dtype = entry["name"], entry.get("shape"), entry.get("dtype")
    if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
        raise InputError(f"weight {name!r} has no valid shape ({shape!r})", path=file)
    quantization = entry.get("quantization")
    if quantization is not None:
        kind = quantization.get("dtype") if isinstance(quantization, dict) else None
        if kind not in QUANTIZED:
            raise UnsupportedModelError(
                f"weight {name!r} is quantized as {kind!r}; gate2xlsx reads {', '.join(QUANTIZED)}",
                path=file,
            )
        stored = np.dtype(QUANTIZED[kind])
    elif dtype in DTYPES:
        stored = np.dtype(DTYPES[dtype])
    else:
        raise UnsupportedModelError(
            f"weight {name!r} has dtype {dtype!r}; gate2xlsx reads {', '.join(DTYPES)} weights",
            path=file,
        )
    size = math.prod(shape) * stored.itemsize
    if size > MAX_WEIGHT_BYTES:
        raise UnsafeModelError(
            f"weight {name!r} of shape {shape} declares {size:,} bytes, more "
            f"than the {MAX_WEIGHT_BYTES:,} gate2xlsx reads",
            path=file,
        )
    return name, tuple(shape), stored, size


def _dequantize(raw: np.ndarray, entry: dict, name: str, file: Path) -> np.ndarray:
    """tfjs's decodeWeights: the affine of uint8 / uint16 in float64, float16 widened."""
    quantization, dtype = entry.get("quantization"), entry.get("dtype")
    if quantization is None:
        return raw.astype(raw.dtype.newbyteorder("="))
    if dtype not in ("float32", "int32") or (
        quantization["dtype"] == "float16" and dtype != "float32"
    ):
        raise UnsupportedModelError(
            f"weight {name!r}: {quantization['dtype']} quantization of "
            f"{dtype!r} values is not what tfjs writes",
            path=file,
        )
    if quantization["dtype"] == "float16":
        return raw.astype(np.float32)
    scale, low = quantization.get("scale"), quantization.get("min")
    if not all(isinstance(v, (int, float)) and np.isfinite(v) for v in (scale, low)):
        raise InputError(f"weight {name!r} is quantized without a numeric scale and min", path=file)
    values = raw.astype(np.float64) * float(scale) + float(low)
    return np.round(values).astype(np.int32) if dtype == "int32" else values.astype(np.float32)


def _group_bytes(paths: list, need: int, number: int, file: Path) -> bytes:
    """The first `need` bytes of the group's shards concatenated, each shard confined to the
    model's folder and the total checked before anything is read."""
    shards = [_shard(p, file) for p in paths]
    have = sum(s.stat().st_size for s in shards)
    if have < need:
        names = ", ".join(str(p) for p in paths) or "no shards"
        raise InputError(
            f"the weight shards of group {number} ({names}) hold {have:,} bytes; "
            f"its weights need {need:,} (a shard cut short?)",
            path=file,
        )
    parts, left = [], need
    for shard in shards:
        if left <= 0:
            break
        with open(shard, "rb") as handle:
            parts.append(handle.read(left))
        left -= len(parts[-1])
    data = b"".join(parts)
    if len(data) < need:  # the shard shrank while being read
        raise InputError(
            f"the weight shards of group {number} are shorter than they were", path=file
        )
    return data


def _shard(location: object, file: Path) -> Path:
    """A shard's file, refused unless it lies inside the model.json's folder."""
    where = f"the weightsManifest names the shard {location!r}"
    text = location if isinstance(location, str) else ""
    pure = PurePosixPath(text.replace("\\", "/"))
    if not text or pure.is_absolute() or os.path.isabs(text) or ":" in (pure.parts or ("",))[0]:
        raise UnsafeModelError(
            f"{where}, an absolute path or address; gate2xlsx reads shards "
            "only from the model's own folder",
            path=file,
        )
    if ".." in pure.parts:
        raise UnsafeModelError(
            f"{where}, which climbs out of the model's folder; gate2xlsx "
            "reads shards only from the model's own folder",
            path=file,
        )
    folder = file.parent.resolve()
    target = (file.parent / pure).resolve()
    if folder not in target.parents:
        raise UnsafeModelError(
            f"{where}, which leads outside the model's folder (a symbolic link)", path=file
        )
    if not target.is_file():
        raise InputError(
            f"{where}, which is missing (keep the shards beside model.json)", path=file
        )
    return target
