"""`.keras` layouts the available Keras venvs cannot write, rebuilt from committed real files.

The weights tree of a real tf.keras 2.15 / Keras 3 archive is copied with h5py into the layout
another Keras wrote (tf.keras 2.12-2.14's `_layer_checkpoint_dependencies` with its skipping
counters and `variables.h5`; Keras 3 on Windows, whose group names hold `\\`), per
shared/KERAS_FORMATS.md and Keras's saving_lib source. The readers must then still reproduce
Keras's per-layer outputs stored beside the original. Also: archive safety and the
weights-only messages.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest

import gate2xlsx
from gate2xlsx.errors import Gate2XlsxError, InputError, UnsafeModelError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
KERAS_TOL = 1e-5


def rewrite_tree(data: bytes, rename: Callable[[str], str | None]) -> bytes:
    """A copy of an HDF5 image with every dataset moved to rename(path) (None drops it)."""
    out = io.BytesIO()
    with h5py.File(io.BytesIO(data), "r") as src, h5py.File(out, "w") as dst:
        paths: list[str] = []
        src.visititems(
            lambda name, node: paths.append(name) if isinstance(node, h5py.Dataset) else None
        )
        for name in paths:
            target = rename(name)
            if target is not None:
                dst.create_dataset(target, data=src[name][()])
    return out.getvalue()


def rewrite_archive(
    source: Path,
    target: Path,
    rename: Callable[[str], str | None],
    member: str = "model.weights.h5",
    extra: dict[str, bytes] | None = None,
) -> Path:
    with zipfile.ZipFile(source) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    weights = rewrite_tree(members.pop("model.weights.h5"), rename)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in {**members, member: weights, **(extra or {})}.items():
            archive.writestr(name, data)
    return target


def assert_matches_keras(model: gate2xlsx.Model, stem: str) -> None:
    with np.load(FIXTURES / f"{stem}.expected.npz") as data:
        x, y = data["x"], data["y"]
    got = model.forward(x)
    assert np.max(np.abs(got - y) / np.maximum(1.0, np.abs(y))) <= KERAS_TOL


def checkpoint_dependencies(name: str) -> str | None:
    """tf.keras 2.12-2.14: each layer listed twice (`layer_with_weights-k`, `layer-i`) and
    named before the visited check, so a class's k-th stored layer gets counter 2k."""

    def renumber(match: re.Match) -> str:
        k = int(match.group(2) or 0)
        return f"_layer_checkpoint_dependencies/{match.group(1)}{'' if k == 0 else f'_{2 * k}'}/"

    return re.sub(r"^layers/([a-z_]+?)(?:_(\d+))?/", renumber, name)


def windows(name: str) -> str:
    """Keras 3 on Windows joined the layer path with os.path.join: one group `layers\\dense`
    holding `vars`."""
    head, _, tail = name.rpartition("/vars/")
    return f"{head.replace('/', chr(92))}/vars/{tail}" if head else name


@pytest.mark.parametrize(
    "stem",
    ["keras2/batchnorm_keras", "keras2/prelu_misc_keras", "keras2/normalization_adapted_keras"],
)
@pytest.mark.parametrize("member", ["model.weights.h5", "variables.h5"])
def test_tf_keras_2_12_checkpoint_dependencies_layout(stem, member, tmp_path):
    made = rewrite_archive(
        FIXTURES / f"{stem}.keras", tmp_path / "old.keras", checkpoint_dependencies, member=member
    )
    with zipfile.ZipFile(made) as archive, h5py.File(io.BytesIO(archive.read(member))) as h5:
        assert "_layer_checkpoint_dependencies" in h5 and "layers" not in h5
        if "dense_2" in h5["_layer_checkpoint_dependencies"]:
            assert "dense_1" not in h5["_layer_checkpoint_dependencies"]
    assert_matches_keras(gate2xlsx.load(made), stem)


@pytest.mark.parametrize(
    "stem",
    ["keras3/nested_seq_in_func_keras", "keras3/batchnorm_keras", "keras3/nested_seq_in_seq_keras"],
)
def test_keras3_archive_saved_on_windows(stem, tmp_path):
    made = rewrite_archive(FIXTURES / f"{stem}.keras", tmp_path / "win.keras", windows)
    with (
        zipfile.ZipFile(made) as archive,
        h5py.File(io.BytesIO(archive.read("model.weights.h5"))) as h5,
    ):
        assert any("\\" in name for name in h5)
    assert_matches_keras(gate2xlsx.load(made), stem)


def test_assets_are_never_read(tmp_path):
    """An assets/ member that would be refused if it were ever read (a 1000:1 bomb)."""
    bomb = {"assets/vocabulary.txt": b"\0" * (24 << 20)}
    made = rewrite_archive(
        FIXTURES / "keras3/seq_dense_keras.keras", tmp_path / "a.keras", lambda n: n, extra=bomb
    )
    before = sorted(p.name for p in tmp_path.iterdir())
    assert_matches_keras(gate2xlsx.load(made), "keras3/seq_dense_keras")
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing extracted


def test_weights_member_with_absurd_compression_is_refused(tmp_path):
    padded = {"model.weights.h5": b"\0" * (24 << 20)}
    made = tmp_path / "bomb.keras"
    with (
        zipfile.ZipFile(FIXTURES / "keras3/seq_dense_keras.keras") as src,
        zipfile.ZipFile(made, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for name in ("metadata.json", "config.json"):
            dst.writestr(name, src.read(name))
        dst.writestr("model.weights.h5", padded["model.weights.h5"])
    with pytest.raises(UnsafeModelError, match="model.weights.h5.*zip bomb"):
        gate2xlsx.load(made)


def test_archive_weights_not_matching_config_name_the_layer(tmp_path):
    made = rewrite_archive(
        FIXTURES / "keras3/seq_dense_keras.keras",
        tmp_path / "cut.keras",
        lambda n: None if n.startswith("layers/dense_1/") else n,
    )
    with pytest.raises(InputError, match="dense_1.*Dense"):
        gate2xlsx.load(made)


@pytest.mark.parametrize(
    "weights",
    [
        "keras2/seq_dense_weights.h5",
        "keras3/seq_dense_weights.weights.h5",
        "keras2/seq_dense_v3w.weights.h5",
        "legacy/h5py_keras1_2_2_weights.h5",
        "legacy/h5py_keras2_2_4_weights.h5",
    ],
)
def test_weights_only_without_architecture_says_how(weights):
    with pytest.raises(Gate2XlsxError) as caught:
        gate2xlsx.load(FIXTURES / weights)
    text = f"{caught.value} {caught.value.hint}"
    assert "weights only" in text and "--architecture" in text and weights.split("/")[-1] in text


def test_keras3_config_json_as_architecture_of_a_weights_file():
    """A Keras 3 config.json (no version stated) picks Keras 3's hard_sigmoid from its style."""
    model = gate2xlsx.load(
        FIXTURES / "keras3/acts_chain_b_weights.weights.h5",
        architecture=FIXTURES / "keras3/acts_chain_b_weights.json",
    )
    assert model.source.keras_version == "3"
    assert_matches_keras(model, "keras3/acts_chain_b_weights")
