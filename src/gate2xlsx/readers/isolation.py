"""Read a model file in a child process, so a damaged file cannot take gate2xlsx down with it.

The HDF5 C library can crash on a damaged file, or loop inside one attribute read and never
return; even Ctrl-C cannot stop it then, because Python only handles a signal once the C call
returns. (tests/bad_inputs/fuzz.py found such a file.) A forked child does the reading and
sends the Model back; the parent waits at most TIME_LIMIT seconds. A crash or a hang becomes
one InputError naming the file. Errors the reader raises on purpose arrive as themselves.

Where there is no fork (Windows), or the process runs other threads (a notebook kernel, a
web server: a child forked from them can deadlock on a lock another thread held), the reader
runs in this process as before. The command line has one thread when it reads.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from ..errors import Gate2XlsxError, InputError

T = TypeVar("T")
# Far longer than any model that fits a spreadsheet takes to read (670k weights: 0.1 s).
TIME_LIMIT = 120.0


class Pending(Generic[T]):
    """A read under way in a forked child (or, where there is no fork, already done here).
    `pid` is the child's (None for a read done here)."""

    def __init__(self, pid: int | None = None, fd: int = -1, path: Path | None = None,
                 limit: float = 0.0):  # fmt: skip
        self.pid, self._fd, self._path, self._limit = pid, fd, path, limit
        self._outcome: tuple[bool, object] | None = None

    @classmethod
    def done(cls, read: Callable[..., T], *args) -> Pending[T]:
        pending = cls()
        try:
            pending._outcome = (True, read(*args))
        except Exception as exc:  # raised from result(), as a child's would be
            pending._outcome = (False, (exc, None))
        return pending

    def result(self) -> T:
        """The read's result, or its exception re-raised here; waits at most the time limit."""
        if self._outcome is None:
            self._outcome = self._wait()
        ok, value = self._outcome
        if ok:
            return value
        exc, where = value
        if where is None:  # raised in this process: its own traceback and cause
            raise exc
        raise exc from (ChildTraceback(where) if where else None)

    def _wait(self) -> tuple[bool, object]:
        data = None
        try:
            data = _read_all(self._fd, time.monotonic() + self._limit)
        finally:
            os.close(self._fd)
            if data is None:  # stuck, or the wait was interrupted (Ctrl-C): stop it now
                os.kill(self.pid, signal.SIGKILL)
            _, status = os.waitpid(self.pid, 0)  # the pipe is closed: it has ended
        if data is None:
            return False, (_stuck(self._limit, self._path), "")
        try:
            return pickle.loads(data)
        except Exception:  # nothing, or half a message: the child died while it read
            return False, (_crashed(os.waitstatus_to_exitcode(status), self._path), "")


def in_child(read: Callable[..., T], *args, path: Path, time_limit: float | None = None) -> T:
    """read(*args) run in a forked child; its result, or its exception re-raised here."""
    return start_in_child(read, *args, path=path, time_limit=time_limit).result()


def start_in_child(
    read: Callable[..., T], *args, path: Path, time_limit: float | None = None
) -> Pending[T]:
    """Fork a child that runs read(*args) and return at once; `.result()` collects it."""
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return Pending.done(read, *args)
    receive, send = os.pipe()
    for stream in (sys.stdout, sys.stderr):  # or the child would write their buffers again
        stream.flush()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(receive)
        _serve(send, read, args, parent)
    os.close(send)
    return Pending(pid, receive, path, TIME_LIMIT if time_limit is None else time_limit)


def _read_all(fd: int, deadline: float) -> bytes | None:
    """Everything the child writes until it closes the pipe; None when the deadline passes."""
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _stuck(limit: float, path: Path) -> InputError:
    return InputError(
        f"reading the file did not finish in {limit:g} s (the HDF5 library is stuck in it: "
        "a damaged file?)",
        path=path,
    )


def _crashed(exitcode: int | None, path: Path) -> InputError:
    return InputError(
        f"reading the file crashed the HDF5 library ({_how(exitcode)}): a damaged file?",
        path=path,
    )


class ChildTraceback(Exception):
    """The traceback of an unforeseen error in the child, shown by --debug as the cause."""


def _serve(send: int, read: Callable, args: tuple, parent: int) -> None:
    """The child's whole life: read, send the outcome down the pipe, exit without running
    the parent's exit handlers (they belong to the parent)."""
    try:
        _die_with(parent)
        try:
            result = (True, read(*args))
        except Gate2XlsxError as exc:  # a message for the user: no traceback needed
            result = (False, (exc, ""))
        except BaseException as exc:  # every outcome goes back to the parent
            result = (False, (exc, "".join(traceback.format_exception(exc))))
        try:
            data = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # an exception or result that does not pickle
            failed = InputError(f"reading failed: {type(exc).__name__}: {exc}")
            data = pickle.dumps((False, (failed, "")))
        with os.fdopen(send, "wb") as pipe:
            pipe.write(data)
    finally:
        os._exit(0)


PR_SET_PDEATHSIG = 1


def _die_with(parent: int) -> None:
    """Linux: have the kernel kill this child when the parent dies, even by SIGKILL or SIGTERM,
    so a child stuck in libhdf5 never outlives the command that started it."""
    import ctypes  # the child's alone: the parent never pays for it

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: the parent's time limit still applies
        return
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)


def _how(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"signal {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"signal {-exitcode}"
    return f"exit status {exitcode}"
