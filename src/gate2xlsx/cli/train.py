"""`gate2xlsx train`: its arguments, and a thin wrapper over gate2xlsx.app.train.train."""

from __future__ import annotations

import argparse
from pathlib import Path


def run(options: argparse.Namespace) -> None:
    """Train the lesson's network in NumPy, as Keras would.

    Example: gate2xlsx train or -o or.h5
    """
    from ..app.train import train
    from ..fit import Settings
    from ..progress import ProgressBar

    settings = Settings(
        loss=options.loss,
        optimizer=options.optimizer,
        lr=options.lr,
        momentum=options.momentum,
        nesterov=options.nesterov,
        epochs=options.epochs,
        batch_size=options.batch_size,
        shuffle=options.shuffle,
        seed=options.seed,
    )
    with ProgressBar("Training", enabled=not options.quiet) as bar:
        result = train(
            options.gate,
            data=_text(options.data),
            label=options.label,
            hidden=options.hidden or (),
            activation=options.activation,
            output=options.output,
            settings=settings,
            start=_text(options.start),
            restarts=options.restarts,
            save_to=str(options.out),
            on_epoch=lambda epoch, loss: bar(epoch, options.epochs),
            on_attempt=_attempt(options.restarts),
        )
    print(result.report())
    print(f"Wrote {options.out}")


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("gate", nargs="?", help="or, and, xor, nand, nor or xnor (or use --data)")
    p.add_argument(
        "-o",
        dest="out",
        type=Path,
        required=True,
        help="output: .h5/.hdf/.hdf5, .keras, .npz or .xlsx (a workbook)",
    )
    p.add_argument("--data", type=Path, help="train on a labelled CSV table instead")
    p.add_argument("--label", help="the CSV's label column (default: the last)")
    p.add_argument(
        "--hidden", type=int, action="append", help="a hidden Dense layer of N units (repeatable)"
    )
    p.add_argument("--activation", default="tanh", help="activation of the hidden layers")
    p.add_argument("--output", default="softmax", help="output activation: softmax or sigmoid")
    p.add_argument(
        "--loss",
        default="binary_crossentropy",
        help="binary_crossentropy, categorical_crossentropy or mse",
    )
    p.add_argument("--optimizer", default="sgd", help="sgd or adam")
    p.add_argument("--lr", type=float, default=0.2, help="learning rate")
    p.add_argument("--momentum", type=float, default=0.0, help="SGD momentum")
    p.add_argument("--nesterov", action="store_true", help="Nesterov momentum (SGD)")
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument(
        "--shuffle",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="reshuffle rows every epoch",
    )
    p.add_argument("--seed", type=int, help="seed for the start and the shuffling")
    p.add_argument("--from", dest="start", type=Path, help="start from this model file's weights")
    p.add_argument(
        "--restarts",
        type=int,
        default=1,
        help="retry from new random starts until all rows are right, at most N times",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _text(path: Path | None) -> str | None:
    return None if path is None else str(path)


def _attempt(restarts: int):
    def show(attempt) -> None:
        if restarts > 1:
            verdict = (
                "all rows right"
                if attempt.accuracy == 1.0
                else (
                    "retrying from a new random start" if attempt.number < restarts else "giving up"
                )
            )
            print(
                f"Try {attempt.number} (seed {attempt.seed}): loss {attempt.losses[-1]:.4f}, "
                f"accuracy {attempt.accuracy:.0%}, {verdict}"
            )

    return show
