"""Convolutional networks at scale: `gate2xlsx MODEL -o OUT.xlsx` (whole process) against the
bare openpyxl baseline (benchmarks/baseline_cnn.py: same weights, plain formulas, one sheet,
no styles, no cached values) in the same run: export time, peak memory, file size, and
LibreOffice's and IronCalc's load + recalculation time.

    python benchmarks/bench_cnn.py [--repeats N] [--large]

Models: the MNIST CNN of the issue (28x28x1 -> Conv2D 8 3x3 relu -> MaxPooling 2 -> Conv2D 16
3x3 relu -> MaxPooling 2 -> Flatten -> Dense 10 softmax) and the same shape of CNN on 8x8
digits, both real tf.keras 2.15 files from tests/fixtures/tensors/.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_training import formula_cells  # noqa: E402
from run import ironcalc_seconds, recalc_seconds, timed_process  # noqa: E402

from gate2xlsx.engines.libreoffice import soffice_path  # noqa: E402

HERE = Path(__file__).resolve().parent
TENSORS = HERE.parent / "tests" / "fixtures" / "tensors" / "keras2"
CASES = {"MNIST CNN 28x28x1 (5,258 weights)": "mnist_cnn.h5"}
# Keras's own examples/mnist_cnn.py shape, random weights: Conv 32 -> Conv 64 -> MaxPool ->
# Dropout -> Flatten (9,216) -> Dense 128 -> Dense 10 (1,199,882 weights); no baseline.
KERAS_EXAMPLE = "Keras example mnist_cnn (1,199,882 weights)"
GOAL = 1.25  # LibreOffice recalculation, ours / baseline (measured 1.02 before the Check sheet
# drew graphs; 1.52 whole and 0.36 per formula cell since, 2026-12-01)


def keras_example(path: Path) -> Path:
    import numpy as np

    from gate2xlsx import writers
    from gate2xlsx.ir.families.convolution import Conv
    from gate2xlsx.ir.families.dense import Dense, Identity
    from gate2xlsx.ir.families.pooling import Pool, Rearrange
    from gate2xlsx.ir.graph import Graph, Node, Port
    from gate2xlsx.ir.layer import Act, Param
    from gate2xlsx.ir.model import Model

    rng = np.random.default_rng(0)

    def weight(*shape):
        return Param(rng.normal(0, 0.1, shape).astype(np.float32))

    layers = [
        Conv("conv2d_1", "Conv2D", kernel=weight(3, 3, 1, 32), bias=weight(32),
             activation=Act("relu")),
        Conv("conv2d_2", "Conv2D", kernel=weight(3, 3, 32, 64), bias=weight(64),
             activation=Act("relu")),
        Pool("max_pooling2d_1", "MaxPooling2D", op="max", pool=(2, 2), strides=(2, 2)),
        Identity("dropout_1", "Dropout"),
        Rearrange("flatten_1", "Flatten", op="flatten"),
        Dense("dense_1", "Dense", kernel=weight(9216, 128), bias=weight(128),
              activation=Act("relu")),
        Dense("dense_2", "Dense", kernel=weight(128, 10), bias=weight(10),
              activation=Act("softmax")),
    ]  # fmt: skip
    reads = ["input"] + [layer.name for layer in layers[:-1]]
    graph = Graph([Port("input", (28, 28, 1))], [Node(la, (r,)) for la, r in zip(layers, reads)],
                  ["dense_2"])  # fmt: skip
    writers.save(Model(graph, name="mnist_cnn_example"), path)
    return path


def measure(model: Path, repeats: int, scratch: Path, baseline: bool = True,
            script: str = "baseline_cnn.py") -> dict:  # fmt: skip
    """Medians over `repeats` of ours and the baseline `script`'s export, memory,
    LibreOffice and IronCalc times, formula cells and file size."""
    ours, base = scratch / f"{model.stem}.xlsx", scratch / f"{model.stem}_base.xlsx"
    ours_cmd = [sys.executable, "-m", "gate2xlsx", str(model), "-o", str(ours), "--quiet"]
    base_cmd = [sys.executable, str(HERE / script), str(model), str(base)]
    runs: dict[str, list[float]] = {
        k: []
        for k in (
            "ours",
            "base",
            "ours_mem",
            "base_mem",
            "ours_lo",
            "base_lo",
            "ours_ic",
            "base_ic",
        )
    }
    for _ in range(repeats):
        ours.unlink(missing_ok=True)
        t, m = timed_process(ours_cmd)
        runs["ours"].append(t), runs["ours_mem"].append(m)
        if soffice_path():
            runs["ours_lo"].append(recalc_seconds(ours, scratch))
        runs["ours_ic"].append(ironcalc_seconds(ours))
        if not baseline:
            continue
        t, m = timed_process(base_cmd)
        runs["base"].append(t), runs["base_mem"].append(m)
        if soffice_path():
            runs["base_lo"].append(recalc_seconds(base, scratch))
        runs["base_ic"].append(ironcalc_seconds(base))
    med = {k: statistics.median(v) if v else float("nan") for k, v in runs.items()}
    med["cells"] = formula_cells(ours)
    med["base_cells"] = formula_cells(base) if baseline else 0
    med["size"] = ours.stat().st_size / 1e6
    med["base_size"] = base.stat().st_size / 1e6 if baseline else float("nan")
    return med


def print_header() -> None:
    print(
        "| network | formula cells (ours / base) | export s (ours / base) | peak MB | "
        "file MB | LibreOffice s (ours / base) | ratio | IronCalc s (ours / base) |"
    )
    print("|" + "---|" * 8)


def print_row(label: str, r: dict, goal: float, baseline: bool = True) -> None:
    """One table row of `measure`'s medians. Ours also draws the Check sheet's rows in full:
    the ratio per formula cell compares like with like."""
    ratio = r["ours_lo"] / r["base_lo"]
    per_cell = ratio * r["base_cells"] / r["cells"] if baseline else float("nan")
    print(f"| {label} | {r['cells']:,} / {r['base_cells']:,} | {r['ours']:.2f} / "
          f"{r['base']:.2f} | {r['ours_mem']:.0f} / {r['base_mem']:.0f} | "
          f"{r['size']:.2f} / {r['base_size']:.2f} | {r['ours_lo']:.2f} / "
          f"{r['base_lo']:.2f} | {ratio:.2f}; per formula cell {per_cell:.2f} "
          f"(goal {goal:g}) | {r['ours_ic']:.2f} / {r['base_ic']:.2f} |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--large", action="store_true", help="also Keras's example CNN")
    args = parser.parse_args()
    print_header()
    with tempfile.TemporaryDirectory() as scratch:
        cases = [(label, TENSORS / name, True) for label, name in CASES.items()]
        if args.large:
            cases.append((KERAS_EXAMPLE, keras_example(Path(scratch) / "example.h5"), False))
        for label, path, baseline in cases:
            r = measure(path, args.repeats, Path(scratch), baseline)
            print_row(label, r, GOAL, baseline)


if __name__ == "__main__":
    main()
