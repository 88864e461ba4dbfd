"""Are the workbooks the same before and after a change? Exports every fixture (and the
samples, and a set of option variants) with two versions of gate2xlsx and compares the .xlsx
packages member by member, byte for byte, but for the timestamps in docProps/core.xml.

    python scripts/same_exports.py --before main~3          # a git ref against the working tree
    python scripts/same_exports.py --before REF --after REF2
    python scripts/same_exports.py --before main --only onnx   # the cases naming "onnx"

Each version runs in a process of its own from a copy of its tree (src/gate2xlsx with
templates/ inside it, as the wheel ships them), so the two never share an import. A case that
fails must fail the same way in both (the same one-line message). Exit status 1 when anything
differs, with the cases and the members named. A git ref's workbooks are kept in --cache (by
commit), so comparing many changes against one ref exports it once.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SKIPPED_SUFFIXES = (".expected.npz", ".py", ".md", ".js", ".predictions.npz")
# docProps/core.xml holds dcterms:created / dcterms:modified: the only part that is the clock's
TIMESTAMPS = re.compile(rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>")

VARIANTS = [  # (name, arguments after the model path)
    ("sumproduct", ["--formulas", "sumproduct"]),
    ("expanded", ["--formulas", "expanded"]),
    ("sgd3", ["--epochs", "3"]),
    ("adam2", ["--epochs", "2", "--optimizer", "adam", "--lr", "0.05"]),
    ("rmsprop2", ["--epochs", "2", "--optimizer", "rmsprop", "--momentum", "0.5"]),
    ("nesterov2", ["--epochs", "2", "--momentum", "0.9", "--nesterov", "--batch-size", "2"]),
    ("glorot", ["--epochs", "1", "--init", "glorot", "--seed", "3"]),
    ("mse", ["--loss", "mse", "--epochs", "1"]),
    ("xor", ["--gate", "xor", "--labels", "no,yes", "--inputs", "a,b"]),
]
VARIANT_MODELS = ["samples/or.hdf", "samples/xor.h5", "tests/fixtures/training/or_momentum.fit.h5"]


def cases() -> list[tuple[str, list[str]]]:
    """Every (case name, CLI arguments): a default export of each fixture and sample, a model
    folder as one case, and the option variants on the small dense models."""
    found = []
    folders = {p.parent for p in FIXTURES.rglob("*") if p.name in ("saved_model.pb", "model.json")}
    for path in sorted([*FIXTURES.rglob("*"), *(ROOT / "samples").glob("*")]):
        inside = any(folder in path.parents for folder in folders)
        if path.is_dir() and path not in folders or inside or path.name.endswith(SKIPPED_SUFFIXES):
            continue
        found.append((str(path.relative_to(ROOT)), [str(path)]))
    for model in VARIANT_MODELS:
        found += [(f"{model}+{name}", [str(ROOT / model), *args]) for name, args in VARIANTS]
    return found


def tree_of(ref: str | None, into: Path) -> Path:
    """An importable copy of gate2xlsx at `ref` (None: the working tree)."""
    source = into / "source"
    if ref is None:
        shutil.copytree(ROOT / "src", source / "src")
        shutil.copytree(ROOT / "templates", source / "templates")
    else:
        source.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", ref, "src", "templates"],
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
    package = into / "lib" / "gate2xlsx"
    shutil.copytree(source / "src" / "gate2xlsx", package)
    shutil.copytree(source / "templates", package / "templates", dirs_exist_ok=True)
    return into / "lib"


DRIVER = """
import contextlib, io, json, sys
from gate2xlsx.cli import main
results = {}
for name, out, args in json.load(sys.stdin):
    said = io.StringIO()
    with contextlib.redirect_stderr(said), contextlib.redirect_stdout(io.StringIO()):
        try:
            main([*args, "-o", out, "--quiet"])
            code = 0
        except SystemExit as e:
            code = e.code or 0
    lines = said.getvalue().strip().splitlines()
    results[name] = [code, lines[-1] if lines else ""]
print(json.dumps(results))
"""


def run_version(lib: Path, work: Path, todo: list[tuple[str, list[str]]]) -> dict:
    jobs = [(name, str(work / f"{k}.xlsx"), args) for k, (name, args) in enumerate(todo)]
    done = subprocess.run(
        [sys.executable, "-c", DRIVER],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        cwd=work,
        env={"PYTHONPATH": str(lib), "PATH": "/usr/bin:/bin", "HOME": str(work)},
    )
    if done.returncode:
        sys.exit(f"the driver failed in {lib}:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        found = {name: z.read(name) for name in z.namelist()}
    if "docProps/core.xml" in found:
        found["docProps/core.xml"] = TIMESTAMPS.sub(b"", found["docProps/core.xml"])
    return found


def differences(name: str, a: Path, b: Path, said: tuple, heard: tuple) -> list[str]:
    if tuple(said) != tuple(heard):
        return [f"{name}: before {said}, after {heard}"]
    if not a.exists() or not b.exists():
        return [] if a.exists() == b.exists() else [f"{name}: written by one version only"]
    before, after = members(a), members(b)
    if before.keys() != after.keys():
        return [f"{name}: members differ: {sorted(before.keys() ^ after.keys())}"]
    return [f"{name}: {m} differs" for m in before if before[m] != after[m]]


def exported(ref: str | None, todo: list, tmp: Path, cache: Path) -> tuple[Path, dict]:
    """The workbooks and messages of one version: from the cache for a commit seen before."""
    key = None
    if ref is not None:
        sha = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", ref], capture_output=True, text=True, check=True
        ).stdout.strip()
        names = json.dumps([str(ROOT), *(name for name, _ in todo)]).encode()  # paths show
        key = cache / f"{sha[:12]}-{hashlib.sha1(names).hexdigest()[:8]}"
        if (key / "results.json").exists():
            return key, json.loads((key / "results.json").read_text())
    work = tmp / (ref or "working-tree").replace("/", "_")
    (work / "out").mkdir(parents=True)
    results = run_version(tree_of(ref, work), work / "out", todo)
    if key is None:
        return work / "out", results
    shutil.copytree(work / "out", key, dirs_exist_ok=True)
    (key / "results.json").write_text(json.dumps(results))
    return key, results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="a git ref")
    parser.add_argument("--after", help="a git ref (default: the working tree)")
    parser.add_argument("--only", help="cases whose name contains this")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "same_exports")
    args = parser.parse_args()
    todo = [c for c in cases() if not args.only or args.only in c[0]]
    with tempfile.TemporaryDirectory() as tmp:
        runs = {
            side: exported(ref, todo, Path(tmp), args.cache)
            for side, ref in (("before", args.before), ("after", args.after))
        }
        found = []
        for k, (name, _) in enumerate(todo):
            (a_dir, a), (b_dir, b) = runs["before"], runs["after"]
            found += differences(name, a_dir / f"{k}.xlsx", b_dir / f"{k}.xlsx", a[name], b[name])
    written = sum(1 for name, _ in todo if runs["before"][1][name][0] == 0)
    print(f"{len(todo)} cases, {written} workbooks, {len(found)} differences")
    for line in found:
        print("  " + line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
