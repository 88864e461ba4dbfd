"""The tensor layers (maps.py), their drawing (tensor_grid.py) and the reader's refusals, against
independent references written the slow, obvious way."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import h5py
import numpy as np
import pytest

import gate2xlsx
from gate2xlsx.app.predict import predict
from gate2xlsx.errors import Gate2XlsxError
from gate2xlsx.ir import serialize
from gate2xlsx.ir.families.convolution import Conv, geometry, kernel_from_grid, kernel_grid
from gate2xlsx.ir.families.pooling import Pool, Rearrange
from gate2xlsx.ir.layer import Param
from gate2xlsx.sheet.layout import Block
from gate2xlsx.sheet.network.tensor_grid import Drawn


def naive_conv(x, k4, stride, dilation, padding, depthwise=False):
    """Cross-correlation one output at a time, padding by TensorFlow's rule spelled out."""
    h, w, cin = x.shape
    kh, kw = k4.shape[:2]
    outs, pads = [], []
    for size, kk, s, d in zip((h, w), (kh, kw), stride, dilation):
        span = (kk - 1) * d + 1
        if padding == "valid":
            outs.append((size - span) // s + 1)
            pads.append(0)
        else:
            out = int(np.ceil(size / s))
            outs.append(out)
            pads.append(max((out - 1) * s + span - size, 0) // 2)
    cout = cin * k4.shape[3] if depthwise else k4.shape[3]
    y = np.zeros((outs[0], outs[1], cout))
    for i, j in itertools.product(range(outs[0]), range(outs[1])):
        for a, b in itertools.product(range(kh), range(kw)):
            r = i * stride[0] - pads[0] + a * dilation[0]
            q = j * stride[1] - pads[1] + b * dilation[1]
            if 0 <= r < h and 0 <= q < w:
                if depthwise:
                    y[i, j] += (x[r, q][:, None] * k4[a, b]).reshape(-1)
                else:
                    y[i, j] += x[r, q] @ k4[a, b]
    return y


@pytest.mark.parametrize(
    "shape,kernel,stride,dilation,padding,depthwise",
    [
        ((7, 6, 2), (3, 3, 2, 3), (1, 1), (1, 1), "valid", False),
        ((7, 6, 2), (3, 2, 2, 3), (2, 3), (1, 1), "same", False),
        ((9, 9, 1), (3, 3, 1, 2), (1, 1), (2, 2), "same", False),
        ((8, 8, 3), (2, 2, 3, 2), (2, 2), (1, 1), "same", True),
    ],
)
def test_conv_matches_the_naive_loop(shape, kernel, stride, dilation, padding, depthwise):
    rng = np.random.default_rng(len(shape) + sum(kernel))
    x, k4 = rng.normal(size=shape), rng.normal(size=kernel)
    layer = Conv("c", "Conv2D", kernel=Param(k4), strides=stride, dilation=dilation,
                 padding=padding, depthwise=depthwise)  # fmt: skip
    want = naive_conv(x, k4, stride, dilation, padding, depthwise)
    assert layer.output_shape(shape) == want.shape
    assert np.allclose(layer.forward(x[None])[0], want)


def test_causal_conv1d_pads_before_only():
    k = np.random.default_rng(3).normal(size=(3, 2, 1))
    layer = Conv("c", "Conv1D", kernel=Param(k), dilation=(2, 1), padding="causal")
    x = np.random.default_rng(4).normal(size=(1, 6, 2))
    y = layer.forward(x)[0, :, 0]
    for t in range(6):  # y_t reads x_t, x_{t-2}, x_{t-4} only: nothing after t
        want = sum(x[0, t - 2 * (2 - a)] @ k[a, :, 0] for a in range(3) if t - 2 * (2 - a) >= 0)
        assert y[t] == pytest.approx(want)


def test_average_pooling_with_same_padding_averages_the_cells_inside():
    x = np.arange(25, dtype=float).reshape(1, 5, 5, 1)
    pool = Pool("p", "AveragePooling2D", op="average", pool=(2, 2), strides=(2, 2), padding="same")
    y = pool.forward(x)[0, :, :, 0]
    assert geometry(5, 2, 2, 1, "same") == (3, 0)
    assert y[2, 2] == 24.0  # the corner window holds one real cell, not four with zeros
    assert y[0, 2] == (4 + 9) / 2


def test_flatten_is_keras_order_and_the_drawing_agrees():
    """Row-major, channels last: element k of a (2, 3, 2) map is (k // 6, k // 2 % 3, k % 2)."""
    shape = (2, 3, 2)
    x = np.arange(12.0).reshape(1, *shape)
    assert list(Rearrange("f", "Flatten").forward(x)[0]) == list(range(12))
    drawn = Drawn(shape, (Block("S", 1, 1, 2, 3), Block("S", 1, 5, 2, 3)))
    for k in range(12):
        grid, i, j = drawn.place(k)
        ch = drawn.grids.index(grid)
        assert x[0, i, j, ch] == k
        assert drawn.index(ch, i, j) == k


def test_kernel_grid_round_trip_and_layout():
    k4 = np.arange(2 * 3 * 2 * 4, dtype=float).reshape(2, 3, 2, 4)
    grid = kernel_grid(k4)
    assert grid.shape == (2 * 2, 4 * 3)
    assert grid[1 * 2 + 1, 3 * 3 + 2] == k4[1, 2, 1, 3]  # grid (in 2, filter 4), row 2, col 3
    assert np.array_equal(kernel_from_grid(grid, k4.shape), k4)
    k3 = k4[:, 0]  # a Conv1D kernel (k, cin, cout)
    assert np.array_equal(kernel_from_grid(kernel_grid(k3[:, None]), k3.shape), k3)


def _cnn_file(path, layer_config: dict, weights: dict[str, np.ndarray]) -> None:
    """A tf.keras-2-shaped .h5 holding Input(6, 6, 2) -> one layer, to check refusals."""
    config = {"class_name": "Sequential", "config": {"name": "m", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 6, 6, 2],
                                                "name": "in"}},
        layer_config]}}  # fmt: skip
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"], f.attrs["backend"] = "2.15.0", "tensorflow"
        f.attrs["model_config"] = json.dumps(config).encode()
        mw = f.create_group("model_weights")
        name = layer_config["config"]["name"]
        mw.attrs["layer_names"] = np.array([name.encode()])
        g = mw.create_group(name)
        g.attrs["weight_names"] = np.array([f"{name}/{k}:0".encode() for k in weights])
        for key, value in weights.items():
            g.create_dataset(f"{name}/{key}:0", data=value.astype(np.float32))


