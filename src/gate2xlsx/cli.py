"""The command line: thin wrappers over the library. `gate2xlsx MODEL -o OUT.xlsx` exports;
other commands sit beside it as sub-commands.

Exit codes: 0 success, 1 a failed check, 2 bad input. Errors are one `Error:` line (plus a
`Hint:` where there is an obvious next step); `--debug` shows the traceback instead.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from . import __version__
from .errors import Gate2XlsxError
from .cli_train import train_command

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Turn a dense Keras network into a spreadsheet that computes it.\n\n"
                       "Usage: gate2xlsx MODEL [-o OUT.xlsx]   (export, the default command)")
DEBUG = {"on": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gate2xlsx {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Show the version and exit."),
          debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors.")) -> None:
    DEBUG["on"] = debug


@app.command()
def export(model: Path = typer.Argument(..., help="Model file (.hdf, .h5, .hdf5, ...)."),
           output: Optional[Path] = typer.Option(None, "-o", "--output",
                                                 help="Workbook to write (default: MODEL's stem + .xlsx here)."),
           architecture: Optional[Path] = typer.Option(None, "--architecture",
                                                       help="model.to_json() text for a weights-only file."),
           formulas: str = typer.Option("mmult", "--formulas",
                                        help="mmult (array formulas), sumproduct, or expanded."),
           gate: Optional[str] = typer.Option(None, "--gate", help="Truth table rows: or, and, xor, nand, nor, xnor."),
           data: Optional[Path] = typer.Option(None, "--data", help="CSV of rows: inputs, then a label column."),
           loss: Optional[str] = typer.Option(None, "--loss", help="binary_crossentropy, categorical_crossentropy or mse."),
           labels: Optional[str] = typer.Option(None, "--labels", help="Class names, e.g. False,True."),
           inputs: Optional[str] = typer.Option(None, "--inputs", help="Input names, e.g. x1,x2."),
           quiet: bool = typer.Option(False, "--quiet", help="No progress bar.")) -> None:
    """Write a workbook whose formulas compute MODEL.  Example: gate2xlsx or.hdf -o or.xlsx --gate or"""
    from .export import export_workbook
    from .progress import ProgressBar
    from .readers import load

    target = output or Path.cwd() / (model.stem + ".xlsx")
    loaded = load(model, architecture=architecture)
    split = lambda text: [part.strip() for part in text.split(",")] if text else None  # noqa: E731
    with ProgressBar(f"Writing {target.name}", enabled=not quiet) as progress:
        info = export_workbook(loaded, target, formulas=formulas, gate=gate, data=data, loss=loss,
                               labels=split(labels), inputs=split(inputs), progress=progress)
    typer.echo(f"Wrote {target} ({len(loaded.layers)} layers, {loaded.count_params()} weights)")
    if info.gate_from and info.gate_from != "--gate":
        typer.echo(f"Gate: {info.gate.upper()}, inferred from {info.gate_from}")
    typer.echo(f"{info.rows}; loss: {info.loss or 'none'}; sheets: {', '.join(info.sheets)}")



@app.command("inspect")
def inspect_command(model: Path = typer.Argument(..., help="Model file to look inside."),
                    full: bool = typer.Option(False, "--full", help="Print every weight value."),
                    as_json: bool = typer.Option(False, "--json", help="The same as JSON, for scripts.")) -> None:
    """Format, Keras version, layers and weights of MODEL.  Example: gate2xlsx inspect or.hdf"""
    import json
    from .inspect import describe, render

    info = describe(model, full=full)
    typer.echo(json.dumps(info, indent=1) if as_json else render(info))


@app.command()
def extract(workbook: Path = typer.Argument(..., help="A workbook gate2xlsx wrote (edited or not)."),
            output: Path = typer.Option(..., "-o", "--output", help="Model file to write: .h5, .keras or .npz.")) -> None:
    """Write the workbook's current weights as a model file.  Example: gate2xlsx extract or.xlsx -o or.h5"""
    from .keras_writer import save
    from .sheet.read_back import read_workbook

    model = read_workbook(workbook)
    save(model, output)
    typer.echo(f"Wrote {output} ({len(model.layers)} layers, {model.count_params()} weights)")


