"""Write the workbooks that ship beside the Keras samples: samples/or.xlsx, and.xlsx, xor.xlsx.

    python scripts/build_sample_workbooks.py

Each is exactly what `gate2xlsx or.hdf -o or.xlsx` (and so on) writes when run inside samples/:
the gate is inferred from the file name, and the workbook records the model's path as given,
so no absolute path of the machine that built it ships. tests/engine/test_samples.py checks
that they are current and PASS.
"""

from __future__ import annotations

import os
from pathlib import Path

import gate2xlsx
from gate2xlsx.app.export import export_workbook

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
MODELS = ("or.hdf", "and.hdf", "xor.h5")


def build() -> list[Path]:
    made, cwd = [], os.getcwd()
    os.chdir(SAMPLES)
    try:
        for name in MODELS:
            info = export_workbook(gate2xlsx.load(name), Path(name).with_suffix(".xlsx"))
            made.append(SAMPLES / info.path)
    finally:
        os.chdir(cwd)
    return made


if __name__ == "__main__":
    for path in build():
        print(f"wrote {path}")
