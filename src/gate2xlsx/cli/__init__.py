"""The command line: thin wrappers over the library. `gate2xlsx MODEL -o OUT.xlsx` exports;
the other commands sit beside it as sub-commands (cli/commands.py).

Exit codes: 0 success, 1 a failed check, 2 bad input or a usage slip, 130 interrupted. Every
failure is one `Error:` line (plus a `Hint:` where there is an obvious next step); `--debug`,
anywhere on the line, shows the traceback instead. Parsing uses the standard library only and
each command imports what it needs when it runs, so `--version` and `--help` are instant.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn

from ..errors import Gate2XlsxError, UsageError
from . import usage
from .commands import COMMANDS, parser


def run() -> NoReturn:
    """The console script (and `python -m gate2xlsx`): main(), then the process ends at once.

    Every command has closed and renamed its files by the time main() returns, so the
    interpreter's teardown (freeing each module and object one by one: 0.05 s after an
    export, a tenth of the lesson's run) would do nothing anyone sees. Output is flushed;
    exit handlers are skipped (gate2xlsx registers none). Tests call main(), which returns.
    An exception main() lets through (`--debug`) ends the process the usual way.
    """
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = _exit_code(exc.code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # the reader left (`| head`), as main() handles it
        code = 141
    os._exit(code)


def _exit_code(code: object) -> int:
    """What Python's own exit makes of sys.exit(code): None is 0, text is printed and 1."""
    if code is None or isinstance(code, int):
        return code or 0
    print(code, file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> None:
    """Entry point: `export` is implied when the first argument is not a command."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = _with_command([a for a in args if a != "--debug"])
    options = None
    try:
        if not args:  # `gate2xlsx` alone: the help, and the exit code of a usage slip
            parser().print_help()
            sys.exit(2)
        _refuse_mistyped_command(args)
        options = _parse(args)
        options.subject = _subject_of(options)
        options.run(options)
    except UsageError as exc:
        if debug:
            raise
        usage.show(exc)
        sys.exit(2)
    except Gate2XlsxError as exc:
        if debug:
            raise
        if exc.path is None and options is not None:  # name the file the command worked on
            exc.path = getattr(options, "subject", None)
        _fail(f"Error: {exc}", exc.hint, exc.exit_code)
    except KeyboardInterrupt:  # outputs are renamed into place only when complete
        _fail(f"Error: {_subject(options)}interrupted; nothing was written", None, 130)
    except BrokenPipeError:  # the reader left (`| head`): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)
    except Exception as exc:  # anything unforeseen: still one line, no traceback
        if debug:
            raise
        _fail(
            f"Error: {_subject(options)}unexpected failure: {type(exc).__name__}: {exc}",
            "run again with --debug for the traceback, and report it",
            2,
        )


def _with_command(args: list[str]) -> list[str]:
    """The arguments with `export` put in front of the first one that is not a root option
    (a model file, or an export option as in `gate2xlsx -o out.xlsx MODEL`) nor a command."""
    at = next((i for i, a in enumerate(args) if a not in ("--version", "--help", "-h")), None)
    if at is not None and args[at] not in COMMANDS:
        args.insert(at, "export")
    return args


def _parse(args: list[str]):
    """The parsed options; an unknown option is reported by its command's own parser."""
    options, extras = parser().parse_known_args(args)
    if extras:
        command = parser().commands.get(options.command, parser())
        command.error(f"unrecognized arguments: {' '.join(extras)}")
    return options


def _refuse_mistyped_command(args: list[str]) -> None:
    """`gate2xlsx trian or`: a word that is no file but nearly a command is a slip, not a model."""
    if args[0] == "export" and len(args) > 1 and not args[1].startswith("-"):
        word = args[1]
        if not Path(word).exists() and "." not in word and "/" not in word:
            slip = usage.unknown_command(word, [c for c in COMMANDS if c != "export"])
            if slip is not None:
                raise slip


def _subject_of(options: object) -> str | None:
    """The file (or gate) the command works on, for messages that do not name one."""
    for name in (getattr(options, "subject_of", None), "gate"):
        value = getattr(options, name, None) if name else None
        if value is not None:
            return str(value)
    return None


def _subject(options: object) -> str:
    subject = getattr(options, "subject", None)
    return f"{subject}: " if subject else ""


def _fail(line: str, hint: str | None, code: int) -> None:
    print(line, file=sys.stderr)
    if hint:
        print(f"Hint: {hint}", file=sys.stderr)
    sys.exit(code)
