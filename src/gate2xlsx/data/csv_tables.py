"""CSV tables: the one reader behind every `--data` (export, train and predict).

Rows are numbered as the file's lines (the header is row 1), blank lines are skipped, and
every problem names its row and column. `labelled` reads numeric feature columns and one label
column whose distinct values become the classes (one-hot targets); `inputs` reads the first
n columns of each row, a header being optional; `for_model` decides between the two by width.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..ir.model import Dataset

MAX_BYTES = 64 << 20  # a table far larger than a spreadsheet network trains on
DELIMITERS = (",", ";", "\t")  # what spreadsheets write as "CSV", by locale
RARE_OTHERS = 10  # a label in one row beside labels in this many rows or more looks like a typo


@dataclass
class Table:
    """Input rows x (k, n) with their column names; one-hot targets y and class names when the
    table has a label column."""

    x: np.ndarray
    input_names: list[str] | None
    y: np.ndarray | None = None
    class_names: list[str] | None = None
    name: str = ""
    label: str | None = None  # the label column's name

    @property
    def dataset(self) -> Dataset:
        return Dataset(self.x, self.y, self.name)


def labelled(path: str | os.PathLike, label: str | None = None) -> Table:
    """Features and a label column (`label`, default: the last), under an optional header."""
    path = Path(path)
    header, rows = _read(path)
    named = header is not None
    if header is None:
        if label is not None:
            raise InputError(f"--label {label} needs a header row naming the columns", path=path)
        header = [str(j + 1) for j in range(len(rows[0][1]))]
    _same_width(header, rows, path)
    index = _label_index(header, label, path)
    features = [i for i in range(len(header)) if i != index]
    if not features:
        raise InputError("the table has no feature columns besides the label", path=path)
    x = np.array(
        [[_number(cells[i], header[i], line, path) for i in features] for line, cells in rows],
        dtype=np.float64,
    )
    values = [cells[index].strip() for _, cells in rows]
    classes = _classes(values)
    y = np.zeros((len(rows), len(classes)))
    y[np.arange(len(rows)), [classes.index(v) for v in values]] = 1.0
    names = [header[i] for i in features] if named else None
    return Table(x, names, y, classes, path.stem, header[index])


def check_labels(table: Table, *, path: object = None) -> None:
    """Refuse labels that look like typos: one that differs from another only by case, or one
    that appears in a single row while every other label appears in at least RARE_OTHERS."""
    assert table.y is not None and table.class_names is not None
    counts = dict(zip(table.class_names, table.y.sum(axis=0).astype(int)))
    folded: dict[str, str] = {}
    for name in table.class_names:
        other = folded.setdefault(name.casefold(), name)
        if other != name:
            raise _suspicious(f"labels {other!r} and {name!r} differ only by case", path)
    for name, count in counts.items():
        others = [c for n, c in counts.items() if n != name]
        if count == 1 and others and min(others) >= RARE_OTHERS:
            raise _suspicious(f"label {name!r} appears in 1 row while every other label appears "
                              f"in {min(others)} or more: a typo?", path)  # fmt: skip


def _suspicious(message: str, path: object) -> InputError:
    return InputError(message, path=path, hint="fix the CSV, or give --allow-rare-labels to "
                      "train on every label as a class of its own")  # fmt: skip


def inputs(path: str | os.PathLike, n_inputs: int) -> Table:
    """Rows of exactly `n_inputs` numbers (a column more or fewer is refused, naming both
    counts: silently dropping a column would predict from the wrong inputs); the first row
    may be a header."""
    path = Path(path)
    header, rows = _read(path)
    checked = rows if header is None else [(1, header), *rows]
    for line, cells in checked:
        if len(cells) != n_inputs:
            raise InputError(f"row {line} has {len(cells)} columns but the model takes "
                             f"{n_inputs} inputs", path=path,
                             hint="give one column per input (no label column)")  # fmt: skip
    columns = header or [str(j + 1) for j in range(n_inputs)]
    x = np.array([[_number(cells[j], columns[j], line, path) for j in range(n_inputs)]
                  for line, cells in rows], dtype=np.float64)  # fmt: skip
    return Table(x, header, name=path.stem)


def for_model(path: str | os.PathLike, n_inputs: int) -> Table:
    """A table of rows for a model taking `n_inputs`: rows as wide as that are inputs only
    (predictions only), wider rows end in a label column."""
    path = Path(path)
    header, rows = _read(path)
    first = header if header is not None else (rows[0][1] if rows else [])
    if len(first) == n_inputs:  # with a header or without
        return inputs(path, n_inputs)
    return labelled(path)


def _read(path: Path) -> tuple[list[str] | None, list[tuple[int, list[str]]]]:
    """(header or None, [(line number, cells)]) of the non-blank rows. The first row is a
    header unless every cell of it is a number."""
    if not path.is_file():
        raise InputError("no such file", path=path)
    if path.stat().st_size > MAX_BYTES:
        raise InputError("the table is larger than 64 MiB", path=path)
    rows: list[tuple[int, list[str]]] = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, delimiter=_delimiter(handle))
            for cells in reader:
                if any(cell.strip() for cell in cells):
                    rows.append((reader.line_num, cells))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"not a readable CSV table ({exc})", path=path) from None
    header = None
    if rows and not all(_is_number(cell) for cell in rows[0][1]):
        header = [cell.strip() for cell in rows.pop(0)[1]]
    if not rows:
        raise InputError("the CSV has no data rows", path=path)
    return header, rows


def _delimiter(handle) -> str:
    """The first line's most frequent of comma, semicolon and tab (a comma when none is there);
    the handle is left at the start."""
    first = next((line for line in handle if line.strip()), "")
    handle.seek(0)
    counts = {d: first.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _same_width(header: list[str], rows: list[tuple[int, list[str]]], path: Path) -> None:
    for line, cells in rows:
        if len(cells) != len(header):
            raise InputError(
                f"row {line} has {len(cells)} cells but the header has {len(header)}", path=path
            )


def _label_index(header: list[str], label: str | None, path: Path) -> int:
    if label is None:
        return len(header) - 1
    if label not in header:
        raise InputError(f"no column named {label!r} (columns: {', '.join(header)})", path=path)
    return header.index(label)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _number(cell: str, column: str, row: int, path: Path) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise InputError(
            f"row {row}, column {column!r}: {cell.strip()!r} is not a number; "
            "input columns must be numeric",
            path=path,
        ) from None
    if not math.isfinite(value):
        raise InputError(
            f"row {row}, column {column!r}: {cell.strip()!r} is not a finite number", path=path
        )
    return value


def _classes(labels: list[str]) -> list[str]:
    """Distinct labels, in numeric order when they are all numbers, else alphabetical."""
    distinct = sorted(set(labels))
    try:
        return sorted(distinct, key=float)
    except ValueError:
        return distinct
