"""predict: the NumPy forward pass against what Keras's own predict returned for the same file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import FIXTURES, SAMPLES
from conftest import cli_exit as _run

import gate2xlsx
from gate2xlsx.errors import InputError

FILES = [
    SAMPLES / "or.hdf",
    SAMPLES / "xor.h5",
    FIXTURES / "keras3" / "act_softmax_keras.keras",
    FIXTURES / "keras2" / "seq_dense.h5",
]


def _expected(model_file: Path) -> np.lib.npyio.NpzFile:
    stem = model_file.name.rsplit(".", 1)[0]
    return np.load(model_file.with_name(stem + ".expected.npz"))


@pytest.mark.parametrize("model_file", FILES, ids=lambda p: p.name)
def test_matches_keras_predict(model_file):
    if not model_file.exists():
        pytest.skip(f"{model_file} is not present")
    expected = _expected(model_file)
    result = gate2xlsx.predict(model_file, expected["x"])
    np.testing.assert_allclose(result.outputs, expected["y"], rtol=1e-5, atol=1e-6)
    if expected["y"].shape[1] > 1:
        assert list(result.indices) == list(np.argmax(expected["y"], axis=1))
        assert result.labels == [result.class_names[i] for i in result.indices]


def test_cli_values_and_csv(tmp_path, capsys):
    expected = _expected(SAMPLES / "xor.h5")
    assert _run(["predict", str(SAMPLES / "xor.h5"), "0", "1", "1", "1"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split() == ["x1", "x2", "False", "True", "predicted"]
    rows = {tuple(float(v) for v in line.split()[:2]): line.split() for line in lines[1:]}
    for x, y in zip(expected["x"], expected["y"]):
        if tuple(x) in rows:
            got = rows[tuple(x)]
            assert abs(float(got[3]) - y[1]) < 1e-6
            assert got[4] == ("True" if y[1] > y[0] else "False")
    assert len(rows) == 2
    data = tmp_path / "rows.csv"
    data.write_text("a,b\n0,0\n1,0\n\n1,1\n")
    assert _run(["predict", str(SAMPLES / "xor.h5"), "--data", str(data)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 4
    reference = gate2xlsx.load(SAMPLES / "xor.h5").forward([[0, 0], [1, 0], [1, 1]])
    assert [float(line.split()[3]) for line in out[1:]] == pytest.approx(reference[:, 1], abs=1e-6)


def test_one_sigmoid_unit_is_a_two_class_answer():
    from gate2xlsx.ir.families.dense import Dense
    from gate2xlsx.ir.layer import Act, Param
    from gate2xlsx.ir.model import Model

    model = Model.chain(
        2, [Dense("d", "Dense", Param([[1.0], [1.0]]), Param([-1.5]), Act("sigmoid"))]
    )
    result = gate2xlsx.predict(model, [[0, 0], [1, 1]])
    assert result.labels == ["False", "True"]
    assert result.outputs[:, 0] == pytest.approx(1 / (1 + np.exp([1.5, -0.5])))
    assert "P(True)" in result.table().splitlines()[0]


def test_bad_inputs_are_one_clear_error(tmp_path, capsys):
    with pytest.raises(InputError, match="takes 2 inputs per row; got 3"):
        gate2xlsx.predict(SAMPLES / "or.hdf", [0, 1, 1])
    assert _run(["predict", str(SAMPLES / "or.hdf")]) == 2
    assert "give input values" in capsys.readouterr().err
    data = tmp_path / "bad.csv"
    data.write_text("0,1\n1,x\n")
    assert _run(["predict", str(SAMPLES / "or.hdf"), "--data", str(data)]) == 2
    assert "row 2" in capsys.readouterr().err
    data.write_text("a,b,label\n0,1,1\n")  # a label column would shift every prediction
    assert _run(["predict", str(SAMPLES / "or.hdf"), "--data", str(data)]) == 2
    assert "row 1 has 3 columns but the model takes 2 inputs" in capsys.readouterr().err
