"""NumPy networks (readers/arrays.py) and the objects `gate2xlsx.load` takes (readers/live.py),
without a spreadsheet engine: each Model is held against a forward pass written here with
NumPy alone, never against the Model's own."""

from __future__ import annotations

import sys
import types
from collections import OrderedDict

import numpy as np
import pytest

import gate2xlsx
from gate2xlsx.errors import Gate2XlsxError, InputError, UnsupportedModelError
from gate2xlsx.readers import kind_of
from gate2xlsx.readers.live import framework_of

RNG = np.random.default_rng(27)
W1, b1, W2, b2 = (
    RNG.normal(size=(2, 3)),
    RNG.normal(size=3),
    RNG.normal(size=(3, 2)),
    RNG.normal(size=2),
)
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1], [0.5, -2.0]])


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def by_hand(x: np.ndarray) -> np.ndarray:
    """The classic from-scratch network: tanh(x @ W1 + b1) @ W2 + b2, then softmax."""
    return softmax(np.tanh(x @ W1 + b1) @ W2 + b2)


def test_four_arrays_in_a_list():
    model = gate2xlsx.load([W1, b1, W2, b2], activations=["tanh", "softmax"])
    assert [layer.name for layer in model.layers] == ["dense_1", "dense_2"]
    assert np.abs(model.forward(X) - by_hand(X)).max() < 1e-12
    assert "(in, out)" in model.source.format


def test_a_dict_keeps_its_names_and_order():
    model = gate2xlsx.load({"W1": W1, "b1": b1, "W2": W2, "b2": b2}, activations="tanh,softmax")
    assert [p.path for layer in model.layers for p in layer.weights().values()] == [
        "W1", "b1", "W2", "b2"]  # fmt: skip
    assert np.abs(model.forward(X) - by_hand(X)).max() < 1e-12


def test_state_dict_names_mean_torch_orientation():
    state = OrderedDict([("fc1.weight", W1.T), ("fc1.bias", b1), ("fc2.weight", W2.T),
                         ("fc2.bias", b2)])  # fmt: skip
    model = gate2xlsx.load(state, activations=["tanh", "softmax"])
    assert np.abs(model.forward(X) - by_hand(X)).max() < 1e-12
    assert "(out, in), transposed" in model.layers[0].kernel.path
    assert "state_dict" in model.source.format


def test_a_bias_may_be_missing():
    model = gate2xlsx.load([W1, W2, b2], activations=["relu", "sigmoid"])
    want = 1 / (1 + np.exp(-(np.maximum(X @ W1, 0) @ W2 + b2)))
    assert model.layers[0].bias is None
    assert np.abs(model.forward(X) - want).max() < 1e-12


@pytest.mark.parametrize(
    "arrays,activations,words",
    [
        ([W1, b1, W1], ["tanh", "softmax"], "do not chain: 'W1' gives 3 outputs but 'W2' takes 2"),
        ([W1, b2], ["tanh"], "bias 'b1' has 2 values but 'W1' gives 3 outputs"),
        ([b1, W1], ["tanh"], "is a bias with no weight matrix before it"),
        ([W1, b1, W2, b2], ["tanh"], "1 activation(s) given (tanh) for 2 layer(s)"),
        ([W1, b1, W2, b2], ["tanh", "softmaxx"], "activation 'softmaxx' is not one"),
        ([np.zeros((2, 2, 2))], ["tanh"], "is 2 x 2 x 2"),
        ({"fc.weight": W1.T, "bn.running_mean": b1}, ["tanh"], "'bn.running_mean' beside"),
        ([np.array(["a", "b"])], ["tanh"], "holds <U1 values, not numbers"),
    ],
)
def test_refusals_name_the_arrays(arrays, activations, words):
    with pytest.raises(Gate2XlsxError) as caught:
        gate2xlsx.load(arrays, activations=activations)
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)


def test_arrays_without_activations_list_what_was_found():
    with pytest.raises(InputError, match=r"W1 2 x 3, b1 3, W2 3 x 2, b2 2\) say nothing"):
        gate2xlsx.load([W1, b1, W2, b2])


