"""Recurrent networks at scale: `gate2xlsx MODEL -o OUT.xlsx` (whole process) against the bare
openpyxl baseline (benchmarks/baseline_lstm.py: the same weights, plain formulas, one sheet, no
styles, no cached values) in the same run: export time, peak memory, file size, and
LibreOffice's and IronCalc's load + recalculation time.

    python benchmarks/bench_sequences.py [--repeats N]

Model: the IMDB-sized sentiment model of the issue, random weights written by gate2xlsx's own
tf.keras writer: 100 token ids -> Embedding(10,000, 16) -> LSTM(32) -> Dense(1, sigmoid)
(166,305 weights; the unrolled LSTM is 100 steps x 6 blocks of 32 cells).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_cnn import measure  # noqa: E402

LABEL = "IMDB LSTM: 100 tokens, Embedding 10k x 16, LSTM 32 (166,305 weights)"
GOAL = 1.25  # LibreOffice recalculation per formula cell, ours / baseline


def imdb_model(path: Path, vocabulary: int = 10_000, width: int = 16, steps: int = 100,
               units: int = 32) -> Path:  # fmt: skip
    import numpy as np

    from gate2xlsx import writers
    from gate2xlsx.graph import Graph, Node, Port
    from gate2xlsx.model import Act, Dense, Model, Param
    from gate2xlsx.sequences import GATES, Embedding, Recurrent

    rng = np.random.default_rng(0)

    def weight(*shape):
        return Param(rng.normal(0, 0.3, shape).astype(np.float32))

    params = {f"{kind}_{g}": weight(*shape) for g in GATES["lstm"]
              for kind, shape in (("kernel", (width, units)), ("recurrent_kernel", (units, units)),
                                  ("bias", (units,)))}  # fmt: skip
    layers = [
        Embedding("embedding", "Embedding", embeddings=weight(vocabulary, width)),
        Recurrent("lstm", "LSTM", cell="lstm", params=params),
        Dense(
            "dense", "Dense", kernel=weight(units, 1), bias=weight(1), activation=Act("sigmoid")
        ),  # fmt: skip
    ]
    reads = ["tokens", "embedding", "lstm"]
    graph = Graph([Port("tokens", (steps,))], [Node(la, (r,)) for la, r in zip(layers, reads)],
                  ["dense"])  # fmt: skip
    writers.save(Model.of_graph(graph, name="imdb_lstm"), path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(
        "| network | formula cells (ours / base) | export s (ours / base) | peak MB | "
        "file MB | LibreOffice s (ours / base) | ratio | IronCalc s (ours / base) |"
    )
    print("|" + "---|" * 8)
    with tempfile.TemporaryDirectory() as scratch:
        model = imdb_model(Path(scratch) / "imdb_lstm.h5")
        r = measure(model, args.repeats, Path(scratch), script="baseline_lstm.py")
        ratio = r["ours_lo"] / r["base_lo"]
        # ours also draws the Check sheet's rows in full: the cost per formula cell compares
        # like with like
        per_cell = ratio * r["base_cells"] / r["cells"]
        print(f"| {LABEL} | {r['cells']:,} / {r['base_cells']:,} | {r['ours']:.2f} / "
              f"{r['base']:.2f} | {r['ours_mem']:.0f} / {r['base_mem']:.0f} | "
              f"{r['size']:.2f} / {r['base_size']:.2f} | {r['ours_lo']:.2f} / "
              f"{r['base_lo']:.2f} | {ratio:.2f}; per formula cell {per_cell:.2f} "
              f"(goal {GOAL:g}) | {r['ours_ic']:.2f} / "
              f"{r['base_ic']:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
