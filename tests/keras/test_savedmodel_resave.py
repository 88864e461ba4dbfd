"""Every tf.keras 2.15 model of the fixture set (tests/fixtures/keras2, tensors/keras2,
sequences/keras2: dense chains, every activation, BatchNormalization, Normalization, PReLU,
nested models, convolutions and pooling, merges, several inputs and outputs, Embedding, the
recurrent layers, Bidirectional, TimeDistributed) saved again by real tf.keras as a SavedModel
folder: read without TensorFlow, it must be the very model its .h5 is (the same forward pass
to 1e-12), so every layer the HDF5 path computes computes from a SavedModel too. And the dense
set written by tf.saved_model.save (no configuration: layers told by their operators) either
computes what its .h5 computes or is refused in one line, never something else."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from keras_venvs import run

import gate2xlsx
from gate2xlsx.errors import Gate2XlsxError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FOLDERS = ["keras2", "tensors/keras2", "sequences/keras2"]

RESAVE = """
import json, sys
import tensorflow as tf
done = []
for source, target in json.loads(sys.argv[1]):
    try:
        model = tf.keras.models.load_model(source, compile=False)
    except Exception:  # a custom class gate2xlsx refuses anyway
        continue
    if sys.argv[2] == "model.save":
        model.save(target, save_traces=False)
    else:
        tf.saved_model.save(model, target)
    done.append(source)
print(json.dumps(done))
"""


def _inputs(model) -> np.ndarray:
    rng = np.random.default_rng(27)
    if any(type(layer).__name__ == "Embedding" for layer in model.layers):
        return rng.integers(0, 3, (3, model.n_inputs)).astype(float)  # token ids
    return rng.uniform(-1, 1, (3, model.n_inputs))


def _resave(out: Path, folders: list[str], writer: str) -> list[tuple[Path, Path]]:
    files = [p for folder in folders for p in sorted((FIXTURES / folder).glob("*.h5"))
             if "weights" not in p.name]  # fmt: skip
    pairs = {str(p): str(out / f"{p.parent.name}_{p.stem}") for p in files}
    done = json.loads(run("tf215", RESAVE, json.dumps(list(pairs.items())), writer, timeout=900))
    return [(Path(source), Path(pairs[source])) for source in done]


@pytest.fixture(scope="module")
def resaved(tmp_path_factory) -> list[tuple[Path, Path]]:
    return _resave(tmp_path_factory.mktemp("resaved"), FOLDERS, "model.save")


def test_every_keras_fixture_reads_the_same_from_a_savedmodel(resaved):
    assert len(resaved) > 60
    compared = 0
    for h5_path, folder in resaved:
        try:
            h5 = gate2xlsx.load(h5_path)
        except Gate2XlsxError as refused:  # refused from HDF5: refused alike from the folder
            with pytest.raises(type(refused)):
                gate2xlsx.load(folder)
            continue
        ours = gate2xlsx.load(folder)
        x = _inputs(h5)
        assert np.allclose(ours.forward(x), h5.forward(x), rtol=0, atol=1e-12), h5_path.name
        assert [layer.name for layer in ours.layers] == [layer.name for layer in h5.layers]
        compared += 1
    assert compared > 55


def test_tf_saved_model_save_computes_the_h5_model_or_refuses(tmp_path):
    computed = 0
    for h5_path, folder in _resave(tmp_path, ["keras2"], "tf.saved_model.save"):
        try:
            ours = gate2xlsx.load(folder)
        except Gate2XlsxError as refused:
            assert "\n" not in str(refused) and refused.hint, h5_path.name
            continue
        h5 = gate2xlsx.load(h5_path)
        x = _inputs(h5)
        assert np.allclose(ours.forward(x), h5.forward(x), rtol=0, atol=1e-9), h5_path.name
        computed += 1
    assert computed >= 20  # the activations, dense chains, BatchNormalization, nested models
