"""Writing output files safely: every output is written to a temporary file beside its target
and renamed into place, so a failed or interrupted run never leaves half a file and never
touches an existing one. One rule for every format, and one file mode: the replaced file's,
else what a plain `open()` gives under the user's umask.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import OutputError


def check_workbook_target(path: str | os.PathLike, source: str | os.PathLike | None = None) -> None:
    """Refuse, before any work, the model file itself (`source`), a workbook name Excel would
    not open, or a place that can never be written."""
    if source is not None and Path(source).resolve() == Path(path).resolve():
        raise OutputError("refusing to write the workbook over the model file it was read from",
                          path=path, hint="choose another name with -o OUT.xlsx")  # fmt: skip
    check_target(path)
    suffix = Path(path).suffix
    if suffix.lower() != ".xlsx":
        raise OutputError(f"a workbook's name ends in .xlsx, not {suffix}" if suffix else
                          "a workbook's name ends in .xlsx; this one has no extension",
                          path=path, hint=f"-o {Path(path).with_suffix('.xlsx').name}")  # fmt: skip


def check_target(path: str | os.PathLike) -> Path:
    """Refuse a target that can never be written: a folder, or a file in a missing folder."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise OutputError(
            f"is a folder; give a file name such as {str(target / 'model.xlsx')!r}", path=target
        )
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise OutputError(f"folder {str(folder)!r} {what}", path=target)
    return target


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call write(temporary path), then rename the result onto `path`; return `path`."""
    target = check_target(path)
    try:
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise OutputError(f"cannot write here ({exc.strerror})", path=target) from None
    os.close(handle)
    temp = Path(name)
    try:
        write(temp)
        os.chmod(temp, _mode_for(target))  # mkstemp makes 0600
        os.replace(temp, target)
    except OSError as exc:  # disk full, target turned into a folder, ...: the old file stays
        raise OutputError(f"cannot write ({exc.strerror or exc})", path=target) from None
    finally:
        temp.unlink(missing_ok=True)
    return target


def _mode_for(target: Path) -> int:
    """The replaced file's permissions, else what a plain `open()` would give under the umask."""
    if target.exists():
        return target.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
