"""The command line as a user runs it: real processes, exit codes, messages, files left behind."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import SAMPLES
from conftest import cli_run as run

import gate2xlsx


def test_version_and_help():
    assert run("--version").stdout.strip() == f"gate2xlsx {gate2xlsx.__version__}"
    shown = run("--help")
    assert shown.returncode == 0 and "MODEL" in shown.stdout


def test_export_with_o(tmp_path):
    out = tmp_path / "or.xlsx"
    done = run(str(SAMPLES / "or.hdf"), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert out.exists() and str(out) in done.stdout


def test_options_may_come_before_the_model(tmp_path):
    out = tmp_path / "first.xlsx"
    done = run("-o", str(out), str(SAMPLES / "or.hdf"))
    assert done.returncode == 0, done.stderr
    assert out.exists()


def test_export_without_o_writes_the_stem_here_and_says_so(tmp_path):
    done = run(str(SAMPLES / "or.hdf"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "or.xlsx").exists() and "or.xlsx" in done.stdout


def test_extension_does_not_decide_the_format(tmp_path):
    renamed = tmp_path / "model.weird"
    renamed.write_bytes((SAMPLES / "or.hdf").read_bytes())
    assert run(str(renamed), "-o", str(tmp_path / "m.xlsx")).returncode == 0


@pytest.mark.parametrize(
    "make, says",
    [
        (lambda d: d / "missing.hdf", "no such file"),
        (lambda d: d, "is a folder, not a model"),
        (lambda d: (d / "text.hdf").write_text("hello") and d / "text.hdf", "not a model file"),
        (lambda d: (d / "empty.h5").write_bytes(b"") or d / "empty.h5", "empty"),
    ],
)
def test_bad_input_is_one_error_line_exit_2_and_no_output(tmp_path, make, says):
    source = make(tmp_path)
    out = tmp_path / "out.xlsx"
    done = run(str(source), "-o", str(out))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith("Error: ") and says in lines[0] and str(source.name) in lines[0]
    assert "Traceback" not in done.stderr and not out.exists()


def test_failed_run_keeps_an_existing_output_byte_for_byte(tmp_path):
    out = tmp_path / "keep.xlsx"
    out.write_bytes(b"precious")
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    done = run(str(bad), "-o", str(out))
    assert done.returncode == 2 and out.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.h5", "keep.xlsx"]  # no temp left


def test_a_reader_that_leaves_early_ends_the_command_quietly():
    """`gate2xlsx inspect X | head`: the pipe closes before the output is written; no
    'unexpected failure' line, the exit code of a process that SIGPIPE stopped."""
    proc = subprocess.Popen([sys.executable, "-m", "gate2xlsx", "inspect", str(SAMPLES / "or.hdf")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    proc.stdout.close()  # the reader is gone before the first line
    error = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert error == ""


def test_the_console_script_ends_at_once_with_its_output_and_exit_code(tmp_path):
    """run() skips the interpreter's teardown: what the command printed still arrives (a pipe
    buffers it), the workbook is complete, and each exit code is the one main() chose."""
    out = tmp_path / "or.xlsx"
    done = run(str(SAMPLES / "or.hdf"), "-o", str(out))
    assert done.returncode == 0 and done.stdout.startswith(f"Wrote {out}")
    assert gate2xlsx.load(out).count_params() == gate2xlsx.load(SAMPLES / "or.hdf").count_params()
    predicted = run("predict", str(SAMPLES / "or.hdf"), "0", "1")
    assert predicted.returncode == 0 and len(predicted.stdout.splitlines()) >= 2
    slip = run(str(SAMPLES / "or.hdf"), "--gates", "or")
    assert slip.returncode == 2 and slip.stderr.rstrip().endswith("--gate, --labels)")


def test_exit_codes_are_what_pythons_own_exit_makes_of_them(capsys):
    from gate2xlsx.cli import _exit_code

    assert [_exit_code(None), _exit_code(0), _exit_code(3)] == [0, 0, 3]
    assert _exit_code("a message") == 1 and capsys.readouterr().err == "a message\n"
