"""The shape of the import graph, so the layout stays what README's "Layout of the code" says:
every direction has one home and every arrow points one way.

Layers, lowest first: the core modules (model, activations, errors, files, ...), then
readers/ (formats in), writers/ (formats out), sheet/ (plan -> formulas -> write), engines/
and the trainer's math (fit.py); then the application layer app/; then cli/ on top.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "gate2xlsx"


def _module_name(path: Path) -> str:
    parts = ["gate2xlsx", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_package(name: str) -> bool:
    return MODULES.get(name, Path()).name == "__init__.py"


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if _is_package(module) else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports(module: str, *, top_level_only: bool = False) -> set[str]:
    """Every module `module` imports (inside functions too, unless top_level_only), names
    imported from a package resolved to its submodules; TYPE_CHECKING imports left out."""
    tree = ast.parse(MODULES[module].read_text("utf-8"))
    found: set[str] = set()

    def visit(node: ast.AST, nested: bool) -> None:
        if _type_checking(node):
            return
        if isinstance(node, ast.Import) and not (nested and top_level_only):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not (nested and top_level_only):
            target = _resolve(module, node)
            found.add(target)
            found.update(
                f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in MODULES
            )
        inner = nested or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    visit(tree, False)
    return found


def _in(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _importers(target: str, among: list[str]) -> list[str]:
    return [m for m in among if any(_in(i, target) for i in imports(m))]


def test_the_graph_covers_every_module():
    assert len(MODULES) > 40 and "gate2xlsx.readers.xlsx" in MODULES
    assert "openpyxl" in imports("gate2xlsx.readers.xlsx")  # the walker sees real imports
    assert "gate2xlsx.sheet.formulas" in imports("gate2xlsx.sheet.network.chain_steps")


def test_only_the_workbook_reader_among_readers_imports_openpyxl():
    readers = [m for m in MODULES if _in(m, "gate2xlsx.readers")]
    assert _importers("openpyxl", readers) == ["gate2xlsx.readers.xlsx"]


def test_sheet_and_the_core_never_import_h5py():
    below = [m for m in MODULES if not _in(m, "gate2xlsx.readers", "gate2xlsx.writers")]
    assert _importers("h5py", below) == []


def test_nothing_below_the_application_layer_imports_it():
    below = [m for m in MODULES if not _in(m, "gate2xlsx.app", "gate2xlsx.cli")]
    below.remove("gate2xlsx")  # the package root names the API lazily (PEP 562)
    below.remove("gate2xlsx.__main__")  # `python -m gate2xlsx` is the CLI's entry
    assert _importers("gate2xlsx.app", below) == []
    assert (
        _importers("gate2xlsx.cli", [*below, *(m for m in MODULES if _in(m, "gate2xlsx.app"))])
        == []
    )


def test_directions_do_not_import_each_other():
    writers = [m for m in MODULES if _in(m, "gate2xlsx.writers")]
    readers = [m for m in MODULES if _in(m, "gate2xlsx.readers")]
    sheet = [m for m in MODULES if _in(m, "gate2xlsx.sheet")]
    assert _importers("gate2xlsx.readers", writers) == []
    assert _importers("gate2xlsx.writers", readers + sheet) == []
    assert _importers("gate2xlsx.readers", sheet) == []
    assert _importers("gate2xlsx.engines", readers + writers + sheet) == []
    core = [m for m in MODULES if m.count(".") == 1 and not _is_package(m)]
    core.remove("gate2xlsx.__main__")
    core += [m for m in MODULES if _in(m, "gate2xlsx.ir", "gate2xlsx.data", "gate2xlsx.formats")]
    for upper in ("readers", "writers", "sheet", "engines", "app", "cli"):
        assert _importers(f"gate2xlsx.{upper}", core) == [], upper


def _every_import(module: str) -> set[str]:
    """The modules `module` names in any import: nested ones and TYPE_CHECKING ones too (a
    type-level circle is still a circle for a reader). `from . import x` names the submodule
    x, not the package; the package counts when a name it defines is imported."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(MODULES[module].read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, node)
            subs = {f"{target}.{a.name}" for a in node.names}
            found |= subs & MODULES.keys()
            if subs - MODULES.keys():
                found.add(target)
    return {m for m in found if m in MODULES and m != module}


def test_no_two_modules_import_each_other():
    graph = {m: _every_import(m) for m in MODULES}
    pairs = sorted({tuple(sorted((a, b))) for a in graph for b in graph[a] if a in graph[b]})
    assert pairs == []


