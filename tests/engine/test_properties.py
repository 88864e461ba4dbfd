"""Property-based tests (Hypothesis).

1. Random dense networks (1-4 Dense layers, widths 1-12, activations drawn from the whole
   activation table, weights up to 1e4 in magnitude) are exported and recalculated by
   LibreOffice in batches (one Hypothesis example = a batch of networks = one soffice call).
   Each output must equal Model.forward within
       |sheet - numpy| <= 1e-9 * |numpy| + 1e-12 * (1 + B)
   where B is the magnitude the output is conditioned on: the sum of |terms| behind it,
   propagated through the layers (a sum of large terms that cancels cannot be known to 1e-9
   of its small result by any double-precision engine, NumPy included).
2. Random byte mutations of valid model files never end in anything but a model or a
   Gate2XlsxError: never another exception (which the CLI would show as a failure).
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gate2xlsx import load, write_workbook
from gate2xlsx.errors import Gate2XlsxError
from gate2xlsx.ir import activations
from gate2xlsx.ir.families.dense import Dense
from gate2xlsx.ir.layer import Act, Param
from gate2xlsx.ir.model import Model
from gate2xlsx.readers.xlsx import named_values

sys.path.insert(0, str(ROOT / "tests" / "bad_inputs"))
from mutations import SEEDS, mutant, mutate  # noqa: E402

BATCH = 12  # networks per LibreOffice call
# Hypothesis examples, i.e. soffice calls, per run; raise it by hand to hunt for more cases.
BATCHES = int(os.environ.get("GATE2XLSX_PROPERTY_BATCHES", "4"))
PARAMS = {
    "elu": {"alpha": st.floats(0.1, 2)},
    "leaky_relu": {"alpha": st.floats(0, 1)},
    "thresholded_relu": {"theta": st.floats(-1, 2)},
    "hard_sigmoid": {"slope": st.sampled_from([0.2, 1 / 6])},
    "gelu": {"approximate": st.sampled_from([0.0, 1.0])},
    "prelu": {"alpha": st.floats(-1, 1)},
    "relu": {
        "negative_slope": st.sampled_from([0.0, 0.1]),
        "threshold": st.sampled_from([0.0, 0.5]),
        "max_value": st.sampled_from([None, 6.0]),
    },
}
MAGNITUDE = st.one_of(
    st.floats(-1, 1), st.floats(-1e4, 1e4), st.sampled_from([0.0, 1.0, -1.0, 1e-8])
)


@st.composite
def activation(draw) -> Act:
    name = draw(st.sampled_from(sorted(activations.TABLE)))
    return Act.of(name, **{k: draw(v) for k, v in PARAMS.get(name, {}).items()})


@st.composite
def network(draw) -> tuple[Model, np.ndarray]:
    n_in = draw(st.integers(1, 12))
    widths = [n_in] + draw(st.lists(st.integers(1, 12), min_size=1, max_size=4))
    layers = []
    for k, (a, b) in enumerate(zip(widths, widths[1:])):
        kernel = np.array(draw(st.lists(MAGNITUDE, min_size=a * b, max_size=a * b))).reshape(a, b)
        bias = (
            np.array(draw(st.lists(MAGNITUDE, min_size=b, max_size=b)))
            if draw(st.booleans())
            else None
        )
        layers.append(
            Dense(
                f"dense_{k}",
                "Dense",
                kernel=Param(kernel, f"dense_{k}/kernel"),
                bias=None if bias is None else Param(bias, f"dense_{k}/bias"),
                activation=draw(activation()),
            )
        )
    x = np.array(draw(st.lists(st.floats(-10, 10), min_size=n_in, max_size=n_in))).reshape(1, -1)
    return Model.chain(n_in, layers, name="random"), x


def conditioning(model: Model, x: np.ndarray) -> np.ndarray:
    """B: how large the terms behind each output are (see the module docstring)."""
    bound, value = np.zeros_like(x), x
    for layer in model.layers:
        w = np.abs(layer.kernel.values)
        b = 0 if layer.bias is None else np.abs(layer.bias.values)
        z = value @ layer.kernel.values + (0 if layer.bias is None else layer.bias.values)
        bound_z = bound @ w + np.abs(value) @ w + b
        value = layer.forward(value)
        name = layer.activation.name
        if name == "exponential":
            bound = np.abs(value) * bound_z
        elif name in ("softmax", "log_softmax"):
            bound = 2 * np.broadcast_to(bound_z.max(axis=-1, keepdims=True), value.shape)
        else:
            bound = 2 * bound_z
        assert z.shape == value.shape
    return bound


def finite(model: Model, x: np.ndarray) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bool(
            np.all(np.isfinite(model.forward(x)))
            and np.all(np.isfinite(conditioning(model, x)))
            and np.all(np.abs(model.forward(x)) < 1e300)
        )


STATS = {"networks": 0, "batches": 0, "seconds": 0.0}


@pytest.mark.libreoffice
@settings(
    max_examples=BATCHES,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
@given(st.lists(network(), min_size=BATCH, max_size=BATCH))
def test_random_networks_compute_in_libreoffice_like_numpy(engine_factory, batch):
    started = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="batch", dir=engine_factory.scratch))  # replays too
    books, kept = [], []
    for k, (model, x) in enumerate(batch):
        if not finite(model, x):  # NumPy overflows (e.g. exponential of 1e6): nothing to compare
            continue
        books.append(write_workbook(model, folder / f"n{k}.xlsx", input_values=x[0]))
        kept.append((model, x))
    for (model, x), wb in zip(kept, engine_factory.recalc(*books) if books else []):
        got, want = named_values(wb, "output"), model.forward(x)
        allowed = 1e-9 * np.abs(want) + 1e-12 * (1 + conditioning(model, x))
        assert np.all(np.abs(got - want) <= allowed), (model, x, got, want, allowed)
    STATS["networks"] += len(kept)
    STATS["batches"] += 1
    STATS["seconds"] += time.perf_counter() - started
    print(f"\nproperty batches: {STATS}")


@pytest.fixture(scope="module")
def engine_factory(tmp_path_factory):
    """The LibreOffice engine, module-wide (Hypothesis reruns the test body; one scratch folder)."""
    from conftest import Engine, _in_ci

    from gate2xlsx.engines.libreoffice import soffice_path

    if soffice_path() is None:
        if _in_ci():
            pytest.fail("LibreOffice (soffice) is not installed: in CI the engine tests must run")
        pytest.skip("LibreOffice (soffice) is not installed")
    return Engine(tmp_path_factory.mktemp("props"))


# --- mutations ------------------------------------------------------------------------------

MUTATIONS = {"loaded": 0, "refused": 0}


@settings(max_examples=300, deadline=None, database=None)
@given(seed=st.sampled_from(SEEDS), salt=st.integers(0, 2**32 - 1))
def test_mutated_model_files_load_or_give_a_clear_error(tmp_path_factory, seed, salt):
    target = tmp_path_factory.mktemp("mut") / ("m" + seed.suffix)
    target.write_bytes(mutate(seed.read_bytes(), random.Random(salt)))
    try:
        model = load(target)
        write_workbook(model, target.with_suffix(".xlsx"))
        MUTATIONS["loaded"] += 1
    except Gate2XlsxError as exc:
        assert str(exc).strip() and "\n" not in str(exc).strip()
        MUTATIONS["refused"] += 1
    if sum(MUTATIONS.values()) % 100 == 0:
        print(f"\nmutations so far: {MUTATIONS}")


# Mutations that a longer fuzzing run (tens of thousands of salts, out of process) turned into
# exceptions other than a Gate2XlsxError: a non-UTF-8 name inside HDF5 (two), a zip local
# header whose file name is not text, a float type NumPy cannot represent, a zip "version
# needed" that zipfile does not implement. Replayed every run.
FUZZ_FOUND = {
    100477: "UTF-8",
    103285: "UTF-8",
    301459: "archive member",
    303093: "number type",
    400319: "zip file version",
}


@pytest.mark.parametrize("salt", sorted(FUZZ_FOUND))
def test_mutations_found_by_fuzzing_give_a_clear_error(tmp_path, salt):
    _, target = mutant(salt, tmp_path)
    with pytest.raises(Gate2XlsxError, match=FUZZ_FOUND[salt]) as caught:
        load(target)
    assert "\n" not in str(caught.value).strip()
