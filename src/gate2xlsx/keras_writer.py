"""Model -> files Keras itself loads: legacy HDF5 (.h5/.hdf/.hdf5), a Keras 3 archive (.keras),
or plain NumPy arrays plus the architecture (.npz).

The HDF5 tree is the one tf.keras 2.15's `model.save` writes (root attrs `model_config`,
`keras_version`, `backend`; `model_weights/<layer>/<layer>/kernel:0`), so tf.keras 2.15 and
Keras 3 both load it and an HDF5 viewer shows the same matrices. gate2xlsx's own description
(training data, gate name, class names) rides along as one extra attribute / archive member
that Keras ignores. Every file is written beside its target and renamed into place, so a
failure never leaves half a file.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from . import serialize
from .errors import OutputError, UnsupportedModelError
from .model import Act, Activation, BatchNorm, Dense, Identity, Layer, Model, PReLU, Rescaling
from .readers.extras import EXTRA_ATTR, EXTRA_MEMBER
from .readers.npz import ARCHITECTURE as NPZ_ARCHITECTURE

KERAS2_VERSION = "2.15.0"
KERAS3_VERSION = "3.3.3"
H5_SUFFIXES = (".h5", ".hdf", ".hdf5")
# Activation strings both tf.keras 2.15 and Keras 3 resolve (parameter-free forms only).
PORTABLE_ACTIVATIONS = {"linear", "relu", "sigmoid", "tanh", "softmax", "elu", "selu", "softplus",
                        "softsign", "exponential", "silu", "gelu", "mish", "log_softmax"}
# Activations a Keras layer class expresses (LeakyReLU, ReLU, ELU, ThresholdedReLU).
LAYER_ACTIVATIONS = {"leaky_relu", "relu6", "relu", "elu", "thresholded_relu"}
_KERAS_NAMES = {"silu": "swish"}      # tf.keras 2.15 knows "swish"; Keras 3 accepts both


@dataclass
class KerasLayer:
    """One Keras layer to write: class, config (without name/dtype/input shape), weights in order."""

    class_name: str
    name: str
    config: dict[str, Any]
    weights: list[tuple[str, np.ndarray]] = field(default_factory=list)


def save(model: Model, path: str | os.PathLike) -> Path:
    """Write `model` in the format its extension names (.h5/.hdf/.hdf5, .keras or .npz)."""
    path = Path(path)
    suffix = path.suffix.lower()
    writers: dict[str, Callable[[Model, Path], None]] = {
        **{s: write_h5 for s in H5_SUFFIXES}, ".keras": write_keras, ".npz": write_npz}
    if suffix not in writers:
        raise OutputError(f"cannot save a model as {suffix or 'a file without extension'}; "
                          "use .h5, .hdf, .hdf5, .keras or .npz", path=path)
    _atomic(path, lambda tmp: writers[suffix](model, tmp))
    return path


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    if not path.parent.is_dir():
        raise OutputError("the folder does not exist", path=path)
    fd, name = tempfile.mkstemp(prefix=".~" + path.stem, suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"cannot write ({exc.strerror or exc})", path=path) from None
    finally:
        tmp.unlink(missing_ok=True)


# --- IR -> Keras layers ---------------------------------------------------------------------

def keras_layers(model: Model) -> list[KerasLayer]:
    """The model's layers as Keras layer classes and configs; refuses what Keras cannot say."""
    return [out for layer in model.layers for out in _keras_layer(layer)]


def _keras_layer(layer: Layer) -> list[KerasLayer]:
    if isinstance(layer, Dense):
        return _dense(layer)
    single = _single_layer(layer)
    return [] if single is None else [single]


def _dense(layer: Dense) -> list[KerasLayer]:
    """A Dense layer; an activation no Keras string names (leaky_relu, relu6) follows as its layer."""
    act, after = layer.activation, []
    if not (act.name in PORTABLE_ACTIVATIONS and _default_params(act)):
        if act.name not in LAYER_ACTIVATIONS:
            raise _unsupported(layer, f"activation {act.name}{act.kwargs or ''}")
        follow = _activation_layer(Activation(f"{layer.name}_activation", "Activation", act))
        after, act = [follow], Act("linear")
    weights = [(k, p.values) for k, p in layer.weights().items()]
    return [KerasLayer("Dense", layer.name, {"units": int(layer.kernel.values.shape[1]),
                                             "activation": _activation_string(layer, act),
                                             "use_bias": layer.bias is not None,
                                             **_DENSE_DEFAULTS}, weights), *after]


