"""The baseline gate2xlsx's export is measured against: the least a tool could do.

Reads a Keras legacy HDF5 file with h5py and writes, with openpyxl in write-only mode, every
weight as a plain number and one MMULT array formula per layer (no styles, no steps, no other
sheets). Usage: python baseline_openpyxl.py MODEL.h5 OUT.xlsx
"""

from __future__ import annotations

import sys

import h5py
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.formula import ArrayFormula


def read_dense(path: str) -> list[tuple]:
    with h5py.File(path, "r") as f:
        root = f["model_weights"]
        layers = []
        for name in root.attrs["layer_names"]:
            group = root[name]
            names = list(group.attrs["weight_names"])
            if names:
                layers.append(tuple(group[n][()] for n in names))
        return layers


def write(layers: list[tuple], out: str) -> None:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Net")
    n_in = layers[0][0].shape[0]
    ws.append([0.0] * n_in)  # row 1: the input
    row, prev = 2, f"A1:{get_column_letter(n_in)}1"
    formulas = []
    for kernel, bias in layers:
        top = row
        for values in kernel:
            ws.append(values.tolist())
            row += 1
        ws.append(bias.tolist())
        units = kernel.shape[1]
        k_ref = f"A{top}:{get_column_letter(units)}{top + kernel.shape[0] - 1}"
        formulas.append((prev, k_ref, f"A{row}:{get_column_letter(units)}{row}", units))
        row += 1
        prev = None  # filled below once the output rows are known
    out_row = row
    for i, (x_ref, k_ref, b_ref, units) in enumerate(formulas):
        target = f"A{out_row + i}:{get_column_letter(units)}{out_row + i}"
        x_ref = (
            x_ref or f"A{out_row + i - 1}:{get_column_letter(formulas[i - 1][3])}{out_row + i - 1}"
        )
        cells = [ArrayFormula(target, f"=MMULT({x_ref},{k_ref})+{b_ref}")] + [None] * (units - 1)
        ws.append(cells)
    wb.save(out)


if __name__ == "__main__":
    write(read_dense(sys.argv[1]), sys.argv[2])
