"""What every part of the Training sheet reads while it is planned: the rows, the settings, the
loss, the weights trained in float64 step by step as the sheet computes (`Run`), and the blocks
one step leaves for the next (`Band`). The parts are functions over a Run: training_top (above
the bands), training_band (a step's forward pass and loss), training_backward (its gradients),
training_optimizer (its update), training_check (the finite-difference check)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from ...ir import fit, optimizers
from ...ir.families.dense import Dense
from ...ir.layer import Layer
from ...ir.model import Model
from ..keras_eval import LossRule
from ..layout import Block, SheetPlan
from ..placement import WeightRefs
from ..spec import TrainingSpec, WorkbookSpec

TITLE = "Training"
LEFT = 4  # bands start in column D: A holds the step's name, B its number


@dataclass
class Band:
    """One step's blocks that the next step (or the top of the sheet) reads."""

    weights: list[Block]
    grads: list[Block] = field(default_factory=list)
    states: dict[str, list[Block]] = field(default_factory=lambda: {"m": [], "v": []})
    alpha: Block | None = None  # the step's step size, where the optimizer has one
    loss: Block | None = None
    hits: Block | None = None
    # the epoch's running sums up to and including this batch ("loss": batch loss x rows,
    # "hits": rows right): their cells and values
    sums: dict[str, tuple[Block, float]] = field(default_factory=dict)
    size: int = 0


@dataclass
class Run:
    """One Training sheet being planned, from the start's weights (the Weights sheet's `start`
    refs) to the trained ones (`work`, a copy the sheet's NumPy twin trains)."""

    model: Model
    start: WeightRefs
    spec: WorkbookSpec
    how: TrainingSpec
    rule: LossRule
    x: np.ndarray
    y: np.ndarray
    work: Model
    params: list[tuple[Dense, str]]  # every trainable array of `work`: (layer, weight key)
    optimizer: fit.Optimizer
    sheet: SheetPlan
    header_row: int = 0  # where the bands' column headings sit
    after_bands: int = 0  # the first row below the trained weights' band
    checked: tuple[int, tuple[int, int]] = (0, (0, 0))  # the gradient check's weight and cell
    first_gradient: float = 0.0

    @property
    def s(self) -> fit.Settings:
        return self.how.settings

    @property
    def entry(self) -> optimizers.OptimizerDef:
        return self.optimizer.entry

    @property
    def steps_per_epoch(self) -> int:
        return -(-len(self.x) // self.s.batch_size)

    def batches(self) -> list[tuple[int, int, int, int]]:
        """(step 1-based, epoch 1-based, first row, rows) of every step, in order."""
        found, t = [], 0
        for epoch in range(1, self.s.epochs + 1):
            for start in range(0, len(self.x), self.s.batch_size):
                t += 1
                found.append((t, epoch, start, min(self.s.batch_size, len(self.x) - start)))
        return found

    def shapes(self) -> list[tuple[int, int]]:
        """Each trainable array's block shape (a bias is one row)."""
        return [_grid_shape(layer.weights()[key].values) for layer, key in self.params]

    def height(self, size: int) -> int:
        """The rows a band of `size` rows takes."""
        return max(size, *(rows for rows, _ in self.shapes()))

    def refs_for(self, blocks: list[Block]) -> WeightRefs:
        """The weights a band's forward pass reads: its own blocks, by address."""
        refs = WeightRefs(dict(self.start.entries), set(self.start.addressed))
        for (layer, key), block in zip(self.params, blocks):
            refs.entries[(layer.name, key)] = (self.start.name(layer, key), block)
            refs.addressed.add((layer.name, key))
        return refs


def new_run(model: Model, refs: WeightRefs, spec: WorkbookSpec, rule: LossRule) -> Run:
    """The state of a Training sheet for `spec.training`, before anything is drawn."""
    assert spec.training is not None
    x = np.asarray(spec.rows.x, dtype=np.float64)
    y = np.asarray(spec.rows.y, dtype=np.float64).reshape(len(x), -1)
    work = copy.deepcopy(model)  # trained in float64 as the sheet computes
    params = [
        (layer, key) for layer in work.layers if isinstance(layer, Dense) for key in layer.weights()
    ]
    shapes = [layer.weights()[key].values.shape for layer, key in params]
    settings = spec.training.settings
    optimizer = fit.Optimizer(settings, shapes, np.float64)
    sheet = SheetPlan(TITLE, widths={1: 30, 2: 12, 3: 14})
    return Run(model, refs, spec, spec.training, rule, x, y, work, params, optimizer, sheet)


def layer_named(model: Model, name: str) -> Layer:
    return next(layer for layer in model.layers if layer.name == name)


def _grid_shape(values: np.ndarray) -> tuple[int, int]:
    return (values.shape[0], values.shape[1]) if values.ndim == 2 else (1, values.size)