def test_no_folder_holds_over_16_modules():
    counts: dict[str, int] = {}
    for path in MODULES.values():
        counts[str(path.parent.relative_to(PACKAGE.parent))] = (
            counts.get(str(path.parent.relative_to(PACKAGE.parent)), 0) + 1
        )
    assert {folder: n for folder, n in counts.items() if n > 16} == {}


def test_no_function_over_60_lines():
    long = [
        f"{name}.{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for name, path in MODULES.items()
        for node in ast.walk(ast.parse(path.read_text("utf-8")))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 > 60
    ]
    assert long == []


def test_the_two_shapes_of_a_network_are_told_apart_in_the_ir_alone():
    """A Model always holds a graph; whether it is a chain is the IR's question (as_chain)."""
    tests = {
        name: n
        for name, path in MODULES.items()
        if (n := len(re.findall(r"graph is (?:not )?None", path.read_text("utf-8"))))
    }
    assert sum(tests.values()) <= 2 and all(_in(m, "gate2xlsx.ir") for m in tests), tests


def test_every_package_ships():
    """pyproject.toml lists the packages by hand (templates/ ships as one): none forgotten."""
    listed = set(
        re.findall(r'"(gate2xlsx[\w.]*)"', (PACKAGE.parents[1] / "pyproject.toml").read_text())
    )
    packages = {m for m in MODULES if _is_package(m)}
    assert packages - listed == set()


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycles():
    graph = {
        m: {i for i in imports(m, top_level_only=True) if i in MODULES and not _in(m, i)}
        for m in MODULES
    }
    for m in graph:  # importing a submodule runs its package's __init__ first (one's own
        # package is already running when it imports its submodules: no cycle)
        graph[m] |= {
            p for i in list(graph[m]) for p in _parents(i) if p in MODULES and not _in(m, p)
        }
    assert _cycle(graph) is None
    assert _cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]  # the detector detects


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:k]) for k in range(2, len(parts))]


def test_no_module_over_400_lines():
    long = {m: n for m, p in MODULES.items() if (n := len(p.read_text("utf-8").splitlines())) > 400}
    assert long == {}


@pytest.mark.parametrize(
    "args",
    [
        ["-c", "import gate2xlsx.cli"],
        ["-m", "gate2xlsx", "--version"],
        ["-m", "gate2xlsx", "--help"],
    ],
)
def test_start_up_imports_none_of_the_heavy_libraries(args):
    probe = (
        "import runpy, sys; sys.argv = {argv!r}; "
        "heavy = ('numpy', 'h5py', 'openpyxl')\n"
        "try:\n    {run}\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    run = (  # main(), not the console script's run(): that ends the process before the print
        "import gate2xlsx.cli" if args[0] == "-c" else "from gate2xlsx.cli import main; main()"
    )
    code = probe.format(argv=["gate2xlsx", *args[2:]], run=run)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def _heavy_after(code: str, cwd: Path) -> list[str]:
    """The heavy libraries (h5py, onnx) a fresh interpreter holds after running `code`."""
    probe = (
        f"import sys\n{code}\n"
        "import json; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'h5py', 'onnx'})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=cwd
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


SAMPLE = PACKAGE.parents[1] / "samples" / "or.hdf"


def test_deciding_a_files_kind_imports_no_format_library(tmp_path):
    code = f"from gate2xlsx.readers import kind_of; assert kind_of({str(SAMPLE)!r}) == 'hdf5'"
    assert _heavy_after(code, tmp_path) == []


def test_the_export_command_leaves_h5py_to_the_reading_child(tmp_path):
    """The command line reads in a forked child (readers/isolation.py) while it imports the
    writer; h5py is imported there, never in the process that writes the workbook."""
    code = (
        "from gate2xlsx.cli import main\n"
        f"try:\n    main([{str(SAMPLE)!r}, '-o', 'or.xlsx'])\nexcept SystemExit as e:\n"
        "    assert not e.code, e.code\n"
    )
    assert _heavy_after(code, tmp_path) == []
    assert (tmp_path / "or.xlsx").stat().st_size > 0


def test_a_read_in_this_process_imports_h5py_where_it_is_needed(tmp_path):
    """The check above cannot pass vacuously: reading in-process does import h5py."""
    code = (
        "import threading, time\n"
        "threading.Thread(target=time.sleep, args=(2,), daemon=True).start()  # no fork now\n"
        f"from gate2xlsx import load; load({str(SAMPLE)!r})"
    )
    assert _heavy_after(code, tmp_path) == ["h5py"]