def _single_layer(layer: Layer) -> KerasLayer | None:
    if isinstance(layer, Activation):
        return _activation_layer(layer)
    if isinstance(layer, BatchNorm):
        cfg = {"axis": -1, "momentum": 0.99, "epsilon": float(layer.epsilon),
               "center": layer.beta is not None, "scale": layer.gamma is not None}
        return KerasLayer("BatchNormalization", layer.name, cfg,
                          [(k, p.values) for k, p in layer.weights().items()])
    if isinstance(layer, PReLU):
        return KerasLayer("PReLU", layer.name, {"shared_axes": None},
                          [("alpha", layer.alpha.values.reshape(-1))])
    if isinstance(layer, Rescaling):
        return KerasLayer("Rescaling", layer.name, {"scale": layer.scale, "offset": layer.offset})
    if isinstance(layer, Identity):
        if layer.class_name == "InputLayer":
            return None
        if layer.class_name == "Flatten":
            return KerasLayer("Flatten", layer.name, {"data_format": "channels_last"})
        return KerasLayer("Dropout", layer.name, {"rate": 0.0, "noise_shape": None, "seed": None})
    raise _unsupported(layer, "its kind")


_DENSE_DEFAULTS: dict[str, Any] = {
    "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
    "bias_initializer": {"class_name": "Zeros", "config": {}},
    "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
    "kernel_constraint": None, "bias_constraint": None}


def _activation_string(layer: Layer, act: Any) -> str:
    if act.name in PORTABLE_ACTIVATIONS and _default_params(act):
        return _KERAS_NAMES.get(act.name, act.name)
    raise _unsupported(layer, f"activation {act.name}{act.kwargs or ''}")


def _default_params(act: Any) -> bool:
    from . import activations
    defaults = activations.get(act.name).defaults
    return all(defaults.get(k) == v for k, v in act.kwargs.items())


def _activation_layer(layer: Activation) -> KerasLayer:
    act, kw = layer.activation, layer.activation.kwargs
    if act.name == "leaky_relu":
        return KerasLayer("LeakyReLU", layer.name, {"alpha": float(kw.get("alpha", 0.3))})
    if act.name == "thresholded_relu":
        return KerasLayer("ThresholdedReLU", layer.name, {"theta": float(kw.get("theta", 1.0))})
    if act.name == "elu" and not _default_params(act):
        return KerasLayer("ELU", layer.name, {"alpha": float(kw["alpha"])})
    if act.name == "relu6":
        return KerasLayer("ReLU", layer.name, {"max_value": 6.0, "negative_slope": 0.0, "threshold": 0.0})
    if act.name == "relu" and not _default_params(act):
        return KerasLayer("ReLU", layer.name, {"max_value": kw.get("max_value"),
                                               "negative_slope": float(kw.get("negative_slope") or 0.0),
                                               "threshold": float(kw.get("threshold") or 0.0)})
    return KerasLayer("Activation", layer.name, {"activation": _activation_string(layer, act)})


def _unsupported(layer: Layer, what: str) -> UnsupportedModelError:
    return UnsupportedModelError(
        f"layer {layer.name!r} ({layer.class_name or type(layer).__name__}): {what} cannot be saved "
        "as a Keras file; supported: Dense, Activation, LeakyReLU, ReLU, ELU, ThresholdedReLU, "
        f"BatchNormalization, PReLU, Rescaling, Dropout, Flatten with activations "
        f"{', '.join(sorted(PORTABLE_ACTIVATIONS))}")


# --- tf.keras 2.15 legacy HDF5 --------------------------------------------------------------

def keras2_config(model: Model, layers: list[KerasLayer]) -> dict[str, Any]:
    """The `model_config` tf.keras 2.15 writes for a Sequential model."""
    shape = [None, model.n_inputs]
    entries: list[dict[str, Any]] = [{"class_name": "InputLayer", "config": {
        "batch_input_shape": shape, "dtype": "float32", "sparse": False, "ragged": False,
        "name": _unique(f"{layers[0].name if layers else 'dense'}_input", layers)}}]
    for i, layer in enumerate(layers):
        cfg: dict[str, Any] = {"name": layer.name, "trainable": True, "dtype": "float32"}
        if i == 0:
            cfg["batch_input_shape"] = shape
        entries.append({"class_name": layer.class_name, "config": {**cfg, **layer.config}})
    return {"class_name": "Sequential", "config": {"name": _model_name(model), "layers": entries}}


def _unique(name: str, layers: list[KerasLayer]) -> str:
    taken = {layer.name for layer in layers}
    while name in taken:
        name += "_"
    return name


def _model_name(model: Model) -> str:
    return "".join(c if c.isalnum() or c == "_" else "_" for c in model.name) or "sequential"


def _bytes_list(names: list[str]) -> np.ndarray:
    """String lists the way Keras stores them: a fixed-length bytes array (empty -> float array)."""
    return np.array([n.encode("utf-8") for n in names]) if names else np.array([], dtype=np.float64)


