"""Write the workbooks that ship beside the Keras samples: samples/or.xlsx, and.xlsx, xor.xlsx.

    python scripts/build_sample_workbooks.py

Each is exactly what `gate2xlsx samples/<model> -o samples/<stem>.xlsx` writes (the gate is
inferred from the file name). tests/test_samples.py checks that they are current and PASS.
"""

from __future__ import annotations

from pathlib import Path

import gate2xlsx
from gate2xlsx.export import export_workbook

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
MODELS = ("or.hdf", "and.hdf", "xor.h5")


def build() -> list[Path]:
    made = []
    for name in MODELS:
        source = SAMPLES / name
        info = export_workbook(gate2xlsx.load(source), source.with_suffix(".xlsx"))
        made.append(info.path)
    return made


if __name__ == "__main__":
    for path in build():
        print(f"wrote {path}")
