"""ONNX and skops in, ONNX out, without a spreadsheet engine: what is refused and why (pickles,
external data outside the model's folder, unknown operators), what the Weights sheet says of
a transposed Gemm, and that an ONNX file gate2xlsx writes runs in onnxruntime."""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import openpyxl
import pytest
from onnx import TensorProto, helper

import gate2xlsx
from gate2xlsx.errors import InputError, UnsafeModelError, UnsupportedModelError
from gate2xlsx.formats.onnx_operators import (
    ACTIVATION_OPS,
    BINARY_MERGES,
    GLOBAL_POOLS,
    MERGES,
    POOLS,
    merge_operator,
    operator,
)
from gate2xlsx.ir.families.dense import Activation
from gate2xlsx.ir.graph import Graph, Node, Port
from gate2xlsx.ir.layer import Act
from gate2xlsx.ir.model import Model
from gate2xlsx.readers.onnx import file as onnx_file
from gate2xlsx.readers.xlsx import named_cells
from gate2xlsx.writers import save

ONNX = Path(__file__).resolve().parents[1] / "fixtures" / "onnx"
MANIFEST = json.loads((ONNX / "manifest.json").read_text())
PICKLES = [file for entry in MANIFEST for file in entry.get("refused", [])]


@pytest.mark.parametrize("file", PICKLES)
def test_pickles_are_refused_unread_pointing_to_skops_and_onnx(file):
    with pytest.raises(UnsafeModelError) as caught:
        gate2xlsx.load(ONNX / file)
    assert "runs the code it holds" in str(caught.value)
    assert "skops.io.dump" in caught.value.hint and "to_onnx" in caught.value.hint


def test_a_torch_save_zip_is_a_pickle(tmp_path):
    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model/data.pkl", b"\x80\x02}q\x00.")
        archive.writestr("model/version", "3")
    with pytest.raises(UnsafeModelError, match="pickle"):
        gate2xlsx.load(path)


def _external_copy(tmp_path: Path, location: str) -> Path:
    """digits_gelu.dynamo.onnx with its first external tensor pointing at `location`."""
    folder = tmp_path / "model"
    folder.mkdir()
    model = onnx.load(ONNX / "digits_gelu.dynamo.onnx", load_external_data=False)
    tensor = next(t for t in model.graph.initializer if t.data_location == TensorProto.EXTERNAL)
    for entry in tensor.external_data:
        if entry.key == "location":
            entry.value = location
    shutil.copy(ONNX / "digits_gelu.dynamo.onnx.data", folder / "digits_gelu.dynamo.onnx.data")
    path = folder / "model.onnx"
    path.write_bytes(model.SerializeToString())
    return path


@pytest.mark.parametrize(
    "location, says",
    [("../secret.data", "climbs out"), ("/etc/passwd", "absolute path"),
     ("link.data", "outside the model's folder")],
)  # fmt: skip
def test_external_data_outside_the_folder_is_refused_before_any_read(
    tmp_path, monkeypatch, location, says
):
    (tmp_path / "secret.data").write_bytes(b"\0" * 8192)
    path = _external_copy(tmp_path, location)
    os.symlink(tmp_path / "secret.data", path.parent / "link.data")
    reads = []
    monkeypatch.setattr(onnx_file, "_read_external", lambda *a: reads.append(a))
    with pytest.raises(UnsafeModelError, match=says):
        gate2xlsx.load(path)
    assert reads == []  # no tensor's data was read, not even the ones inside the folder


def test_external_data_inside_the_folder_is_read_and_sizes_checked(tmp_path):
    path = _external_copy(tmp_path, "digits_gelu.dynamo.onnx.data")
    assert gate2xlsx.load(path).count_params() == 16 * 64 + 16 + 10 * 16 + 10
    data = path.parent / "digits_gelu.dynamo.onnx.data"
    data.write_bytes(data.read_bytes()[:100])  # cut short
    with pytest.raises(InputError, match="shorter than"):
        gate2xlsx.load(path)


def _model(nodes, initializers=(), inputs=None, opsets=(("", 17),)) -> onnx.ModelProto:
    inputs = inputs or [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])]
    graph = helper.make_graph(
        nodes, "g", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=list(initializers),
    )  # fmt: skip
    return helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets])


