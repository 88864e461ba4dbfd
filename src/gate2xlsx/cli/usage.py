"""Usage slips, said the way click (and so git, pip, ruff) says them: the command's usage line,
where to find help, then one `Error:` line, exit 2. argparse finds the slip; this module words
it, with a "did you mean" where a near name exists."""

from __future__ import annotations

import argparse
import difflib
import re
import sys

from ..errors import UsageError

# argparse's words -> click's, for the slips a newcomer makes
_REWORDS = [
    (re.compile(r"the following arguments are required: (-\S+)"), "Missing option '{0}'."),
    (re.compile(r"the following arguments are required: ([A-Z]+)"), "Missing argument '{0}'."),
    (
        re.compile(r"argument (\S+?)(?:/\S+)?: invalid (\w+) value: '(.*)'"),
        "Invalid value for '{0}': '{2}' is not a valid {1}.",
    ),  # fmt: skip
    (
        re.compile(r"argument (\S+?)(?:/\S+)?: expected one argument"),
        "Option '{0}' requires an argument.",
    ),
]


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Help as written in the docstrings, under a capitalised "Usage:" as click prints it."""

    def add_usage(self, usage, actions, groups, prefix=None) -> None:  # type: ignore[override]
        super().add_usage(usage, actions, groups, prefix or "Usage: ")


class Parser(argparse.ArgumentParser):
    """An argparse parser whose slips become a UsageError carrying its usage line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(_reword(message, self), prog=self.prog, usage=self.format_usage())


def _reword(message: str, parser: argparse.ArgumentParser) -> str:
    if message.startswith("unrecognized arguments:"):
        return unknown_option(message.split(":", 1)[1].split(), parser)
    for pattern, words in _REWORDS:
        found = pattern.fullmatch(message)
        if found:
            return words.format(*found.groups())
    return message[:1].upper() + message[1:]


def unknown_option(extras: list[str], parser: argparse.ArgumentParser) -> str:
    """'No such option: --gates (did you mean --gate?)', or the stray argument."""
    options = [s for s in parser._option_string_actions if s.startswith("--")]
    for word in extras:
        if word.startswith("-"):
            name = word.split("=", 1)[0]
            return f"No such option: {name}{_did_you_mean(name, options)}"
    return f"Got unexpected extra argument ({' '.join(extras)})"


def unknown_command(word: str, commands: list[str]) -> UsageError | None:
    """The slip when `word` reads as a mistyped command rather than a model file."""
    near = difflib.get_close_matches(word, commands, n=1, cutoff=0.6)
    if not near:
        return None
    return UsageError(f"No such command '{word}'. Did you mean '{near[0]}'?",
                      usage="Usage: gate2xlsx COMMAND [ARGS]...")  # fmt: skip


def _did_you_mean(name: str, options: list[str]) -> str:
    near = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    return f" (did you mean {near[0]}?)" if near else ""


def show(error: UsageError) -> None:
    """Print the slip as click does, to stderr: usage, where help is, the error."""
    print(error.usage.strip() or f"Usage: {error.prog} [OPTIONS]", file=sys.stderr)
    print(f"Try '{error.prog} --help' for help.\n", file=sys.stderr)
    print(f"Error: {error.args[0]}", file=sys.stderr)
