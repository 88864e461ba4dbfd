"""What an HDF5 viewer shows, in the terminal: format, Keras version, layers and weights.

`describe` gathers it as JSON-able data (for `--json` and scripts); `render` prints it.
Weights larger than SMALL values are summarised (shape, min, max, mean) unless `full`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..ir.layer import Act, Layer
from ..ir.model import Model

SMALL = 64  # weights with at most this many values are printed whole


def describe(model: Model | str | os.PathLike, *, full: bool = False,
             architecture: str | os.PathLike | None = None) -> dict[str, Any]:  # fmt: skip
    """The model file's format, layers and weights as plain data (`architecture`: the JSON of
    a weights-only file)."""
    if not isinstance(model, Model):
        from ..readers import load

        model = load(Path(model), architecture=architecture)
    shapes = _output_shapes(model)
    reads = [list(n.inputs) for n in model.graph.nodes] if model.as_chain() is None else None
    layers, weights = [], []
    for index, layer in enumerate(model.layers):
        params = sum(p.values.size for p in layer.weights().values())
        layers.append(
            {
                "name": layer.name,
                "class": layer.class_name or type(layer).__name__,
                "activation": _activation(layer),
                "output_shape": [None, *shapes[index]],
                "params": params,
                **({"reads": reads[index]} if reads else {}),
            }
        )
        for key, p in layer.weights().items():
            values = p.values
            entry = {
                "layer": layer.name,
                "weight": key,
                "path": p.path,
                "dtype": p.dtype,
                "shape": list(values.shape),
                "min": float(values.min()) if values.size else None,
                "max": float(values.max()) if values.size else None,
                "mean": float(values.mean()) if values.size else None,
            }
            if full or values.size <= SMALL:
                entry["values"] = values.tolist()
            weights.append(entry)
    src = model.source
    return {
        "file": src.path,
        "format": src.format,
        "keras_version": src.keras_version,
        "backend": src.backend,
        "model": model.name,
        "inputs": model.n_inputs,
        "outputs": model.n_outputs,
        "params": model.count_params(),
        "loss": model.loss,
        **_ports(model),
        "layers": layers,
        "weights": weights,
    }


def _output_shapes(model: Model) -> list[tuple[int, ...]]:
    if (chain := model.as_chain()) is not None:
        return [(width,) for width in chain.widths()[1:]]
    shapes = model.graph.shapes()
    return [shapes[node.layer.name] for node in model.graph.nodes]


def _ports(model: Model) -> dict[str, Any]:
    """A graph's named inputs and outputs with their shapes."""
    if model.as_chain() is not None:
        return {}
    ports = {"input": model.graph.inputs, "output": model.graph.output_ports()}
    return {f"{kind}_tensors": [{"name": p.name, "shape": list(p.shape)} for p in found]
            for kind, found in ports.items()}  # fmt: skip


def _activation(layer: Layer) -> str:
    act = getattr(layer, "activation", None)
    if not isinstance(act, Act):
        return "-"
    args = ", ".join(f"{k}={v:.10g}" if isinstance(v, float) else f"{k}={v}" for k, v in act.params)
    return f"{act.name}({args})" if args else act.name


def render(info: dict[str, Any]) -> str:
    """The description as terminal text: a header, the layer table, one table per weight."""
    version = f", Keras {info['keras_version']}" if info["keras_version"] else ""
    backend = f" ({info['backend']} backend)" if info["backend"] else ""
    lines = [
        f"{info['file']}: {info['format'] or 'unknown format'}{version}{backend}",
        f"model {info['model']!r}: {info['inputs']} inputs -> {info['outputs']} outputs, "
        f"{info['params']:,} parameters" + (f", loss {info['loss']}" if info["loss"] else ""),
        "",
    ]
    for kind in ("input", "output"):
        for port in info.get(f"{kind}_tensors", []):
            lines.append(f"{kind} {port['name']!r}: shape ({', '.join(map(str, port['shape']))})")
    if info.get("input_tensors"):
        lines.append("")
    graph = any("reads" in layer for layer in info["layers"])
    header = ["#", "layer", "class", "activation", "output shape", "params"]
    rows = [
        [
            str(i),
            layer["name"],
            layer["class"],
            layer["activation"],
            "(" + ", ".join(str(d) for d in layer["output_shape"]) + ")",
            f"{layer['params']:,}",
            *([", ".join(layer["reads"])] if graph else []),
        ]
        for i, layer in enumerate(info["layers"], start=1)
    ]
    lines += _table(header + (["reads"] if graph else []), rows, right={0, 5})
    for w in info["weights"]:
        shape = " x ".join(str(d) for d in w["shape"]) or "scalar"
        lines += [
            "",
            f"{w['path'] or w['layer'] + '/' + w['weight']}  {w['dtype']} [{shape}]  "
            f"({w['layer']} {w['weight']})",
        ]
        lines += _values(w)
    return "\n".join(lines)


def _values(w: dict[str, Any]) -> list[str]:
    if "values" not in w:
        return [
            f"  min {w['min']:.6g}  max {w['max']:.6g}  mean {w['mean']:.6g}  "
            "(use --full to print every value)"
        ]
    grid = np.asarray(w["values"], dtype=np.float64)
    grid = grid.reshape(grid.shape[0], -1) if grid.ndim >= 2 else grid.reshape(1, -1)
    header = [""] + [f"[:, {j}]" if len(w["shape"]) > 1 else f"[{j}]" for j in range(grid.shape[1])]
    rows = [
        [f"[{i}]" if len(w["shape"]) > 1 else ""] + [_number(v, w["dtype"]) for v in row]
        for i, row in enumerate(grid)
    ]
    return ["  " + line for line in _table(header, rows, right=set(range(1, grid.shape[1] + 1)))]


def _number(value: float, dtype: str) -> str:
    """The shortest text that reads back as the stored value (float32 needs fewer digits)."""
    return str(np.float32(value)) if dtype == "float32" else repr(float(value))


def _table(header: list[str], rows: list[list[str]], *, right: set[int]) -> list[str]:
    widths = [
        max(len(h), *(len(r[k]) for r in rows)) if rows else len(h) for k, h in enumerate(header)
    ]
    fmt = [lambda c, w, k=k: c.rjust(w) if k in right else c.ljust(w) for k in range(len(header))]
    return ["  ".join(f(c, w) for f, c, w in zip(fmt, r, widths)).rstrip() for r in [header, *rows]]
