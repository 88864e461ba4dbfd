"""keras_writer.save: each format reads back through gate2xlsx.load, and the Keras files load
in real tf.keras 2.15 and Keras 3 and predict what Model.forward computes."""

from __future__ import annotations

import itertools

import h5py
import numpy as np
import pytest
from keras_venvs import keras_predict

import gate2xlsx
from gate2xlsx.errors import OutputError, UnsupportedModelError
from gate2xlsx.model import (
    Act,
    Activation,
    BatchNorm,
    Dataset,
    Dense,
    Identity,
    Model,
    Param,
    PReLU,
)
from gate2xlsx.writers import save

RNG = np.random.default_rng(7)
X4 = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)


def _p(*shape: int) -> Param:
    return Param(RNG.normal(size=shape).astype(np.float32))


def lesson_model() -> Model:
    """The lesson's OR network, with its training data and gate name."""
    model = Model(
        2,
        [
            Dense("dense", "Dense", _p(2, 2), _p(2)),
            Activation("activation", "Activation", Act("softmax")),
        ],
        name="or",
        class_names=["false", "true"],
        input_names=["a", "b"],
        loss="binary_crossentropy",
    )
    model.data = Dataset(X4, np.array([[1, 0], [0, 1], [0, 1], [0, 1]], dtype=np.float64), "or")
    return model


def mixed_model() -> Model:
    """Every layer kind the writer maps to Keras."""
    return Model(
        2,
        [
            Dense("hidden", "Dense", _p(2, 3), _p(3), Act("tanh")),
            BatchNorm(
                "bn",
                "BatchNormalization",
                _p(3),
                _p(3),
                _p(3),
                Param(RNG.uniform(0.5, 2, 3)),
                epsilon=1e-3,
            ),
            PReLU("prelu", "PReLU", _p(3)),
            Identity("drop", "Dropout"),
            Dense("dense_2", "Dense", _p(3, 4), None, Act("silu")),
            Activation("leaky", "LeakyReLU", Act.of("leaky_relu", alpha=0.1)),
            Dense("out", "Dense", _p(4, 2), _p(2), Act("softmax")),
        ],
        name="mixed",
    )


def fused_model() -> Model:
    """Dense layers whose activation no Keras string names: saved as Dense + activation layer."""
    return Model(
        2,
        [
            Dense("d1", "Dense", _p(2, 4), _p(4), Act.of("leaky_relu", alpha=0.2)),
            Dense("d2", "Dense", _p(4, 2), None, Act("relu6")),
        ],
        name="fused",
    )


MODELS = {"lesson": lesson_model, "mixed": mixed_model, "fused": fused_model}
SUFFIXES = (".h5", ".hdf", ".hdf5", ".keras", ".npz")


@pytest.mark.parametrize(("which", "suffix"), list(itertools.product(MODELS, SUFFIXES)))
def test_reads_back_through_load(tmp_path, which, suffix):
    model = MODELS[which]()
    path = save(model, tmp_path / f"m{suffix}")
    if suffix == ".keras" and not _reads_keras_zip(path):
        pytest.skip("the .keras reader is not in this checkout yet")
    back = gate2xlsx.load(path)
    np.testing.assert_allclose(back.forward(X4), model.forward(X4), rtol=1e-6, atol=1e-6)
    assert [layer.name for layer in back.weighted_layers()] == [
        layer.name for layer in model.weighted_layers()
    ]
    if which == "lesson":
        assert back.data == model.data
        assert back.class_names == model.class_names and back.input_names == model.input_names
        assert back.name == "or"


def _reads_keras_zip(path) -> bool:
    try:
        gate2xlsx.load(path)
    except gate2xlsx.Gate2XlsxError as exc:
        return "not a model file" not in str(exc)
    return True


def test_h5_tree_is_the_one_keras_writes(tmp_path):
    path = save(lesson_model(), tmp_path / "or.hdf")
    with h5py.File(path) as f:
        assert {"backend", "keras_version", "model_config"} <= set(f.attrs)
        kernel = f["model_weights/dense/dense/kernel:0"]
        assert kernel.shape == (2, 2) and kernel.dtype == np.float32
        assert [n.decode() for n in f["model_weights"].attrs["layer_names"]] == [
            "dense",
            "activation",
        ]
        assert [n.decode() for n in f["model_weights/dense"].attrs["weight_names"]] == [
            "dense/kernel:0",
            "dense/bias:0",
        ]
        assert f["model_weights/activation"].attrs["weight_names"].size == 0


def test_npz_needs_no_pickle(tmp_path):
    path = save(lesson_model(), tmp_path / "or.npz")
    with np.load(path, allow_pickle=False) as arrays:
        assert arrays["0/kernel"].shape == (2, 2)


def test_unknown_extension_and_missing_folder(tmp_path):
    with pytest.raises(OutputError, match=r"\.json"):
        save(lesson_model(), tmp_path / "or.json")
    with pytest.raises(OutputError, match="folder"):
        save(lesson_model(), tmp_path / "nowhere" / "or.h5")
    assert list(tmp_path.iterdir()) == []


def test_unsayable_activation_is_refused_and_nothing_written(tmp_path):
    model = Model(2, [Dense("d", "Dense", _p(2, 2), _p(2), Act.of("hard_sigmoid", slope=1 / 6))])
    with pytest.raises(UnsupportedModelError, match="'d' \\(Dense\\).*hard_sigmoid"):
        save(model, tmp_path / "x.h5")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.keras
@pytest.mark.parametrize("venv", ["tf215", "k3"])
@pytest.mark.parametrize("suffix", [".h5", ".hdf5", ".keras"])
@pytest.mark.parametrize("which", list(MODELS))
def test_real_keras_loads_and_predicts_identically(tmp_path, venv, suffix, which):
    if venv == "tf215" and suffix == ".keras":
        pytest.skip("a Keras 3 archive is for Keras 3")
    model = MODELS[which]()
    path = save(model, tmp_path / f"m{suffix}")
    x = np.vstack([X4, RNG.normal(size=(6, 2))])
    got = keras_predict(venv, path, x)
    np.testing.assert_allclose(np.array(got["y"]), model.forward(x), rtol=1e-5, atol=1e-6)
    ours = [layer.name for layer in model.layers if layer.name != "drop"]
    assert [name for name in got["layers"] if name in ours] == ours
