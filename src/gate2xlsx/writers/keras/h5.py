"""tf.keras 2.15's legacy HDF5 (`model.save("x.h5")`): root attrs `model_config`,
`keras_version`, `backend`; `model_weights/<layer>/<layer>/kernel:0`. tf.keras 2.15 and Keras 3
both load it, and an HDF5 viewer shows the same matrices as the workbook."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ...ir import serialize
from ...ir.model import Model
from .graph import functional_config, graph_layers
from .layers import KerasLayer, keras_layers, model_name, unique

KERAS2_VERSION = "2.15.0"


def keras2_config(model: Model, layers: list[KerasLayer]) -> dict[str, Any]:
    """The `model_config` tf.keras 2.15 writes for a Sequential model."""
    shape = [None, model.n_inputs]
    entries: list[dict[str, Any]] = [
        {
            "class_name": "InputLayer",
            "config": {
                "batch_input_shape": shape,
                "dtype": "float32",
                "sparse": False,
                "ragged": False,
                "name": unique(f"{layers[0].name if layers else 'dense'}_input", layers),
            },
        }
    ]
    for i, layer in enumerate(layers):
        cfg: dict[str, Any] = {"name": layer.name, "trainable": True, "dtype": "float32"}
        if i == 0:
            cfg["batch_input_shape"] = shape
        entries.append({"class_name": layer.class_name, "config": {**cfg, **layer.config}})
    return {"class_name": "Sequential", "config": {"name": model_name(model), "layers": entries}}


def _bytes_list(names: list[str]) -> np.ndarray:
    """String lists the way Keras stores them: a fixed-length bytes array (empty -> float array)."""
    return np.array([n.encode("utf-8") for n in names]) if names else np.array([], dtype=np.float64)


def write(model: Model, path: Path) -> None:
    """tf.keras 2.15's `model.save("x.h5")` tree, plus gate2xlsx's description attribute."""
    chain = model.as_chain()
    if chain is None:  # a Functional model
        layers = [gl.layer for gl in graph_layers(model)[0]]
        config = functional_config(model, keras3=False)
    else:
        layers = keras_layers(chain)
        config = keras2_config(model, layers)
    with h5py.File(path, "w") as f:
        f.attrs["backend"] = "tensorflow"
        f.attrs["keras_version"] = KERAS2_VERSION
        f.attrs["model_config"] = json.dumps(config).encode("utf-8")
        f.attrs[serialize.H5_ATTRIBUTE] = json.dumps(serialize.to_dict(model)).encode("utf-8")
        root = f.create_group("model_weights")
        root.attrs["backend"] = "tensorflow"
        root.attrs["keras_version"] = KERAS2_VERSION
        root.attrs["layer_names"] = _bytes_list([layer.name for layer in layers])
        for layer in layers:
            group = root.create_group(layer.name)
            names = [f"{layer.name}/{key}:0" for key, _ in layer.weights]
            group.attrs["weight_names"] = _bytes_list(names)
            for name, (_, values) in zip(names, layer.weights):
                group.create_dataset(
                    name, data=np.asarray(values, dtype=np.float32), track_times=False
                )
        root.create_group("top_level_model_weights").attrs["weight_names"] = _bytes_list([])
