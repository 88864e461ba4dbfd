"""Errors gate2xlsx raises on purpose; the CLI turns each into one `Error:` line."""

from __future__ import annotations


class Gate2XlsxError(Exception):
    """Base class: a problem the user can act on, described in one sentence."""

    exit_code = 2

    def __init__(self, message: str, *, path: object = None, hint: str | None = None):
        self.path = None if path is None else str(path)
        self.hint = hint
        super().__init__(message)

    def __str__(self) -> str:
        message = super().__str__()
        return f"{self.path}: {message}" if self.path else message


class InputError(Gate2XlsxError):
    """The input file is missing, unreadable or not in a format gate2xlsx knows."""


class UnsupportedModelError(Gate2XlsxError):
    """The model uses a layer, activation or option that gate2xlsx cannot compute."""


class UnsafeModelError(Gate2XlsxError):
    """The file asks for something gate2xlsx refuses to do (run code, follow links)."""


class LayoutError(Gate2XlsxError):
    """The network does not fit inside a spreadsheet's limits."""


class OutputError(Gate2XlsxError):
    """The output cannot be written where asked."""


class CheckFailed(Gate2XlsxError):
    """A verification found values that differ from the reference."""

    exit_code = 1


class EngineMissing(Gate2XlsxError):
    """A spreadsheet engine (LibreOffice) is needed but not installed."""


class UsageError(Gate2XlsxError):
    """The command line itself is wrong: an unknown option, a missing or malformed value.
    `prog` is the command ("gate2xlsx train"), `usage` its usage line."""

    def __init__(self, message: str, *, prog: str = "gate2xlsx", usage: str = ""):
        super().__init__(message)
        self.prog, self.usage = prog, usage
