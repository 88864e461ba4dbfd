"""The command group typer builds: its usage line, its own options (--version, --debug,
completion), how `export` is implied, and the command classes (cli/values.py converts their
values; predict takes negative numbers). The commands themselves: cli/commands.py, train.py."""

import difflib
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperCommand, TyperGroup

from ..version import __version__
from .params import option
from .values import PlainValues

HELP = (
    "Turn a neural network into a spreadsheet that computes it.\n\n"
    "Export is the default command: gate2xlsx or.hdf -o or.xlsx"
)
COMPLETION = ("--install-completion", "--show-completion")
SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")  # what typer writes completion for


class Root(PlainValues, TyperGroup):
    """The command group, whose usage line says that export is implied. The shell after
    --install-completion / --show-completion is taken as theirs (typer's options are flags
    that ask the system which shell this is)."""

    def format_usage(self, ctx, formatter) -> None:
        formatter.write_usage(ctx.command_path, "MODEL [-o OUT.xlsx] [OPTIONS]")
        formatter.write_usage(ctx.command_path, "COMMAND [ARGS]...", prefix="       ")

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        for at, word in enumerate(args[:-1]):
            if word in COMPLETION and args[at + 1] in SHELLS:
                ctx.meta["gate2xlsx.shell"] = args[at + 1]
                args = [*args[: at + 1], *args[at + 2 :]]
                break
        return super().parse_args(ctx, args)


class Command(PlainValues, TyperCommand):
    """A command whose values are converted by cli.values."""


class TakesNegativeNumbers(Command):
    """predict: `-1` is an input value, not an option. With a negative number among them, the
    arguments are put in click's order: the options (with their values), `--`, the rest."""

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        if any(_negative_number(word) for word in args):
            valued = {
                name
                for param in self.get_params(ctx)
                if param.param_type_name == "option" and not param.is_flag
                for name in param.opts
            }
            options, positional, words = [], [], iter(args)
            for word in words:
                if word == "--":
                    positional.extend(words)
                elif word.startswith("-") and not _negative_number(word):
                    options.append(word)
                    if word in valued:
                        options.append(
                            next(words, None) or ctx.fail(f"Option '{word}' requires an argument.")
                        )
                else:
                    positional.append(word)
            args = [*options, "--", *positional]
        return super().parse_args(ctx, args)


app = typer.Typer(
    name="gate2xlsx",
    help=HELP,
    cls=Root,
    add_completion=False,  # ours take the shell as a value (below)
    rich_markup_mode=None,  # click's plain help and messages; rich is never imported for them
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["--help", "-h"]},
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"gate2xlsx {__version__}")
        raise typer.Exit()


def _completion(action: str, help: str):
    """typer's own --install-completion / --show-completion, for the shell named after the
    option (Root.parse_args) or else the one this runs in."""

    def callback(ctx, param, value: bool) -> None:
        if value:
            from typer.completion import install_callback, show_callback

            run = install_callback if action == "install" else show_callback
            run(ctx, param, ctx.meta.get("gate2xlsx.shell", True))

    return option(
        f"--{action}-completion", help=help, is_eager=True, expose_value=False, callback=callback
    )


@app.callback()
def root(
    version: Annotated[
        bool,
        option(
            "--version", help="print the version and exit", is_eager=True, callback=_show_version
        ),
    ] = False,
    debug: Annotated[bool, option("--debug", help="show tracebacks on errors (anywhere)")] = False,
    install_completion: Annotated[
        bool,
        _completion(
            "install",
            "install completion for the current shell (or the one named "
            "after it: bash, zsh, fish, powershell, pwsh)",
        ),
    ] = False,
    show_completion: Annotated[
        bool,
        _completion(
            "show",
            "print the completion script for the current shell (or the one "
            "named after it), to copy it or customize the installation",
        ),
    ] = False,
) -> None:
    """The group's own options (its help is HELP)."""


COMMANDS = ("export", "inspect", "extract", "verify", "predict", "train")


def with_command(args: list[str]) -> list[str]:
    """The arguments with `export` put in front of the first one that is not a root option
    (a model file, or an export option as in `gate2xlsx -o out.xlsx MODEL`) nor a command.
    A word that is no file but nearly a command's name (`gate2xlsx trian or`) is left for
    click to refuse with its "Did you mean 'train'?"."""
    at = 0
    while at < len(args) and args[at] in ("--version", "--help", "-h"):
        at += 1
    if at == len(args) or args[at] in (*COMMANDS, *COMPLETION):
        return args
    word = args[at]
    if (
        not word.startswith("-")
        and not Path(word).exists()
        and "." not in word
        and "/" not in word
        and difflib.get_close_matches(word, COMMANDS, n=1)
    ):
        return args
    return [*args[:at], "export", *args[at:]]


def _negative_number(word: str) -> bool:
    if word[:1] != "-" or word[1:2] not in tuple("0123456789."):
        return False
    try:
        float(word)
    except ValueError:
        return False
    return True
