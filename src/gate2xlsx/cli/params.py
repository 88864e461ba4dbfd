"""What the commands' typer parameters share: how an option is declared, the options several
commands take (each declared once, here), what a command's typer function returns (`call`),
and how its values become the application's typed options (`as_value`)."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Annotated

import typer


def option(*names: str, help: str, metavar: str | None = None, **more):
    """A typer option whose help says its default itself (where it has one worth saying)."""
    return typer.Option(*names, help=help, metavar=metavar, show_default=False, **more)


def call(run, subject_of: str, given: dict) -> SimpleNamespace:
    """What cli.main runs, `run(options)`, outside click; `subject_of` names the option that
    holds the file worked on (named by messages that do not name one)."""
    return SimpleNamespace(run=run, subject_of=subject_of, **given)


def as_value(cls, given: SimpleNamespace, **more):
    """The dataclass `cls` of the parameters named as its fields, with `more` (fields whose
    values are not the parameters' own); fields no parameter names keep their defaults."""
    names = [f.name for f in dataclasses.fields(cls) if f.name not in more]
    return cls(**{name: getattr(given, name) for name in names if hasattr(given, name)}, **more)


ACTIVATIONS_HELP = (
    "one activation per layer, for a plain .npz/.npy of weight arrays (e.g. tanh,softmax)"
)
Activations = Annotated[str | None, option("--activations", metavar="NAMES", help=ACTIVATIONS_HELP)]
Quiet = Annotated[bool, option("--quiet", help="no progress bar")]

# the optimizer's settings, as export (for its Training sheet) and train take them
BatchSize = Annotated[
    int | None,
    option("--batch-size", metavar="N", help="rows per gradient step (default: 128, Keras's own)"),
]
Lr = Annotated[float | None, option("--lr", metavar="RATE", help="learning rate (default: 0.2)")]
Momentum = Annotated[
    float | None, option("--momentum", metavar="M", help="SGD momentum (default: 0)")
]
Nesterov = Annotated[bool | None, option("--nesterov", help="Nesterov momentum (SGD)")]
