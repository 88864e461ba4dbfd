"""The network as spreadsheet steps: each layer becomes labelled blocks of formulas.

The same code lays out one example (the Network sheet: steps stacked as rows) and a batch of
examples (Truth table, Decision map: steps side by side, one row per example); a `Placer`
decides where each step's block goes. Formula text comes from `formulas` and the
activation table only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ...errors import UnsupportedModelError
from ...ir import activations
from ...ir.families.dense import Activation, Dense, Identity, PReLU
from ...ir.families.normalization import BatchNorm, Normalization, Rescaling
from ...ir.layer import Layer, layer_label
from ...ir.model import Model
from ...templates_text import say
from .. import formulas as F
from ..layout import Block, Region, own
from ..placement import Placer, WeightRefs
from ..spec import MODES


def layer_title(index: int, layer: Layer, n_in: int, n_out: int) -> str:
    kind = layer.class_name or type(layer).__name__
    title = f"Layer {index}: {layer.name} ({kind}, {n_in} -> {n_out})"
    act = getattr(layer, "activation", None)
    if isinstance(layer, Dense) and act is not None and act.name != "linear":
        title += f", activation {act.name}"
    return title


def chain(
    model: Model,
    weights: WeightRefs,
    placer: Placer,
    x: Block,
    mode: str = "mmult",
    output_labels: list[str] | None = None,
    record: dict[str, Block] | None = None,
    outputs: dict[str, Block] | None = None,
) -> Block:
    """Place every layer's steps after input block x; return the block of the network's output.

    `record`, when given, receives each layer's pre-activation block by layer name (the
    logits Keras's cross-entropy reads when the last activation is sigmoid or softmax), and
    `outputs` each layer's output block (what backpropagation reads).
    """
    widths = model.widths()
    for index, layer in enumerate(model.layers, start=1):
        n_in, n_out = widths[index - 1], widths[index]
        last = index == len(model.layers)
        units = (output_labels or []) if last else []
        if isinstance(layer, Identity):
            placer.note(
                f"Layer {index}: {layer.name} ({layer.class_name or 'Identity'}): "
                "passes its input through unchanged at inference"
            )
            continue
        first = len(placer.regions)
        placer.heading(layer_title(index, layer, n_in, n_out), units)
        given = placer.values.get(x)
        state = StepState(x, weights, placer, mode, {} if record is None else record)
        x = layer_steps(layer, state)
        if given is not None:  # the layer's output is the NumPy reference's, by definition
            placer.values[x] = layer.forward(given)
        if outputs is not None:
            outputs[layer.name] = x
        own(placer.regions, first, layer_label(index, layer))
    for region in placer.regions:
        if region.results is None and region.block in placer.values:
            region.results = placer.values[region.block]
        # a batch's steps read row i of the step before: the same formula down each column
        region.fill_down = placer.compact and region.cell_formula is not None
    return x


@dataclass
class StepState:
    """What a layer's steps are placed from: the block they read, the weights' names, where the
    blocks go, the formula mode, and `record` (each layer's pre-activation block by name)."""

    x: Block
    weights: WeightRefs
    placer: Placer
    mode: str
    record: dict[str, Block]


def layer_steps(layer: Layer, state: StepState) -> Block:
    """Place the layer's steps after state.x; return the block of its output."""
    steps = LAYER_STEPS.get(type(layer))
    if steps is None:
        raise UnsupportedModelError(
            f"layer {layer.name!r} ({type(layer).__name__}) has no spreadsheet steps"
        )
    return steps(layer, state)


def _dense_steps(layer: Dense, s: StepState) -> Block:
    given = s.placer.values.get(s.x)
    z = _dense(layer, s.x, s.weights, s.placer, s.mode)
    if given is not None:
        s.placer.values[z] = pre_activation(layer, given)
    s.record[layer.name] = z
    return activation_steps(layer.activation.name, layer.activation.kwargs, z, s.placer)


def _activation_steps(layer: Activation, s: StepState) -> Block:
    s.record[layer.name] = s.x
    cells = {k: s.weights.setting(layer, k, v) for k, v in layer.settings().items()}
    act = layer.activation
    return activation_steps(act.name, act.kwargs, s.x, s.placer, cells=cells)


def _prelu_steps(layer: PReLU, s: StepState) -> Block:
    alpha = {"alpha": lambda j: s.weights.element(layer, "alpha", j)}
    return activation_steps("prelu", {}, s.x, s.placer, per_unit=alpha)


def _unit_layer_steps(layer: Layer, s: StepState) -> Block:
    """One step (chain records the layer's own NumPy output as its values)."""
    label, body = UNIT_FORMULAS[type(layer)](layer, s.weights)
    return _unit_step(s.placer, label, s.x, body)


UnitBody = Callable[[str, int], str]  # (the input's cell, unit or channel) -> formula body


def _batch_norm(layer: BatchNorm, w: WeightRefs) -> tuple[str, UnitBody]:
    def body(xc: str, j: int) -> str:
        return F.batch_norm(
            xc,
            w.element(layer, "moving_mean", j),
            w.element(layer, "moving_variance", j),
            w.setting(layer, "epsilon", layer.epsilon),
            w.element(layer, "gamma", j),
            w.element(layer, "beta", j),
        )

    return "batch norm: (x - mean) / sqrt(var + eps) * gamma + beta", body


def _normalization(layer: Normalization, w: WeightRefs) -> tuple[str, UnitBody]:
    def body(xc: str, j: int) -> str:
        mean, variance = w.element(layer, "mean", j), w.element(layer, "variance", j)
        return F.normalization(xc, mean, variance, layer.invert)

    return ("denormalize: mean + x * std" if layer.invert else "normalize: (x - mean) / std"), body


def _rescaling(layer: Rescaling, w: WeightRefs) -> tuple[str, UnitBody]:
    def body(xc: str, j: int) -> str:
        scale, offset = (
            w.setting(layer, "scale", layer.scale),
            w.setting(layer, "offset", layer.offset),
        )
        return F.rescale(xc, scale, offset)

    return "rescale: x * scale + offset", body


# The layers computed unit by unit from their input's cell alone: (label, body) of each, the
# same on a vector, a sequence's rows and a map's channels (graph_steps).
UNIT_FORMULAS: dict[type, Callable[[Layer, WeightRefs], tuple[str, UnitBody]]] = {
    BatchNorm: _batch_norm,
    Normalization: _normalization,
    Rescaling: _rescaling,
}
LAYER_STEPS: dict[type, Callable[[Layer, StepState], Block]] = {
    Dense: _dense_steps,
    Activation: _activation_steps,
    PReLU: _prelu_steps,
    **{kind: _unit_layer_steps for kind in UNIT_FORMULAS},
}


def _cells(placer: Placer, block: Block, body, comment: str | None = None) -> None:
    """A computed block whose cell (i, j) holds the formula body(i, j)."""
    placer.regions.append(
        Region(block, "computed", cell_formula=lambda i, j: F.formula(body(i, j)), comment=comment)
    )


def _unit_step(placer: Placer, label: str, x: Block, body) -> Block:
    """A step applied unit by unit: cell (i, j) holds body(x's cell (i, j), j)."""
    out = placer.step(label, x.cols)
    _cells(placer, out, lambda i, j: body(x.cell(i, j, on=out.sheet), j))
    return out


def pre_activation(layer: Dense, x: np.ndarray) -> np.ndarray:
    """z = x W + b, the Dense layer's value before its activation."""
    z = x @ layer.kernel.values
    return z if layer.bias is None else z + layer.bias.values


def _dense(layer: Dense, x: Block, w: WeightRefs, placer: Placer, mode: str) -> Block:
    bias = w.name(layer, "bias") if layer.bias is not None else None
    m = layer.kernel.values.shape[1]
    if not placer.compact and layer.kernel.values.size <= MIRROR_CELLS:
        _show_weights(layer, w, placer)
    given = placer.values.get(x)
    kblock = w.block(layer, "kernel")
    if mode == "mmult":  # per unit: MMULT(x row, kernel column); no array formulas (why: README)

        def unit(i: int, j: int) -> str:
            # the column by address: the `formulas` package reads INDEX(name, 0, j) as one cell
            column = kblock.column(j, absolute=True, on=x.sheet)
            return F.mmult(x.row(i, on=x.sheet), column)

        def plus_bias(i: int, j: int, product: str) -> str:
            return F.add(product, w.element(layer, "bias", j)) if bias else product

        if placer.compact or bias is None:
            z = placer.step("z = MMULT(x, W) + b" if bias else "z = MMULT(x, W)", m)
            _cells(placer, z, lambda i, j: plus_bias(i, j, unit(i, j)))
            return z
        xw = placer.step("x · W (MMULT)", m)
        _cells(placer, xw, unit, comment=say("xw_comment"))
        if given is not None:
            placer.values[xw] = given @ layer.kernel.values
        z = placer.step("z = x · W + b", m)
        _cells(
            placer,
            z,
            lambda i, j: plus_bias(i, j, xw.cell(i, j, on=xw.sheet)),
            comment=say("bias_comment"),
        )
        return z
    bblock = w.block(layer, "bias") if bias else None
    z = placer.step("z = x · W + b" if bias else "z = x · W", m)
    if mode == "sumproduct":

        def cell(i: int, j: int) -> str:
            body = F.dot_product(x.row(i, on=z.sheet), kblock.column(j, absolute=True, on=z.sheet))
            return F.formula(
                F.add(body, bblock.cell(0, j, absolute=True, on=z.sheet)) if bblock else body
            )

        # TRANSPOSE needs array evaluation in Excel: each cell is a one-cell array formula.
        placer.regions.append(Region(z, "computed", cell_formula=cell, cell_arrays=True))
        return z
    if mode == "expanded":

        def cell(i: int, j: int) -> str:
            pairs = [
                (x.cell(i, k, on=z.sheet), kblock.cell(k, j, absolute=True, on=z.sheet))
                for k in range(x.cols)
            ]
            b = bblock.cell(0, j, absolute=True, on=z.sheet) if bblock else None
            return F.formula(F.expanded_dot(pairs, b))

        placer.regions.append(Region(z, "computed", cell_formula=cell))
        return z
    raise ValueError(f"unknown formula mode {mode!r}; choose one of {', '.join(MODES)}")


# Small layers show their kernel and bias right above the MMULT on the Network sheet (a view
# of the Weights sheet's cells), so the matrix a learner multiplies by is in sight.
MIRROR_CELLS = 64


def _show_weights(layer: Dense, w: WeightRefs, placer: Placer) -> None:
    for key in layer.weights():
        source, name = w.block(layer, key), w.name(layer, key)
        for i in range(source.rows):
            label = f"{key} W, row {i + 1}" if key == "kernel" else f"{key} b"
            row = placer.step(f"{label}  (view of {name})", source.cols)
            placer.values[row] = np.asarray(layer.weights()[key].values, np.float64).reshape(
                source.rows, source.cols
            )[i : i + 1]
            placer.regions.append(
                Region(
                    row,
                    "mirror",
                    comment=say(f"mirror_{'bias_' if key == 'bias' else ''}comment", name=name)
                    if i == 0
                    else None,
                    cell_formula=lambda _, j, i=i, source=source, row=row: F.formula(
                        F.reference(source.cell(i, j, absolute=True, on=row.sheet))
                    ),
                )
            )


def activation_steps(
    name: str,
    params: dict,
    x: Block,
    placer: Placer,
    per_unit: dict | None = None,
    cells: dict | None = None,
) -> Block:
    """The steps of one activation from the table, applied to block x; returns the last block.

    params choose the steps (numbers); `cells` puts a defined name in place of a parameter's
    number, and `per_unit` a reference per unit (PReLU's alphas)."""
    if name == "linear":
        return x
    done: dict[str, Block] = {}
    single: set[str] = set()
    settings = {
        k: v for k, v in {**activations.get(name).defaults, **params}.items() if v is not None
    }
    settings.update(cells or {})
    given, computed = placer.values.get(x), {}
    for step in activations.get(name).formula_steps(**params):
        out = placer.step(step.label, 1 if step.single else x.cols)
        needed = F.placeholders(step.template)
        fixed = {k: v for k, v in settings.items() if k in needed}  # the same in every cell
        priors = [(p, b) for p, b in done.items() if p in needed or p + "_row" in needed]

        def cell(
            i: int,
            j: int,
            out=out,
            template=step.template,
            needed=needed,
            fixed=fixed,
            priors=priors,
        ) -> str:
            values: dict[str, str | float] = dict(fixed)
            if "x" in needed:
                values["x"] = x.cell(i, j, on=out.sheet)
            if "z" in needed:
                values["z"] = x.row(i, on=out.sheet)
            for key, ref in (per_unit or {}).items():
                values[key] = ref(j)
            for prior, block in priors:
                values[prior] = block.cell(i, 0 if prior in single else j, on=out.sheet)
                values[prior + "_row"] = block.row(i, on=out.sheet)
            return F.formula(F.render(template, values))

        comment = None if placer.compact else say("activation_comment", step=step.label)
        placer.regions.append(Region(out, "computed", cell_formula=cell, comment=comment))
        if given is not None and step.value is not None:  # the last step: chain records it
            computed[step.name] = placer.values[out] = step.value(given, computed)
        done[step.name] = out
        if step.single:
            single.add(step.name)
    return done["a"]
