"""What the commands' typer parameters share: how an option is declared, the options several
commands take, and what a command's typer function returns (`call`)."""

from __future__ import annotations

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


ACTIVATIONS_HELP = (
    "one activation per layer, for a plain .npz/.npy of weight arrays (e.g. tanh,softmax)"
)
Activations = Annotated[str | None, option("--activations", metavar="NAMES", help=ACTIVATIONS_HELP)]
Quiet = Annotated[bool, option("--quiet", help="no progress bar")]
