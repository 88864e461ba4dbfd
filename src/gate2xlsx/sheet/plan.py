"""The whole workbook, planned from a Model and the export's decisions (a WorkbookSpec):
Network (one example, step by step), Truth table / Data (the batch, accuracy, loss), Decision
map, Weights, Training (when asked: gradient descent unrolled), Check, About, and the hidden
description `extract` rebuilds the model from.
Every sheet is checked against the spreadsheet limits before anything is written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ..errors import LayoutError
from ..ir.model import Model
from ..templates_text import say
from . import limits, meta
from .about import about_plan
from .batch.chain import data_plan
from .batch.check import Switched, check_plan
from .batch.decision_map import map_plan
from .batch.graph import check_rows, graph_rows
from .keras_eval import loss_rule
from .layout import SheetPlan, WorkbookPlan
from .network.chain import network_plan
from .network.graph import graph_network_plan
from .spec import WorkbookSpec
from .training.plan import training_plan
from .weights import weights_plan

TRUTH_TABLE, DATA = "Truth table", "Data"


def plan_workbook(model: Model, spec: WorkbookSpec) -> WorkbookPlan:
    """Plan every sheet of the workbook that computes `model` as `spec` says."""
    if model.as_chain() is None:
        return _graph_workbook(model, spec)
    rows, about = spec.rows, dict(spec.about)
    weights_sheet, refs = weights_plan(model, spec)
    training = training_plan(model, refs, spec) if spec.training is not None else None
    described = model
    if training is not None:  # every other sheet reads the weights `use_trained` picks
        refs = training.refs
        _note(about, _training_note(spec))
        model = training.model if spec.training.use_trained else model
    input_values = spec.input_values
    if input_values is None and len(rows.x):
        input_values = rows.x[min(1, len(rows.x) - 1)]
    sheets = [network_plan(model, refs, spec, input_values)]
    rule = loss_rule(model, spec.loss) if spec.loss else None
    if rows.sample:  # made-up inputs teach nothing a Data sheet would add; Check runs them
        _note(about, say("no_data_sheet"))
    else:
        title = TRUTH_TABLE if rows.truth_table else DATA
        sheets.append(_if_it_fits(lambda: data_plan(model, refs, spec, rule, title=title), about))
    if model.n_inputs == 2:
        known = rows.x if rows.y is not None or model.data else None
        sheets.append(_if_it_fits(lambda: map_plan(model, refs, spec, known), about))
    sheets += [weights_sheet, training.sheet if training is not None else None]
    switched = None
    if training is not None:  # the Check's reference follows use_trained too
        off, on = "with the Weights sheet's weights", "with the trained weights"
        switched = Switched("use_trained", described, training.model, off, on)
    sheets += [_if_it_fits(lambda: check_plan(model, refs, spec, switched=switched), about)]
    sheets = [sheet for sheet in sheets if sheet is not None]
    sheets += [about_plan(model, spec, about), meta.meta_plan(_described(described, spec))]
    for sheet in sheets:
        limits.check_sheet(sheet)
    return WorkbookPlan(sheets, title=spec.title)


def _graph_workbook(model: Model, spec: WorkbookSpec) -> WorkbookPlan:
    """A graph's workbook: its Network sheet (one example), the Data sheet when rows are
    given, Weights, Check (a few rows, each one's network drawn), About and the hidden
    description; the Decision map and Training sheets compute dense chains only (About says
    so)."""
    about = dict(spec.about)
    _note(about, say("graph_left_out"))
    weights_sheet, refs = weights_plan(model, spec)
    input_values = spec.input_values
    if input_values is None and len(spec.rows.x):
        input_values = spec.rows.x[0]
    sheets = [
        graph_network_plan(model, refs, spec, input_values),
        None if spec.rows.sample else _graph_data(model, refs, spec, about),
        weights_sheet,
        _graph_check(model, refs, spec, about),
        about_plan(model, spec, about),
        meta.meta_plan(_described(model, spec)),
    ]
    sheets = [sheet for sheet in sheets if sheet is not None]
    for sheet in sheets:
        limits.check_sheet(sheet)
    return WorkbookPlan(sheets, title=spec.title)


def _graph_data(model: Model, refs, spec: WorkbookSpec, about: dict) -> SheetPlan | None:
    """The Data sheet of a graph: the rows given, each one's network drawn under the table;
    loss and accuracy for a single output."""
    ports = model.graph.output_ports()
    single = len(ports) == 1 and len(ports[0].shape) == 1
    rule = loss_rule(model, spec.loss) if spec.loss and single else None

    def steps(sheet, inputs, left):
        return graph_rows(sheet, model, refs, inputs, left, spec.rows.x)

    return _if_it_fits(lambda: data_plan(model, refs, spec, rule, title=DATA, steps=steps), about)


def _graph_check(model: Model, refs, spec: WorkbookSpec, about: dict) -> SheetPlan | None:
    checked = check_rows(model, spec)

    def steps(sheet, inputs, left):
        return graph_rows(sheet, model, refs, inputs, left, checked)

    return _if_it_fits(lambda: check_plan(model, refs, spec, steps=steps, rows=checked), about)


def _described(model: Model, spec: WorkbookSpec) -> Model:
    """The model the hidden description stores: the names the export settled on, on a copy."""
    return replace(
        model,
        input_names=spec.described_inputs or model.input_names,
        class_names=spec.described_labels or model.class_names,
    )


def _if_it_fits(make: Callable[[], SheetPlan], about: dict[str, str]) -> SheetPlan | None:
    """A batch sheet (one row per example, steps side by side), or None with a note saying why
    it was left out when the network is too wide for a sheet's columns."""
    try:
        return make()
    except LayoutError as exc:
        _note(about, f"Left out: {exc}.")
        return None


def _note(about: dict[str, str], note: str) -> None:
    about["notes"] = f"{about['notes']} {note}" if about.get("notes") else note


def _training_note(spec: WorkbookSpec) -> str:
    s, on = spec.training.settings, spec.training.use_trained
    shown = "every sheet computes with the trained weights" if on else "the Weights sheet's"
    return say("training_about", epochs=s.epochs, optimizer=s.optimizer, lr=s.lr,
               batch_size=s.batch_size, loss=s.loss, switch=int(on), shown=shown)  # fmt: skip
