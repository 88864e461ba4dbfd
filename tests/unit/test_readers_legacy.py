"""Keras 1.0.x BatchNormalization, whose `running_std` meant a standard deviation before 1.0.6.

Files are built with h5py per the Keras 1 `save_weights` layout (root `layer_names`, weight names
`<layer>_<role>`) with the `to_json()` text beside them; the expected values are Keras 1's own
inference formulas written out in NumPy here, independent of the reader.
"""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

import gate2xlsx

EPS = 1e-3
RNG = np.random.default_rng(7)
W, B = RNG.normal(size=(3, 4)), RNG.normal(size=4)
GAMMA, BETA = RNG.uniform(0.5, 2, 4), RNG.normal(size=4)
MEAN, STAT = RNG.normal(size=4), RNG.uniform(0.2, 3, 4)  # STAT: the stored `running_std`


def write_keras1(folder, version: str):
    weights, arch = folder / "w.h5", folder / "model.json"
    with h5py.File(weights, "w") as f:
        f.attrs["layer_names"] = [b"dense_1", b"batchnormalization_1"]
        for layer, named in (
            ("dense_1", {"W": W, "b": B}),
            (
                "batchnormalization_1",
                {"gamma": GAMMA, "beta": BETA, "running_mean": MEAN, "running_std": STAT},
            ),
        ):
            group = f.create_group(layer)
            group.attrs["weight_names"] = [f"{layer}_{k}".encode() for k in named]
            for key, value in named.items():
                group.create_dataset(f"{layer}_{key}", data=value.astype("float32"))
    layers = [
        {
            "class_name": "Dense",
            "config": {
                "name": "dense_1",
                "output_dim": 4,
                "input_dim": 3,
                "activation": "linear",
                "bias": True,
                "batch_input_shape": [None, 3],
            },
        },
        {
            "class_name": "BatchNormalization",
            "config": {"name": "batchnormalization_1", "epsilon": EPS, "mode": 0, "axis": -1},
        },
    ]
    arch.write_text(
        json.dumps({"class_name": "Sequential", "config": layers, "keras_version": version})
    )
    return weights, arch


@pytest.mark.parametrize("version, meaning", [("1.0.4", "std"), ("1.2.2", "variance")])
def test_running_std_means_what_that_keras_version_stored(version, meaning, tmp_path):
    weights, arch = write_keras1(tmp_path, version)
    model = gate2xlsx.load(weights, architecture=arch)
    x = RNG.normal(size=(6, 3))
    h = x @ W.astype("float32").astype(float) + B.astype("float32")
    f32 = {
        k: v.astype("float32").astype(float)
        for k, v in {"g": GAMMA, "b": BETA, "m": MEAN, "s": STAT}.items()
    }
    if meaning == "std":  # Keras 1.0.0-1.0.5: (x - mean) / (std + epsilon)
        want = f32["g"] * (h - f32["m"]) / (f32["s"] + EPS) + f32["b"]
    else:  # 1.0.6 and later: the stored value is the variance
        want = f32["g"] * (h - f32["m"]) / np.sqrt(f32["s"] + EPS) + f32["b"]
    assert model.source.keras_version == version
    assert np.max(np.abs(model.forward(x) - want)) <= 1e-12
