"""TensorFlow SavedModel folders against Keras HDF5: the same tf.keras 2.15 model read from its
SavedModel folder (no TensorFlow: readers/savedmodel.py) and from its `.h5` (the baseline),
both written by tests/fixtures/generate_savedmodel.py and measured in the same run,
alternating: `gate2xlsx.load` alone and `gate2xlsx MODEL -o OUT.xlsx` as a whole process.

    python benchmarks/bench_savedmodel.py [--repeats N] [--all]

By default the seed's lesson (`or.hdf`, the folder `model.save("or.hdf")` writes, against
`or_lesson.h5`); with --all every Keras fixture of tests/fixtures/savedmodel/. The ratio
savedmodel / h5 is what reading the folder costs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import timed_process  # noqa: E402

import gate2xlsx  # noqa: E402

CLI = [sys.executable, "-m", "gate2xlsx"]
FOLDER = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "savedmodel"


def measure(entry: dict, repeats: int, scratch: Path) -> dict[str, dict[str, float]]:
    files = {"savedmodel": FOLDER / entry["folder"], "h5": FOLDER / entry["h5"]}
    runs: dict[str, dict[str, list[float]]] = {k: {"export": [], "load": []} for k in files}
    for _ in range(repeats):
        for kind, path in files.items():  # alternating, so both see the same machine
            start = time.perf_counter()
            gate2xlsx.load(path)
            runs[kind]["load"].append(time.perf_counter() - start)
            book = scratch / f"{entry['name']}.{kind}.xlsx"
            seconds, _ = timed_process([*CLI, str(path), "-o", str(book), "--quiet"])
            runs[kind]["export"].append(seconds)
    return {k: {m: statistics.median(v) for m, v in r.items()} for k, r in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--all", action="store_true", help="every Keras fixture, not only or.hdf")
    args = parser.parse_args()
    entries = [e for e in json.loads((FOLDER / "manifest.json").read_text())
               if not e["expect_error"] and (args.all or e["folder"] == "or.hdf")]  # fmt: skip
    print("| model | load s (savedmodel / h5) | load ratio | export s (savedmodel / h5) | "
          "export ratio |")  # fmt: skip
    print("|" + "---|" * 5)
    with tempfile.TemporaryDirectory() as tmp:
        for entry in entries:
            r = measure(entry, args.repeats, Path(tmp))
            s, h = r["savedmodel"], r["h5"]
            print(f"| {entry['folder']} | {s['load']:.3f} / {h['load']:.3f} | "
                  f"{s['load'] / h['load']:.2f} | {s['export']:.2f} / {h['export']:.2f} | "
                  f"{s['export'] / h['export']:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
