"""Render each sheet of a sample workbook to PNG for the README (LibreOffice PDF -> pdftoppm).

    python scripts/render_sheets.py [MODEL] [--gate GATE] [--out docs/images]

For every visible sheet, the workbook is written with all other sheets hidden (hidden sheets
are not printed but still compute), exported to PDF by headless LibreOffice with a private
profile that recalculates on load, and the first page is turned into docs/images/<sheet>.png.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

import gate2xlsx
from gate2xlsx.app.export import export_workbook
from gate2xlsx.engines.libreoffice import _RECALC_ALWAYS, soffice_path
from gate2xlsx.sheet.writing import writer

ROOT = Path(__file__).resolve().parents[1]


def render(
    model_path: Path,
    gate: str | None,
    out: Path,
    dpi: int = 110,
    training=None,
    only: set[str] | None = None,
    input_values=None,
    prefix: str = "",
) -> list[Path]:
    """Each visible sheet (or `only` those titles) as out/<sheet>.png; `training`: a
    TrainingSpec for a workbook with a Training sheet."""
    soffice = soffice_path()
    if soffice is None or shutil.which("pdftoppm") is None:
        raise SystemExit("needs LibreOffice (soffice) and poppler-utils (pdftoppm)")
    model = gate2xlsx.load(model_path)
    out.mkdir(parents=True, exist_ok=True)
    made = []
    with tempfile.TemporaryDirectory(prefix="render-") as scratch:
        scratch = Path(scratch)
        full = scratch / "full.xlsx"
        export_workbook(model, full, gate=gate, training=training, input_values=input_values)
        plan = _plan(model, gate, training, input_values)
        profile = scratch / "profile" / "user"
        profile.mkdir(parents=True)
        (profile / "registrymodifications.xcu").write_text(_RECALC_ALWAYS)
        areas = {s.title: s.print_area for s in plan.sheets}
        shown = [s for s in plan.sheets if not s.hidden and (only is None or s.title in only)]
        for sheet in shown:
            for other in plan.sheets:  # LibreOffice prints a hidden sheet's print area: drop it
                other.hidden = other is not sheet
                other.print_area = areas[other.title] if other is sheet else None
            slug = prefix + sheet.title.lower().replace(" ", "_")
            book = scratch / f"{slug}.xlsx"
            writer.write(plan, book)
            subprocess.run(
                [
                    soffice,
                    f"-env:UserInstallation={profile.parent.as_uri()}",
                    "--headless",
                    "--norestore",
                    "--convert-to",
                    "pdf",
                    "--outdir",
                    str(scratch),
                    str(book),
                ],
                check=True,
                capture_output=True,
                timeout=300,
            )
            target = out / slug
            subprocess.run(
                [
                    "pdftoppm",
                    "-png",
                    "-r",
                    str(dpi),
                    "-f",
                    "1",
                    "-l",
                    "1",
                    "-singlefile",
                    str(scratch / f"{slug}.pdf"),
                    str(target),
                ],
                check=True,
                timeout=120,
            )
            made.append(target.with_suffix(".png"))
    return made


def _plan(model, gate, training=None, input_values=None):
    """The same plan export_workbook writes, built again so sheets can be hidden one by one."""
    from gate2xlsx.app.export import decide
    from gate2xlsx.app.options import ExportOptions
    from gate2xlsx.sheet.plan import plan_workbook

    spec = decide(model, ExportOptions(gate=gate, training=training, input_values=input_values))[0]
    return plan_workbook(model, spec)


def digit_seven():
    """A 7 drawn on the 8 x 8 grid of the digits CNN (ink 1, a lighter stroke 0.5)."""
    import numpy as np

    image = np.zeros((8, 8))
    image[1, 1:7] = 1.0
    image[2:7, 5] = 1.0
    image[2:7, 4] = 0.5
    return image.reshape(-1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=str(ROOT / "samples" / "xor.h5"))
    parser.add_argument("--gate", default=None)
    parser.add_argument("--out", default=str(ROOT / "docs" / "images"))
    args = parser.parse_args()
    for path in render(Path(args.model), args.gate, Path(args.out)):
        print(path)
    from gate2xlsx.app.export import training_spec
    from gate2xlsx.app.options import TrainingOptions

    model = gate2xlsx.load(args.model)  # the Training sheet: 100 epochs in batches of 2
    spec = training_spec(model, TrainingOptions(100, batch_size=2))
    for path in render(Path(args.model), args.gate, Path(args.out), training=spec,
                       only={"Training"}):  # fmt: skip
        print(path)
    cnn = ROOT / "tests" / "fixtures" / "tensors" / "keras2" / "cnn_digits.h5"
    for path in render(cnn, None, Path(args.out), only={"Network", "Weights"},
                       input_values=digit_seven(), prefix="cnn_"):  # fmt: skip
        print(path)


if __name__ == "__main__":
    main()
