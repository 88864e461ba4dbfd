"""PyTorch and scikit-learn models at scale: the same network read from ONNX and from Keras
HDF5 (the baseline, measured in the same run, alternating): `gate2xlsx MODEL -o OUT.xlsx` as a
whole process, `gate2xlsx.load` alone, and `extract -o model.onnx` (ONNX out) against
`extract -o model.h5`.

    python benchmarks/bench_onnx.py [--repeats N] [--all]

Networks: random weights, written by gate2xlsx's own ONNX and tf.keras writers (the ONNX file
is what torch's exporters write for an MLP: MatMul, Add and activation operators), 64-32-10
by default and 784-128-10 with --all. The ratio onnx / h5 is what the ONNX path costs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import random_model, timed_process  # noqa: E402

CLI = [sys.executable, "-m", "gate2xlsx"]

import gate2xlsx  # noqa: E402
from gate2xlsx import writers  # noqa: E402


def measure(widths: tuple[int, ...], repeats: int, scratch: Path) -> dict[str, dict]:
    model = random_model(widths)
    files = {kind: writers.save(model, scratch / f"net.{kind}") for kind in ("onnx", "h5")}
    runs: dict[str, dict[str, list[float]]] = {k: {"export": [], "load": [], "extract": [],
                                                   "memory": []} for k in files}  # fmt: skip
    for _ in range(repeats):
        for kind, path in files.items():  # alternating, so both see the same machine
            book = scratch / f"{kind}.xlsx"
            seconds, peak = timed_process([*CLI, str(path), "-o", str(book), "--quiet"])
            runs[kind]["export"].append(seconds)
            runs[kind]["memory"].append(peak)
            start = time.perf_counter()
            gate2xlsx.load(path)
            runs[kind]["load"].append(time.perf_counter() - start)
            out = scratch / f"o.{kind}"
            seconds, _ = timed_process([*CLI, "extract", str(book), "-o", str(out)])
            runs[kind]["extract"].append(seconds)
    return {k: {m: statistics.median(v) for m, v in r.items()} for k, r in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--all", action="store_true", help="also 784-128-10")
    args = parser.parse_args()
    sizes = [(64, 32, 10), *([(784, 128, 10)] if args.all else [])]
    print("| network | export s (onnx / h5) | ratio | load s (onnx / h5) | extract s "
          "(.onnx / .h5) | peak MB (onnx / h5) |")  # fmt: skip
    print("|" + "---|" * 6)
    with tempfile.TemporaryDirectory() as tmp:
        for widths in sizes:
            r = measure(widths, args.repeats, Path(tmp))
            o, h = r["onnx"], r["h5"]
            print(f"| {'-'.join(map(str, widths))} | {o['export']:.2f} / {h['export']:.2f} | "
                  f"{o['export'] / h['export']:.2f} | {o['load']:.3f} / {h['load']:.3f} | "
                  f"{o['extract']:.2f} / {h['extract']:.2f} | {o['memory']:.0f} / "
                  f"{h['memory']:.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
