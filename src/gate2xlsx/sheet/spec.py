"""What the planner is told: the export's decisions, made once (app/export.py) and handed over
as one value, so no sheet decides them again and nobody mutates the caller's Model."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..ir.fit import Settings

MODES = ("mmult", "sumproduct", "expanded")


@dataclass(frozen=True)
class Rows:
    """The examples a batch sheet shows: inputs, optional targets, and where they came from."""

    x: np.ndarray
    y: np.ndarray | None
    source: str
    truth_table: bool = False
    sample: bool = False  # random inputs made up for a wide model that came without data


@dataclass(frozen=True)
class TrainingSpec:
    """A Training sheet: `settings.epochs` epochs of in-order mini-batches over the spec's
    rows from the Weights sheet's values; `use_trained`: the switch's starting position."""

    settings: Settings
    use_trained: bool = False


@dataclass(frozen=True)
class WorkbookSpec:
    """Everything about a workbook that is not the network itself.

    mode: how a Dense layer is spelled ("mmult" array formulas, "sumproduct", "expanded");
    rows: the Truth table / Data sheet's examples (already capped); loss: the canonical loss
    the sheet evaluates, or None; labels / inputs: class and input names as the sheets show
    them; input_values: the Network sheet's starting input; described_*: the names the hidden
    description stores (None: the model's own); about: lines for the About sheet; title: the
    network's name in sheet titles (its author's, else the file's: never Keras's "sequential").
    """

    rows: Rows
    labels: list[str]
    inputs: list[str]
    mode: str = "mmult"
    loss: str | None = None
    input_values: np.ndarray | None = None
    described_labels: list[str] | None = None
    described_inputs: list[str] | None = None
    about: dict[str, str] = field(default_factory=dict)
    title: str = "model"  # how sheet titles name the network: the file's name
    returns: str = "Keras's predict"  # the framework call `output` equals, as the sheets say it
    training: TrainingSpec | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(
                f"unknown formula mode {self.mode!r}; choose one of {', '.join(MODES)}"
            )
