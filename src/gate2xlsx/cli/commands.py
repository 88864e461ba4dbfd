"""Each command: its arguments and a few lines calling the library (imported when it runs)."""

from __future__ import annotations

import argparse
import inspect as inspect_module
from functools import cache
from pathlib import Path

from ..errors import InputError
from ..version import __version__
from . import train
from .usage import Formatter, Parser

DESCRIPTION = (
    "Turn a neural network into a spreadsheet that computes it.\n\n"
    "Export is the default command: gate2xlsx or.hdf -o or.xlsx"
)


def export(options: argparse.Namespace) -> None:
    """Write a workbook whose formulas compute MODEL.

    Example: gate2xlsx or.hdf -o or.xlsx --gate or
    """
    from ..files import check_workbook_target
    from ..readers import start_load

    target = options.output or Path.cwd() / (options.model.stem + ".xlsx")
    check_workbook_target(target, options.model)  # before the read: a wrong name costs nothing
    reading = start_load(options.model, architecture=options.architecture)
    # The writer's imports (openpyxl, the sheet planner) overlap the child's read (and h5py).
    from ..app.export import TRAINING_OPTIONS, export_workbook, fresh_start, training_spec
    from ..progress import ProgressBar

    model = reading.result()
    training = training_spec(
        model,
        options.epochs,
        loss=options.loss,
        **{key: getattr(options, key) for key in TRAINING_OPTIONS},
    )
    if options.init is not None:
        model = fresh_start(model, options.seed)
    with ProgressBar(f"Writing {target.name}", enabled=not options.quiet) as progress:
        info = export_workbook(
            model,
            target,
            formulas=options.formulas,
            gate=options.gate,
            data=options.data,
            loss=options.loss,
            labels=options.labels,
            inputs=options.inputs,
            progress=progress,
            training=training,
        )
    print(f"Wrote {target} ({len(model.layers)} layers, {model.count_params()} weights)")
    if info.gate_from and info.gate_from != "--gate":
        print(f"Gate: {info.gate.upper()}, inferred from {info.gate_from}")
    print(f"{info.rows}; loss: {info.loss or 'none'}; sheets: {', '.join(info.sheets)}")


def _export(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "model",
        type=Path,
        metavar="MODEL",
        help="model file (.hdf, .h5, .keras, .npz, a gate2xlsx workbook, ...)",
    )
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="OUT.xlsx",
        help="workbook to write (default: MODEL's stem + .xlsx here)",
    )
    _architecture(p)
    p.add_argument(
        "--formulas",
        default="mmult",
        metavar="MODE",
        help="mmult (array formulas, default), sumproduct, or expanded",
    )
    p.add_argument("--gate", metavar="GATE", help="truth table rows: or, and, xor, nand, nor, xnor")
    p.add_argument(
        "--data",
        type=Path,
        metavar="CSV",
        help="rows of the Data sheet: inputs, then a label column (optional)",
    )
    p.add_argument(
        "--loss",
        metavar="NAME",
        help="binary_crossentropy, categorical_crossentropy or mse (default: the file's own)",
    )
    p.add_argument("--labels", type=_names, metavar="NAMES", help="class names, e.g. False,True")
    p.add_argument("--inputs", type=_names, metavar="NAMES", help="input names, e.g. x1,x2")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _training(p)


def _training(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group(
        "Training sheet (gradient descent in formulas; defaults: the file's own settings)"
    )
    group.add_argument("--epochs", type=int, metavar="N", help="add a Training sheet of N epochs")
    group.add_argument("--batch-size", type=int, metavar="N", help="rows per step (default: 128)")
    group.add_argument("--optimizer", metavar="NAME", help="sgd, adam or rmsprop")
    group.add_argument("--lr", type=float, metavar="RATE", help="learning rate (default: 0.2)")
    group.add_argument("--momentum", type=float, metavar="M", help="SGD momentum (default: 0)")
    group.add_argument("--nesterov", action="store_true", default=None, help="Nesterov momentum")
    group.add_argument(
        "--init",
        choices=["glorot"],
        metavar="glorot",
        help="start from fresh glorot-uniform kernels and zero biases, not the file's weights",
    )
    group.add_argument("--seed", type=int, metavar="S", help="seed of --init glorot")


def inspect(options: argparse.Namespace) -> None:
    """Format, Keras version, layers and weights of MODEL.

    Example: gate2xlsx inspect or.hdf
    """
    import json

    from ..app.inspect import describe, render

    info = describe(options.model, full=options.full, architecture=options.architecture)
    print(json.dumps(info, indent=1) if options.json else render(info))


def _inspect(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "model", type=Path, metavar="MODEL", help="model file or workbook to look inside"
    )
    _architecture(p)
    p.add_argument("--full", action="store_true", help="print every weight value")
    p.add_argument("--json", action="store_true", help="the same as JSON, for scripts")


def extract(options: argparse.Namespace) -> None:
    """Write the workbook's current weights as a model file.

    Example: gate2xlsx extract or.xlsx -o or.h5
    """
    from ..readers.xlsx import read_workbook
    from ..writers import save

    model = read_workbook(options.workbook, trained=True if options.trained else None)
    save(model, options.output)
    print(f"Wrote {options.output} ({len(model.layers)} layers, {model.count_params()} weights)")


def _extract(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "workbook", type=Path, metavar="WORKBOOK", help="a workbook gate2xlsx wrote (edited or not)"
    )
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help="model file to write: .h5, .keras, .onnx or .npz",
    )
    p.add_argument(
        "--trained",
        action="store_true",
        help="the weights the Training sheet reached, not the Weights sheet's",
    )


