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
            allow_rare_labels=options.allow_rare_labels,
            hidden=options.hidden or (),
            activation=options.activation,
            output=options.output_activation,
            settings=settings,
            start=_text(options.start),
            restarts=options.restarts,
            save_to=str(options.out),
            training_sheet=options.training_sheet,
            on_epoch=lambda epoch, loss: bar(epoch, options.epochs),
            on_attempt=_attempt(options.restarts),
        )
    print(result.report())
    print(f"Seed: {result.seed} (--seed {result.seed} repeats this run)")
    if result.hint():
        print(f"Hint: {result.hint()}")
    print(f"Wrote {options.out}")


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "gate", nargs="?", metavar="GATE", help="or, and, xor, nand, nor or xnor (or use --data)"
    )
    p.add_argument(
        "-o",
        dest="out",
        type=Path,
        required=True,
        metavar="OUT",
        help="the trained model: .h5/.hdf/.hdf5, .keras, .npz, or .xlsx (a workbook)",
    )
    p.add_argument("--data", type=Path, metavar="CSV", help="train on a labelled CSV table instead")
    p.add_argument("--label", metavar="COLUMN", help="the CSV's label column (default: the last)")
    p.add_argument(
        "--allow-rare-labels",
        action="store_true",
        help="train even when a label looks like a typo (one row, or another's case)",
    )
    p.add_argument(
        "--hidden",
        type=int,
        action="append",
        metavar="UNITS",
        help="a hidden Dense layer of UNITS units (repeat for more layers)",
    )
    p.add_argument(
        "--activation",
        default="tanh",
        metavar="NAME",
        help="activation of the hidden layers (default: tanh)",
    )
    p.add_argument(
        "--output-activation",
        default="softmax",
        metavar="NAME",
        help="activation of the output layer: softmax (default) or sigmoid",
    )
    p.add_argument("--output", action=_Renamed, nargs="?", help=argparse.SUPPRESS)
    p.add_argument("--loss", metavar="NAME", help="binary_crossentropy (default for two "
                   "classes), categorical_crossentropy (default for more) or mse")  # fmt: skip
    p.add_argument(
        "--optimizer", default="sgd", metavar="NAME", help="sgd (default), adam or rmsprop"
    )
    p.add_argument(
        "--lr", type=float, default=0.2, metavar="RATE", help="learning rate (default: 0.2)"
    )
    p.add_argument(
        "--momentum", type=float, default=0.0, metavar="M", help="SGD momentum (default: 0)"
    )
    p.add_argument("--nesterov", action="store_true", help="Nesterov momentum (SGD)")
    p.add_argument(
        "--epochs",
        type=int,
        default=50,
        metavar="N",
        help="passes over the training rows (default: 50)",
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=128,
        metavar="N",
        help="rows per gradient step (default: 128, Keras's own)",
    )
    p.add_argument(
        "--shuffle",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="reshuffle the rows every epoch (default: on)",
    )
    p.add_argument(
        "--seed",
        type=int,
        metavar="N",
        help="seed of the random start and the shuffling (default: drawn, and printed)",
    )
    p.add_argument(
        "--from",
        dest="start",
        type=Path,
        metavar="MODEL",
        help="start from this model file's (or workbook's) weights",
    )
    p.add_argument(
        "--restarts",
        type=int,
        default=1,
        metavar="N",
        help="retry from new random starts until all rows are right, at most N times",
    )
    p.add_argument(
        "--training-sheet",
        action="store_true",
        help="with -o OUT.xlsx: replay the training on a Training sheet (the Weights sheet "
        "then holds the start, and use_trained is 1)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


class _Renamed(argparse.Action):
    """`--output` once named the output activation; the file is -o everywhere else."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        parser.error("--output was renamed --output-activation (the output layer's activation); "
                     "the trained model's file is -o OUT")  # fmt: skip


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
