"""`gate2xlsx train` on bad input (one Error line, exit 2, nothing written), straight to a
workbook recalculated in LibreOffice, and trained files loaded by real Keras."""

from __future__ import annotations

import numpy as np
import pytest
from keras_venvs import keras_predict

import gate2xlsx
from gate2xlsx.app.train import train
from gate2xlsx.cli import main
from gate2xlsx.data import gates
from gate2xlsx.ir.fit import Settings


def _fails(tmp_path, capsys, args: list[str], *needles: str) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["train", *args, "--quiet"])
    err = capsys.readouterr().err
    assert stop.value.code == 2
    lines = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in err, err
    assert [p.name for p in tmp_path.iterdir() if p.suffix != ".csv"] == []


def _csv(tmp_path, text: str):
    path = tmp_path / "table.csv"
    path.write_text(text)
    return str(path)


def test_unknown_gate(tmp_path, capsys):
    _fails(
        tmp_path, capsys, ["maybe", "-o", str(tmp_path / "m.h5")], "unknown gate 'maybe'", "xnor"
    )


def test_unreadable_and_malformed_csv(tmp_path, capsys):
    out = str(tmp_path / "m.h5")
    _fails(tmp_path, capsys, ["--data", str(tmp_path / "none.csv"), "-o", out], "no such file")
    bad = _csv(tmp_path, "a,b,label\n1,2,x\n3,4\n")
    _fails(tmp_path, capsys, ["--data", bad, "-o", out], "row 3 has 2 cells")


def test_non_numeric_feature(tmp_path, capsys):
    table = _csv(tmp_path, "a,b,label\n1,2,x\n3,high,y\n")
    _fails(
        tmp_path,
        capsys,
        ["--data", table, "-o", str(tmp_path / "m.h5")],
        "row 3, column 'b'",
        "'high' is not a number",
    )


def test_label_column_with_one_class(tmp_path, capsys):
    table = _csv(tmp_path, "a,kind,b\n1,cat,2\n3,cat,4\n")
    _fails(
        tmp_path,
        capsys,
        ["--data", table, "--label", "kind", "-o", str(tmp_path / "m.h5")],
        "'kind' has only one class",
    )


def test_from_model_of_the_wrong_shape(tmp_path, capsys):
    wide = tmp_path / "wide.npz"
    gate2xlsx.save(train("xor", hidden=[3], settings=Settings(seed=1, epochs=1)).model, wide)
    table = _csv(tmp_path, "a,b,c,label\n1,2,3,x\n3,4,5,y\n")
    with pytest.raises(SystemExit):
        main(
            ["train", "--data", table, "--from", str(wide), "-o", str(tmp_path / "m.h5"), "--quiet"]
        )
    err = capsys.readouterr().err
    assert "takes 2 inputs and gives 2 outputs, but the data has 3 features" in err
    assert not (tmp_path / "m.h5").exists()


def test_divergence_names_the_epoch(tmp_path, capsys):
    args = [
        "xor",
        "--hidden",
        "8",
        "--hidden",
        "8",
        "--activation",
        "relu",
        "--lr",
        "1e30",
        "--seed",
        "1",
        "-o",
        str(tmp_path / "m.h5"),
    ]
    _fails(tmp_path, capsys, args, "diverged in epoch", "smaller --lr")


def test_unknown_output_extension_is_refused_before_training(tmp_path, capsys):
    _fails(tmp_path, capsys, ["or", "-o", str(tmp_path / "m.json")], "cannot write .json")


def test_csv_training_names_classes_and_inputs(tmp_path):
    rows = [(x, y, "big" if x + y > 1 else "small") for x in (0, 0.5, 1) for y in (0, 0.7, 1.5)]
    table = _csv(tmp_path, "width,height,size\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows))
    out = tmp_path / "size.npz"
    main(
        [
            "train",
            "--data",
            table,
            "-o",
            str(out),
            "--epochs",
            "400",
            "--lr",
            "0.5",
            "--batch-size",
            "9",
            "--seed",
            "2",
            "--quiet",
        ]
    )
    model = gate2xlsx.load(out)
    assert model.class_names == ["big", "small"] and model.input_names == ["width", "height"]
    assert (
        model.forward(model.data.x).argmax(axis=1).tolist() == model.data.y.argmax(axis=1).tolist()
    )


@pytest.mark.libreoffice
def test_train_straight_to_a_workbook(tmp_path, engine):
    book = tmp_path / "or.xlsx"
    main(["train", "or", "-o", str(book), "--seed", "5", "--quiet"])
    values = engine.values(book, "input", "output", "dense_kernel")
    reference = train("or", settings=Settings(seed=5)).model
    np.testing.assert_allclose(
        values["dense_kernel"], reference.layers[0].kernel.values, atol=1e-12
    )
    np.testing.assert_allclose(
        values["output"].reshape(1, -1),
        reference.forward(values["input"].reshape(1, -1)),
        atol=1e-9,
    )


def test_training_sheet_replays_the_run_the_trainer_made(tmp_path, engine):
    args = ["train", "xor", "--hidden", "3", "--optimizer", "adam", "--lr", "0.05", "--epochs",
            "30", "--batch-size", "2", "--no-shuffle", "--seed", "5", "--quiet"]  # fmt: skip
    book, trained = tmp_path / "xor.xlsx", tmp_path / "xor.npz"
    main([*args, "--training-sheet", "-o", str(book)])
    main([*args, "-o", str(trained)])
    keras_like = gate2xlsx.load(trained)  # float32 updates, as Keras; the sheet's are float64
    values = engine.values(book, "trained_dense_kernel", "data_inputs", "data_outputs")
    np.testing.assert_allclose(
        values["trained_dense_kernel"], keras_like.layers[0].kernel.values, atol=1e-5
    )
    np.testing.assert_allclose(
        values["data_outputs"], keras_like.forward(values["data_inputs"]), atol=1e-5
    )
    shown = gate2xlsx.load(book)  # a workbook loads with the weights it computes with
    np.testing.assert_allclose(shown.layers[0].kernel.values, keras_like.layers[0].kernel.values,
                               atol=1e-5)  # fmt: skip


def test_training_sheet_of_shuffled_batches_is_refused_before_training(tmp_path, capsys):
    _fails(tmp_path, capsys, ["xor", "--hidden", "2", "--batch-size", "2", "--training-sheet",
                              "-o", str(tmp_path / "x.xlsx")], "--no-shuffle")  # fmt: skip
    _fails(tmp_path, capsys, ["or", "--training-sheet", "-o", str(tmp_path / "o.h5")],
           "-o OUT.xlsx")  # fmt: skip


@pytest.mark.keras
@pytest.mark.parametrize("venv", ["tf215", "k3"])
def test_trained_files_load_in_real_keras(tmp_path, venv):
    out = tmp_path / "xor.h5"
    main(
        [
            "train",
            "xor",
            "--hidden",
            "3",
            "--epochs",
            "20",
            "--seed",
            "3",
            "-o",
            str(out),
            "--quiet",
        ]
    )
    model = gate2xlsx.load(out)
    got = keras_predict(venv, out, gates.INPUTS)
    np.testing.assert_allclose(
        np.array(got["y"]), model.forward(gates.INPUTS), rtol=1e-5, atol=1e-6
    )
    assert got["layers"] == ["dense", "dense_1", "activation"]
