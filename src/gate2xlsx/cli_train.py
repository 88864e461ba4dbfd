"""`gate2xlsx train`: a thin wrapper over gate2xlsx.train.train (registered in cli.py)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

def train_command(
        gate: Optional[str] = typer.Argument(None, help="or, and, xor, nand, nor or xnor (or use --data)."),
        out: Path = typer.Option(..., "-o", help="Output: .h5/.hdf/.hdf5, .keras, .npz or .xlsx (a workbook)."),
        data: Optional[Path] = typer.Option(None, "--data", help="Train on a labelled CSV table instead."),
        label: Optional[str] = typer.Option(None, "--label", help="The CSV's label column (default: the last)."),
        hidden: Optional[List[int]] = typer.Option(None, "--hidden", help="A hidden Dense layer of N units (repeatable)."),
        activation: str = typer.Option("tanh", "--activation", help="Activation of the hidden layers."),
        output: str = typer.Option("softmax", "--output", help="Output activation: softmax or sigmoid."),
        loss: str = typer.Option("binary_crossentropy", "--loss",
                                 help="binary_crossentropy, categorical_crossentropy or mse."),
        optimizer: str = typer.Option("sgd", "--optimizer", help="sgd or adam."),
        lr: float = typer.Option(0.2, "--lr", help="Learning rate."),
        momentum: float = typer.Option(0.0, "--momentum", help="SGD momentum."),
        nesterov: bool = typer.Option(False, "--nesterov", help="Nesterov momentum (SGD)."),
        epochs: int = typer.Option(50, "--epochs"),
        batch_size: int = typer.Option(128, "--batch-size"),
        shuffle: bool = typer.Option(True, "--shuffle/--no-shuffle", help="Reshuffle rows every epoch."),
        seed: Optional[int] = typer.Option(None, "--seed", help="Seed for the start and the shuffling."),
        start: Optional[Path] = typer.Option(None, "--from", help="Start from this model file's weights."),
        restarts: int = typer.Option(1, "--restarts", help="Retry from new random starts until all rows are right, at most N times."),
        quiet: bool = typer.Option(False, "--quiet", help="No progress bar.")) -> None:
    """Train the lesson's network in NumPy, as Keras would.  Example: gate2xlsx train or -o or.h5"""
    from .progress import ProgressBar
    from .train import Settings, train

    settings = Settings(loss=loss, optimizer=optimizer, lr=lr, momentum=momentum, nesterov=nesterov,
                        epochs=epochs, batch_size=batch_size, shuffle=shuffle, seed=seed)
    with ProgressBar("Training", enabled=not quiet) as bar:
        result = train(gate, data=None if data is None else str(data), label=label, hidden=hidden or (),
                       activation=activation, output=output, settings=settings,
                       start=None if start is None else str(start), restarts=restarts, save_to=str(out),
                       on_epoch=_progress(bar, epochs), on_attempt=_attempt(restarts))
    typer.echo(result.report())
    typer.echo(f"Wrote {out}")


def _progress(bar, epochs: int):
    """Feed the shared progress bar (shown after a second, on a terminal) once per epoch."""
    def show(epoch: int, loss: float) -> None:
        bar(epoch, epochs)
    return show


def _attempt(restarts: int):
    def show(attempt) -> None:
        if restarts > 1:
            verdict = "all rows right" if attempt.accuracy == 1.0 else (
                "retrying from a new random start" if attempt.number < restarts else "giving up")
            typer.echo(f"Try {attempt.number} (seed {attempt.seed}): loss {attempt.losses[-1]:.4f}, "
                       f"accuracy {attempt.accuracy:.0%}, {verdict}")
    return show