@pytest.mark.parametrize(
    "config,mentions",
    [
        ({"filters": 2, "kernel_size": [3, 3], "data_format": "channels_first"}, "channels_first"),
        ({"filters": 2, "kernel_size": [3, 3], "groups": 2}, "groups"),
        ({"filters": 2, "kernel_size": [3, 3], "padding": "causal"}, "padding 'causal'"),
    ],
)
def test_conv_settings_not_computed_are_refused_by_name(tmp_path, config, mentions):
    layer = {"class_name": "Conv2D", "config": {"name": "conv", "use_bias": False, **config}}
    _cnn_file(tmp_path / "m.h5", layer, {"kernel": np.zeros((3, 3, 2, 2))})
    with pytest.raises(Gate2XlsxError) as caught:
        gate2xlsx.load(tmp_path / "m.h5")
    assert mentions in str(caught.value) and "'conv'" in str(caught.value)


def test_dense_on_a_map_asks_for_a_flatten(tmp_path):
    layer = {"class_name": "Dense", "config": {"name": "d", "units": 2, "use_bias": False}}
    _cnn_file(tmp_path / "m.h5", layer, {"kernel": np.zeros((2, 2))})
    with pytest.raises(Gate2XlsxError, match="Flatten"):
        gate2xlsx.load(tmp_path / "m.h5")


TENSORS = Path(__file__).resolve().parents[1] / "fixtures" / "tensors" / "keras2"


def test_predict_names_every_output_and_takes_the_class_from_the_first():
    model = gate2xlsx.load(TENSORS / "two_outputs.h5")
    x = np.random.default_rng(0).normal(size=(5, 5))
    found = predict(model, x)
    header = found.table().splitlines()[0].split()
    assert header[5:] == ["kind[0]", "kind[1]", "kind[2]", "size", "predicted"]
    assert list(found.indices) == list(np.argmax(model.forward(x)[:, :3], axis=1))


@pytest.mark.parametrize("name", ["merges", "nested_augmented", "conv1d_causal", "separable"])
def test_the_description_carries_the_graph(name):
    """serialize's to_dict / from_dict: the same graph, layers and weights back."""
    model = gate2xlsx.load(TENSORS / f"{name}.h5")
    again = serialize.from_dict(serialize.to_dict(model), serialize.weights_of(model))
    assert again.graph == model.graph
    x = np.random.default_rng(1).normal(size=(3, model.n_inputs))
    assert np.array_equal(again.forward(x), model.forward(x))
