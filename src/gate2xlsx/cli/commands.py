"""Each command: its typer parameters, and a few lines calling the library (imported when it
runs). A command's typer function only gathers what was given: it returns the function to run
with its options (`params.call`), and cli.main runs it outside click, so every failure is reported
the one way (an `Error:` line) whichever command it came from."""

from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Literal

import typer

from ..errors import InputError
from . import train
from .params import Activations, BatchSize, Lr, Momentum, Nesterov, Quiet, as_value, call, option
from .root import Command, TakesNegativeNumbers, app

# --- the parameters several commands share ---------------------------------------------------

Model = Annotated[
    Path,
    typer.Argument(
        metavar="MODEL",
        help="model file or folder (.hdf, .h5, .keras, .npz, ONNX, a SavedModel or TF.js "
        "folder, a gate2xlsx workbook, ...)",
        show_default=False,
    ),
]
Workbook = Annotated[
    Path,
    typer.Argument(
        metavar="WORKBOOK", help="a workbook gate2xlsx wrote (edited or not)", show_default=False
    ),
]
ARCHITECTURE_HELP = (
    "model.to_json() text (or config.json, TF.js model.json) for a weights-only file"
)
Architecture = Annotated[
    Path | None, option("--architecture", metavar="JSON", help=ARCHITECTURE_HELP)
]


# --- export ---------------------------------------------------------------------------------

Output = Annotated[
    Path | None,
    option(
        "-o",
        "--output",
        metavar="OUT.xlsx",
        help="workbook to write (default: MODEL's stem + .xlsx here)",
    ),
]
Formulas = Annotated[
    str,
    option(
        "--formulas",
        metavar="MODE",
        help="mmult (array formulas, default), sumproduct, or expanded",
    ),
]
Gate = Annotated[
    str | None,
    option("--gate", metavar="GATE", help="truth table rows: or, and, xor, nand, nor, xnor"),
]
Data = Annotated[
    Path | None,
    option(
        "--data",
        metavar="CSV",
        help="rows of the Data sheet: inputs, then a label column (optional)",
    ),
]
Loss = Annotated[
    str | None,
    option(
        "--loss",
        metavar="NAME",
        help="binary_crossentropy, categorical_crossentropy or mse (default: the file's own)",
    ),
]
Labels = Annotated[
    str | None, option("--labels", metavar="NAMES", help="class names, e.g. False,True")
]
Inputs = Annotated[str | None, option("--inputs", metavar="NAMES", help="input names, e.g. x1,x2")]
Epochs = Annotated[
    int | None, option("--epochs", metavar="N", help="add a Training sheet of N epochs")
]
Optimizer = Annotated[
    str | None, option("--optimizer", metavar="NAME", help="sgd, adam or rmsprop")
]
Init = Annotated[
    Literal["glorot"] | None,
    option(
        "--init",
        metavar="glorot",
        help="start from fresh glorot-uniform kernels and zero biases, not the file's weights",
    ),
]
Seed = Annotated[int | None, option("--seed", metavar="S", help="seed of --init glorot")]


@app.command(
    "export",
    cls=Command,
    epilog="--epochs to --seed add a Training sheet (gradient descent in formulas; defaults: "
    "the file's own settings).",
)
def export_command(
    model: Model,
    output: Output = None,
    architecture: Architecture = None,
    activations: Activations = None,
    formulas: Formulas = "mmult",
    gate: Gate = None,
    data: Data = None,
    loss: Loss = None,
    labels: Labels = None,
    inputs: Inputs = None,
    quiet: Quiet = False,
    epochs: Epochs = None,
    batch_size: BatchSize = None,
    optimizer: Optimizer = None,
    lr: Lr = None,
    momentum: Momentum = None,
    nesterov: Nesterov = None,
    init: Init = None,
    seed: Seed = None,
):
    """Write a workbook whose formulas compute MODEL.

    Example: gate2xlsx or.hdf -o or.xlsx --gate or
    """
    return call(export, "model", locals())


def export(options: SimpleNamespace) -> None:
    from ..app.options import ExportOptions, TrainingOptions
    from ..app.run_export import run_export

    chosen = as_value(
        ExportOptions,
        options,
        labels=_names(options.labels),
        inputs=_names(options.inputs),
        training=as_value(TrainingOptions, options),
        progress_bar=not options.quiet,
    )
    info = run_export(options.model, options.output, chosen)
    print(f"Wrote {info.path} ({info.layers} layers, {info.weights} weights)")
    if info.gate_from and info.gate_from != "--gate":
        print(f"Gate: {info.gate.upper()}, inferred from {info.gate_from}")
    print(f"{info.rows}; loss: {info.loss or 'none'}; sheets: {', '.join(info.sheets)}")


