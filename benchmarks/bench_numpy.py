"""NumPy networks: the same network as a plain `np.savez` of its arrays (with --activations)
and as Keras HDF5 (the baseline, measured in the same run, alternating): the whole
`gate2xlsx MODEL -o OUT.xlsx` process, `gate2xlsx.load` alone, and in the process
`gate2xlsx.export([W1, b1, ...])` against `write_workbook(model)` of the Model already read.

    python benchmarks/bench_numpy.py [--repeats N] [--all]

Networks: random weights (run.random_model), 64-32-10 by default and 784-128-10 with --all.
The ratios .npz / .h5 and list / Model are what the arrays path costs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import random_model, timed_process  # noqa: E402

import gate2xlsx  # noqa: E402
from gate2xlsx import writers  # noqa: E402

CLI = [sys.executable, "-m", "gate2xlsx"]


def measure(widths: tuple[int, ...], repeats: int, scratch: Path) -> dict[str, dict]:
    model = random_model(widths)  # its Dense layers, then a softmax Activation layer
    arrays = [p.values for layer in model.layers for p in layer.weights().values()]
    acts = ",".join([layer.activation.name for layer in model.layers[:-2]] + ["softmax"])
    files = {"npz": scratch / "net.npz", "h5": writers.save(model, scratch / "net.h5")}
    np.savez(files["npz"], *arrays)
    extra = {"npz": ["--activations", acts], "h5": []}
    runs = {k: {"export": [], "load": [], "api": [], "memory": []} for k in files}
    for _ in range(repeats):
        for kind, path in files.items():  # alternating, so both see the same machine
            book = scratch / f"{kind}.xlsx"
            seconds, peak = timed_process([*CLI, str(path), "-o", str(book), "--quiet",
                                           *extra[kind]])  # fmt: skip
            runs[kind]["export"].append(seconds)
            runs[kind]["memory"].append(peak)
            start = time.perf_counter()
            gate2xlsx.load(path, activations=acts if kind == "npz" else None)
            runs[kind]["load"].append(time.perf_counter() - start)
            start = time.perf_counter()
            if kind == "npz":
                gate2xlsx.export(arrays, scratch / "api.xlsx", activations=acts)
            else:
                gate2xlsx.write_workbook(model, scratch / "api.xlsx")
            runs[kind]["api"].append(time.perf_counter() - start)
    return {k: {m: statistics.median(v) for m, v in r.items()} for k, r in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--all", action="store_true", help="also 784-128-10")
    args = parser.parse_args()
    sizes = [(64, 32, 10), *([(784, 128, 10)] if args.all else [])]
    print("| network | export s (npz / h5) | ratio | load s (npz / h5) | in-process s (list / "
          "Model) | peak MB (npz / h5) |")  # fmt: skip
    print("|" + "---|" * 6)
    with tempfile.TemporaryDirectory() as tmp:
        for widths in sizes:
            r = measure(widths, args.repeats, Path(tmp))
            n, h = r["npz"], r["h5"]
            print(f"| {'-'.join(map(str, widths))} | {n['export']:.2f} / {h['export']:.2f} | "
                  f"{n['export'] / h['export']:.2f} | {n['load']:.3f} / {h['load']:.3f} | "
                  f"{n['api']:.2f} / {h['api']:.2f} | {n['memory']:.0f} / "
                  f"{h['memory']:.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
