"""`gate2xlsx train`: its typer parameters, and a thin wrapper over gate2xlsx.app.train.train."""

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated

import typer

from ..errors import Gate2XlsxError, InputError
from .params import Activations, BatchSize, Lr, Momentum, Nesterov, Quiet, as_value, call, option


def run(options: SimpleNamespace) -> None:
    from ..app.train import train
    from ..ir.fit import Settings
    from ..progress import ProgressBar

    settings = as_value(Settings, options)
    with (
        _start(options.start, options.activations) as start,
        ProgressBar("Training", enabled=not options.quiet) as bar,
    ):
        result = train(
            options.gate,
            data=_text(options.data),
            label=options.label,
            allow_rare_labels=options.allow_rare_labels,
            hidden=options.hidden or (),
            activation=options.activation,
            output=options.output_activation,
            settings=settings,
            start=start,
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


def _renamed(ctx, param, value) -> None:
    """`--output` once named the output activation; the file is -o everywhere else."""
    if value is not None:
        ctx.fail(
            "--output was renamed --output-activation (the output layer's activation); "
            "the trained model's file is -o OUT"
        )


Out = Annotated[
    Path,
    option(
        "-o",
        metavar="OUT",
        help="the trained model: .h5/.hdf/.hdf5, .keras, .npz, or .xlsx (a workbook)",
    ),
]
Gate = Annotated[
    str | None,
    typer.Argument(
        metavar="GATE", help="or, and, xor, nand, nor or xnor (or use --data)", show_default=False
    ),
]
Data = Annotated[
    Path | None, option("--data", metavar="CSV", help="train on a labelled CSV table instead")
]
Label = Annotated[
    str | None,
    option("--label", metavar="COLUMN", help="the CSV's label column (default: the last)"),
]
AllowRareLabels = Annotated[
    bool,
    option(
        "--allow-rare-labels",
        help="train even when a label looks like a typo (one row, or another's case)",
    ),
]
Hidden = Annotated[
    list[int] | None,
    option(
        "--hidden",
        metavar="UNITS",
        help="a hidden Dense layer of UNITS units (repeat for more layers)",
    ),
]
Activation = Annotated[
    str,
    option("--activation", metavar="NAME", help="activation of the hidden layers (default: tanh)"),
]
OutputActivation = Annotated[
    str,
    option(
        "--output-activation",
        metavar="NAME",
        help="activation of the output layer: softmax (default) or sigmoid",
    ),
]
RenamedOutput = Annotated[
    str | None,
    option(
        "--output",
        help="renamed --output-activation",
        hidden=True,
        expose_value=False,
        callback=_renamed,
    ),
]
Loss = Annotated[
    str | None,
    option(
        "--loss",
        metavar="NAME",
        help="binary_crossentropy (default for two classes), "
        "categorical_crossentropy (default for more) or mse",
    ),
]
Optimizer = Annotated[
    str, option("--optimizer", metavar="NAME", help="sgd (default), adam or rmsprop")
]
Epochs = Annotated[
    int, option("--epochs", metavar="N", help="passes over the training rows (default: 50)")
]
Shuffle = Annotated[
    bool, option("--shuffle/--no-shuffle", help="reshuffle the rows every epoch (default: on)")
]
Seed = Annotated[
    int | None,
    option(
        "--seed",
        metavar="N",
        help="seed of the random start and the shuffling (default: drawn, and printed)",
    ),
]
Start = Annotated[
    Path | None,
    option(
        "--from",
        metavar="MODEL",
        help="start from this model file's (or folder's, or workbook's) weights",
    ),
]
Restarts = Annotated[
    int,
    option(
        "--restarts",
        metavar="N",
        help="retry from new random starts until all rows are right, at most N times",
    ),
]
TrainingSheet = Annotated[
    bool,
    option(
        "--training-sheet",
        help="with -o OUT.xlsx: replay the training on a Training sheet (the Weights "
        "sheet then holds the start, and use_trained is 1)",
    ),
]


def command(
    out: Out,
    gate: Gate = None,
    data: Data = None,
    label: Label = None,
    allow_rare_labels: AllowRareLabels = False,
    hidden: Hidden = None,
    activation: Activation = "tanh",
    output_activation: OutputActivation = "softmax",
    renamed_output: RenamedOutput = None,
    loss: Loss = None,
    optimizer: Optimizer = "sgd",
    lr: Lr = 0.2,
    momentum: Momentum = 0.0,
    nesterov: Nesterov = False,
    epochs: Epochs = 50,
    batch_size: BatchSize = 128,
    shuffle: Shuffle = True,
    seed: Seed = None,
    start: Start = None,
    activations: Activations = None,
    restarts: Restarts = 1,
    training_sheet: TrainingSheet = False,
    quiet: Quiet = False,
):
    """Train the lesson's network in NumPy, as Keras would.

    Example: gate2xlsx train or -o or.h5
    """
    return call(run, "data", locals())


def _text(path: Path | None) -> str | None:
    return None if path is None else str(path)


@contextmanager
def _start(path: Path | None, activations: str | None) -> Iterator[str | None]:
    """--from as app.train reads it, a path. Weight arrays with --activations are read here
    and handed over as gate2xlsx's own .npz (which names its activations); a message about
    that copy names the file given."""
    if activations is None:
        yield _text(path)
        return
    if path is None:
        raise InputError(
            "--activations goes with --from MODEL (a plain .npz/.npy of weight arrays)"
        )
    from ..readers import load
    from ..writers import save

    model = load(path, activations=activations)
    with tempfile.TemporaryDirectory(prefix="gate2xlsx-") as folder:
        copy = str(save(model, Path(folder) / f"{path.stem}.npz"))
        try:
            yield copy
        except Gate2XlsxError as exc:
            if exc.path == copy:
                exc.path = str(path)
            raise


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
