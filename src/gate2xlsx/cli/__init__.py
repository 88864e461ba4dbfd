"""The command line, on typer: thin wrappers over the library. `gate2xlsx MODEL -o OUT.xlsx`
exports; the other commands sit beside it as sub-commands (cli/commands.py, cli/train.py).

Exit codes: 0 success, 1 a failed check, 2 bad input or a usage slip, 130 interrupted, 141 a
reader that left (`| head`). Every failure is one `Error:` line (plus a `Hint:` where there is
an obvious next step); `--debug`, anywhere on the line, shows the traceback instead. Usage
slips are click's own (the usage line, where help is, one `Error:` line, exit 2, a "did you
mean" where a near name exists). typer only parses: each command imports what it needs when it
runs (cli.main runs it outside click), values are converted without pydantic (cli/values.py)
and help is plain click (rich is not imported for it), so `--version` and `--help` cost little
more than `import typer`. `import gate2xlsx` never imports typer.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

from ..errors import Gate2XlsxError

PROG = "gate2xlsx"


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
    """Entry point: `export` is implied when the first argument is not a command. Returns on
    success; raises SystemExit with the exit code otherwise."""
    from typer._click.exceptions import ClickException  # the click typer 0.29 vendors

    from .commands import command
    from .root import with_command

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    cli = command()
    if os.environ.get(f"_{PROG.upper()}_COMPLETE"):  # the shell asks for completions
        from typer.completion import completion_init  # typer's classes for each shell

        completion_init()
        cli.main(args, prog_name=PROG)  # answers, then exits
    options = None
    try:
        if not args:  # `gate2xlsx` alone: the help, and the exit code of a usage slip
            cli.main(["--help"], prog_name=PROG, standalone_mode=False)
            sys.exit(2)
        options = cli.main(with_command(args), prog_name=PROG, standalone_mode=False)
        if not hasattr(options, "run"):  # --help, --version: click's exit code
            if options:
                sys.exit(options)
            return
        options.subject = _subject_of(options)
        options.run(options)
    except ClickException as exc:  # a usage slip, said as click says it
        if debug:
            raise
        exc.show()
        sys.exit(exc.exit_code)
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
