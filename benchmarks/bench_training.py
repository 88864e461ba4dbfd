"""The Training sheet at scale: the export with `--epochs` against the same export without it
(the baseline, same run, whole processes), the formula cells it adds, and LibreOffice's and
IronCalc's load + recalculation time of each workbook.

    python benchmarks/bench_training.py [--repeats N]

Cases (the issue's): the lesson's OR 2-2 x 50 epochs, XOR 2-4-2 (tanh) x 500 epochs in
mini-batches of 2, and a 64-16-10 relu net on 100 rows x 20 epochs in batches of 32.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
import openpyxl

from gate2xlsx import writers
from gate2xlsx.engines.libreoffice import soffice_path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import ironcalc_seconds, random_model, recalc_seconds, timed_process  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TRAINING = ROOT / "tests" / "fixtures" / "training"


def cases(scratch: Path) -> dict[str, tuple[Path, list[str]]]:
    wide = scratch / "net_64-16-10.h5"
    writers.save(random_model((64, 16, 10)), wide)
    rng = np.random.default_rng(0)
    rows = scratch / "rows.csv"
    x, labels = rng.uniform(0, 1, (100, 64)), rng.integers(0, 10, 100)
    header = ",".join(f"x{i + 1}" for i in range(64)) + ",label"
    lines = [",".join(f"{v:.4f}" for v in r) + f",{c}" for r, c in zip(x, labels)]
    rows.write_text("\n".join([header, *lines]) + "\n")
    return {
        "OR 2-2, 50 epochs (batch 4)": (ROOT / "samples" / "or.hdf", ["--gate", "or",
                                        "--epochs", "50"]),
        "XOR 2-4-2, 500 epochs (batches of 2)": (TRAINING / "xor_tanh_cce.init.h5",
            ["--gate", "xor", "--epochs", "500", "--batch-size", "2"]),
        "64-16-10, 100 rows x 20 epochs (batches of 32)": (wide, ["--data", str(rows),
            "--epochs", "20", "--batch-size", "32", "--loss", "categorical_crossentropy",
            "--optimizer", "adam", "--lr", "0.01"]),
    }  # fmt: skip


def formula_cells(book: Path) -> int:
    wb = openpyxl.load_workbook(book, read_only=True)
    return sum(
        1
        for ws in wb.worksheets
        for row in ws.iter_rows(values_only=True)
        for v in row
        if isinstance(v, str) and v.startswith("=")
    )


def measure(model: Path, options: list[str], repeats: int, scratch: Path) -> dict:
    ours, base = scratch / "training.xlsx", scratch / "plain.xlsx"
    plain = _without_training(options)
    run = [sys.executable, "-m", "gate2xlsx", str(model), "--quiet", "-o"]
    timed_process(run + [str(ours), *options])  # warm-up
    found = {k: [] for k in ("ours", "base", "ours_lo", "base_lo", "ours_ic", "base_ic")}
    for _ in range(repeats):  # alternating, so drift in machine load hits both alike
        found["ours"].append(timed_process(run + [str(ours), *options])[0])
        found["base"].append(timed_process(run + [str(base), *plain])[0])
        if soffice_path():
            found["ours_lo"].append(recalc_seconds(ours, scratch))
            found["base_lo"].append(recalc_seconds(base, scratch))
        found["ours_ic"].append(ironcalc_seconds(ours))
        found["base_ic"].append(ironcalc_seconds(base))
    med = {k: statistics.median(v) if v else float("nan") for k, v in found.items()}
    med["cells"] = formula_cells(ours) - formula_cells(base)
    med["size"] = ours.stat().st_size / 1e6
    return med


TRAINING_FLAGS = {"--epochs": 1, "--batch-size": 1, "--optimizer": 1, "--lr": 1}


def _without_training(options: list[str]) -> list[str]:
    out, skip = [], 0
    for a in options:
        if skip:
            skip -= 1
        elif a in TRAINING_FLAGS:
            skip = TRAINING_FLAGS[a]
        else:
            out.append(a)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(
        "| Training sheet | formula cells added | export s (with / without) | ratio | "
        "file MB | LibreOffice s (with / without) | IronCalc s (with / without) |"
    )
    print("|" + "---|" * 7)
    with tempfile.TemporaryDirectory(prefix="gate2xlsx-train-bench-") as scratch:
        for name, (model, options) in cases(Path(scratch)).items():
            r = measure(model, options, args.repeats, Path(scratch))
            print(
                f"| {name} | {r['cells']:,} | {r['ours']:.2f} / {r['base']:.2f} | "
                f"{r['ours'] / r['base']:.1f} | {r['size']:.1f} | "
                f"{r['ours_lo']:.1f} / {r['base_lo']:.1f} | "
                f"{r['ours_ic']:.1f} / {r['base_ic']:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
