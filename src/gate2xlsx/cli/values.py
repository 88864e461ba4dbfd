"""Command-line values made into their Python types without pydantic.

typer 0.29 converts every value through a pydantic TypeAdapter, built when the parameter is
first processed: importing pydantic alone costs more than the lesson's whole export after
`import typer` (measured: 0.29 s -> 0.58 s for `import typer` -> `import typer, pydantic`). The
CLI's values are plain (text, whole numbers, decimals, paths, lists of them, one fixed choice),
so each parameter gets this small converter in place of typer's, and its slips are worded as
click words them: "Invalid value for '--lr': 'abc' is not a valid float."
"""

from __future__ import annotations

import typing
from pathlib import Path

import typer

_TYPE_NAMES = {int: "integer", float: "float"}


class Plain:
    """One parameter's converter, with the interface typer asks of its own (`coerce`)."""

    def __init__(self, annotation: object) -> None:
        if typing.get_origin(annotation) is list:
            (annotation,) = typing.get_args(annotation)
        self.choices = (
            typing.get_args(annotation) if typing.get_origin(annotation) is typing.Literal else ()
        )
        self.type = str if self.choices else annotation

    def coerce(self, value, param, ctx):
        if param.multiple or param.nargs == -1:
            return () if value is None else [self._one(v, param, ctx) for v in value]
        return None if value is None else self._one(value, param, ctx)

    def _one(self, value, param, ctx):
        if self.choices and value not in self.choices:
            listed = ", ".join(repr(c) for c in self.choices)
            words = "one of " if len(self.choices) > 1 else ""
            raise typer.BadParameter(f"{value!r} is not {words}{listed}.", ctx=ctx, param=param)
        if self.type is bool or isinstance(value, self.type):
            return value
        if self.type in (int, float):
            try:
                return self.type(value)
            except ValueError:
                raise typer.BadParameter(
                    f"{value!r} is not a valid {_TYPE_NAMES[self.type]}.", ctx=ctx, param=param
                ) from None
        return Path(value) if self.type is Path else str(value)


class PlainValues:
    """A click command (mixed in before typer's class) whose parameters, its help option
    included, convert their values with Plain."""

    def get_params(self, ctx):
        params = super().get_params(ctx)
        for param in params:
            if getattr(param, "_runtime_param", False) is None:  # typer's, not built yet
                param._runtime_param = Plain(param.type_descriptor.annotation)
        return params
