"""TensorFlow.js layers models (tests/fixtures/tfjs/, generate_tfjs.py): read whole from the
folder or its model.json, each computing Keras's stored predictions; quantized weights
dequantized as tfjs does; shards confined to the model's folder; every refusal one line."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import cli_exit

import gate2xlsx
from gate2xlsx.errors import InputError, UnsafeModelError, UnsupportedModelError
from gate2xlsx.readers import kind_of
from gate2xlsx.readers.tensorflow import tfjs

TFJS = Path(__file__).resolve().parents[1] / "fixtures" / "tfjs"
ENTRIES = json.loads((TFJS / "manifest.json").read_text())
REFUSED = {"graph_cnn"}  # a graph model that is no dense chain
COMPUTED = [e for e in ENTRIES if e["name"] not in REFUSED]
LAYERS = [e for e in COMPUTED if e["format"] == "layers-model"]
KERAS_TOL = 1e-5


def scaled_error(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want))))


def expected(entry: dict) -> dict[str, np.ndarray]:
    with np.load(TFJS / entry["expected"], allow_pickle=False) as data:
        return dict(data)


@pytest.mark.parametrize("given", ["folder", "model.json"])
@pytest.mark.parametrize("entry", COMPUTED, ids=[e["name"] for e in COMPUTED])
def test_fixture_computes_keras_predictions(entry, given):
    folder = TFJS / entry["folder"]
    target = tfjs.model_json_of(folder) if given == "model.json" else folder
    model, data = gate2xlsx.load(target), expected(entry)
    assert scaled_error(model.forward(data["x"]), data["y"]) <= KERAS_TOL
    if entry["format"] == "graph-model":
        assert model.source.format == "TensorFlow.js graph model"
        assert [layer.activation.name for layer in model.layers] == ["relu", "tanh", "softmax"]
        return
    assert model.source.format == "TensorFlow.js layers model"
    version = {"browser": "tfjs-layers 4.22.0", "k3": "3.15.1"}  # tfjs-layers's own; Keras 3's
    assert model.source.keras_version == version.get(entry["name"].split("_")[0], "2.15.0")


@pytest.mark.parametrize("entry", COMPUTED, ids=[e["name"] for e in COMPUTED])
def test_same_network_as_its_h5(entry):
    """The Keras .h5 beside each folder holds the same weights (the quantized model's
    dequantized ones): both readers give the same forward pass."""
    data = expected(entry)
    from_tfjs, from_h5 = gate2xlsx.load(TFJS / entry["folder"]), gate2xlsx.load(TFJS / entry["h5"])
    assert np.array_equal(from_tfjs.forward(data["x"]), from_h5.forward(data["x"]))
    assert from_tfjs.name == from_h5.name


def test_kinds():
    assert kind_of(TFJS / "or_dense") == "tfjs"
    assert (
        tfjs.model_json_of(TFJS / "browser_dense") == TFJS / "browser_dense" / "browser_dense.json"
    )
    assert kind_of(TFJS / "or_dense" / "model.json") == "tfjs"
    assert kind_of(TFJS / "graph_dense") == "tfjs"
    assert kind_of(TFJS / "or_dense.h5") == "hdf5"
    assert not tfjs.is_tfjs(TFJS)  # the fixtures' folder holds no model.json itself


def test_detection_by_content(tmp_path):
    """Any name; parsed when small, its first and last MiB searched when large; an
    architecture alone (modelTopology without weightsManifest) stays a JSON file."""
    renamed = tmp_path / "mymodel.json"
    shutil.copy(TFJS / "or_dense" / "model.json", renamed)
    assert tfjs.is_tfjs(renamed)
    doc = json.loads(renamed.read_text())
    arch = tmp_path / "arch.json"
    arch.write_text(json.dumps({"modelTopology": doc["modelTopology"]}))
    assert not tfjs.is_tfjs(arch) and kind_of(arch) == "json"
    big = tmp_path / "big.json"
    doc["userDefinedMetadata"] = {"padding": "x" * (5 << 20)}
    big.write_text(json.dumps(doc))
    assert tfjs.is_tfjs(big)
    broken = tmp_path / "broken.json"
    broken.write_text(renamed.read_text()[:-40])
    assert tfjs.is_tfjs(broken)  # a damaged model.json is still one: read() says what is wrong
    other = tmp_path / "other.json"
    other.write_text('{"weights": [1, 2]}')
    assert not tfjs.is_tfjs(other)


def test_folder_detection(tmp_path):
    """A folder is a TF.js model when its model.json is one, or when its only .json is one
    (a browser download); an architecture saved as model.json beside weights is not."""
    folder = tmp_path / "arch"
    folder.mkdir()
    doc = json.loads((TFJS / "or_dense" / "model.json").read_text())
    (folder / "model.json").write_text(json.dumps(doc["modelTopology"]["model_config"]))
    assert kind_of(folder) is None
    two = Path(shutil.copytree(TFJS / "browser_dense", tmp_path / "two"))
    shutil.copy(two / "browser_dense.json", two / "copy.json")
    assert kind_of(two) is None


def test_architecture_option_still_takes_a_model_json():
    """--architecture MODEL.json keeps reading a TF.js model.json's topology."""
    model = gate2xlsx.load(TFJS / "or_dense.h5", architecture=TFJS / "or_dense" / "model.json")
    data = expected(LAYERS[0])
    assert scaled_error(model.forward(data["x"]), data["y"]) <= KERAS_TOL


