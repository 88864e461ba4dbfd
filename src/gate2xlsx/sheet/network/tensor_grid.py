"""How a tensor is drawn on a sheet, and where each of its numbers lives.

- a vector `(n,)`: one row of n cells;
- a sequence `(t, c)`: t rows of c cells (each channel a column: a map one column wide);
- a map `(h, w, c)`: c labelled h x w grids side by side, at most GRIDS_PER_BAND in a band, so
  a feature map is seen as an image.

`Drawn.ref(k)` is the cell of element k of the tensor flattened in Keras's order (row-major,
channels last), the one mapping every formula that moves numbers uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from ...ir.families.convolution import as_map
from .. import formulas as F
from ..layout import Block, Region, SheetPlan, text
from ..placement import WeightRefs

GRIDS_PER_BAND = 8
MAP_ROW_POINTS = 43.0  # a map's rows this tall make its cells square at VALUE_WIDTH


def bound(value) -> float:
    """The colour scale's full-colour value: the largest magnitude shown at export, at least 1
    (so a blank drawing grid and a dead map stay white)."""
    return float(max(1.0, np.max(np.abs(value)))) if np.size(value) else 1.0


@dataclass(frozen=True)
class Drawn:
    """A tensor's cells: one block per channel, each (h, w) in the map view of its shape."""

    shape: tuple[int, ...]
    grids: tuple[Block, ...]

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def place(self, k: int) -> tuple[Block, int, int]:
        """(grid, row, column) of element k of the flattened tensor."""
        if len(self.shape) == 1:
            return self.grids[0], 0, k
        h, w, c = as_map(self.shape)
        return self.grids[k % c], k // (w * c), (k // c) % w

    def index(self, ch: int, i: int, j: int) -> int:
        """The flat index of cell (i, j) of grid ch: the inverse of `place`."""
        if len(self.shape) == 1:
            return j
        h, w, c = as_map(self.shape)
        return (i * w + j) * c + ch

    def ref(self, k: int, on: str) -> str:
        grid, i, j = self.place(k)
        return grid.cell(i, j, on=on)

    def grid_values(self, value: np.ndarray) -> list[np.ndarray]:
        """One 2-D array per grid from the tensor's value (one example, shape `self.shape`)."""
        value = np.asarray(value, dtype=np.float64).reshape(self.shape)
        if len(self.shape) == 1:
            return [value.reshape(1, -1)]
        h, w, c = as_map(self.shape)
        return [value.reshape(h, w, c)[:, :, ch] for ch in range(c)]

    def refs(self, on: str) -> str:
        """All its cells as one space-separated list of ranges (a conditional format's)."""
        return " ".join(grid.ref(absolute=False, on=on) for grid in self.grids)


@dataclass(frozen=True)
class ChannelsFirst(Drawn):
    """A (C, H, W) tensor as PyTorch orders it: grid c holds channel c, so its cells read grid
    by grid, row by row, are the tensor in that order."""

    def place(self, k: int) -> tuple[Block, int, int]:
        c, h, w = self.shape
        return self.grids[k // (h * w)], (k // w) % h, k % w

    def index(self, ch: int, i: int, j: int) -> int:
        c, h, w = self.shape
        return (ch * h + i) * w + j

    def grid_values(self, value: np.ndarray) -> list[np.ndarray]:
        return list(np.asarray(value, dtype=np.float64).reshape(self.shape))


@dataclass
class NodeState:
    """What one layer's cells are drawn from: the tensors it reads (`reads`, their values
    `given`), its output's value `out` (its first tensor's), where it draws, the weights'
    names, and `record` (a vector layer's pre-activation block by layer name: the logits)."""

    reads: list[Drawn]
    given: list[np.ndarray]
    out: np.ndarray
    grids: GridPlacer
    w: WeightRefs
    record: dict[str, Block]

    @property
    def x(self) -> Drawn:
        return self.reads[0]


class GridPlacer:
    """Draws tensors down a sheet, one under the other, labels in column A."""

    def __init__(self, sheet: SheetPlan, top: int, left: int = 2):
        self.sheet, self.row, self.left = sheet, top, left

    def heading(self, title: str, style: str = "layer") -> None:
        self.row += 1
        self.sheet.add(text(self.sheet.title, self.row, 1, title, style))
        self.row += 1

    def label(self, value: str, style: str = "step") -> None:
        self.sheet.add(text(self.sheet.title, self.row, 1, value, style))

    def draw(self, shape: tuple[int, ...], label: str) -> Drawn:
        """Blocks for a tensor of `shape` at the current row; the row moves past them."""
        title = self.sheet.title
        self.label(label)
        if len(shape) == 1:
            block = Block(title, self.row, self.left, 1, shape[0])
            self.row += 1
            return Drawn(tuple(shape), (block,))
        if len(shape) == 2:
            t, c = shape
            self._channel_headers(self.row, [(self.left + ch, f"ch {ch + 1}") for ch in range(c)])
            top = self.row + 1
            grids = tuple(Block(title, top, self.left + ch, t, 1) for ch in range(c))
            self.row = top + t
            return Drawn(tuple(shape), grids)
        h, w, c = shape
        grids = []
        for start in range(0, c, GRIDS_PER_BAND):
            band = range(start, min(c, start + GRIDS_PER_BAND))
            lefts = [self.left + (ch - start) * (w + 1) for ch in band]
            self._channel_headers(
                self.row, [(col, f"channel {ch + 1}") for col, ch in zip(lefts, band)]
            )
            top = self.row + 1
            grids += [Block(title, top, col, h, w) for col in lefts]
            for r in range(top, top + h):
                self.sheet.heights[r] = MAP_ROW_POINTS
            self.row = top + h + 1
        return Drawn(tuple(shape), tuple(grids))

    def fill(self, drawn: Drawn, style: str, value: np.ndarray, formula=None, **kw) -> None:
        """Regions for every grid: `formula(channel, i, j)` -> body, else the values."""
        for ch, (grid, values) in enumerate(zip(drawn.grids, drawn.grid_values(value))):
            if formula is None:
                self.sheet.add(Region(grid, style, values=values, **kw))
                continue
            cell = partial(_cell_formula, formula, ch)
            self.sheet.add(Region(grid, style, cell_formula=cell, results=values, **kw))
            kw.pop("comment", None)

    def _channel_headers(self, row: int, where: list[tuple[int, str]]) -> None:
        for col, value in where:
            self.sheet.add(text(self.sheet.title, row, col, value, "note"))


def _cell_formula(formula, ch: int, i: int, j: int) -> str:
    return F.formula(formula(ch, i, j))
