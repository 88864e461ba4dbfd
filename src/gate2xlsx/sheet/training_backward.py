"""The backward half of a Training band: the loss's gradient, backpropagation down to
every weight's gradient (the activation table's vjp formulas), and the optimizer's state and
update, in fit.backprop's and fit.Optimizer's order."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import activations, fit
from ..model import Dense
from . import formulas as F
from . import training_formulas as T
from .layout import Block, Region

if TYPE_CHECKING:  # the band's blocks (training_band imports this module)
    from .training_band import Band

TITLE = "Training"


class BackwardSteps:
    """Mixed into BandPlanner: the blocks after a band's forward pass."""

    def _update(self, prev: Band, q: int):
        w, g, m = prev.weights[q], prev.grads[q], prev.m[q]
        if self.s.optimizer == "rmsprop":
            return lambda i, j: T.rmsprop_step(w.cell(i, j, on=TITLE), m.cell(i, j, on=TITLE))
        if self.s.optimizer == "adam":
            v, alpha = prev.v[q], prev.alpha.cell(absolute=True, on=TITLE)
            return lambda i, j: T.adam_step(
                w.cell(i, j, on=TITLE),
                m.cell(i, j, on=TITLE),
                v.cell(i, j, on=TITLE),
                alpha,
                "epsilon",
            )
        return lambda i, j: T.sgd_step(
            w.cell(i, j, on=TITLE),
            g.cell(i, j, on=TITLE),
            m.cell(i, j, on=TITLE),
            "learning_rate",
            "momentum",
            self.s.nesterov,
        )

    def _backward(self, placer, band: Band, found: fit.Backprop, batch, record, outputs) -> None:
        """From the loss's gradient back to every weight's gradient (fit.backprop's order)."""
        x, y, p, z = batch
        layers, k = self.work.layers, p.cols
        placer.heading("Backpropagation", [])
        rule = self.rule
        scale = rule.scale(p.rows, k)
        label = "dL/dz (the loss's gradient at the logits)" if found.at_logits else "dL/dp"
        g = placer.step(label, k)
        at = found.local[-1] if found.at_logits else found.upstream[-1]
        placer.regions.append(
            Region(
                g,
                "computed",
                results=at,
                fill_down=True,
                cell_formula=lambda i, j: F.formula(
                    rule.gradient_formula(
                        {
                            "p": p.cell(i, j, on=TITLE),
                            "z": z.cell(i, j, on=TITLE),
                            "y": y.cell(i, j, on=TITLE),
                        },
                        {"z": z.row(i, on=TITLE), "y": y.row(i, on=TITLE)},
                        scale,
                    )
                ),
            )
        )
        grads: dict[int, Block] = {}
        index = {(layer.name, key): q for q, (layer, key) in enumerate(self.params)}
        for i in range(len(layers) - 1, -1, -1):
            layer = layers[i]
            inp = outputs[layers[i - 1].name] if i > 0 else x
            if not (found.at_logits and i == len(layers) - 1):
                g = self._vjp(
                    placer, layer, record[layer.name], outputs[layer.name], g, found.local[i]
                )
            if not isinstance(layer, Dense):
                continue
            for key in layer.weights():
                q = index[(layer.name, key)]
                grads[q] = self._gradient(placer, layer, key, inp, g, found.grads[q])
            if any(isinstance(before, Dense) for before in layers[:i]):
                kernel = band.weights[index[(layer.name, "kernel")]]
                ga = placer.step(
                    f"dL/d(input of {layer.name}) = SUMPRODUCT(dL/dz, W row)", inp.cols
                )
                placer.regions.append(
                    Region(
                        ga,
                        "computed",
                        results=found.upstream[i - 1],
                        fill_down=True,
                        cell_formula=lambda e, j, g=g, kernel=kernel: F.formula(
                            T.products(g.row(e, on=TITLE), kernel.row(j, on=TITLE))
                        ),
                    )
                )
                g = ga
        band.grads = [grads[q] for q in range(len(self.params))]

    def _vjp(self, placer, layer, pre: Block, out: Block, g: Block, values) -> Block:
        """dL/dz from dL/da through the layer's activation (the table's vjp formula)."""
        act = layer.activation
        template = activations.get(act.name).vjp_formula
        if act.name == "linear":
            return g
        gz = placer.step(f"{layer.name}: dL/dz through {act.name}", g.cols)

        def cell(i: int, j: int) -> str:
            return F.formula(
                F.render(
                    template,
                    {
                        "x": pre.cell(i, j, on=TITLE),
                        "y": out.cell(i, j, on=TITLE),
                        "g": g.cell(i, j, on=TITLE),
                        "g_row": g.row(i, on=TITLE),
                        "y_row": out.row(i, on=TITLE),
                    },
                )
            )

        placer.regions.append(
            Region(gz, "computed", cell_formula=cell, results=values, fill_down=True)
        )
        return gz

    def _gradient(self, placer, layer, key: str, inp: Block, g: Block, values) -> Block:
        """dL/dW = SUMPRODUCT(input column, dL/dz column); dL/db = SUM(dL/dz column)."""
        if key == "bias":
            block = placer.step(f"{layer.name} bias gradient = SUM(dL/dz)", g.cols, rows=1)
            body = lambda i, j: T.column_sum(g.column(j, on=TITLE))  # noqa: E731
        else:
            block = placer.step(
                f"{layer.name} kernel gradient = SUMPRODUCT(x, dL/dz)", g.cols, rows=inp.cols
            )
            body = lambda i, j: T.products(inp.column(i, on=TITLE), g.column(j, on=TITLE))  # noqa: E731
        placer.regions.append(
            Region(
                block,
                "computed",
                results=np.reshape(values, (block.rows, block.cols)),
                cell_formula=lambda i, j: F.formula(body(i, j)),
            )
        )
        return block

    def _state(self, placer, band: Band, prev: Band | None, t: int) -> None:
        """The optimizer's state after the step: SGD's velocity, Adam's m, v and step size, or
        RMSprop's v and step."""
        adam = self.s.optimizer == "adam"
        placer.heading("Optimizer state after the step", [])
        m, v = self.optimizer.m, self.optimizer.v
        kinds = {"adam": [("m", m), ("v", v)], "rmsprop": [("v", v), ("step", m)]}.get(
            self.s.optimizer, [("velocity", m)]
        )
        for name, state in kinds:
            for q, (layer, key) in enumerate(self.params):
                g = band.grads[q]
                block = placer.step(f"{layer.name} {key}: {name}", g.cols, rows=g.rows)
                before = None if prev is None else (prev.m if name != "v" else prev.v)[q]
                v_new = band.v[q] if name == "step" else None
                body = _state_formula(self.s.optimizer, name, before, g, v_new)
                placer.regions.append(
                    Region(
                        block,
                        "computed",
                        results=np.array(state[q]).reshape(g.rows, g.cols),
                        cell_formula=lambda i, j, body=body: F.formula(body(i, j)),
                        fill_down=True,
                    )
                )
                (band.v if name == "v" else band.m).append(block)
        if adam:
            band.alpha = placer.step("step size alpha", 1, rows=1)
            b1, b2, lr = (
                np.float64(self.s.beta_1),
                np.float64(self.s.beta_2),
                np.float64(self.s.lr),
            )
            alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
            step = Block(TITLE, band.weights[0].top, 2).cell(on=TITLE)
            placer.regions.append(
                Region(
                    band.alpha,
                    "computed",
                    results=[[float(alpha)]],
                    cell_formula=lambda i, j: F.formula(
                        T.adam_alpha("learning_rate", "beta_1", "beta_2", step)
                    ),
                )
            )


def _state_formula(optimizer: str, name: str, before: Block | None, g: Block,
                   v_new: Block | None = None):  # fmt: skip
    """Cell (i, j) of a state block from its value a step before (`before`; 0 at the start)."""

    def prior(i: int, j: int) -> str:
        return "0" if before is None else before.cell(i, j, on=TITLE)

    def grad(i: int, j: int) -> str:
        return g.cell(i, j, on=TITLE)

    if name == "step":  # RMSprop's, which reads this step's v
        return lambda i, j: T.rmsprop_velocity(prior(i, j), grad(i, j), v_new.cell(i, j, on=TITLE),
                                               "learning_rate", "momentum", "epsilon")  # fmt: skip
    if name == "velocity":
        return lambda i, j: T.sgd_velocity(prior(i, j), grad(i, j), "learning_rate", "momentum")
    if name == "m":
        return lambda i, j: T.adam_m(prior(i, j), grad(i, j), "beta_1")
    if optimizer == "rmsprop":
        return lambda i, j: T.rmsprop_v(prior(i, j), grad(i, j), "rho")
    return lambda i, j: T.adam_v(prior(i, j), grad(i, j), "beta_2")
