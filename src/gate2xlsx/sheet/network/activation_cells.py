"""An activation as one cell's formula around its input's (relu, tanh, sigmoid, ...), for
the layers that compute cell by cell: convolutions, maps and the recurrent steps."""

from __future__ import annotations

from ...ir import activations
from .. import formulas as F


def reads_once(act) -> bool:
    """Whether the activation's one cell step reads its input once: then the input's formula
    goes inside it, else the input gets cells of its own."""
    if act.name == "linear":
        return True
    steps = activations.get(act.name).formula_steps(**act.kwargs)
    return steps[0].template.count("{x}") == 1


def inline(act, cells: dict | None = None) -> object:
    """The activation as a function of its input's formula, when it is one cell step (relu,
    tanh, sigmoid, ...); linear is the input itself. `cells` puts a setting's defined name in
    place of its number (LeakyReLU's alpha on the Weights sheet)."""
    if act.name == "linear":
        return lambda body: body
    entry = activations.get(act.name)
    steps = entry.formula_steps(**act.kwargs)
    if len(steps) != 1 or F.placeholders(steps[0].template) - {"x"} - set(act.kwargs) - set(
        entry.defaults
    ):
        return None
    settings = {k: v for k, v in {**entry.defaults, **act.kwargs}.items() if v is not None}
    settings.update(cells or {})
    template = steps[0].template
    needed = F.placeholders(template)
    fixed = {k: v for k, v in settings.items() if k in needed}
    return lambda body: F.render(template, {**fixed, "x": F.operand(body)})
