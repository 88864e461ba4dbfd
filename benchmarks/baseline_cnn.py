"""The baseline the CNN export is measured against: the least a tool could do for the MNIST
CNN (Conv 3x3 relu -> MaxPool 2 -> Conv 3x3 relu -> MaxPool 2 -> Flatten -> Dense softmax).

Reads the legacy HDF5 with h5py and writes, with openpyxl in write-only mode, one sheet: the
input as numbers, every weight as a plain number, each conv cell as the sum over input
channels of SUMPRODUCT(window, kernel slice) plus bias inside MAX(0, ...), each pooled cell a
MAX, the Dense layer's units as SUMPRODUCTs and the softmax as EXP / SUM. No styles, no labels,
no cached values, no other sheets. Usage: python baseline_cnn.py MODEL.h5 OUT.xlsx
"""

from __future__ import annotations

import sys

import h5py
import numpy as np
from openpyxl import Workbook
from openpyxl.utils import get_column_letter as col


def read(path: str) -> list[tuple[np.ndarray, np.ndarray]]:
    with h5py.File(path, "r") as f:
        root = f["model_weights"]
        found = []
        for name in root.attrs["layer_names"]:
            names = list(root[name].attrs["weight_names"])
            if names:
                found.append(tuple(root[name][n][()] for n in names))
        return found


def area(top: int, left: int, bottom: int, right: int) -> str:
    return f"{col(left)}{top}:{col(right)}{bottom}"


class Sheet:
    """Rows appended in order; each block remembers where it went."""

    def __init__(self, ws):
        self.ws, self.row = ws, 1

    def block(self, rows: list[list]) -> int:
        top = self.row
        for r in rows:
            self.ws.append(r)
            self.row += 1
        return top


def write(layers, out: str) -> None:
    wb = Workbook(write_only=True)
    s = Sheet(wb.create_sheet("Net"))
    (k1, b1), (k2, b2), (k3, b3) = layers
    maps = [(s.block([[0.0] * 28 for _ in range(28)]), 1, 28, 28)]  # (top, left, h, w)
    for kernel, bias in ((k1, b1), (k2, b2)):
        kh, kw, cin, cout = kernel.shape
        ktops = [
            [s.block(kernel[:, :, ci, co].tolist()) for co in range(cout)] for ci in range(cin)
        ]
        btop = s.block([bias.tolist()])
        h, w = maps[0][2] - kh + 1, maps[0][3] - kw + 1
        new = []
        for co in range(cout):
            rows = []
            for i in range(h):
                cells = []
                for j in range(w):
                    terms = [
                        f"SUMPRODUCT({area(t + i, x + j, t + i + kh - 1, x + j + kw - 1)},"
                        f"{area(ktops[ci][co], 1, ktops[ci][co] + kh - 1, kw)})"
                        for ci, (t, x, _, _) in enumerate(maps)
                    ]
                    cells.append(f"=MAX(0,{'+'.join(terms)}+{col(co + 1)}{btop})")
                rows.append(cells)
            new.append((s.block(rows), 1, h, w))
        pooled = []
        for t, x, h, w in new:
            rows = [
                [
                    f"=MAX({area(t + 2 * i, x + 2 * j, t + 2 * i + 1, x + 2 * j + 1)})"
                    for j in range(w // 2)
                ]
                for i in range(h // 2)
            ]
            pooled.append((s.block(rows), 1, h // 2, w // 2))
        maps = pooled
    h, w, c = maps[0][2], maps[0][3], len(maps)
    flat = [
        f"={col(maps[ch][1] + j)}{maps[ch][0] + i}"
        for i in range(h)
        for j in range(w)
        for ch in range(c)
    ]
    ftop = s.block([flat])
    ktop = s.block(k3.tolist())
    btop = s.block([b3.tolist()])
    units = k3.shape[1]
    xs = area(ftop, 1, ftop, len(flat))
    z = [
        f"=SUMPRODUCT({xs},TRANSPOSE({area(ktop, u + 1, ktop + len(flat) - 1, u + 1)}))"
        f"+{col(u + 1)}{btop}"
        for u in range(units)
    ]
    ztop = s.block([z])
    etop = s.block([[f"=EXP({col(u + 1)}{ztop})" for u in range(units)]])
    s.block([[f"={col(u + 1)}{etop}/SUM({area(etop, 1, etop, units)})" for u in range(units)]])
    wb.save(out)


if __name__ == "__main__":
    write(read(sys.argv[1]), sys.argv[2])
