"""TensorFlow.js layers models against the same network's Keras HDF5 (the baseline, measured in
the same run, alternating): `gate2xlsx MODEL -o OUT.xlsx` as a whole process and
`gate2xlsx.load` alone, medians of N runs; the ratio tfjs / h5 is what the TF.js path costs.

    python benchmarks/bench_tfjs.py [--repeats N] [--all]

Networks: every TF.js fixture gate2xlsx computes (tests/fixtures/tfjs/: tensorflowjs 4.17.0's
conversions of tf.keras 2.15 and Keras 3 models, tfjs-layers's own saves, a graph model; each
beside its .h5), and a random 64-32-10 dense network (784-128-10 too with --all) saved by
gate2xlsx's tf.keras writer and turned into a TF.js folder here the way tensorflowjs's
converter does it (the HDF5's model_config as modelTopology, every weight in layer order into
4 MB shards).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import random_model, timed_process  # noqa: E402

import gate2xlsx  # noqa: E402
from gate2xlsx import writers  # noqa: E402
from gate2xlsx.errors import UnsupportedModelError  # noqa: E402

CLI = [sys.executable, "-m", "gate2xlsx"]
TFJS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "tfjs"
SHARD_BYTES = 4 << 20


def _text(value) -> str:
    return value.decode() if hasattr(value, "decode") else str(value)


def tfjs_from_h5(h5: Path, folder: Path) -> Path:
    """A TF.js layers folder holding the .h5's topology and weights (names without `:0`)."""
    folder.mkdir()
    entries, blob = [], bytearray()
    with h5py.File(h5, "r") as handle:
        weights = handle["model_weights"]
        for layer in weights.attrs["layer_names"]:
            group = weights[_text(layer)]
            for name in group.attrs.get("weight_names", []):
                values = np.asarray(group[_text(name)], dtype="<f4")
                entries.append(
                    {
                        "name": _text(name).split(":")[0],
                        "shape": list(values.shape),
                        "dtype": "float32",
                    }
                )
                blob += values.tobytes()
        topology = {
            "keras_version": _text(handle.attrs.get("keras_version", "")),
            "backend": _text(handle.attrs.get("backend", "")),
            "model_config": json.loads(_text(handle.attrs["model_config"])),
        }
    count = max(1, -(-len(blob) // SHARD_BYTES))
    paths = [f"group1-shard{i + 1}of{count}.bin" for i in range(count)]
    for i, name in enumerate(paths):
        (folder / name).write_bytes(bytes(blob[i * SHARD_BYTES : (i + 1) * SHARD_BYTES]))
    doc = {
        "format": "layers-model",
        "generatedBy": "keras",
        "convertedBy": "bench_tfjs.py",
        "modelTopology": topology,
        "weightsManifest": [{"paths": paths, "weights": entries}],
    }
    (folder / "model.json").write_text(json.dumps(doc))
    return folder


def measure(files: dict[str, Path], repeats: int, scratch: Path) -> dict[str, dict[str, float]]:
    runs: dict[str, dict[str, list[float]]] = {
        k: {"export": [], "load": [], "memory": []} for k in files
    }
    for _ in range(repeats):
        for kind, path in files.items():  # alternating, so both see the same machine
            seconds, peak = timed_process(
                [*CLI, str(path), "-o", str(scratch / "b.xlsx"), "--quiet"]
            )
            runs[kind]["export"].append(seconds)
            runs[kind]["memory"].append(peak)
            start = time.perf_counter()
            gate2xlsx.load(path)
            runs[kind]["load"].append(time.perf_counter() - start)
    return {k: {m: statistics.median(v) for m, v in r.items()} for k, r in runs.items()}


def cases(sizes: list[tuple[int, ...]], scratch: Path) -> list[tuple[str, int, dict[str, Path]]]:
    found = []
    for entry in json.loads((TFJS / "manifest.json").read_text()):
        files = {"tfjs": TFJS / entry["folder"], "h5": TFJS / entry["h5"]}
        try:
            gate2xlsx.load(files["tfjs"])
        except UnsupportedModelError:
            continue  # the graph model that is no dense chain
        found.append((entry["name"], gate2xlsx.load(files["h5"]).count_params(), files))
    for widths in sizes:
        name = "-".join(map(str, widths))
        h5 = writers.save(random_model(widths), scratch / f"net_{name}.h5")
        folder = tfjs_from_h5(h5, scratch / f"net_{name}")
        x = np.random.default_rng(0).uniform(-1, 1, (3, widths[0]))
        model = gate2xlsx.load(h5)
        assert np.array_equal(gate2xlsx.load(folder).forward(x), model.forward(x)), name
        found.append((name, model.count_params(), {"tfjs": folder, "h5": h5}))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--all", action="store_true", help="also 784-128-10")
    args = parser.parse_args()
    sizes = [(64, 32, 10), *([(784, 128, 10)] if args.all else [])]
    print(
        "| network | weights | export s (tfjs / h5) | ratio | load s (tfjs / h5) | "
        "peak MB (tfjs / h5) |"
    )
    print("|" + "---|" * 6)
    with tempfile.TemporaryDirectory() as tmp:
        for name, weights, files in cases(sizes, Path(tmp)):
            r = measure(files, args.repeats, Path(tmp))
            t, h = r["tfjs"], r["h5"]
            print(
                f"| {name} | {weights:,} | {t['export']:.2f} / {h['export']:.2f} | "
                f"{t['export'] / h['export']:.2f} | {t['load']:.3f} / {h['load']:.3f} | "
                f"{t['memory']:.0f} / {h['memory']:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