def test_savez_file_both_orientations(tmp_path):
    plain, torch_named = tmp_path / "net.npz", tmp_path / "torch.npz"
    np.savez(plain, W1=W1, b1=b1, W2=W2, b2=b2)
    np.savez_compressed(torch_named, **{"0.weight": W1.T, "0.bias": b1, "2.weight": W2.T,
                                        "2.bias": b2})  # fmt: skip
    assert kind_of(plain) == kind_of(torch_named) == "arrays"
    for path in (plain, torch_named):
        model = gate2xlsx.load(path, activations="tanh,softmax")
        assert np.abs(model.forward(X) - by_hand(X)).max() < 1e-12
        assert model.name == path.stem


def test_npy_is_one_layer(tmp_path):
    np.save(tmp_path / "w.npy", W1)
    assert kind_of(tmp_path / "w.npy") == "npy"
    model = gate2xlsx.load(tmp_path / "w.npy", activations="linear")
    assert np.abs(model.forward(X) - X @ W1).max() < 1e-12


def test_file_without_activations_asks_for_them(tmp_path):
    np.savez(tmp_path / "net.npz", W1=W1, b1=b1, W2=W2, b2=b2)
    with pytest.raises(InputError) as caught:
        gate2xlsx.load(tmp_path / "net.npz")
    assert "holds NumPy arrays (W1 2 x 3, b1 3, W2 3 x 2, b2 2)" in str(caught.value)
    assert "--activations tanh,softmax" in caught.value.hint


def test_object_arrays_are_refused_unread(tmp_path, monkeypatch):
    np.savez(tmp_path / "evil.npz", W1=np.array([{"a": 1}], dtype=object))
    with pytest.raises(InputError, match="object array"):
        gate2xlsx.load(tmp_path / "evil.npz", activations="tanh")


def test_activations_refused_for_a_file_that_names_its_own(tmp_path):
    from conftest import SAMPLES

    with pytest.raises(InputError, match="--activations is for a plain .npz"):
        gate2xlsx.load(SAMPLES / "or.hdf", activations="tanh")


def test_a_folder_that_is_no_model_says_what_it_holds(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "runs").mkdir()
    with pytest.raises(InputError, match=r"is a folder, not a model: it holds notes.txt, runs/"):
        gate2xlsx.load(tmp_path)


def test_unknown_objects_are_refused_by_type_name():
    with pytest.raises(UnsupportedModelError, match="cannot read a fractions.Fraction"):
        from fractions import Fraction

        gate2xlsx.load(Fraction(1, 2))


def test_a_class_that_only_claims_a_framework_is_not_one(monkeypatch):
    fake = types.new_class("Module")
    fake.__module__ = "torch.nn.modules.module"
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    assert framework_of(fake()) is None
    with pytest.raises(UnsupportedModelError, match="torch.nn.modules.module.Module"):
        gate2xlsx.load(fake())


def test_a_model_is_itself():
    model = gate2xlsx.load([W1, b1], activations=["sigmoid"])
    assert gate2xlsx.load(model) is model


def test_export_writes_a_workbook(tmp_path):
    out = gate2xlsx.export([W1, b1, W2, b2], tmp_path / "net.xlsx", activations="tanh,softmax")
    assert out.is_file() and out.stat().st_size > 0


def test_a_wide_input_lists_its_names_in_one_cell(tmp_path):
    """12,288 inputs (a 64 x 64 x 3 image's) once overflowed the About sheet's cell."""
    import openpyxl

    out = gate2xlsx.export([np.full((12288, 2), 1e-3)], tmp_path / "wide.xlsx",
                           activations="softmax")  # fmt: skip
    lines = [row[0] for row in openpyxl.load_workbook(out)["About"].iter_rows(values_only=True)]
    (inputs,) = [line for line in lines if line and line.startswith("Inputs: ")]
    assert inputs.endswith("x12288 (12,288 inputs)") and len(inputs) < 1000


def test_a_folder_holding_an_architecture_says_so(tmp_path):
    (tmp_path / "model.json").write_text('{"class_name": "Sequential", "config": {"layers": []}}')
    with pytest.raises(InputError, match="model.json is an architecture without weights"):
        gate2xlsx.load(tmp_path)
