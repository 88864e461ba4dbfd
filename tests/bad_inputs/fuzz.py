"""Fuzz the readers by hand: many byte mutations of real model files, out of process.

    python tests/bad_inputs/fuzz.py [--start 0] [--count 20000] [--export]

Every mutant must load as a model (and, with --export, write a workbook) or be refused with a
Gate2XlsxError. Anything else is printed with its salt: another exception, or a crash. load()
already reads in a child process (readers/isolation.py), so a crash or hang in the HDF5 C library
while reading is refused like any damage. Anything that still kills a process (e.g. while
exporting) would take a test run down with it, so each chunk of salts runs in a child of its
own, and a child killed by a signal is reported and skipped past.
Replay a find with `mutations.mutant(salt, folder)`; tests/test_properties.py keeps the past
finds (FUZZ_FOUND).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHUNK = 2000


def child(start: int, count: int, export: bool, progress: Path) -> None:
    """Runs in the child: try each salt; one JSON line per unexpected outcome, then the counts."""
    sys.path.insert(0, str(HERE))
    from mutations import mutant

    from gate2xlsx import load, write_workbook
    from gate2xlsx.errors import Gate2XlsxError
    from gate2xlsx.readers import isolation

    isolation.TIME_LIMIT = 10.0  # a hang inside libhdf5 is refused sooner than a user's 120 s

    counts: Counter = Counter()
    with tempfile.TemporaryDirectory() as scratch:
        for salt in range(start, start + count):
            progress.write_text(str(salt))
            seed, target = mutant(salt, Path(scratch))
            try:
                model = load(target)
                if export:
                    write_workbook(model, Path(scratch) / "out.xlsx")
                counts["loaded"] += 1
            except Gate2XlsxError:
                counts["refused"] += 1
            except Exception as exc:  # the point of fuzzing: report, go on
                counts["unexpected"] += 1
                print(
                    json.dumps({"salt": salt, "seed": seed.name, "error": repr(exc)[:300]}),
                    flush=True,
                )
    print(json.dumps({"counts": counts}), flush=True)


def run(start: int, count: int, export: bool) -> Counter:
    total: Counter = Counter()
    salt, end = start, start + count
    with tempfile.TemporaryDirectory() as scratch:
        progress = Path(scratch) / "salt"
        while salt < end:
            n = min(CHUNK, end - salt)
            proc = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    str(salt),
                    str(n),
                    str(int(export)),
                    str(progress),
                ],
                capture_output=True,
                text=True,
            )
            for line in proc.stdout.splitlines():
                found = json.loads(line)
                if "counts" in found:
                    total.update(found["counts"])
                else:
                    print(f"salt {found['salt']} ({found['seed']}): {found['error']}")
            if proc.returncode < 0:  # killed by a signal: a crash inside a C library
                crashed = int(progress.read_text())
                print(f"salt {crashed}: the process died of signal {-proc.returncode}")
                total["crashed"] += 1
                salt = crashed + 1  # the dead child's counts are lost; its finds were printed
                continue
            if proc.returncode != 0:
                sys.exit(f"fuzzer child failed: {proc.stderr[-2000:]}")
            salt += n
    return total


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        start, count, export, progress = sys.argv[2:6]
        return child(int(start), int(count), export == "1", Path(progress))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument(
        "--export", action="store_true", help="also write a workbook for every model that loads"
    )
    args = parser.parse_args()
    total = run(args.start, args.count, args.export)
    print(f"salts {args.start}..{args.start + args.count - 1}: {dict(total)}")


if __name__ == "__main__":
    main()
