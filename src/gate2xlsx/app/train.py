"""`gate2xlsx train`'s recipe: read the data (a gate or a CSV table), build or load the start,
train with restarts (the math is gate2xlsx.ir.fit), report, and save the result."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..data import csv_tables as tables
from ..data import gates
from ..errors import InputError, OutputError
from ..files import check_target
from ..ir import losses, optimizers
from ..ir.fit import TRAINABLE_ACTIVATIONS, Settings, accuracy, check_trainable, fit, new_network
from ..ir.model import Dataset, Model
from ..writers import SUFFIXES


@dataclass
class Attempt:
    """One training run from one start."""

    number: int
    seed: int | None
    losses: list[float]
    accuracy: float


@dataclass
class TrainResult:
    """The trained model, its last run's losses and accuracy, every attempt, and what was asked."""

    model: Model
    losses: list[float]
    accuracy: float
    attempts: list[Attempt]
    settings: Settings
    gate: str | None = None
    hidden: bool = False

    @property
    def seed(self) -> int | None:
        """The seed that repeats the final run (with --restarts 1)."""
        return self.attempts[-1].seed if self.attempts else None

    def hint(self) -> str | None:
        """What usually helps when some training rows are still wrong; None when all are right."""
        if self.accuracy == 1.0:
            return None
        if self.gate and self.gate.lower() in gates.NOT_LINEAR and not self.hidden:
            return (f"{self.gate.upper()} cannot be drawn with one straight line, so a network "
                    "without a hidden layer never learns it: add one, e.g. --hidden 4 "
                    "--optimizer adam --lr 0.05 --epochs 500")  # fmt: skip
        return ("more --epochs, a larger --lr, --optimizer adam, or --restarts 10 (new random "
                "starts) usually help")  # fmt: skip

    def report(self, max_rows: int = 20) -> str:
        """The lesson's printout: each row's input, prediction and expected label, then loss
        and accuracy."""
        data, labels = self.model.data, self.model.labels()
        assert data is not None and data.y is not None
        p = self.model.forward(data.x)
        lines = []
        for row, (xi, pi, yi) in enumerate(zip(data.x, p, data.y)):
            if row == max_rows:
                lines.append(f"... {len(data.x) - max_rows} more rows")
                break
            lines.append(
                f"Input {_fmt(xi)}  prediction {_fmt(pi)}  {_label(pi, labels)}"
                f"  (expected {_label(yi, labels)})"
            )
        right = round(self.accuracy * len(data.x))
        lines.append(
            f"loss {self.losses[-1]:.4f}  accuracy {self.accuracy:.0%} "
            f"({right} of {len(data.x)} rows)"
        )
        return "\n".join(lines)


def _fmt(values: np.ndarray) -> str:
    return "[" + " ".join(f"{v:.4g}" for v in values) + "]"


def _label(values: np.ndarray, labels: list[str]) -> str:
    if len(values) == 1:  # one sigmoid unit: the second class when above one half
        return (
            labels[-1]
            if values[0] > 0.5
            else (labels[0] if len(labels) > 1 else "not " + labels[0])
        )
    return labels[int(np.argmax(values))]


def train(
    gate: str | None = None,
    *,
    data: str | None = None,
    label: str | None = None,
    allow_rare_labels: bool = False,
    hidden: list[int] | tuple[int, ...] = (),
    activation: str = "tanh",
    output: str = "softmax",
    settings: Settings | None = None,
    start: str | None = None,
    restarts: int = 1,
    save_to: str | None = None,
    training_sheet: bool = False,
    on_epoch: Callable[[int, float], None] | None = None,
    on_attempt: Callable[[Attempt], None] | None = None,
) -> TrainResult:
    """Train the lesson's network (or `start`'s weights) on a gate's truth table or a CSV table.

        result = train("or", save_to="or.h5")      # Dense(2) + softmax, SGD 0.2, 50 epochs
        print(result.report())

    `restarts` retries from new random starts until every training row is classified
    correctly (at most that many tries). `save_to` (.h5/.hdf/.hdf5, .keras, .npz or .xlsx) is
    checked before training and written only after it succeeds. A settings loss of None
    means binary cross-entropy for two classes and categorical cross-entropy for more. A
    label that looks like a typo stops training unless `allow_rare_labels`.
    """
    if save_to is not None:
        check_output(save_to)
    dataset, input_names, class_names = _training_data(gate, data, label, allow_rare_labels)
    settings = replace(settings or Settings(), loss=_loss(settings, len(class_names)))
    _check_settings(settings, output, activation, restarts, start)
    if training_sheet:
        _check_replayable(save_to, settings, len(dataset.x))
    attempts: list[Attempt] = []
    base = settings.seed if settings.seed is not None else _drawn_seed()
    for number in range(1, restarts + 1):
        seed = base + number - 1
        model = _start_model(start, dataset, hidden, activation, output, seed)
        first = copy.deepcopy(model)  # the start, for a workbook's Training sheet
        y = dataset.y if model.n_outputs == dataset.y.shape[1] else dataset.y[:, 1:]
        history = fit(model, dataset.x, y, replace(settings, seed=seed), on_epoch)
        attempts.append(Attempt(number, seed, history, accuracy(model, dataset.x, y)))
        if on_attempt is not None:
            on_attempt(attempts[-1])
        if attempts[-1].accuracy == 1.0:
            break
    model.name = dataset.name or model.name
    model.input_names = list(input_names) if input_names else None
    model.class_names = list(class_names)  # a sigmoid unit's two classes, as for softmax
    model.loss = settings.loss
    model.data = Dataset(dataset.x, y, dataset.name)
    last = attempts[-1]
    result = TrainResult(model, last.losses, last.accuracy, attempts, settings, gate, bool(hidden))
    if save_to is not None:
        replay = _named_like(first, model) if training_sheet else None
        write(model, save_to, start=replay, settings=settings)
    return result