# --- quantization, by hand ----------------------------------------------------------------


def _hand_made(folder: Path, weights: list[tuple[dict, bytes]]) -> Path:
    """The OR network's topology with the given manifest entries and bytes."""
    folder.mkdir()
    doc = json.loads((TFJS / "or_dense" / "model.json").read_text())
    doc["weightsManifest"] = [{"paths": ["w.bin"], "weights": [w for w, _ in weights]}]
    (folder / "model.json").write_text(json.dumps(doc))
    (folder / "w.bin").write_bytes(b"".join(b for _, b in weights))
    return folder


def test_dequantized_as_tfjs_does(tmp_path):
    """uint8: q * scale + min in float64, rounded to float32; uint16 likewise; float16
    widened. The kernel's bytes stand after the bias's: matched by name, not by order."""
    q = np.array([0, 1, 128, 255], dtype=np.uint8)
    scale, low = 0.0123456789, -1.5
    bias = np.array([0.25, -1.0], dtype=np.float16)
    folder = _hand_made(tmp_path / "q", [
        ({"name": "dense/bias", "shape": [2], "dtype": "float32",
          "quantization": {"dtype": "float16", "original_dtype": "float32"}}, bias.tobytes()),
        ({"name": "dense/kernel", "shape": [2, 2], "dtype": "float32",
          "quantization": {"dtype": "uint8", "scale": scale, "min": low}}, q.tobytes()),
    ])  # fmt: skip
    dense = gate2xlsx.load(folder).layers[0]
    want = (q.astype(np.float64) * scale + low).astype(np.float32).reshape(2, 2)
    assert np.array_equal(np.asarray(dense.kernel.values), want)
    assert np.array_equal(np.asarray(dense.bias.values), bias.astype(np.float32))
    u16 = np.array([0, 65535, 3, 40000], dtype="<u2")
    folder = _hand_made(tmp_path / "q16", [
        ({"name": "dense/kernel", "shape": [2, 2], "dtype": "float32",
          "quantization": {"dtype": "uint16", "scale": 1e-4, "min": -2.0}}, u16.tobytes()),
        ({"name": "dense/bias", "shape": [2], "dtype": "float32"},
         np.array([1, 2], "<f4").tobytes()),
    ])  # fmt: skip
    kernel = np.asarray(gate2xlsx.load(folder).layers[0].kernel.values)
    assert np.array_equal(kernel, (u16 * 1e-4 - 2.0).astype(np.float32).reshape(2, 2))


# --- refusals, each one line ----------------------------------------------------------------


def _copy(tmp_path: Path, name: str = "or_dense") -> Path:
    return Path(shutil.copytree(TFJS / name, tmp_path / name))


