"""The export as `gate2xlsx MODEL -o OUT.xlsx` and `gate2xlsx.export(thing, out)` run it: the
target checked once, before any read; a file read in a forked child while this process
imports the workbook's planner and writer (app/export.py, imported only then); then one
call that decides and writes."""

from __future__ import annotations

import os
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from ..files import check_workbook_target
from ..progress import OnProgress, ProgressBar
from .options import ExportOptions

if TYPE_CHECKING:
    from ..ir.model import Model
    from .export import ExportInfo


def export(thing: object, path: str | os.PathLike, **options) -> Path:
    """Write the workbook that computes `thing`: whatever `gate2xlsx.load` reads (a model file
    or folder, a Model, NumPy weight arrays with `activations`, a live Keras model, a torch
    module with `example`, a fitted scikit-learn MLP). options: ExportOptions' fields
    (architecture, activations, example, formulas, gate, data, loss, labels, inputs,
    training, ...), and progress, called with (rows written, rows in all).

        gate2xlsx.export([W1, b1, W2, b2], "net.xlsx", activations=["tanh", "softmax"])
    """
    progress = options.pop("progress", None)
    return run_export(thing, path, ExportOptions(**options), progress).path


def run_export(
    thing: object,
    path: str | os.PathLike | None,
    options: ExportOptions,
    progress: OnProgress | None = None,
) -> ExportInfo:
    """Export `thing` to the workbook `path` (None: a model file's stem + .xlsx, here)."""
    from ..readers import load, start_load

    if not isinstance(thing, (str, os.PathLike)):  # a Model, weight arrays, a live model
        model = load(thing, activations=options.activations, example=options.example)
        check_workbook_target(path, model.source.path or None)
        return _write(model, Path(path), options, progress)
    target = Path(path) if path is not None else Path.cwd() / (Path(thing).stem + ".xlsx")
    check_workbook_target(target, thing)  # before the read: a wrong name costs nothing
    reading = start_load(thing, architecture=options.architecture, activations=options.activations)
    from . import export  # noqa: F401 (now: the planner and writer import while the child reads)

    return _write(reading.result(), target, options, progress)


def _write(model: Model, target: Path, options: ExportOptions, progress: OnProgress | None):
    from .export import write

    bar = ProgressBar(f"Writing {target.name}") if options.progress_bar else nullcontext(progress)
    with bar as on_progress:
        return write(model, target, options, on_progress)
