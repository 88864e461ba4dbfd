"""A quick look without a spreadsheet: the NumPy forward pass, probabilities and labels."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..ir.model import Model


@dataclass
class Prediction:
    """Outputs for each input row, the class each row is predicted to be, and the class names."""

    inputs: np.ndarray  # (k, n_inputs)
    outputs: np.ndarray  # (k, n_outputs): what Keras's predict returns
    indices: np.ndarray  # (k,) predicted class index
    labels: list[str]  # (k,) predicted class name
    class_names: list[str]
    input_names: list[str]

    output_names: list[str] | None = None  # a graph's: "<output>[k]" per flattened output

    def table(self) -> str:
        """A plain-text table: one row per input row."""
        out_names = self.output_names or (
            self.class_names
            if self.outputs.shape[1] == len(self.class_names)
            else [f"P({self.class_names[-1]})"]
        )
        header = [*self.input_names, *out_names, "predicted"]
        rows = [
            [f"{v:g}" for v in x] + [f"{p:.6f}" for p in y] + [label]
            for x, y, label in zip(self.inputs, self.outputs, self.labels)
        ]
        widths = [max(len(h), *(len(r[k]) for r in rows)) for k, h in enumerate(header)]
        return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in [header, *rows])


def predict(model: Model | str | os.PathLike, x: np.ndarray | list) -> Prediction:
    """Run `model` (a Model or a model file) on rows `x`; a flat list is split into rows."""
    if not isinstance(model, Model):
        from ..readers import load

        model = load(model)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim <= 1:
        if x.size == 0 or x.size % model.n_inputs:
            raise InputError(
                f"the model takes {model.n_inputs} inputs per row; got {x.size} values"
            )
        x = x.reshape(-1, model.n_inputs)
    if x.shape[1] != model.n_inputs:
        raise InputError(f"the model takes {model.n_inputs} inputs per row; rows have {x.shape[1]}")
    y = model.forward(x)
    names = model.labels()
    ports = model.graph.output_ports()  # several outputs: each named; the class is the first's
    outputs = [f"{p.name}[{k}]" if p.size > 1 else p.name for p in ports for k in range(p.size)]
    first = y[:, : ports[0].size]
    if first.shape[1] != y.shape[1]:
        width = first.shape[1]
        names = ["False", "True"] if width == 1 else [str(k) for k in range(width)]
    # one sigmoid unit: the probability of the second class
    indices = (first[:, 0] >= 0.5).astype(int) if first.shape[1] == 1 else np.argmax(first, axis=1)
    return Prediction(x, y, indices, [names[i] for i in indices], names, model.inputs(),
                      outputs if len(ports) > 1 else None)  # fmt: skip