def _manifest_paths(folder: Path, paths: list[str]) -> None:
    doc = json.loads((folder / "model.json").read_text())
    doc["weightsManifest"][0]["paths"] = paths
    (folder / "model.json").write_text(json.dumps(doc))


def _refused(target: Path, error: type, *words: str) -> str:
    with pytest.raises(error) as caught:
        gate2xlsx.load(target)
    message = str(caught.value)
    assert "\n" not in message and "model.json" in message, message
    for word in words:
        assert word in message, message
    return message


@pytest.mark.parametrize(
    "location,words",
    [
        ("../outside.bin", ["climbs out"]),
        ("/etc/hostname", ["absolute"]),
        ("https://example.invalid/w.bin", ["absolute path or address"]),
        ("..\\outside.bin", ["climbs out"]),
    ],
)
def test_shard_outside_the_folder_is_refused(tmp_path, location, words):
    folder = _copy(tmp_path)
    (tmp_path / "outside.bin").write_bytes(b"\0" * 64)
    _manifest_paths(folder, [location])
    _refused(folder, UnsafeModelError, *words)


def test_symlink_leading_out_is_refused(tmp_path):
    folder = _copy(tmp_path)
    outside = tmp_path / "elsewhere.bin"
    shutil.move(folder / "group1-shard1of1.bin", outside)
    os.symlink(outside, folder / "group1-shard1of1.bin")
    _refused(folder, UnsafeModelError, "symbolic link")


def test_missing_and_short_shards(tmp_path):
    folder = _copy(tmp_path)
    shard = folder / "group1-shard1of1.bin"
    data = shard.read_bytes()
    shard.write_bytes(data[:-4])
    _refused(folder, InputError, f"hold {len(data) - 4:,} bytes", f"need {len(data):,}")
    shard.unlink()
    _refused(folder / "model.json", InputError, "group1-shard1of1.bin", "missing")


def test_a_shard_of_two_missing(tmp_path):
    folder = _copy(tmp_path, "cnn_pool")
    (folder / "group1-shard2of2.bin").unlink()
    _refused(folder, InputError, "group1-shard2of2.bin", "missing")


def test_graph_model_named_for_what_it_is(tmp_path):
    """A graph model that is no dense chain (a CNN's _FusedConv2D) says what it is."""
    message = _refused(TFJS / "graph_cnn", UnsupportedModelError, "TF.js graph model")
    assert "SavedModel" in message and "dense chains only" in message
    assert "_FusedConv2D" in message


def _first(nodes: list[dict], op: str) -> dict:
    return next(n for n in nodes if n["op"] == op)


@pytest.mark.parametrize(
    "edit,words",
    [
        (lambda nodes: _first(nodes, "Softmax").update(op="Erf"), ["is a Erf"]),
        (lambda nodes: nodes.append({"name": "x2", "op": "Placeholder"}), ["2 inputs"]),
        (lambda nodes: _first(nodes, "_FusedMatMul")["attr"].update(transpose_a={"b": True}),
         ["transposes"]),
    ],
)  # fmt: skip
def test_graph_model_off_the_chain(tmp_path, edit, words):
    """Anything a dense chain would not hold is refused in one line naming the op."""
    folder = _copy(tmp_path, "graph_dense")
    doc = json.loads((folder / "model.json").read_text())
    edit(doc["modelTopology"]["node"])
    (folder / "model.json").write_text(json.dumps(doc))
    _refused(folder, UnsupportedModelError, "TF.js graph model", *words)


def test_corrupt_json(tmp_path):
    folder = _copy(tmp_path)
    (folder / "model.json").write_text((TFJS / "or_dense" / "model.json").read_text()[:-40])
    _refused(folder, InputError, "not valid JSON")


@pytest.mark.parametrize("dtype", ["complex64", "string", "float64"])
def test_unknown_dtype(tmp_path, dtype):
    folder = _copy(tmp_path)
    doc = json.loads((folder / "model.json").read_text())
    doc["weightsManifest"][0]["weights"][0]["dtype"] = dtype
    (folder / "model.json").write_text(json.dumps(doc))
    _refused(folder, UnsupportedModelError, repr(dtype))


