"""The sequence layers (sequences.py) and their reader: gates split and packed back as Keras
stores them, token ids checked, masks followed or refused by name, the description carrying
every setting."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

import gate2xlsx
from gate2xlsx.errors import Gate2XlsxError, InputError
from gate2xlsx.ir import serialize
from gate2xlsx.ir.families.embeddings import random_rows, starting_row
from gate2xlsx.ir.families.recurrent import Recurrent

SEQUENCES = Path(__file__).resolve().parents[1] / "fixtures" / "sequences" / "keras2"
NAMES = [e["name"] for e in json.loads((SEQUENCES / "manifest.json").read_text())]


def _file(path: Path, layers: list[tuple[dict, dict[str, np.ndarray]]], shape: list) -> None:
    """A tf.keras-2-shaped Sequential .h5 of (layer config, weights) on Input(shape)."""
    entries = [{"class_name": "InputLayer", "config": {"batch_input_shape": [None, *shape],
                                                       "name": "in"}}]  # fmt: skip
    entries += [config for config, _ in layers]
    config = {"class_name": "Sequential", "config": {"name": "m", "layers": entries}}
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"], f.attrs["backend"] = "2.15.0", "tensorflow"
        f.attrs["model_config"] = json.dumps(config).encode()
        mw = f.create_group("model_weights")
        mw.attrs["layer_names"] = np.array([c["config"]["name"].encode() for c, _ in layers])
        for layer_config, weights in layers:
            name = layer_config["config"]["name"]
            g = mw.create_group(name)
            g.attrs["weight_names"] = np.array([f"{name}/{k}:0".encode() for k in weights])
            for key, value in weights.items():
                g.create_dataset(f"{name}/{key}:0", data=np.asarray(value, np.float32))


EMBED = ({"class_name": "Embedding", "config": {"name": "embed", "input_dim": 5, "output_dim": 2,
                                                "mask_zero": True}},
         {"embeddings": np.arange(10.0).reshape(5, 2)})  # fmt: skip


def test_a_masked_sequence_into_a_layer_that_ignores_masks_is_refused_by_name(tmp_path):
    conv = ({"class_name": "Conv1D", "config": {"name": "conv", "filters": 1, "kernel_size": 2,
                                                "use_bias": False}},
            {"kernel": np.ones((2, 2, 1))})  # fmt: skip
    _file(tmp_path / "m.h5", [EMBED, conv], [4])
    with pytest.raises(Gate2XlsxError) as caught:
        gate2xlsx.load(tmp_path / "m.h5")
    assert "'conv'" in str(caught.value) and "mask_zero" in str(caught.value)


def test_stateful_is_refused_by_name(tmp_path):
    lstm = (
        {"class_name": "LSTM", "config": {"name": "lstm", "units": 1, "stateful": True}},
        {"kernel": np.ones((2, 4)), "recurrent_kernel": np.ones((1, 4)), "bias": np.ones(4)},
    )
    plain = ({**EMBED[0], "config": {**EMBED[0]["config"], "mask_zero": False}}, EMBED[1])
    _file(tmp_path / "m.h5", [plain, lstm], [3])
    with pytest.raises(Gate2XlsxError, match="stateful"):
        gate2xlsx.load(tmp_path / "m.h5")


@pytest.mark.parametrize("token", [1.5, -1.0, 5.0])
def test_token_ids_outside_the_vocabulary_are_refused_with_the_layer(tmp_path, token):
    dense = ({"class_name": "Dense", "config": {"name": "d", "units": 1}},
             {"kernel": np.ones((2, 1)), "bias": np.zeros(1)})  # fmt: skip
    plain = ({**EMBED[0], "config": {**EMBED[0]["config"], "mask_zero": False}}, EMBED[1])
    _file(tmp_path / "m.h5", [plain, dense], [3])
    model = gate2xlsx.load(tmp_path / "m.h5")
    assert model.forward(np.array([[0.0, 4.0, 2.0]])).shape == (1, 3)  # Dense on each step
    with pytest.raises(InputError, match="'embed'.*from 0 to 4"):
        model.forward(np.array([[0.0, token, 2.0]]))


@pytest.mark.parametrize("name", ["bidirectional", "gru", "stacked_lstm"])
def test_packed_gates_are_the_stored_arrays(name):
    """Split by gate on reading, packed back for writing: Keras's arrays, exactly."""
    with h5py.File(SEQUENCES / f"{name}.h5") as f:
        stored = [f["model_weights"][layer][w][()]
                  for layer in f["model_weights"].attrs["layer_names"]
                  for w in f["model_weights"][layer].attrs["weight_names"]]  # fmt: skip
    model = gate2xlsx.load(SEQUENCES / f"{name}.h5")
    packed = []
    for layer in model.layers:
        sides = layer.sides().values() if hasattr(layer, "sides") else [layer]
        for side in sides:
            packed += ([v for _, v in side.packed()] if isinstance(side, Recurrent)
                       else [p.values for p in side.weights().values()])  # fmt: skip
    assert len(packed) == len(stored)
    assert all(np.array_equal(a, b) for a, b in zip(packed, stored))


@pytest.mark.parametrize("name", NAMES)
def test_the_description_carries_every_sequence_setting(name):
    model = gate2xlsx.load(SEQUENCES / f"{name}.h5")
    again = serialize.from_dict(json.loads(json.dumps(serialize.to_dict(model))),
                                serialize.weights_of(model))  # fmt: skip
    assert again.graph == model.graph
    x = random_rows(model.graph, 3, seed=2)
    assert np.array_equal(again.forward(x), model.forward(x))


def test_the_first_example_avoids_the_padding_token():
    model = gate2xlsx.load(SEQUENCES / "seq2seq.h5")
    assert np.array_equal(starting_row(model.graph), np.ones((1, 9)))
    model = gate2xlsx.load(SEQUENCES / "simple_rnn.h5")
    assert np.array_equal(starting_row(model.graph), np.zeros((1, 18)))


def test_a_csv_as_wide_as_the_inputs_is_inputs_only_with_or_without_a_header(tmp_path):
    from gate2xlsx.data import csv_tables as tables

    (tmp_path / "bare.csv").write_text("0,14,10\n8,6,6\n")
    (tmp_path / "named.csv").write_text("a,b,c\n0,14,10\n8,6,6\n")
    for name in ("bare.csv", "named.csv"):
        table = tables.for_model(tmp_path / name, 3)
        assert table.y is None and table.x.tolist() == [[0, 14, 10], [8, 6, 6]]
    assert tables.for_model(tmp_path / "bare.csv", 2).y is not None  # wider: a label column


def test_an_lstm_too_wide_to_unroll_is_refused_before_writing(tmp_path):
    from gate2xlsx.ir.families.recurrent import GATES
    from gate2xlsx.ir.graph import Graph, Node, Port
    from gate2xlsx.ir.layer import Param
    from gate2xlsx.ir.model import Model

    units, channels = 3000, 2
    shapes = {"kernel": (channels, units), "recurrent_kernel": (units, units), "bias": (units,)}
    params = {f"{k}_{g}": Param(np.zeros(s)) for g in GATES["lstm"] for k, s in shapes.items()}
    layer = Recurrent("big", "LSTM", cell="lstm", params=params)
    model = Model(Graph([Port("x", (3, channels))], [Node(layer, ("x",))], ["big"]))
    with pytest.raises(Gate2XlsxError, match="'big'.*6 blocks of 3000 units.*16,384"):
        gate2xlsx.write_workbook(model, tmp_path / "big.xlsx")
    assert not (tmp_path / "big.xlsx").exists()
