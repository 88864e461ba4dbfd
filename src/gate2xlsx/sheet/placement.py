"""Where the steps go: the weights' defined names (WeightRefs) and the placers that lay a
network's steps out as rows (one example, the Network sheet) or as side-by-side blocks (a
batch: Truth table, Decision map, Check). Each placer also keeps what its blocks compute
(NumPy), the cells' cached values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ..errors import LayoutError
from ..ir.layer import Layer
from . import formulas as F
from .layout import Block, Region, text, text_row


@dataclass
class WeightRefs:
    """Defined name and block of every weight: (layer name, weight name) -> (name, block)."""

    entries: dict[tuple[str, str], tuple[str, Block]] = field(default_factory=dict)
    # Entries read by address, not by their defined name: blocks with no name of their own
    # (a Training step's weights, the weights in use when `use_trained` can switch them).
    addressed: set[tuple[str, str]] = field(default_factory=set)

    def name(self, layer: Layer, weight: str) -> str:
        return self.entries[(layer.name, weight)][0]

    def block(self, layer: Layer, weight: str) -> Block:
        return self.entries[(layer.name, weight)][1]

    def element(self, layer: Layer, weight: str | None, j: int) -> str | None:
        """Unit j's element of a one-row weight: INDEX(name, 1, j+1), or the name alone when
        the weight is one cell (IronCalc refuses INDEX of a single cell); None for no weight."""
        if weight is None or (layer.name, weight) not in self.entries:
            return None
        name, block = self.entries[(layer.name, weight)]
        if (layer.name, weight) in self.addressed:
            return block.cell(0, j if block.cols > 1 else 0, absolute=True)
        return name if block.rows == block.cols == 1 else F.index(name, 1, j + 1)

    def setting(self, layer: Layer, key: str, value: float) -> str | float:
        """A setting's defined name when the workbook shows it as a cell, else its value."""
        entry = self.entries.get((layer.name, key))
        if entry is None:
            return value
        return entry[1].cell(absolute=True) if (layer.name, key) in self.addressed else entry[0]


class Placer(Protocol):
    """Where each step's block goes. `values` holds what placed blocks compute (NumPy, one
    row per example) wherever the input's values are known: the cells' cached values."""

    sheet: str
    compact: bool
    regions: list[Region]
    values: dict[Block, np.ndarray]

    def heading(self, title: str, unit_labels: list[str]) -> None: ...
    def step(self, label: str, cols: int) -> Block: ...
    def note(self, label: str) -> None: ...


class RowPlacer:
    """One example: every step is a row under the previous one, labels in column A."""

    compact = False

    def __init__(self, sheet: str, top: int, left: int = 2):
        self.sheet, self.row, self.left = sheet, top, left
        self.regions: list[Region] = []
        self.values: dict[Block, np.ndarray] = {}

    def heading(self, title: str, unit_labels: list[str]) -> None:
        self.row += 1
        self.regions.append(text(self.sheet, self.row, 1, title, "layer"))
        if unit_labels:
            self.regions.append(text_row(self.sheet, self.row, self.left, unit_labels))
        self.row += 1

    def step(self, label: str, cols: int) -> Block:
        self.regions.append(text(self.sheet, self.row, 1, label, "step"))
        block = Block(self.sheet, self.row, self.left, 1, cols)
        self.row += 1
        return block

    def note(self, label: str) -> None:
        self.regions.append(text(self.sheet, self.row, 1, label, "note"))
        self.row += 1


class ColumnPlacer:
    """A batch: each step is a block of `rows` rows, placed right of the previous one."""

    compact = True

    def __init__(
        self, sheet: str, header_row: int, top: int, rows: int, left: int, labelled: bool = True
    ):
        self.sheet, self.header_row, self.top, self.rows, self.col = (
            sheet,
            header_row,
            top,
            rows,
            left,
        )
        self.labelled = labelled  # False: the blocks of a band whose labels an earlier one shows
        self.regions: list[Region] = []
        self.values: dict[Block, np.ndarray] = {}
        self._title: str | None = None
        self._units: list[str] = []

    def heading(self, title: str, unit_labels: list[str]) -> None:
        self._title, self._units = title, unit_labels

    def step(self, label: str, cols: int, rows: int | None = None) -> Block:
        """The next block: `rows` rows (default: the batch's) of `cols` columns."""
        if self.col + cols - 1 > F.MAX_COLS:
            raise LayoutError(
                f"the {self.sheet} sheet lays every step side by side and needs more "
                f"than a sheet's {F.MAX_COLS:,} columns for this network"
            )
        if self._title and self.labelled:
            self.regions.append(text(self.sheet, self.header_row, self.col, self._title, "layer"))
        self._title = None
        if self.labelled:
            self.regions.append(text(self.sheet, self.header_row + 1, self.col, label, "step"))
        if self.labelled and (cols > 1 or self._units):
            units = self._units if len(self._units) == cols else [str(j + 1) for j in range(cols)]
            self.regions.append(text_row(self.sheet, self.header_row + 2, self.col, units))
        block = Block(self.sheet, self.top, self.col, rows or self.rows, cols)
        self.col += cols + 1
        return block

    def note(self, label: str) -> None:
        pass  # identity layers take no room in a batch