def test_unknown_quantization_and_bad_shape(tmp_path):
    folder = _copy(tmp_path)
    doc = json.loads((folder / "model.json").read_text())
    doc["weightsManifest"][0]["weights"][0]["quantization"] = {"dtype": "int4"}
    (folder / "model.json").write_text(json.dumps(doc))
    _refused(folder, UnsupportedModelError, "'int4'")
    doc["weightsManifest"][0]["weights"][0].pop("quantization")
    doc["weightsManifest"][0]["weights"][0]["shape"] = [2, -1]
    (folder / "model.json").write_text(json.dumps(doc))
    _refused(folder, InputError, "shape")


def test_weights_of_another_model(tmp_path):
    """A manifest whose names match no layer: the layer that needs weights says so."""
    folder = _copy(tmp_path)
    doc = json.loads((folder / "model.json").read_text())
    for weight in doc["weightsManifest"][0]["weights"]:
        weight["name"] = weight["name"].replace("dense/", "other/")
    (folder / "model.json").write_text(json.dumps(doc))
    _refused(folder, InputError, "'dense'")


def test_command_line_says_one_error_line(tmp_path, capsys):
    folder = _copy(tmp_path)
    (folder / "group1-shard1of1.bin").unlink()
    assert cli_exit([str(folder), "-o", str(tmp_path / "out.xlsx")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("Error: ") and "missing" in err[0], err
    assert not (tmp_path / "out.xlsx").exists()


def test_command_line_exports_a_folder(tmp_path):
    book = tmp_path / "or.xlsx"
    assert cli_exit([str(TFJS / "or_dense"), "-o", str(book), "--quiet"]) == 0
    assert book.stat().st_size > 0


def test_keras3_tree_names_with_a_gap(tmp_path):
    """tensorflowjs's Keras 3 path names weights by tree (`layers/dense/vars/1`); a gap in a
    layer's numbering is refused in one line."""
    folder = _copy(tmp_path, "k3_nested_seq_in_func")
    doc = json.loads((folder / "model.json").read_text())
    weight = doc["weightsManifest"][0]["weights"][1]
    weight["name"] = weight["name"].replace("vars/1", "vars/5")
    (folder / "model.json").write_text(json.dumps(doc))
    _refused(folder, InputError, "gaps")


def _with_flatten(folder: Path, width: int) -> None:
    """graph_dense with a Keras Flatten of its flat input in front: Reshape to [-1, width],
    the shape an int32 constant appended to the shard, as the converter stores it."""
    doc = json.loads((folder / "model.json").read_text())
    nodes = doc["modelTopology"]["node"]
    first = next(n for n in nodes if n["op"] == "_FusedMatMul")
    nodes.append({"name": "flatten/Const", "op": "Const", "attr": {"dtype": {"type": "DT_INT32"}}})
    nodes.append({"name": "flatten/Reshape", "op": "Reshape",
                  "input": [first["input"][0], "flatten/Const"]})  # fmt: skip
    first["input"][0] = "flatten/Reshape"
    doc["weightsManifest"][0]["weights"].append({"name": "flatten/Const", "shape": [2],
                                                 "dtype": "int32"})  # fmt: skip
    (folder / "model.json").write_text(json.dumps(doc))
    with open(folder / doc["weightsManifest"][0]["paths"][-1], "ab") as shard:
        shard.write(np.array([-1, width], "<i4").tobytes())


def test_a_graph_models_flatten_of_a_flat_input_computes(tmp_path):
    folder = tmp_path / "graph_flat"
    shutil.copytree(TFJS / "graph_dense", folder)
    _with_flatten(folder, 3)
    data = np.load(TFJS / "graph_dense.expected.npz")
    assert np.abs(gate2xlsx.load(folder).forward(data["x"]) - data["y"]).max() < 1e-5
    _with_flatten(shutil.copytree(TFJS / "graph_dense", tmp_path / "wrong"), 4)
    with pytest.raises(UnsupportedModelError, match=r"Reshape to \[-1, 4\] meets a tensor"):
        gate2xlsx.load(tmp_path / "wrong")