def verify(options: argparse.Namespace) -> None:
    """Recalculate WORKBOOK in LibreOffice and compare with NumPy; exit 1 on a mismatch.

    Example: gate2xlsx verify or.xlsx --model or.hdf
    """
    from ..app.verify import verify as check
    from ..errors import CheckFailed
    from ..readers import load

    reference = load(options.model, architecture=options.architecture) if options.model else None
    report = check(
        options.workbook, reference, **({} if options.atol is None else {"atol": options.atol})
    )
    print(report)
    if not report.ok:
        raise CheckFailed(report.failure(), path=options.workbook)


def _verify(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "workbook", type=Path, metavar="WORKBOOK", help="the workbook to recalculate and check"
    )
    p.add_argument(
        "--model",
        type=Path,
        help="check against this model file instead of the workbook's own weights",
    )
    _architecture(p, "for a weights-only --model: its model.to_json() text")
    p.add_argument("--atol", type=float, metavar="X",
                   help="largest difference allowed (default: 1e-9)")  # fmt: skip


def predict(options: argparse.Namespace) -> None:
    """The NumPy forward pass: probabilities and predicted labels.

    Example: gate2xlsx predict or.hdf 0 1
    """
    from .. import tables
    from ..app.predict import predict as forward
    from ..readers import load

    model = load(options.model)
    if options.data is None and not options.values:
        raise InputError("give input values (gate2xlsx predict MODEL 0 1) or --data FILE.csv")
    x = (
        tables.inputs(options.data, model.n_inputs).x
        if options.data is not None
        else options.values
    )
    print(forward(model, x).table())


def _predict(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", type=Path, metavar="MODEL", help="model file or workbook")
    p.add_argument(
        "values",
        type=float,
        nargs="*",
        metavar="VALUE",
        help="input values, row after row (-1 works; so does -- before them)",
    )
    p.add_argument("--data", type=Path, help="CSV of input rows")


# name -> (arguments, run, usage, the argument that names the file worked on)
COMMANDS = {
    "export": (_export, export, "gate2xlsx MODEL [-o OUT.xlsx] [OPTIONS]", "model"),
    "inspect": (_inspect, inspect, "gate2xlsx inspect MODEL [--full] [--json]", "model"),
    "extract": (
        _extract,
        extract,
        "gate2xlsx extract WORKBOOK -o MODEL_FILE [--trained]",
        "workbook",
    ),
    "verify": (_verify, verify, "gate2xlsx verify WORKBOOK [--model MODEL] [--atol X]", "workbook"),
    "predict": (_predict, predict, "gate2xlsx predict MODEL [VALUE ...] [--data CSV]", "model"),
    "train": (train.arguments, train.run, "gate2xlsx train [GATE] -o OUT [OPTIONS]", "data"),
}
USAGE = "gate2xlsx MODEL [-o OUT.xlsx] [OPTIONS]\n       gate2xlsx COMMAND [ARGS]..."


@cache
def parser() -> argparse.ArgumentParser:
    """The root parser; `.commands` maps each command to its own parser."""
    root = Parser(prog="gate2xlsx", usage=USAGE, description=DESCRIPTION, formatter_class=Formatter)
    root.add_argument("--version", action="version", version=f"gate2xlsx {__version__}")
    root.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = root.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    root.commands = {}
    for name, (arguments, run, usage, subject) in COMMANDS.items():
        doc = inspect_module.cleandoc(run.__doc__ or "")
        command = commands.add_parser(name, help=doc.split("\n")[0], description=doc,
                                      prog=f"gate2xlsx {name}", usage=usage,
                                      formatter_class=Formatter)  # fmt: skip
        arguments(command)
        command.set_defaults(run=run, subject_of=subject)
        root.commands[name] = command
    return root


def _architecture(p: argparse.ArgumentParser,
                  text: str = "model.to_json() text (or config.json, TF.js model.json) for a "
                  "weights-only file") -> None:  # fmt: skip
    p.add_argument("--architecture", type=Path, metavar="JSON", help=text)


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",")]
