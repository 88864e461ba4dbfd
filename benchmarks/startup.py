"""Start-up: gate2xlsx's fixed cost as whole processes, against the floor it stands on.

Each row times two commands alternately (median of --repeats runs, after one warm-up each):
- `gate2xlsx --version` against `python -c "import typer"` (the floor the CLI stands on; goal:
  within 1.3x) and against `python -c pass` (an interpreter that does nothing);
- the lesson's export, `gate2xlsx samples/or.hdf -o or.xlsx`, against
  `python -c "import numpy, h5py, openpyxl, typer"` (the libraries every export needs, and the
  CLI's; goal: within 1.5x);
- `gate2xlsx predict samples/or.xlsx 0 1` (the workbook as input) against the same predict
  on samples/or.hdf (the model file it came from);
- with --excel-nn DIR (a checkout of github.com/Ryandonofrio3/Excel-NN; nothing of it is in
  this repository): its own `export_to_excel` on a 784-32-6 MLP against gate2xlsx exporting
  the same weights from an .h5 file, both whole processes.

    python benchmarks/startup.py [--repeats 5] [--excel-nn PATH]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parent / "samples" / "or.hdf"
# As an installed copy runs: Python may cache compiled modules (PYTHONDONTWRITEBYTECODE off).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
EXCEL_NN_DRIVER = (
    "import sys, numpy as np; sys.path.insert(0, sys.argv[1]); "
    "from nn_excel_demo import export_to_excel; w = np.load(sys.argv[2]); "
    "export_to_excel(w['W1'], w['b1'], w['W2'], w['b2'], "
    "['cat', 'house', 'ladder', 'sun', 'door'], [], sys.argv[3])"
)


def gate2xlsx(*args: str) -> list[str]:
    """The installed console script when there is one beside this Python, else -m."""
    script = Path(sys.executable).parent / "gate2xlsx"
    found = str(script) if script.exists() else shutil.which("gate2xlsx")
    return [found, *args] if found else [sys.executable, "-m", "gate2xlsx", *args]


def seconds(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, timeout=600)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{command} failed: {done.stderr.decode()[-500:]}")
    return elapsed


def compare(ours: list[str], base: list[str], repeats: int, cwd: Path) -> tuple[float, float]:
    """Median seconds of each command, run alternately so drift hits both alike."""
    seconds(ours, cwd), seconds(base, cwd)  # warm-up: caches, compiled modules
    runs: dict[str, list[float]] = {"ours": [], "base": []}
    for _ in range(repeats):
        runs["ours"].append(seconds(ours, cwd))
        runs["base"].append(seconds(base, cwd))
    return statistics.median(runs["ours"]), statistics.median(runs["base"])


def excel_nn_weights(folder: Path) -> tuple[Path, Path]:
    """Excel-NN's network shape (784 -> 32 relu -> 6, softmax) with random float32 weights,
    as an .npz for its exporter and an .h5 for gate2xlsx."""
    from gate2xlsx.ir.families.dense import Activation, Dense
    from gate2xlsx.ir.layer import Act, Param
    from gate2xlsx.ir.model import Model
    from gate2xlsx.writers import save

    rng = np.random.default_rng(0)
    w = {
        "W1": rng.normal(0, np.sqrt(2 / 784), (784, 32)),
        "b1": rng.normal(0, 0.1, 32),
        "W2": rng.normal(0, np.sqrt(1 / 32), (32, 6)),
        "b2": rng.normal(0, 0.1, 6),
    }
    w = {k: v.astype(np.float32) for k, v in w.items()}
    np.savez(folder / "excel_nn.npz", **w)
    model = Model.chain(
        784,
        [
            Dense("dense", "Dense", Param(w["W1"]), Param(w["b1"]), Act("relu")),
            Dense("dense_1", "Dense", Param(w["W2"]), Param(w["b2"])),
            Activation("activation", "Activation", Act("softmax")),
        ],
        name="quickdraw",
    )
    return folder / "excel_nn.npz", save(model, folder / "quickdraw.h5")


# the start-up goals: (ours, baseline) -> the largest ratio allowed
GOALS = {
    ("gate2xlsx --version", 'python -c "import typer"'): 1.3,
    ("gate2xlsx samples/or.hdf -o or.xlsx", 'python -c "import numpy, h5py, openpyxl, typer"'): 1.5,
}


def rows(repeats: int, excel_nn: Path | None, scratch: Path) -> list[tuple[str, str, float, float]]:
    python = sys.executable
    found = [
        (
            "gate2xlsx --version",
            "python -c pass",
            *compare(gate2xlsx("--version"), [python, "-c", "pass"], repeats, scratch),
        )
    ]
    found.append(
        (
            "gate2xlsx --version",
            'python -c "import typer"',
            *compare(gate2xlsx("--version"), [python, "-c", "import typer"], repeats, scratch),
        )
    )
    export = gate2xlsx(str(SAMPLE), "-o", str(scratch / "or.xlsx"), "--quiet")
    floor = [python, "-c", "import numpy, h5py, openpyxl, typer"]
    found.append(
        (
            "gate2xlsx samples/or.hdf -o or.xlsx",
            'python -c "import numpy, h5py, openpyxl, typer"',
            *compare(export, floor, repeats, scratch),
        )
    )
    on_book = gate2xlsx("predict", str(SAMPLE.with_suffix(".xlsx")), "0", "1")
    on_file = gate2xlsx("predict", str(SAMPLE), "0", "1")
    found.append(("gate2xlsx predict samples/or.xlsx 0 1", "gate2xlsx predict samples/or.hdf 0 1",
                  *compare(on_book, on_file, repeats, scratch)))  # fmt: skip
    if excel_nn is not None:
        npz, h5 = excel_nn_weights(scratch)
        ours = gate2xlsx(str(h5), "-o", str(scratch / "ours_qd.xlsx"), "--quiet")
        theirs = [
            python,
            "-c",
            EXCEL_NN_DRIVER,
            str(excel_nn),
            str(npz),
            str(scratch / "excel_nn.xlsx"),
        ]
        found.append(
            (
                "gate2xlsx 784-32-6 (.h5)",
                "Excel-NN export_to_excel",
                *compare(ours, theirs, repeats, scratch),
            )
        )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--excel-nn", type=Path, help="a checkout of Excel-NN, to compare with")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gate2xlsx-startup-") as scratch:
        found = rows(args.repeats, args.excel_nn, Path(scratch))
    print(f"median of {args.repeats} runs each, alternating; ratio = ours / baseline")
    print("| ours | baseline | ours s | baseline s | ratio | goal |")
    print("|---|---|---|---|---|---|")
    missed = []
    for ours, base, t_ours, t_base in found:
        goal = GOALS.get((ours, base))
        ratio = t_ours / t_base
        verdict = "" if goal is None else f"<= {goal} " + ("met" if ratio <= goal else "MISSED")
        if goal is not None and ratio > goal:
            missed.append(ours)
        print(f"| `{ours}` | `{base}` | {t_ours:.3f} | {t_base:.3f} | {ratio:.2f} | {verdict} |")
    if missed:
        print(f"start-up goals missed: {', '.join(missed)}")


if __name__ == "__main__":
    main()