def write_h5(model: Model, path: Path) -> None:
    """tf.keras 2.15's `model.save("x.h5")` tree, plus gate2xlsx's description attribute."""
    layers = keras_layers(model)
    with h5py.File(path, "w") as f:
        f.attrs["backend"] = "tensorflow"
        f.attrs["keras_version"] = KERAS2_VERSION
        f.attrs["model_config"] = json.dumps(keras2_config(model, layers)).encode("utf-8")
        f.attrs[EXTRA_ATTR] = json.dumps(serialize.to_dict(model)).encode("utf-8")
        root = f.create_group("model_weights")
        root.attrs["backend"] = "tensorflow"
        root.attrs["keras_version"] = KERAS2_VERSION
        root.attrs["layer_names"] = _bytes_list([layer.name for layer in layers])
        for layer in layers:
            group = root.create_group(layer.name)
            names = [f"{layer.name}/{key}:0" for key, _ in layer.weights]
            group.attrs["weight_names"] = _bytes_list(names)
            for name, (_, values) in zip(names, layer.weights):
                group.create_dataset(name, data=np.asarray(values, dtype=np.float32))
        root.create_group("top_level_model_weights").attrs["weight_names"] = _bytes_list([])


# --- Keras 3 archive ------------------------------------------------------------------------

def keras3_config(model: Model, layers: list[KerasLayer]) -> dict[str, Any]:
    """config.json of a Keras 3 Sequential (plain-string dtypes, as Keras 3.0-3.3 wrote them)."""
    width = model.n_inputs
    entries: list[dict[str, Any]] = [_k3("InputLayer", {
        "batch_shape": [None, width], "dtype": "float32", "sparse": False,
        "name": _unique("input_layer", layers)})]
    for layer in layers:
        cfg = {"name": layer.name, "trainable": True, "dtype": "float32", **layer.config}
        for key in ("kernel_initializer", "bias_initializer"):
            if key in cfg:
                cfg[key] = {"module": "keras.initializers", **cfg[key], "registered_name": None}
        if layer.class_name == "LeakyReLU":
            cfg["negative_slope"] = cfg.pop("alpha")
        entries.append({**_k3(layer.class_name, cfg), "build_config": {"input_shape": [None, width]}})
        width = int(layer.weights[0][1].shape[1]) if layer.class_name == "Dense" else width
    return {"module": "keras", "class_name": "Sequential",
            "config": {"name": _model_name(model), "trainable": True, "dtype": "float32",
                       "layers": entries},
            "registered_name": None, "build_config": {"input_shape": [None, model.n_inputs]},
            "compile_config": None}


def _k3(class_name: str, config: dict[str, Any]) -> dict[str, Any]:
    return {"module": "keras.layers", "class_name": class_name, "config": config,
            "registered_name": None}


def _keras3_weights(layers: list[KerasLayer]) -> bytes:
    """model.weights.h5: `layers/<snake_case class>[_k]/vars/<i>` in layer order."""
    buffer = io.BytesIO()
    seen: dict[str, int] = {}
    with h5py.File(buffer, "w") as f:
        f.create_group("vars")
        group = f.create_group("layers")
        for layer in layers:
            base = _snake(layer.class_name)
            key = base if base not in seen else f"{base}_{seen[base]}"
            seen[base] = seen.get(base, 0) + 1
            variables = group.create_group(key).create_group("vars")
            variables.attrs["name"] = layer.name
            for i, (_, values) in enumerate(layer.weights):
                variables.create_dataset(str(i), data=np.asarray(values, dtype=np.float32))
    return buffer.getvalue()


def _snake(name: str) -> str:
    """Keras 3's naming.to_snake_case, which names the weight groups."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def write_keras(model: Model, path: Path) -> None:
    """A Keras 3 `.keras` zip: metadata.json, config.json, model.weights.h5 (+ gate2xlsx.json)."""
    layers = keras_layers(model)
    metadata = {"keras_version": KERAS3_VERSION,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.json", json.dumps(metadata))
        archive.writestr("config.json", json.dumps(keras3_config(model, layers)))
        archive.writestr("model.weights.h5", _keras3_weights(layers))
        archive.writestr(EXTRA_MEMBER, json.dumps(serialize.to_dict(model)))


# --- plain arrays ---------------------------------------------------------------------------

def write_npz(model: Model, path: Path) -> None:
    """Arrays keyed "<layer index>/<weight>" plus the architecture JSON as a unicode array."""
    arrays = {key: np.asarray(v) for key, v in serialize.weights_of(model).items()}
    arrays[NPZ_ARCHITECTURE] = np.array(json.dumps(serialize.to_dict(model)))
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)
