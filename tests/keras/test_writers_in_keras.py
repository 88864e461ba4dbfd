"""The files writers/ saves load in real tf.keras 2.15 and Keras 3 and predict what
Model.forward computes (runs where the Keras venvs exist: tests/keras_venvs.py)."""

from __future__ import annotations

import numpy as np
import pytest
from keras_venvs import keras_predict
from writer_models import MODELS, RNG, X4

from gate2xlsx.writers import save


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
