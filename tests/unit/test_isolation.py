"""Model files are read in a child process: a crash or a hang in the HDF5 C library becomes one
clear error, and whatever the reader raises on purpose arrives unchanged."""

from __future__ import annotations

import faulthandler
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, SAMPLES

from gate2xlsx import load
from gate2xlsx.errors import InputError, UnsupportedModelError
from gate2xlsx.readers import isolation, read_path
from gate2xlsx.readers.isolation import ChildTraceback, in_child, start_in_child

sys.path.insert(0, str(ROOT / "tests" / "bad_inputs"))
from mutations import mutant  # noqa: E402

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork: readers run in-process")
HANGS_HDF5 = 406390  # a mutation of dense_nobias_weights.h5 on which libhdf5 loops forever


def _crash() -> None:
    faulthandler.disable()  # pytest's would print the child's stack: noise here
    os.kill(os.getpid(), signal.SIGSEGV)


def _refuse() -> None:
    raise UnsupportedModelError("layer 'x' is not supported", path="m.h5", hint="try another")


def _break() -> None:
    raise ZeroDivisionError("a bug in a reader")


def test_the_model_comes_back_as_read_in_process():
    here, there = read_path(SAMPLES / "xor.h5", None), load(SAMPLES / "xor.h5")
    assert [layer.weights() for layer in there.layers] == [layer.weights() for layer in here.layers]
    assert np.array_equal(there.forward(np.eye(2)), here.forward(np.eye(2)))


def test_a_crash_is_one_error_naming_the_signal():
    # with other threads running the read stays in this process, and the crash would be ours
    assert threading.active_count() == 1, f"threads left running: {threading.enumerate()}"
    with pytest.raises(InputError, match="crashed the HDF5 library.*SIGSEGV") as caught:
        in_child(_crash, path=Path("damaged.h5"))
    assert str(caught.value).startswith("damaged.h5: ")


def test_a_hang_is_cut_off_at_the_time_limit_and_the_child_killed():
    started = time.monotonic()
    reading = start_in_child(time.sleep, 600, path=Path("stuck.h5"), time_limit=1)
    assert _running(reading.pid)
    with pytest.raises(InputError, match="did not finish in 1 s"):
        reading.result()
    assert time.monotonic() - started < 30
    _assert_reaped(reading.pid)


def test_a_real_file_that_hangs_libhdf5_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(isolation, "TIME_LIMIT", 5.0)
    seed, damaged = mutant(HANGS_HDF5, tmp_path)
    assert seed.name == "dense_nobias_weights.h5"
    with pytest.raises(InputError, match="did not finish in 5 s"):
        load(damaged)


def test_errors_raised_on_purpose_arrive_unchanged():
    with pytest.raises(UnsupportedModelError) as caught:
        in_child(_refuse, path=Path("m.h5"))
    assert (str(caught.value), caught.value.hint) == (
        "m.h5: layer 'x' is not supported",
        "try another",
    )


def test_a_result_that_cannot_travel_back_is_one_error():
    with pytest.raises(InputError, match="reading failed: TypeError"):
        in_child(threading.Lock, path=Path("m.h5"))  # a lock does not pickle


def test_an_unforeseen_error_keeps_its_type_and_the_childs_traceback():
    with pytest.raises(ZeroDivisionError) as caught:
        in_child(_break, path=Path("m.h5"))
    assert isinstance(caught.value.__cause__, ChildTraceback)
    assert "_break" in str(caught.value.__cause__)


def test_with_other_threads_running_the_read_stays_in_this_process():
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait)
    worker.start()
    try:
        assert in_child(os.getpid, path=Path("m.h5")) == os.getpid()
    finally:
        stop.set()
        worker.join()
    assert in_child(os.getpid, path=Path("m.h5")) != os.getpid()


def _after(signal_file: Path) -> str:
    """What the parent writes to signal_file, once it does (the child waits up to 60 s)."""
    deadline = time.monotonic() + 60
    while not signal_file.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return signal_file.read_text() if signal_file.exists() else "never written"


def test_start_returns_while_the_child_reads_and_result_waits_for_it(tmp_path):
    """The command line imports the writer while the child reads: start_in_child must come
    back before the read ends. Here the read can only end after the parent acts."""
    signal_file = tmp_path / "go"
    reading = start_in_child(_after, signal_file, path=Path("m.h5"))
    (tmp_path / "go.tmp").write_text("the parent went on")
    (tmp_path / "go.tmp").rename(signal_file)
    assert reading.result() == "the parent went on"
    assert reading.result() == "the parent went on"  # asked twice: the same answer
    _assert_reaped(reading.pid)


def test_an_error_from_a_read_in_this_process_keeps_its_own_traceback():
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait)
    worker.start()
    try:
        reading = start_in_child(_break, path=Path("m.h5"))  # other threads: read here, now
    finally:
        stop.set()
        worker.join()
    with pytest.raises(ZeroDivisionError) as caught:
        reading.result()
    assert caught.value.__cause__ is None
    assert "_break" in [frame.name for frame in traceback.extract_tb(caught.value.__traceback__)]


def _assert_reaped(pid: int) -> None:
    """The child has ended and been waited for: not even a zombie is left to wait for."""
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def _wait_for(condition, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.1)
    return condition()


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_a_child_stuck_in_libhdf5_dies_with_the_command(tmp_path):
    _, damaged = mutant(HANGS_HDF5, tmp_path)
    command = subprocess.Popen(
        [sys.executable, "-m", "gate2xlsx", str(damaged), "-o", str(tmp_path / "x.xlsx")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    children = Path(f"/proc/{command.pid}/task/{command.pid}/children")
    try:
        assert _wait_for(lambda: children.read_text().split()), "the reading child never started"
        (child,) = map(int, children.read_text().split())
        assert _running(child)
    finally:
        command.terminate()  # SIGTERM: no Python clean-up runs in the command
        command.wait()
    assert _wait_for(lambda: not _running(child)), "the child outlived the command"
