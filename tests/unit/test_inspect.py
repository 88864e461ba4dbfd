"""inspect: what an HDF5 viewer shows, checked against the files read with h5py/zipfile alone."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import FIXTURES, SAMPLES
from conftest import cli_exit as _run

import gate2xlsx
from gate2xlsx.app.inspection import SMALL, describe, render
from gate2xlsx.ir.families.dense import Dense
from gate2xlsx.ir.layer import Param
from gate2xlsx.ir.model import Model


def _datasets(handle: h5py.Group) -> dict[str, np.ndarray]:
    found: dict[str, np.ndarray] = {}
    handle.visititems(
        lambda name, node: (
            found.__setitem__(name, node[()]) if isinstance(node, h5py.Dataset) else None
        )
    )
    return found


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is not present")
    return path


def _keras_config_layers(path: Path) -> list[tuple[str, str]]:
    """(name, class) of the weighted and activation layers, from the file's own config."""
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
    return [
        (layer["config"]["name"], layer["class_name"])
        for layer in config["config"]["layers"]
        if layer["class_name"] != "InputLayer"
    ]


@pytest.mark.parametrize(
    "source, version",
    [
        (SAMPLES / "or.hdf", "2.15"),
        (FIXTURES / "keras2" / "seq_dense.h5", "2."),
        (FIXTURES / "keras3" / "acts_chain_b.h5", "3."),
    ],
)
def test_legacy_h5_layers_and_every_weight_as_stored(source, version, capsys):
    _need(source)
    assert _run(["inspect", str(source)]) == 0
    text = capsys.readouterr().out
    with h5py.File(source, "r") as handle:
        stored = _datasets(handle["model_weights"])
        names = [
            n.decode() if isinstance(n, bytes) else n
            for n in handle["model_weights"].attrs["layer_names"]
        ]
        keras_version = handle.attrs["keras_version"]
    keras_version = keras_version.decode() if isinstance(keras_version, bytes) else keras_version
    assert "Keras legacy HDF5" in text.splitlines()[0] and f"Keras {keras_version}" in text
    assert keras_version.startswith(version)
    for name in names:
        assert re.search(rf"^\d+\s+{re.escape(name)}\s", text, re.M), name
    total = sum(v.size for v in stored.values())
    assert f"{total:,} parameters" in text
    for path, values in stored.items():  # each dataset: its path, and its values exactly
        block = text.split(f"model_weights/{path}  ", 1)[1].split("\n\n", 1)[0]
        numbers = [
            float(t)
            for line in block.splitlines()[2:]
            for t in line.split()
            if not t.startswith("[")
        ]
        assert np.array_equal(np.float32(numbers), values.reshape(-1)), path


def test_keras3_archive_layers_from_its_config(capsys):
    source = _need(FIXTURES / "keras3" / "acts_chain_b_keras.keras")
    info = describe(source)
    with zipfile.ZipFile(source) as archive:
        version = json.loads(archive.read("metadata.json"))["keras_version"]
        with h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r") as handle:
            stored = _datasets(handle)
    assert info["keras_version"] == version and version.startswith("3.")
    assert [(layer["name"], layer["class"]) for layer in info["layers"]] == _keras_config_layers(
        source
    )
    assert info["params"] == sum(v.size for v in stored.values())
    by_path = {w["path"]: w for w in info["weights"]}
    for path, values in stored.items():
        assert np.array_equal(np.float32(by_path[path]["values"]), values), path
    assert _run(["inspect", "--json", str(source)]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(info))


def test_large_weights_are_summarised_unless_full(tmp_path, capsys):
    rng = np.random.default_rng(0)
    kernel = np.float32(rng.normal(size=(12, 10)))
    model = Model.chain(
        12, [Dense("wide", "Dense", Param(kernel, "model_weights/wide/wide/kernel:0"))]
    )
    path = gate2xlsx.save(model, tmp_path / "wide.h5")
    assert kernel.size > SMALL
    short = render(describe(path))
    assert (
        f"min {kernel.min():.6g}  max {kernel.max():.6g}  mean {kernel.astype(float).mean():.6g}"
        in short
    )
    assert str(kernel[5, 7]) not in short
    assert _run(["inspect", "--full", str(path)]) == 0
    full = capsys.readouterr().out
    assert all(str(v) in full for v in kernel.reshape(-1))


def test_unreadable_file_is_one_error_line(tmp_path, capsys):
    bad = tmp_path / "model.h5"
    bad.write_bytes(b"not a model")
    assert _run(["inspect", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and "model.h5" in err and "Traceback" not in err