# --- inspect, extract, verify, predict ------------------------------------------------------


@app.command("inspect", cls=Command)
def inspect_command(
    model: Annotated[
        Path,
        typer.Argument(
            metavar="MODEL",
            help="model file, folder or workbook to look inside",
            show_default=False,
        ),
    ],
    architecture: Architecture = None,
    activations: Activations = None,
    full: Annotated[bool, option("--full", help="print every weight value")] = False,
    json: Annotated[bool, option("--json", help="the same as JSON, for scripts")] = False,
):
    """Format, Keras version, layers and weights of MODEL.

    Example: gate2xlsx inspect or.hdf
    """
    return call(inspect, "model", locals())


def inspect(options: SimpleNamespace) -> None:
    import json

    from ..app.inspection import describe, render
    from ..readers import load

    model = load(options.model, architecture=options.architecture, activations=options.activations)
    info = describe(model, full=options.full)
    print(json.dumps(info, indent=1) if options.json else render(info))


@app.command("extract", cls=Command)
def extract_command(
    workbook: Workbook,
    output: Annotated[
        Path, option("-o", "--output", help="model file to write: .h5, .keras, .onnx or .npz")
    ],
    trained: Annotated[
        bool,
        option("--trained", help="the weights the Training sheet reached, not the Weights sheet's"),
    ] = False,
):
    """Write the workbook's current weights as a model file.

    Example: gate2xlsx extract or.xlsx -o or.h5
    """
    return call(extract, "workbook", locals())


def extract(options: SimpleNamespace) -> None:
    from ..readers.xlsx import read_workbook
    from ..writers import save

    model = read_workbook(options.workbook, trained=True if options.trained else None)
    save(model, options.output)
    print(f"Wrote {options.output} ({len(model.layers)} layers, {model.count_params()} weights)")


@app.command("verify", cls=Command)
def verify_command(
    workbook: Annotated[
        Path,
        typer.Argument(
            metavar="WORKBOOK", help="the workbook to recalculate and check", show_default=False
        ),
    ],
    model: Annotated[
        Path | None,
        option(
            "--model",
            metavar="MODEL",
            help="check against this model file (or folder) instead of the workbook's own weights",
        ),
    ] = None,
    architecture: Annotated[
        Path | None,
        option(
            "--architecture",
            metavar="JSON",
            help="for a weights-only --model: its model.to_json() text",
        ),
    ] = None,
    activations: Activations = None,
    atol: Annotated[
        float | None,
        option("--atol", metavar="X", help="largest difference allowed (default: 1e-9)"),
    ] = None,
):
    """Recalculate WORKBOOK in LibreOffice and compare with NumPy; exit 1 on a mismatch.

    Example: gate2xlsx verify or.xlsx --model or.hdf
    """
    return call(verify, "workbook", locals())


def verify(options: SimpleNamespace) -> None:
    from ..app.verify import verify as check
    from ..errors import CheckFailed
    from ..readers import load

    reference = None
    if options.model is not None:
        reference = load(
            options.model, architecture=options.architecture, activations=options.activations
        )
    report = check(
        options.workbook, reference, **({} if options.atol is None else {"atol": options.atol})
    )
    print(report)
    if not report.ok:
        raise CheckFailed(report.failure(), path=options.workbook)


@app.command("predict", cls=TakesNegativeNumbers)
def predict_command(
    model: Annotated[
        Path,
        typer.Argument(metavar="MODEL", help="model file, folder or workbook", show_default=False),
    ],
    values: Annotated[
        list[float] | None,
        typer.Argument(
            metavar="VALUE",
            show_default=False,
            help="input values, row after row (-1 works; so does -- before them)",
        ),
    ] = None,
    data: Annotated[Path | None, option("--data", metavar="CSV", help="CSV of input rows")] = None,
    activations: Activations = None,
):
    """The NumPy forward pass: probabilities and predicted labels.

    Example: gate2xlsx predict or.hdf 0 1
    """
    return call(predict, "model", locals())


def predict(options: SimpleNamespace) -> None:
    from ..app.predict import predict as forward
    from ..data import csv_tables as tables
    from ..readers import load

    model = load(options.model, activations=options.activations)
    if options.data is None and not options.values:
        raise InputError("give input values (gate2xlsx predict MODEL 0 1) or --data FILE.csv")
    x = (
        tables.inputs(options.data, model.n_inputs).x
        if options.data is not None
        else list(options.values)
    )
    print(forward(model, x).table())


app.command("train", cls=Command)(train.command)


def command():
    """The click command typer builds from `app`, every command registered."""
    return typer.main.get_command(app)


def _names(text: str | None) -> list[str] | None:
    return None if text is None else [part.strip() for part in text.split(",")]
