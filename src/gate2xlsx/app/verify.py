"""Does a workbook still compute its network? Recalculate it in LibreOffice and compare.

Every live output (the Network sheet's `output` for its `input`, and each batch sheet's
`<prefix>_outputs` for its `<prefix>_inputs`) is compared with the NumPy forward pass of the
weights the workbook holds now (or of a model given explicitly). An output cell that holds
a plain number instead of a formula is not live: it fails whatever its value.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import openpyxl
from openpyxl.utils.cell import range_boundaries
from openpyxl.worksheet.formula import ArrayFormula

from ..engines import libreoffice
from ..errors import InputError
from ..formats.file_kinds import KINDS
from ..ir.model import Model
from ..readers.kinds import kind_of
from ..readers.xlsx import name_range, read_workbook
from ..sheet import formulas as F
from ..sheet.network.graph import port_names

DEFAULT_ATOL = 1e-9
# (inputs name, outputs name) of every place the workbook computes the network.
OUTPUTS = (("input", "output"), ("data_inputs", "data_outputs"), ("map_inputs", "map_outputs"))


@dataclass
class Comparison:
    """One output block against the reference."""

    name: str
    cells: int
    max_diff: float
    where: str  # sheet!cell of the largest difference
    got: float
    expected: float
    not_live: list[str] = field(default_factory=list)  # output cells holding no formula


@dataclass
class Verification:
    """The outcome of `verify`: one Comparison per output block found."""

    workbook: str
    atol: float
    comparisons: list[Comparison]

    @property
    def worst(self) -> Comparison:
        return max(self.comparisons, key=lambda c: c.max_diff)

    @property
    def ok(self) -> bool:
        return bool(self.comparisons) and all(
            c.max_diff <= self.atol and not c.not_live for c in self.comparisons
        )

    def failure(self) -> str:
        """One sentence saying why the check failed."""
        if not self.comparisons:
            return "no output blocks (input/output defined names) found to check"
        live = [c for c in self.comparisons if c.not_live]
        if live:
            return (
                f"{live[0].not_live[0]} in {live[0].name} holds a number where a formula "
                "belongs: the workbook no longer computes it"
            )
        w = self.worst
        return (
            f"largest difference {w.max_diff:.3g} at {w.where} exceeds the tolerance {self.atol:g}"
        )

    def __str__(self) -> str:
        lines = [
            f"{self.workbook}: {sum(c.cells for c in self.comparisons)} output cells "
            f"checked against the NumPy forward pass (atol {self.atol:g})"
        ]
        for c in self.comparisons:
            lines.append(
                f"  {c.name:<14} {c.cells:>6} cells  largest difference {c.max_diff:.3g} "
                f"at {c.where} (sheet {c.got!r}, NumPy {c.expected!r})"
            )
            if c.not_live:
                more = f" and {len(c.not_live) - 3} more" if len(c.not_live) > 3 else ""
                lines.append(
                    f"  {'':<14} not live: {', '.join(c.not_live[:3])}{more} hold a "
                    "number where a formula belongs"
                )
        lines.append("PASS" if self.ok else "FAIL")
        return "\n".join(lines)


def verify(
    workbook: str | os.PathLike, model: Model | None = None, *, atol: float = DEFAULT_ATOL
) -> Verification:
    """Recalculate `workbook` in headless LibreOffice and compare its outputs with NumPy.

    The reference is `model` when given, else the weights the workbook holds now. Raises
    EngineMissing when LibreOffice is not installed; never raises for a mismatch (see
    Verification.ok).
    """
    workbook = Path(workbook)
    _require_workbook(workbook)
    with tempfile.TemporaryDirectory(prefix="gate2xlsx-verify-") as scratch:
        [computed] = libreoffice.recalculate([workbook], Path(scratch))
        try:  # the weights as LibreOffice saw them (a weight typed as a formula counts too)
            reference = model if model is not None else read_workbook(computed)
        except InputError as exc:
            exc.path = str(workbook)  # name the user's file, not the scratch copy
            raise
        values = openpyxl.load_workbook(computed, data_only=True)
    formulas = openpyxl.load_workbook(workbook)
    if reference.as_chain() is None:
        comparisons = _compare_graph(values, formulas, reference)
        if "data_outputs" in values.defined_names:  # the Data sheet: every row's network
            comparisons.append(_compare(values, formulas, reference, "data_inputs", "data_outputs"))
    else:
        comparisons = [
            _compare(values, formulas, reference, x, y)
            for x, y in OUTPUTS
            if x in values.defined_names and y in values.defined_names
        ]
    return Verification(str(workbook), atol, comparisons)


def _require_workbook(path: Path) -> None:
    """verify checks workbooks: a model file given instead is named as what it is."""
    kind = kind_of(path)
    if kind == "workbook":
        return
    if not path.exists():
        raise InputError("no such workbook", path=path)
    if kind not in KINDS:
        raise InputError("not an .xlsx workbook; verify checks a workbook made by gate2xlsx",
                         path=path)  # fmt: skip
    raise InputError(f"this is {KINDS[kind].words}; verify checks a workbook made by gate2xlsx",
                     path=path, hint=f"gate2xlsx {path.name} -o {path.stem}.xlsx first, then "
                     f"gate2xlsx verify {path.stem}.xlsx")  # fmt: skip


def _compare_graph(values, formulas, model: Model) -> list[Comparison]:
    """A graph: every input name read (Keras's order, side by side), every output name
    compared with its part of the NumPy outputs."""
    graph = model.graph
    ins = port_names(len(graph.inputs), "input")
    x = np.concatenate([_numbers(values, name).reshape(-1) for name in ins]).reshape(1, -1)
    expected, at, found = model.forward(np.nan_to_num(x))[0], 0, []
    outs = graph.output_ports()
    for port, name in zip(outs, port_names(len(outs), "output")):
        part = expected[at : at + port.size]
        at += port.size
        found.append(_compare(values, formulas, model, "", name, part))
    return found


def _compare(values, formulas, model: Model, x_name: str, y_name: str, want=None) -> Comparison:
    sheet, (c1, r1, _, _) = name_range(values, y_name)
    got = _numbers(values, y_name)
    if want is None:
        want = model.forward(np.nan_to_num(_numbers(values, x_name)))
    expected = np.asarray(want).reshape(got.shape)
    diff = np.abs(got - expected)
    diff[np.isnan(diff)] = np.inf  # an error value or text where a number belongs
    i, j = np.unravel_index(int(np.argmax(diff)), diff.shape)
    return Comparison(
        y_name,
        got.size,
        float(diff[i, j]),
        F.cell(r1 + i, c1 + j, sheet=sheet),
        float(got[i, j]),
        float(expected[i, j]),
        _not_live(formulas, y_name),
    )


def _numbers(wb, name: str) -> np.ndarray:
    """A defined name's values as floats; anything but a number becomes NaN."""
    sheet, (c1, r1, c2, r2) = name_range(wb, name)
    rows = wb[sheet].iter_rows(min_row=r1, max_row=r2, min_col=c1, max_col=c2, values_only=True)
    return np.array(
        [
            [v if isinstance(v, (int, float)) and not isinstance(v, bool) else np.nan for v in row]
            for row in rows
        ],
        dtype=np.float64,
    )


def _not_live(wb, name: str) -> list[str]:
    """Cells of a defined name that hold neither a formula nor part of an array formula."""
    sheet, (c1, r1, c2, r2) = name_range(wb, name)
    ws = wb[sheet]
    covered = [range_boundaries(ref) for ref in _array_refs(ws)]
    found = []
    for row in ws.iter_rows(min_row=r1, max_row=r2, min_col=c1, max_col=c2):
        for c in row:
            if isinstance(c.value, ArrayFormula) or (
                isinstance(c.value, str) and c.value.startswith("=")
            ):
                continue
            if any(a <= c.column <= cc and b <= c.row <= rr for a, b, cc, rr in covered):
                continue
            found.append(F.cell(c.row, c.column, sheet=sheet))
    return found


def _array_refs(ws) -> list[str]:
    return [c.value.ref for row in ws.iter_rows() for c in row if isinstance(c.value, ArrayFormula)]
