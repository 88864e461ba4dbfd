"""Progress for long exports and trainings: a rich bar on stderr that appears only after the
work has taken a second, never when stderr is not a terminal or the user asked for --quiet."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

OnProgress = Callable[[int, int], None]  # called with (done, total)
DELAY = 1.0


class ProgressBar:
    """Call with (done, total); shows a bar once `DELAY` seconds have passed. Use as a context."""

    def __init__(self, label: str, *, enabled: bool = True, stream=None):
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = enabled and self.stream.isatty()
        self.start = time.monotonic()
        self._bar = None
        self._task = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self._bar is None:
            if time.monotonic() - self.start < DELAY:
                return
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                Progress,
                TaskProgressColumn,
                TextColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                TimeRemainingColumn(),
                console=Console(file=self.stream),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=total)
        self._bar.update(self._task, completed=done, total=total)

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
