"""Headless LibreOffice recalculation: the real spreadsheet engine every check relies on.

Each call starts soffice with its own throw-away profile (so runs never hand work to each
other) whose settings force a full recalculation on load (LibreOffice's default keeps stale
cached values; see shared/SPREADSHEET_NOTES.md), in its own process group with a timeout,
converts the workbooks to fresh .xlsx files carrying the computed values, and cleans up.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from ..errors import EngineMissing, Gate2XlsxError

INSTALL_HINT = (
    "install LibreOffice: apt-get install -y --no-install-recommends libreoffice-calc-nogui"
)

_RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">\
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">\
<prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def soffice_path() -> str | None:
    """The soffice executable, or None when LibreOffice is not installed."""
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    for candidate in ("/usr/lib/libreoffice/program/soffice", "/opt/libreoffice/program/soffice"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


# Files per soffice call: one call of 262 workbooks silently skipped one (the 246th; LibreOffice
# 7.4, measured here), the same in calls of 200 converted them all, so large sets go in batches.
BATCH = 200


def recalculate(workbooks: list[Path], out_dir: Path, *, timeout: float = 300) -> list[Path]:
    """Recalculate each workbook in LibreOffice; return the recalculated copies in out_dir.

    The copies are .xlsx files whose cells carry the values LibreOffice computed, to be read
    with `openpyxl.load_workbook(path, data_only=True)`.
    """
    soffice = soffice_path()
    if soffice is None:
        raise EngineMissing("LibreOffice (soffice) is not installed", hint=INSTALL_HINT)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gate2xlsx-lo-") as scratch:
        scratch = Path(scratch)
        profile = scratch / "profile"
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(_RECALC_ALWAYS)
        # Inputs are copied under unique names into one folder: soffice must never write into
        # an input's own folder, and one soffice call for all of them amortises its start-up.
        inbox, outbox = scratch / "in", scratch / "out"
        inbox.mkdir()
        sources = []
        for i, book in enumerate(workbooks):
            src = inbox / f"{i:04d}-{Path(book).stem}{Path(book).suffix or '.xlsx'}"
            shutil.copyfile(book, src)
            sources.append(src)
        for at in range(0, len(sources), BATCH):
            _run_soffice(soffice, profile, sources[at : at + BATCH], outbox, timeout)
        results = []
        for book, src in zip(workbooks, sources):
            produced = outbox / (src.stem + ".xlsx")
            if not produced.exists():
                raise Gate2XlsxError(
                    "LibreOffice could not load or recalculate the workbook", path=book
                )
            final = out_dir / produced.name
            shutil.move(produced, final)
            results.append(final)
        return results


def _run_soffice(
    soffice: str, profile: Path, sources: list[Path], out_dir: Path, timeout: float
) -> None:
    command = [
        soffice,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        "--nolockcheck",
        "--convert-to",
        "xlsx:Calc MS Excel 2007 XML",
        "--outdir",
        str(out_dir),
        *map(str, sources),
    ]
    env = dict(os.environ, HOME=str(profile))
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, env=env
    )
    try:
        proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise Gate2XlsxError(f"LibreOffice did not finish within {timeout:.0f} s") from None
    finally:
        with contextlib.suppress(ProcessLookupError):  # soffice may leave helpers in its group
            os.killpg(proc.pid, signal.SIGKILL)