@app.command("verify")
def verify_command(workbook: Path = typer.Argument(..., help="The workbook to recalculate and check."),
                   model: Optional[Path] = typer.Option(None, "--model", help="Check against this model "
                                                        "file instead of the workbook's own weights."),
                   atol: Optional[float] = typer.Option(None, "--atol", help="Largest difference allowed.")) -> None:
    """Recalculate WORKBOOK in LibreOffice and compare with NumPy; exit 1 on a mismatch.

    Example: gate2xlsx verify or.xlsx --model or.hdf
    """
    from .errors import CheckFailed
    from .readers import load
    from .verify import verify

    report = verify(workbook, load(model) if model else None,
                    **({} if atol is None else {"atol": atol}))
    typer.echo(str(report))
    if not report.ok:
        raise CheckFailed(report.failure(), path=workbook)


@app.command("predict")
def predict_command(model: Path = typer.Argument(..., help="Model file."),
                    values: Optional[list[float]] = typer.Argument(None, help="Input values, row after "
                                                                   "row (put -- before negative numbers)."),
                    data: Optional[Path] = typer.Option(None, "--data", help="CSV of input rows.")) -> None:
    """The NumPy forward pass: probabilities and predicted labels.  Example: gate2xlsx predict or.hdf 0 1"""
    from .errors import InputError
    from .predict import predict, read_csv
    from .readers import load

    loaded = load(model)
    if data is None and not values:
        raise InputError("give input values (gate2xlsx predict MODEL 0 1) or --data FILE.csv")
    x = read_csv(data, loaded.n_inputs) if data is not None else values
    typer.echo(predict(loaded, x).table())


app.command("train")(train_command)  # gate2xlsx train GATE -o MODEL (cli_train.py)


ROOT_OPTIONS = ("--debug", "--version", "--help")


def main(argv: list[str] | None = None) -> None:
    """Entry point: `export` is implied when the first argument is not a command."""
    args = list(sys.argv[1:] if argv is None else argv)
    if "--debug" in args:  # a root option: accepted anywhere on the line
        args = ["--debug"] + [a for a in args if a != "--debug"]
    commands = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    # The command is the first word after the root options; anything else there (a model file,
    # or an export option such as `-o out.xlsx MODEL`) means the implied `export`.
    at = next((i for i, a in enumerate(args) if a not in ROOT_OPTIONS), None)
    if at is not None and args[at] not in commands:
        args.insert(at, "export")
    debug = "--debug" in args
    try:
        app(args=args, prog_name="gate2xlsx", standalone_mode=False)
    except Gate2XlsxError as exc:
        if debug:
            raise
        if exc.path is None:  # name the file the command was working on
            exc.path = _subject(args, commands).rstrip(": ") or None
        typer.echo(f"Error: {exc}", err=True)
        if exc.hint:
            typer.echo(f"Hint: {exc.hint}", err=True)
        sys.exit(exc.exit_code)
    except (typer.Exit, SystemExit) as exc:
        sys.exit(getattr(exc, "exit_code", getattr(exc, "code", 0)) or 0)
    except Exception as exc:  # click usage errors and anything unforeseen: one line, no traceback
        import click
        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(2)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(1)
        if debug:
            raise
        typer.echo(f"Error: {_subject(args, commands)}unexpected failure: {type(exc).__name__}: {exc}",
                   err=True)
        typer.echo("Hint: run again with --debug for the traceback, and report it", err=True)
        sys.exit(2)
    except KeyboardInterrupt:  # outputs are renamed into place only when complete: nothing half-written
        typer.echo(f"Error: {_subject(args, commands)}interrupted; nothing was written", err=True)
        sys.exit(130)


def _subject(args: list[str], commands: set[str]) -> str:
    """The command's first argument (its input file), as `NAME: `, or "" when there is none."""
    words = [a for a in args if not a.startswith("-")]
    words = words[1:] if words and words[0] in commands else words
    return f"{words[0]}: " if words else ""