def test_unknown_operators_and_domains_are_named_in_one_message(tmp_path):
    nodes = [helper.make_node("LSTM", ["x"], ["a"]), helper.make_node("Scan", ["a"], ["b"]),
             helper.make_node("Fancy", ["b"], ["y"], domain="com.example")]  # fmt: skip
    path = tmp_path / "odd.onnx"
    onnx.save(_model(nodes, opsets=(("", 17), ("com.example", 1))), path)
    with pytest.raises(UnsupportedModelError) as caught:
        gate2xlsx.load(path)
    assert "LSTM, Scan, com.example:Fancy" in str(caught.value)
    assert (  # what it computes, every handler but the parts of patterns and labels
        "(it computes Add, AveragePool, BatchNormalization, Cast, Clip, Concat, Conv, Div, "
        "Dropout, Elu, Erf, Exp, Flatten, Gelu, Gemm, GlobalAveragePool, GlobalMaxPool, "
        "HardSigmoid, HardSwish, Identity, LeakyRelu, LogSoftmax, MatMul, Max, MaxPool, Mean, "
        "Min, Mish, Mul, Neg, PRelu, Pad, Pow, ReduceMean, Relu, Reshape, Selu, Sigmoid, "
        "Softmax, Softplus, Softsign, Sqrt, Sub, Sum, Tanh, ThresholdedRelu, Transpose, ZipMap; "
        "of ai.onnx.ml, Scaler and the classifier's ZipMap and ArrayFeatureExtractor)"
    ) in str(caught.value)


@pytest.mark.parametrize("row", ACTIVATION_OPS, ids=lambda row: row.operator)
def test_every_activation_operator_goes_out_and_back_in_as_its_activation(tmp_path, row):
    """The one table both ways: the writer's operator and attributes read back as the same
    activation and parameters (not the defaults), and onnxruntime computes the IR's values."""
    params = {a.ours: (1.0 if a.words else a.default * 1.5 + 0.25) for a in row.attributes}
    layer = Activation("act", "Activation", activation=Act.of(row.activation, **params))
    model = Model(Graph([Port("input", (4,))], [Node(layer, ("input",))], ["act"]))
    out = save(model, tmp_path / "act.onnx")
    assert [n.op_type for n in onnx.load(out).graph.node] == [row.operator, "Identity"]
    (again,) = gate2xlsx.load(out).layers
    assert again.activation.name == row.activation and again.class_name == row.operator
    read = again.activation.kwargs
    assert read.keys() == params.keys()
    assert np.allclose([read[k] for k in params], list(params.values()))
    x = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    assert np.allclose(_run(out, x), model.forward(x), atol=1e-5)


def test_the_operator_the_writer_picks_reads_back_as_the_same_ir_op():
    for op in {*BINARY_MERGES.values(), *MERGES.values()}:
        for count in (2, 3):
            assert {**BINARY_MERGES, **MERGES}[merge_operator(op, count)] == op
    assert merge_operator("add", 2) == "Add" and merge_operator("add", 3) == "Sum"
    for table in (POOLS, GLOBAL_POOLS):
        assert all(table[operator(table, op)] == op for op in table.values())


def test_a_gemm_with_transb_shows_the_transpose_and_says_so(tmp_path):
    model = gate2xlsx.load(ONNX / "or_softmax.onnx")
    stored = onnx.numpy_helper.to_array(
        next(t for t in onnx.load(ONNX / "or_softmax.onnx").graph.initializer
             if t.name == "0.weight")
    )  # fmt: skip
    assert np.array_equal(model.layers[0].kernel.values, stored.T)
    book = gate2xlsx.write_workbook(model, tmp_path / "or.xlsx")
    labels = [c.value for c in openpyxl.load_workbook(book)["Weights"]["A"] if c.value]
    assert any(label.startswith("kernel") and "0.weight (stored transposed" in label
               for label in labels)  # fmt: skip


def test_a_reshape_that_moves_the_batch_axis_is_refused(tmp_path):
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [3, -1])
    path = tmp_path / "reshape.onnx"
    onnx.save(_model([helper.make_node("Reshape", ["x", "shape"], ["y"])], [shape]), path)
    with pytest.raises(UnsupportedModelError, match="does not keep the batch axis"):
        gate2xlsx.load(path)


def test_an_integer_input_is_refused_by_name(tmp_path):
    inputs = [helper.make_tensor_value_info("ids", TensorProto.INT64, ["N", 3])]
    path = tmp_path / "ids.onnx"
    onnx.save(_model([helper.make_node("Relu", ["ids"], ["y"])], inputs=inputs), path)
    with pytest.raises(UnsupportedModelError, match="input 'ids' holds element type 7"):
        gate2xlsx.load(path)


def test_a_damaged_onnx_file_is_one_line(tmp_path):
    path = tmp_path / "cut.onnx"
    path.write_bytes((ONNX / "or_softmax.onnx").read_bytes()[:60])
    with pytest.raises(InputError, match="not a readable ONNX file"):
        gate2xlsx.load(path)


