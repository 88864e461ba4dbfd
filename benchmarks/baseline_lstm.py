"""The baseline the sequence export is measured against: the least a tool could do for the
IMDB-sized model (token ids -> Embedding -> LSTM -> Dense sigmoid).

Reads the legacy HDF5 with h5py and writes, with openpyxl in write-only mode, one sheet: the
token ids, the embedding table and every weight as plain numbers, each embedded row as INDEX
cells, each LSTM step as one row of gate cells (sigmoid / tanh of MMULT(x_t, W column) +
MMULT(h_(t-1), U column) + b), the cell and hidden states, and the Dense unit. No styles, no
labels, no cached values, no other sheets. Usage: python baseline_lstm.py MODEL.h5 OUT.xlsx
"""

from __future__ import annotations

import sys

from baseline_cnn import Sheet, area, read
from openpyxl import Workbook
from openpyxl.utils import get_column_letter as col


def sigmoid(body: str) -> str:
    return f"1/(1+EXP(-({body})))"


def write(layers, out: str, steps: int) -> None:
    wb = Workbook(write_only=True)
    s = Sheet(wb.create_sheet("Net"))
    (table,), (kernel, recurrent, bias), (dense, dense_bias) = layers
    units, width = recurrent.shape[0], table.shape[1]
    ids = s.block([[0] * steps])
    ttop = s.block(table.tolist())
    ktop, rtop = s.block(kernel.tolist()), s.block(recurrent.tolist())
    btop = s.block([bias.tolist()])
    dtop, dbtop = s.block(dense.tolist()), s.block([dense_bias.tolist()])
    table_ref = area(ttop, 1, ttop + len(table) - 1, width)
    xtop = s.block([[f"=INDEX({table_ref},{col(t + 1)}{ids}+1,{j + 1})" for j in range(width)]
                    for t in range(steps)])  # fmt: skip
    top = s.row  # step t: gates in columns 1..4u, c in 4u+1.., h in 5u+1..

    def gate(t: int, g: int) -> str:
        column = g + 1
        body = (f"MMULT({area(xtop + t, 1, xtop + t, width)},"
                f"{area(ktop, column, ktop + width - 1, column)})+{col(column)}{btop}")  # fmt: skip
        if t:
            body += (f"+MMULT({area(top + t - 1, 5 * units + 1, top + t - 1, 6 * units)},"
                     f"{area(rtop, column, rtop + units - 1, column)})")  # fmt: skip
        return f"=TANH({body})" if 2 * units <= g < 3 * units else "=" + sigmoid(body)

    rows = []
    for t in range(steps):
        r = top + t
        cells = [gate(t, g) for g in range(4 * units)]
        for j in range(units):
            i, f, c = col(j + 1), col(units + j + 1), col(2 * units + j + 1)
            keep = f"{f}{r}*{col(4 * units + j + 1)}{r - 1}+" if t else ""
            cells.append(f"={keep}{i}{r}*{c}{r}")
        cells += [f"={col(3 * units + j + 1)}{r}*TANH({col(4 * units + j + 1)}{r})"
                  for j in range(units)]  # fmt: skip
        rows.append(cells)
    s.block(rows)
    last = area(top + steps - 1, 5 * units + 1, top + steps - 1, 6 * units)
    s.block([["=" + sigmoid(f"MMULT({last},{area(dtop, 1, dtop + units - 1, 1)})+A{dbtop}")]])
    wb.save(out)


if __name__ == "__main__":
    import h5py

    with h5py.File(sys.argv[1], "r") as handle:  # the sequence length: the input's shape
        import json

        config = json.loads(handle.attrs["model_config"])
        shape = config["config"]["layers"][0]["config"]["batch_input_shape"]
    write(read(sys.argv[1]), sys.argv[2], int(shape[1]))
