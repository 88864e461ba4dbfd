"""The export's settings as one typed value: the command line parses its parameters into it, the
Python API builds it from its keywords, and the application (app/run_export.py, then
app/export.py) reads it. Plain data: nothing here imports NumPy or a reader."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..sheet.spec import TrainingSpec


@dataclass(frozen=True)
class TrainingOptions:
    """The Training sheet asked for (`--epochs N` and the optimizer's settings). A setting left
    None is the file's own where its training config has one (the lesson's or.hdf: SGD, lr
    0.2), else `train`'s default; app.export.training_spec decides."""

    epochs: int | None = None
    batch_size: int | None = None
    optimizer: str | None = None  # "sgd", "adam" or "rmsprop"
    lr: float | None = None
    momentum: float | None = None
    nesterov: bool | None = None
    use_trained: bool = False  # the sheets compute the trained weights, not the start's

    def given(self) -> dict[str, object]:
        """The optimizer's settings that were set (None and False are not), in SETTINGS' order."""
        found = {name: getattr(self, name) for name in SETTINGS}
        return {name: v for name, v in found.items() if v is not None and v is not False}


SETTINGS = ("batch_size", "optimizer", "lr", "momentum", "nesterov")  # TrainingOptions' own


@dataclass(frozen=True)
class ExportOptions:
    """Everything an export is told besides the model and the workbook's name."""

    # the read (see gate2xlsx.load)
    architecture: str | os.PathLike | None = None  # the JSON of a weights-only file
    activations: str | Sequence[str] | None = None  # one per layer, for NumPy weight arrays
    example: object = None  # an input tensor to trace a torch module with
    # the workbook (see app.export.decide)
    formulas: str = "mmult"  # "mmult", "sumproduct" or "expanded"
    gate: str | None = None  # the rows: a gate's truth table ...
    data: str | os.PathLike | None = None  # ... or a CSV file's rows
    loss: str | None = None  # instead of the file's training loss
    labels: list[str] | None = None  # class names
    inputs: list[str] | None = None  # input names
    input_values: object = None  # the Network sheet's first input (an array)
    infer: bool = True  # may a gate be inferred from the file's data or name
    # a Training sheet: asked for, or decided already (as `train` writes its workbook)
    training: TrainingOptions | TrainingSpec | None = None
    init: str | None = None  # "glorot": start from fresh kernels, not the file's weights
    seed: int | None = None  # of the fresh start
    progress_bar: bool = False  # on stderr (a terminal's only) while the workbook streams out
