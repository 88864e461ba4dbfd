"""A labelled CSV table -> training Dataset: numeric feature columns, one label column whose
distinct values become the classes (one-hot targets)."""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import InputError
from .model import Dataset

MAX_BYTES = 64 << 20  # a table far larger than a spreadsheet network trains on


@dataclass
class Table:
    data: Dataset
    input_names: list[str]
    class_names: list[str]


def load_csv(path: str | os.PathLike, label: str | None = None) -> Table:
    """Read `path`; `label` names the label column (default: the last)."""
    path = Path(path)
    header, rows = _rows(path)
    index = _label_index(header, label, path)
    features = [i for i in range(len(header)) if i != index]
    if not features:
        raise InputError("the table has no feature columns besides the label", path=path)
    x = np.array([[_number(row[i], header[i], n, path) for i in features]
                  for n, row in enumerate(rows, start=2)], dtype=np.float64)
    labels = [row[index].strip() for row in rows]
    classes = _classes(labels)
    if len(classes) < 2:
        raise InputError(f"label column {header[index]!r} has only one class "
                         f"({classes[0]!r}); training needs at least two", path=path)
    y = np.zeros((len(rows), len(classes)))
    y[np.arange(len(rows)), [classes.index(v) for v in labels]] = 1.0
    return Table(Dataset(x, y, path.stem), [header[i] for i in features], classes)


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    if not path.is_file():
        raise InputError("no such file", path=path)
    if path.stat().st_size > MAX_BYTES:
        raise InputError("the table is larger than 64 MiB", path=path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            table = [row for row in csv.reader(handle) if any(cell.strip() for cell in row)]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"not a readable CSV table ({exc})", path=path) from None
    if len(table) < 2:
        raise InputError("the CSV needs a header row and at least one data row", path=path)
    header = [cell.strip() for cell in table[0]]
    for n, row in enumerate(table[1:], start=2):
        if len(row) != len(header):
            raise InputError(f"row {n} has {len(row)} cells but the header has {len(header)}",
                             path=path)
    return header, table[1:]


def _label_index(header: list[str], label: str | None, path: Path) -> int:
    if label is None:
        return len(header) - 1
    if label not in header:
        raise InputError(f"no column named {label!r} (columns: {', '.join(header)})", path=path)
    return header.index(label)


def _number(cell: str, column: str, row: int, path: Path) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise InputError(f"row {row}, column {column!r}: {cell.strip()!r} is not a number; "
                         "feature columns must be numeric", path=path) from None
    if not math.isfinite(value):
        raise InputError(f"row {row}, column {column!r}: {cell.strip()!r} is not a finite number",
                         path=path)
    return value


def _classes(labels: list[str]) -> list[str]:
    """Distinct labels, in numeric order when they are all numbers, else alphabetical."""
    distinct = sorted(set(labels))
    try:
        return sorted(distinct, key=float)
    except ValueError:
        return distinct
