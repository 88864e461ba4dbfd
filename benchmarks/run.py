"""gate2xlsx at scale, measured against a bare openpyxl baseline in the same run.

For each dense network (legacy HDF5 made by gate2xlsx's Keras writer with random weights):
export time and peak memory of `gate2xlsx MODEL -o OUT.xlsx` as a whole process, output size,
LibreOffice load+recalculate time, IronCalc load+evaluate time (where the `ironcalc` package is
installed), and the same for benchmarks/baseline_openpyxl.py. Ratios
(ours / baseline) are what to quote; absolute times depend on the machine.

    python benchmarks/run.py            # the small sizes (what CI runs)
    python benchmarks/run.py --all      # every size, including 784-512-512-10 and the widest
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from gate2xlsx import writers
from gate2xlsx.engines.libreoffice import recalculate, soffice_path
from gate2xlsx.ir.families.dense import Activation, Dense
from gate2xlsx.ir.layer import Act, Param
from gate2xlsx.ir.model import Model

HERE = Path(__file__).resolve().parent
SMALL = [(2, 2), (64, 32, 10)]
LARGE = [(784, 128, 10), (784, 512, 512, 10), (64, 16000, 10)]  # the last: near the column limit


def random_model(widths: tuple[int, ...], seed: int = 0) -> Model:
    rng = np.random.default_rng(seed)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(widths, widths[1:]), start=1):
        last = i == len(widths) - 1
        kernel = (rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(np.float32)
        bias = (rng.standard_normal(n_out) * 0.1).astype(np.float32)
        layers.append(
            Dense(
                f"dense_{i}",
                "Dense",
                kernel=Param(kernel),
                bias=Param(bias),
                activation=Act("linear" if last else "relu"),
            )
        )
    layers.append(Activation("softmax_1", "Activation", Act("softmax")))
    return Model.chain(widths[0], layers, name="bench")


# As a user's installed copy runs: Python may cache compiled modules (this workplace sets
# PYTHONDONTWRITEBYTECODE, which would make every run recompile gate2xlsx's sources).
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed_process(args: list[str]) -> tuple[float, float]:
    """(wall seconds, peak resident MB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=CHILD_ENV)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{args} failed: {proc.stderr.read().decode()[-500:]}")
    return elapsed, usage.ru_maxrss / 1024  # Linux reports kilobytes


def recalc_seconds(book: Path, scratch: Path) -> float:
    start = time.perf_counter()
    recalculate([book], scratch / f"lo-{book.stem}-{time.monotonic_ns()}")
    return time.perf_counter() - start


_IRONCALC = (
    "import sys, time, ironcalc; start = time.perf_counter(); "
    "ironcalc.load_from_xlsx(sys.argv[1], 'en', 'UTC').evaluate(); "
    "print(time.perf_counter() - start)"
)


def ironcalc_seconds(book: Path) -> float:
    """IronCalc's load + evaluate of a workbook (in a child process, so its memory never
    counts in the next child's peak), or NaN without IronCalc."""
    args = [sys.executable, "-c", _IRONCALC, str(book)]
    out = subprocess.run(args, capture_output=True, text=True)
    return float(out.stdout) if out.returncode == 0 else float("nan")


def measure(widths: tuple[int, ...], repeats: int, scratch: Path, with_lo: bool) -> dict:
    model_path = scratch / f"net_{'-'.join(map(str, widths))}.h5"
    writers.save(random_model(widths), model_path)
    ours, base = scratch / "ours.xlsx", scratch / "base.xlsx"
    runs = {k: [] for k in ("ours", "base", "ours_mem", "base_mem", "ours_lo", "base_lo")}
    runs.update(ours_ic=[], base_ic=[])
    ours_cmd = [sys.executable, "-m", "gate2xlsx", str(model_path), "-o", str(ours), "--quiet"]
    base_cmd = [sys.executable, str(HERE / "baseline_openpyxl.py"), str(model_path), str(base)]
    timed_process(ours_cmd), timed_process(base_cmd)  # warm-up: module caches, disk cache
    for _ in range(repeats):  # alternate so drift in machine load hits both sides alike
        t, m = timed_process(ours_cmd)
        runs["ours"].append(t), runs["ours_mem"].append(m)
        t, m = timed_process(base_cmd)
        runs["base"].append(t), runs["base_mem"].append(m)
        if with_lo:
            runs["ours_lo"].append(recalc_seconds(ours, scratch))
            runs["base_lo"].append(recalc_seconds(base, scratch))
        runs["ours_ic"].append(ironcalc_seconds(ours))
        runs["base_ic"].append(ironcalc_seconds(base))
    med = {k: statistics.median(v) if v else float("nan") for k, v in runs.items()}
    med["weights"] = int(sum(a * b + b for a, b in zip(widths, widths[1:])))
    med["ours_size"], med["base_size"] = ours.stat().st_size, base.stat().st_size
    return med


def table(results: dict[tuple, dict]) -> str:
    head = (
        "| network | weights | export s (ours / base) | ratio | peak MB (ours / base) | "
        "file MB (ours / base) | LibreOffice s (ours / base) | ratio | IronCalc s (ours / base) |"
    )
    lines = [head, "|" + "---|" * 9]
    for widths, r in results.items():
        lines.append(
            f"| {'-'.join(map(str, widths))} | {r['weights']:,} | "
            f"{r['ours']:.2f} / {r['base']:.2f} | "
            f"{r['ours'] / r['base']:.2f} | {r['ours_mem']:.0f} / {r['base_mem']:.0f} | "
            f"{r['ours_size'] / 1e6:.2f} / {r['base_size'] / 1e6:.2f} | "
            f"{r['ours_lo']:.2f} / {r['base_lo']:.2f} | {r['ours_lo'] / r['base_lo']:.2f} | "
            f"{r['ours_ic']:.2f} / {r['base_ic']:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="include the large networks")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-libreoffice", action="store_true")
    args = parser.parse_args()
    with_lo = not args.no_libreoffice and soffice_path() is not None
    sizes = SMALL + (LARGE if args.all else [])
    with tempfile.TemporaryDirectory(prefix="gate2xlsx-bench-") as scratch:
        results = {w: measure(w, args.repeats, Path(scratch), with_lo) for w in sizes}
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; "
        f"median of {args.repeats} runs"
    )
    print(table(results))


if __name__ == "__main__":
    main()
