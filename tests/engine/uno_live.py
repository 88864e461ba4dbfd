"""Run by Debian's /usr/bin/python3 (python3-uno): open a workbook in LibreOffice as a learner
does (a fresh profile: default settings), edit cells through the API, and print what the
named cells show then, as JSON. No hard recalculation is ever asked for.

    uno_live.py WORKBOOK EDITS_JSON NAMES_JSON [visible]   (EDITS: [[name, row, col, value]])

`visible`: a real window on $DISPLAY (LibreOffice's GUI build, e.g. under Xvfb) instead of a
hidden document; the output then also says whether the window is shown.
"""

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time

import uno
from com.sun.star.beans import PropertyValue


def _prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def _connect(pipe):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    for _ in range(300):
        try:
            return resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
        except Exception:
            time.sleep(0.1)
    raise SystemExit("LibreOffice did not answer on its pipe")


def _cells(doc, name):
    return doc.NamedRanges.getByName(name).getReferredCells()


def main(path, edits, names, visible=False):
    with tempfile.TemporaryDirectory() as profile:
        pipe = f"gate2xlsx_{os.getpid()}"
        hidden = [] if visible else ["--headless", "--invisible"]
        proc = subprocess.Popen(
            ["soffice", *hidden, "--norestore", "--nologo",
             f"-env:UserInstallation=file://{profile}", f"--accept=pipe,name={pipe};urp;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        desktop = None
        try:
            ctx = _connect(pipe)
            manager = ctx.ServiceManager
            desktop = manager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
            url = uno.systemPathToFileUrl(os.path.abspath(path))
            doc = desktop.loadComponentFromURL(url, "_blank", 0, (_prop("Hidden", not visible),))
            for name, row, col, value in edits:
                _cells(doc, name).getCellByPosition(col, row).setValue(value)
            shown = {n: [list(r) for r in _cells(doc, n).getDataArray()] for n in names}
            window = doc.getCurrentController().getFrame().getContainerWindow()
            shown["window_visible"] = bool(window.isVisible())
            doc.close(True)
        finally:
            if desktop is not None:  # also after a failure: no LibreOffice is left running
                with contextlib.suppress(Exception):  # the failure itself is what to report
                    desktop.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    print(json.dumps(shown))


if __name__ == "__main__":
    main(sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), "visible" in sys.argv[4:])
