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
from bench_cnn import measure, print_header, print_row  # noqa: E402

LABEL = "IMDB LSTM: 100 tokens, Embedding 10k x 16, LSTM 32 (166,305 weights)"
GOAL = 1.25  # LibreOffice recalculation per formula cell, ours / baseline


def imdb_model(path: Path, vocabulary: int = 10_000, width: int = 16, steps: int = 100,
               units: int = 32) -> Path:  # fmt: skip
    import numpy as np

    from gate2xlsx import writers
    from gate2xlsx.ir.families.dense import Dense
    from gate2xlsx.ir.families.embeddings import Embedding
    from gate2xlsx.ir.families.recurrent import GATES, Recurrent
    from gate2xlsx.ir.graph import Graph, Node, Port
    from gate2xlsx.ir.layer import Act, Param
    from gate2xlsx.ir.model import Model

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
    writers.save(Model(graph, name="imdb_lstm"), path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print_header()
    with tempfile.TemporaryDirectory() as scratch:
        model = imdb_model(Path(scratch) / "imdb_lstm.h5")
        r = measure(model, args.repeats, Path(scratch), script="baseline_lstm.py")
        print_row(LABEL, r, GOAL)


if __name__ == "__main__":
    main()
