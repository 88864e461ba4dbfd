"""Run a snippet in the throwaway real-Keras venvs (/opt/tf215, /opt/k3) as a subprocess.

Keras is never imported by the test process itself; tests using this are marked `keras` and
skip where a venv is missing.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

VENVS = {
    "tf215": (Path("/opt/tf215/bin/python"), {}),
    "k3": (Path("/opt/k3/bin/python"), {"KERAS_BACKEND": "torch"}),
}

PREDICT = """
import json, sys, numpy as np
from {module} import models
x = np.asarray(json.loads(sys.argv[2]), dtype="float32")
m = models.load_model(sys.argv[1], compile=False)
print(json.dumps({{"y": m.predict(x, verbose=0).tolist(),
                   "layers": [l.name for l in m.layers],
                   "weights": [[w.name, np.asarray(w.numpy()).tolist()] for w in m.weights]}}))
"""


def python_of(venv: str) -> Path:
    python = VENVS[venv][0]
    if not python.exists():
        pytest.skip(f"{python} (real Keras venv) is not installed here")
    return python


def run(venv: str, code: str, *args: str, timeout: float = 300) -> str:
    """stdout of `code` run by the venv's python; a failure shows its stderr tail."""
    python, extra = python_of(venv), VENVS[venv][1]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "", **extra}
    done = subprocess.run(
        [str(python), "-c", code, *args], capture_output=True, text=True, env=env, timeout=timeout
    )
    assert done.returncode == 0, f"{venv} failed:\n{done.stderr[-3000:]}"
    return done.stdout.strip().splitlines()[-1]


def keras_predict(venv: str, path: Path, x) -> dict:
    """Load `path` with that venv's `keras.models.load_model` and predict x."""
    module = "tensorflow.keras" if venv == "tf215" else "keras"
    return json.loads(run(venv, PREDICT.format(module=module), str(path), json.dumps(x.tolist())))
