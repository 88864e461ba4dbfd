"""`gate2xlsx train or -o or.h5` end to end against the same recipe in tf.keras 2.15 end to end
(import, build, compile, fit 50 epochs, save), both as whole processes; prints the ratio.

Usage: python benchmarks/bench_train.py [--repeat N] [--json]
The Keras side runs only where /opt/tf215 (a throwaway tensorflow-cpu==2.15.1 venv) exists.
Each side runs N times; the median wall time counts (first run included: a cold start is what
a learner sees).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TF215 = Path("/opt/tf215/bin/python")
KERAS_RECIPE = """
import sys, numpy as np
from tensorflow import keras
x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
y = np.array([[1, 0], [0, 1], [0, 1], [0, 1]], dtype="float32")
model = keras.Sequential([keras.layers.Dense(2, input_dim=2), keras.layers.Activation("softmax")])
model.compile(loss="binary_crossentropy", optimizer=keras.optimizers.SGD(learning_rate=0.2),
              metrics=["accuracy"])
model.fit(x, y, epochs=50, batch_size=128, verbose=0)
print(model.predict(x, verbose=0))
model.save(sys.argv[1])
"""


def _gate2xlsx() -> list[str]:
    found = shutil.which("gate2xlsx")
    return [found] if found else [sys.executable, "-m", "gate2xlsx"]


def _time(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def run(repeat: int) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    with tempfile.TemporaryDirectory() as tmp:
        ours = [
            _time([*_gate2xlsx(), "train", "or", "-o", f"{tmp}/or.h5", "--quiet"], env)
            for _ in range(repeat)
        ]
        result = {"gate2xlsx_train_s": statistics.median(ours), "runs": repeat}
        if TF215.exists():
            keras = [
                _time([str(TF215), "-c", KERAS_RECIPE, f"{tmp}/keras.h5"], env)
                for _ in range(repeat)
            ]
            result["keras215_s"] = statistics.median(keras)
            result["ratio_keras_over_gate2xlsx"] = (
                result["keras215_s"] / result["gate2xlsx_train_s"]
            )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.repeat)
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"gate2xlsx train or -o or.h5   median {result['gate2xlsx_train_s']:.2f} s "
        f"over {args.repeat} runs"
    )
    if "keras215_s" in result:
        print(f"tf.keras 2.15 same recipe     median {result['keras215_s']:.2f} s")
        print(f"ratio Keras / gate2xlsx       {result['ratio_keras_over_gate2xlsx']:.1f}x")
    else:
        print("tf.keras 2.15 side skipped: /opt/tf215 not found")


if __name__ == "__main__":
    main()