def _check_replayable(save_to: str | None, settings: Settings, rows: int) -> None:
    """A Training sheet replays batches in row order, into a workbook: refused before training
    when it could not."""
    if save_to is None or not str(save_to).lower().endswith(".xlsx"):
        raise InputError("--training-sheet writes a workbook: give -o OUT.xlsx")
    if settings.shuffle and settings.batch_size < rows:
        raise InputError("--training-sheet replays the batches in row order: add --no-shuffle, "
                         f"or a --batch-size of at least {rows} (the rows)")  # fmt: skip


def _named_like(start: Model, trained: Model) -> Model:
    """The start with the trained model's names, data and loss (what its workbook shows)."""
    return replace(
        start,
        name=trained.name,
        input_names=trained.input_names,
        class_names=trained.class_names,
        loss=trained.loss,
        data=trained.data,
    )


def _training_data(gate: str | None, data: str | None, label: str | None,
                   allow_rare: bool) -> tuple[Dataset, list[str] | None, list[str]]:  # fmt: skip
    """The rows to train on, their input names and their class names."""
    if data is None:
        return gates.dataset(gate or ""), gates.INPUT_NAMES, gates.CLASS_NAMES
    if gate is not None:
        raise InputError(f"give either a gate ({gate}) or --data, not both")
    table = tables.labelled(data, label)
    if len(table.class_names or []) < 2:
        raise InputError(f"label column {table.label!r} has only one class "
                         f"({table.class_names[0]!r}); training needs at least two",
                         path=data)  # fmt: skip
    if not allow_rare:
        tables.check_labels(table, path=data)
    return table.dataset, table.input_names, table.class_names


def _drawn_seed() -> int:
    """A fresh seed, reported with the result so the run can be repeated."""
    return int(np.random.SeedSequence().generate_state(1)[0])


def _loss(settings: Settings | None, classes: int) -> str:
    """The canonical name of the settings' loss (Keras's spellings accepted, as export does);
    None: binary cross-entropy for two classes, categorical cross-entropy for more."""
    name = (settings or Settings()).loss
    if name is None:
        return "binary_crossentropy" if classes <= 2 else "categorical_crossentropy"
    return losses.canonical(name) or name


def _check_settings(
    s: Settings, output: str, activation: str, restarts: int, start: str | None
) -> None:
    problems = []
    if s.loss not in losses.LOSSES:
        problems.append(f"loss {s.loss!r} is not one of {', '.join(losses.LOSSES)}")
    if s.optimizer not in optimizers.TABLE:
        problems.append(f"optimizer {s.optimizer!r} is not one of {', '.join(optimizers.NAMES)}")
    if output not in losses.LOGIT_OUTPUTS:
        problems.append(f"output {output!r} is not one of {', '.join(losses.LOGIT_OUTPUTS)}")
    if activation not in TRAINABLE_ACTIVATIONS:
        problems.append(
            f"activation {activation!r} is not one of {', '.join(TRAINABLE_ACTIVATIONS)}"
        )
    if not (s.lr > 0 and np.isfinite(s.lr)) or s.epochs < 1 or s.batch_size < 1 or restarts < 1:
        problems.append("--lr, --epochs, --batch-size and --restarts must be positive")
    if not 0 <= s.momentum < 1:
        problems.append("--momentum must be in [0, 1)")
    if start is not None and restarts > 1:
        problems.append("--restarts needs random starts, so it cannot be combined with --from")
    if problems:
        raise InputError("; ".join(problems))


def _start_model(
    start: str | None, dataset, hidden, activation: str, output: str, seed: int
) -> Model:
    n_in, n_classes = dataset.x.shape[1], dataset.y.shape[1]
    if start is None:
        return new_network(
            n_in, n_classes, list(hidden), activation, output, np.random.default_rng(seed)
        )
    from ..readers import load

    model = load(start)
    check_trainable(model)
    if model.n_inputs != n_in or model.n_outputs not in (n_classes, 1 if n_classes == 2 else -1):
        raise InputError(
            f"the model takes {model.n_inputs} inputs and gives {model.n_outputs} "
            f"outputs, but the data has {n_in} features and {n_classes} classes",
            path=start,
        )
    return model


OUTPUT_SUFFIXES = (*SUFFIXES, ".xlsx")


def check_output(path: str) -> None:
    """Refuse, before training, an output that could never be written."""
    suffix = Path(path).suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise OutputError(
            f"cannot write {suffix or 'a file without extension'}; use "
            f"{', '.join(OUTPUT_SUFFIXES)}",
            path=path,
        )
    check_target(path)  # the same rule the final write applies


def write(
    model: Model, path: str, *, start: Model | None = None, settings: Settings | None = None
) -> None:
    """Save the trained model: a workbook for .xlsx, else a Keras/NumPy file.

    With `start` (and its `settings`), the workbook replays the training on a Training sheet:
    the Weights sheet holds the start and `use_trained` is 1, so every sheet computes the
    trained network (its batches in row order, see _check_replayable).
    """
    if not str(path).lower().endswith(".xlsx"):
        from ..writers import save

        save(model, path)
        return
    from ..sheet.spec import TrainingSpec
    from .export import write_workbook

    if start is not None and settings is not None:
        write_workbook(start, path, training=TrainingSpec(settings, use_trained=True))
    else:
        write_workbook(model, path)
