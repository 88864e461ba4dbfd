"""Regenerate the bundled sample networks: or.hdf, and.hdf (the classic lesson) and xor.h5.

Run with tf.keras 2.15 (never a dependency of gate2xlsx; see tests/fixtures/README.md):

    /opt/tf215/bin/python samples/make_samples.py

Writes, next to this script: or.hdf, and.hdf, xor.h5, <stem>.expected.npz for each, and
manifest.json. Everything is seeded, so a rerun gives the same weights on the same machine.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.dont_write_bytecode = True  # keep __pycache__ out of tests/fixtures and samples

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "fixtures"))

import keras as keras_pkg  # noqa: E402  (version string only)
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from _common import plain_loss, save_expected, update_manifest  # noqa: E402

k = tf.keras
KERAS_LABEL = f"tf.keras {keras_pkg.__version__}"

TRUTH = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
EXTRA = np.array([[0.5, 0.5], [-1, 2], [3, -0.25]], dtype=np.float32)
X = np.concatenate([TRUTH, EXTRA]).astype(np.float64)
# one-hot labels, columns [false, true]
LABELS = {
    "or": np.array([[1, 0], [0, 1], [0, 1], [0, 1]], dtype=np.float32),
    "and": np.array([[1, 0], [1, 0], [1, 0], [0, 1]], dtype=np.float32),
    "xor": np.array([[1, 0], [0, 1], [0, 1], [1, 0]], dtype=np.float32),
}


def reset(seed: int) -> None:
    k.backend.clear_session()
    k.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def per_layer(model, x):
    h = tf.constant(x, dtype=tf.float32)
    out = {}
    for layer in model.layers:
        h = layer(h, training=False)
        out[layer.name] = h.numpy()
    return out


def lesson(gate: str, seed: int = 42):
    """The seed lesson, verbatim: Dense(2, input_dim=2) + softmax, SGD 0.2, 50 epochs."""
    reset(seed)
    model = k.Sequential([k.layers.Dense(2, input_dim=2), k.layers.Activation("softmax")])
    model.compile(
        optimizer=k.optimizers.SGD(learning_rate=0.2),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(TRUTH, LABELS[gate], epochs=50, batch_size=128, verbose=0)
    return model


def xor_net():
    """Smallest seed in 0.. whose run reaches 100% accuracy on XOR."""
    for seed in range(50):
        reset(seed)
        model = k.Sequential(
            [
                k.layers.Dense(4, activation="tanh", input_dim=2),
                k.layers.Dense(2),
                k.layers.Activation("softmax"),
            ]
        )
        model.compile(
            optimizer=k.optimizers.Adam(learning_rate=0.05),
            loss="categorical_crossentropy",
            metrics=["accuracy"],
        )
        model.fit(TRUTH, LABELS["xor"], epochs=300, batch_size=128, verbose=0)
        result = model.evaluate(TRUTH, LABELS["xor"], verbose=0, return_dict=True)
        if result["accuracy"] == 1.0:
            print(f"xor: seed {seed} reaches accuracy 1.0 (loss {result['loss']:.4f})")
            return model
    raise RuntimeError("no seed reached 100% on XOR")


def main() -> None:
    entries = []
    for stem, filename, make, loss in (
        ("or", "or.hdf", lambda: lesson("or"), "binary_crossentropy"),
        ("and", "and.hdf", lambda: lesson("and"), "binary_crossentropy"),
        ("xor", "xor.h5", xor_net, "categorical_crossentropy"),
    ):
        model = make()
        result = model.evaluate(TRUTH, LABELS[stem], verbose=0, return_dict=True)
        y = model.predict(X.astype(np.float32), verbose=0)
        layers = per_layer(model, X)
        assert np.allclose(list(layers.values())[-1], y, atol=1e-6)
        path = HERE / filename
        model.save(str(path), save_format="h5")
        save_expected(
            HERE / f"{stem}.expected.npz",
            X,
            y,
            layers,
            x_eval=TRUTH.astype(np.float64),
            y_true=LABELS[stem],
            loss=result["loss"],
            accuracy=result["accuracy"],
            loss_plain=plain_loss(loss, LABELS[stem], model.predict(TRUTH, verbose=0)),
        )
        again = k.models.load_model(str(path))
        y2 = again.predict(X.astype(np.float32), verbose=0)
        assert np.max(np.abs(y2 - y)) < 1e-6, filename
        loss2 = again.evaluate(TRUTH, LABELS[stem], verbose=0, return_dict=True)["loss"]
        assert abs(loss2 - result["loss"]) < 1e-6, (loss2, result["loss"])
        print(f"{filename}: loss {result['loss']:.6f} accuracy {result['accuracy']:.2f}")
        entries.append(
            {
                "file": filename,
                "architecture": None,
                "expected": f"{stem}.expected.npz",
                "keras": KERAS_LABEL,
                "format": "legacy_h5",
                "layers": [type(layer).__name__ for layer in model.layers],
                "activations": [layer.get_config()["activation"] for layer in model.layers],
                "expect_error": False,
                "error_mentions": None,
                "loss": loss,
                "notes": {
                    "or": "the classic lesson: OR, Dense(2)+softmax, SGD(0.2) 50 epochs",
                    "and": "the classic lesson: AND, Dense(2)+softmax, SGD(0.2) 50 epochs",
                    "xor": "XOR: Dense(4, tanh) + Dense(2) + softmax, Adam(0.05), 100% accuracy",
                }[stem],
            }
        )
    update_manifest(HERE / "manifest.json", "", entries)
    print(json.dumps([e["file"] for e in entries]))


if __name__ == "__main__":
    main()
