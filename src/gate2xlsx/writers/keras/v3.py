"""Keras 3's `.keras` archive: metadata.json, config.json and model.weights.h5 (weights under
`layers/<snake_case class>[_k]/vars/<i>`), plus gate2xlsx's description as one extra member."""

from __future__ import annotations

import datetime
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ...formats.keras_naming import snake_case
from ...ir import serialize
from ...ir.model import Model
from .graph import functional_config, graph_layers
from .layers import KerasLayer, keras_layers, model_name, unique

KERAS3_VERSION = "3.3.3"


def keras3_config(model: Model, layers: list[KerasLayer]) -> dict[str, Any]:
    """config.json of a Keras 3 Sequential (plain-string dtypes, as Keras 3.0-3.3 wrote them)."""
    width = model.n_inputs
    entries: list[dict[str, Any]] = [
        _k3(
            "InputLayer",
            {
                "batch_shape": [None, width],
                "dtype": "float32",
                "sparse": False,
                "name": unique("input_layer", layers),
            },
        )
    ]
    for layer in layers:
        cfg = {"name": layer.name, "trainable": True, "dtype": "float32", **layer.config}
        for key in ("kernel_initializer", "bias_initializer"):
            if key in cfg:
                cfg[key] = {"module": "keras.initializers", **cfg[key], "registered_name": None}
        if layer.class_name == "LeakyReLU":
            cfg["negative_slope"] = cfg.pop("alpha")
        entries.append(
            {**_k3(layer.class_name, cfg), "build_config": {"input_shape": [None, width]}}
        )
        width = int(layer.weights[0][1].shape[1]) if layer.class_name == "Dense" else width
    return {
        "module": "keras",
        "class_name": "Sequential",
        "config": {
            "name": model_name(model),
            "trainable": True,
            "dtype": "float32",
            "layers": entries,
        },
        "registered_name": None,
        "build_config": {"input_shape": [None, model.n_inputs]},
        "compile_config": None,
    }


def _k3(class_name: str, config: dict[str, Any]) -> dict[str, Any]:
    return {
        "module": "keras.layers",
        "class_name": class_name,
        "config": config,
        "registered_name": None,
    }


def _keras3_weights(layers: list[KerasLayer]) -> bytes:
    """model.weights.h5: `layers/<snake_case class>[_k]/vars/<i>` in layer order."""
    buffer = io.BytesIO()
    seen: dict[str, int] = {}
    with h5py.File(buffer, "w") as f:
        f.create_group("vars")
        group = f.create_group("layers")
        for layer in layers:
            base = snake_case(layer.class_name)
            key = base if base not in seen else f"{base}_{seen[base]}"
            seen[base] = seen.get(base, 0) + 1
            own = group.create_group(key).create_group("vars")
            own.attrs["name"] = layer.name
            counts: dict[str, int] = {}
            for name, values in layer.weights:  # `cell/kernel`: the sub-layer's vars
                sub = name.rpartition("/")[0]
                variables = group.require_group(f"{key}/{sub}/vars") if sub else own
                i = counts[sub] = counts.get(sub, -1) + 1
                variables.create_dataset(str(i), data=np.asarray(values, dtype=np.float32))
    return buffer.getvalue()


def write(model: Model, path: Path) -> None:
    """A Keras 3 `.keras` zip: metadata.json, config.json, model.weights.h5 (+ gate2xlsx.json)."""
    chain = model.as_chain()
    if chain is None:  # a Functional model: its InputLayers are layers too
        inputs = [KerasLayer("InputLayer", port.name, {}) for port in model.graph.inputs]
        layers = inputs + [gl.layer for gl in graph_layers(model, keras3=True)[0]]
        config = functional_config(model, keras3=True)
    else:
        layers = keras_layers(chain)
        config = keras3_config(model, layers)
    metadata = {
        "keras_version": KERAS3_VERSION,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.json", json.dumps(metadata))
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("model.weights.h5", _keras3_weights(layers))
        archive.writestr(serialize.KERAS_MEMBER, json.dumps(serialize.to_dict(model)))