def test_a_missing_onnx_package_is_one_line_with_the_fix(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "onnx", None)
    with pytest.raises(UnsupportedModelError) as caught:
        onnx_file.import_onnx(Path("m.onnx"))
    assert caught.value.hint == "pip install onnx"


def _skops_copy(tmp_path: Path, edit) -> Path:
    path = tmp_path / "model.skops"
    with zipfile.ZipFile(ONNX / "three_classes.skops") as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.namelist():
            data = src.read(item)
            if item == "schema.json":
                schema = json.loads(data)
                edit(schema)
                data = json.dumps(schema).encode()
            dst.writestr(item, data)
    return path


def test_a_skops_estimator_other_than_an_mlp_is_refused(tmp_path):
    path = _skops_copy(tmp_path, lambda s: s.update({"__class__": "RandomForestClassifier"}))
    with pytest.raises(UnsupportedModelError, match="holds a RandomForestClassifier"):
        gate2xlsx.load(path)


def test_a_skops_array_that_needs_unpickling_is_refused(tmp_path):
    def pickled(schema):
        schema["content"]["content"]["classes_"] = {
            "__class__": "ndarray", "__loader__": "NdArrayNode", "type": "json", "content": "[]"
        }  # fmt: skip

    with pytest.raises(UnsupportedModelError, match="never pickled objects"):
        gate2xlsx.load(_skops_copy(tmp_path, pickled))


def test_skops_and_onnx_of_one_estimator_are_the_same_network():
    for entry in MANIFEST:
        if not any(f.endswith(".skops") for f in entry["files"]):
            continue
        x = np.load(ONNX / entry["expected"])["x"]
        both = [gate2xlsx.load(ONNX / f) for f in entry["files"] if f.endswith((".onnx", ".skops"))]
        for model in both[1:]:
            assert np.allclose(model.forward(x), both[0].forward(x), atol=1e-6), entry["name"]
            assert model.class_names == both[0].class_names


def _run(path: Path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds, at = {}, 0
    for given in session.get_inputs():
        size = int(np.prod(given.shape[1:]))
        feeds[given.name] = x[:, at : at + size].reshape(len(x), *given.shape[1:])
        at += size
    return np.concatenate([o.reshape(len(x), -1) for o in session.run(None, feeds)], axis=1)


OUT_FILES = ["small_cnn.onnx", "binary_strings.onnx", "digits_gelu.onnx",
             "regressor_two_targets.skops", "branches.dynamo.onnx"]  # fmt: skip


@pytest.mark.parametrize("file", OUT_FILES)
def test_the_onnx_gate2xlsx_writes_runs_in_onnxruntime(tmp_path, file):
    model = gate2xlsx.load(ONNX / file)
    x = np.load(ONNX / (file.split(".")[0] + ".expected.npz"))["x"].astype(np.float32)
    out = save(model, tmp_path / "out.onnx")
    assert np.allclose(_run(out, x), model.forward(x), atol=1e-5)
    again = gate2xlsx.load(out)  # reads back as the same network
    assert np.allclose(again.forward(x), model.forward(x), atol=1e-6)


def test_keras_convolutions_go_out_as_onnx(tmp_path):
    """A channels-last Keras CNN: transposed around each Conv and pool, input and output as
    Keras's."""
    tensors = ONNX.parent / "tensors" / "keras2"
    for file in ("cnn_digits.h5", "same_strides_dilation.h5", "pad_avg_global.h5"):
        model = gate2xlsx.load(tensors / file)
        data = np.load(tensors / (file.split(".")[0] + ".expected.npz"))
        out = save(model, tmp_path / "cnn.onnx")
        assert np.allclose(_run(out, data["x"].astype(np.float32)), data["y"], atol=1e-5), file
        again = gate2xlsx.load(out)  # Transposes and Pads read back: the same network
        assert np.allclose(again.forward(data["x"]), data["y"], atol=1e-5), file


def test_a_pytorch_image_input_is_drawn_channel_by_channel_in_torchs_order(tmp_path):
    """(C, H, W): the input block is C grids of H x W one under another, so typing torch's
    flattened row into it gives the image; the flag survives the workbook."""
    model = gate2xlsx.load(ONNX / "cnn_flatten.onnx")
    (port,) = model.graph.inputs
    assert port.channels_first and port.shape == (2, 7, 7)
    book = gate2xlsx.write_workbook(model, tmp_path / "cnn.xlsx")
    rows = named_cells(openpyxl.load_workbook(book), "input")
    assert (len(rows), len(rows[0])) == (2 * 7, 7)
    assert gate2xlsx.load(book).graph.inputs == [port]
