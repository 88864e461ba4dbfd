"""TensorFlow SavedModel folders read without TensorFlow (readers/savedmodel.py): the protobuf
wire decoder and the tensor-bundle reader on bytes crafted here, the reader against the
predictions tf.keras 2.15 stored beside each fixture (tests/fixtures/generate_savedmodel.py),
and every refusal as one error naming the file."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gate2xlsx
from gate2xlsx.errors import Gate2XlsxError, InputError, UnsafeModelError, UnsupportedModelError
from gate2xlsx.ir.layer import Param
from gate2xlsx.readers import kind_of
from gate2xlsx.readers.tensorflow import savedmodel
from gate2xlsx.readers.tensorflow.protobuf_wire import Message, WireError, fields, varint
from gate2xlsx.readers.tensorflow.tensor_bundle import Bundle, crc32c, masked, table_entries

FOLDER = Path(__file__).resolve().parents[1] / "fixtures" / "savedmodel"
MANIFEST = json.loads((FOLDER / "manifest.json").read_text())
GOOD = [e for e in MANIFEST if not e["expect_error"]]
BAD = [e for e in MANIFEST if e["expect_error"]]
KERAS_TOL = 1e-5


# --- crafting protobuf and table bytes --------------------------------------------------------


def enc_varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field(number: int, value: int | bytes) -> bytes:
    if isinstance(value, int):
        return enc_varint(number << 3) + enc_varint(value)
    return enc_varint(number << 3 | 2) + enc_varint(len(value)) + value


def block(pairs: list[tuple[bytes, bytes]], restart_every: int = 2, kind: int = 0) -> bytes:
    """A sorted-table block (prefix-compressed keys, restart points) with its trailer."""
    body, restarts, last = bytearray(), [], b""
    for i, (key, value) in enumerate(pairs):
        shared = 0
        if i % restart_every:
            while shared < min(len(key), len(last)) and key[shared] == last[shared]:
                shared += 1
        else:
            restarts.append(len(body))
        body += enc_varint(shared) + enc_varint(len(key) - shared) + enc_varint(len(value))
        body += key[shared:] + value
        last = key
    body += b"".join(struct.pack("<I", r) for r in restarts) + struct.pack("<I", len(restarts))
    raw = bytes(body) + bytes([kind])
    return raw + struct.pack("<I", masked(crc32c(raw)))


def table(pairs: list[tuple[bytes, bytes]], kind: int = 0) -> bytes:
    """A whole table file: two data blocks, an empty metaindex, the index, the footer."""
    half = len(pairs) // 2
    data, index = b"", []
    for part in (pairs[:half], pairs[half:]):
        piece = block(part, kind=kind)
        index.append((part[-1][0], enc_varint(len(data)) + enc_varint(len(piece) - 5)))
        data += piece
    meta_at, meta = len(data), block([])
    index_at, index_block = meta_at + len(meta), block(index)
    handles = enc_varint(meta_at) + enc_varint(len(meta) - 5)
    handles += enc_varint(index_at) + enc_varint(len(index_block) - 5)
    footer = handles.ljust(40, b"\0") + struct.pack("<Q", 0xDB4775248B80FB57)
    return data + meta + index_block + footer


def entry(dtype: int, shape: tuple[int, ...], offset: int, data: bytes) -> bytes:
    dims = b"".join(field(2, field(1, d)) for d in shape)
    crc = enc_varint(6 << 3 | 5) + struct.pack("<I", masked(crc32c(data)))
    return field(1, dtype) + field(2, dims) + field(4, offset) + field(5, len(data)) + crc


def write_bundle(folder: Path, arrays: dict[str, np.ndarray], kind: int = 0) -> Path:
    """A checkpoint of float32 arrays in the format TensorFlow writes."""
    data, pairs = b"", [(b"", field(1, 1))]
    for key, value in sorted(arrays.items()):
        raw = value.astype("<f4").tobytes()
        pairs.append((key.encode(), entry(1, value.shape, len(data), raw)))
        data += raw
    (folder / "variables.index").write_bytes(table(pairs, kind))
    (folder / "variables.data-00000-of-00001").write_bytes(data)
    return folder / "variables"


# --- the wire decoder ------------------------------------------------------------------------


def test_varints_and_fields_decode():
    assert varint(b"\xac\x02", 0) == (300, 2)
    message = Message(field(1, 150) + field(2, b"text") + field(1, 7) + field(3, -2))
    assert message.int(1) == 7  # the last value wins, as protobuf merges
    assert message.text(2) == "text" and message.int(3) == -2 and message.int(9, 5) == 5
    assert message.all(1) == [150, 7]
    packed = Message(field(4, enc_varint(1) + enc_varint(300)) + field(4, 2))
    assert packed.ints(4) == [1, 300, 2]
    nested = Message(field(5, field(1, 3)) + field(5, field(1, 4)))
    assert [m.int(1) for m in nested.messages(5)] == [3, 4]
    fixed = list(fields(enc_varint(6 << 3 | 5) + struct.pack("<I", 0xDEADBEEF)))
    assert fixed == [(6, 0xDEADBEEF)]


@pytest.mark.parametrize(
    "data",
    [
        b"\x08",
        b"\x08\xff",
        b"\x12\x05ab",
        b"\x0b",
        b"\x00\x01",
        b"\x08" + b"\xff" * 11,
        b"\x0d\x01\x02",
    ],
    ids=["no value", "open varint", "short bytes", "group", "field 0", "long varint", "fixed32"],
)
def test_malformed_messages_raise_wire_error(data):
    with pytest.raises(WireError):
        Message(data)


# --- the tensor bundle -----------------------------------------------------------------------


def test_crc32c_is_castagnoli():
    assert crc32c(b"123456789") == 0xE3069283
    assert masked(0) == 0xA282EAD8


def test_table_keys_are_prefix_compressed_across_restarts():
    pairs = [(f"layer/{i:03d}/kernel".encode(), bytes([i]) * i) for i in range(9)]
    assert table_entries(table(pairs)) == dict(pairs)


def test_bundle_reads_arrays_by_key(tmp_path):
    arrays = {
        "a/kernel": np.arange(6, dtype=np.float32).reshape(2, 3),
        "a/bias": np.array([0.5, -1.5], np.float32),
        "s": np.array(2.0, np.float32),
    }
    bundle = Bundle(write_bundle(tmp_path, arrays), shown=tmp_path)
    assert sorted(bundle.keys()) == sorted(arrays)
    for key, value in arrays.items():
        got = bundle.array(key)
        assert got.shape == value.shape and got.dtype == np.float32
        assert np.array_equal(got, value)
    with pytest.raises(InputError, match="no tensor 'missing'"):
        bundle.array("missing")


def test_bfloat16_and_sizes_that_do_not_fit_the_shape(tmp_path):
    halves = np.array([1.5, -2.0], np.float32).view(np.uint32) >> 16
    raw = halves.astype("<u2").tobytes()
    pairs = [(b"", field(1, 1)), (b"bf", entry(14, (2,), 0, raw)),
             (b"odd", entry(1, (3,), 0, raw))]  # fmt: skip
    (tmp_path / "variables.index").write_bytes(table(pairs))
    (tmp_path / "variables.data-00000-of-00001").write_bytes(raw)
    bundle = Bundle(tmp_path / "variables", shown=tmp_path)
    assert bundle.array("bf").tolist() == [1.5, -2.0]
    with pytest.raises(InputError, match="declares 4 bytes, not those of shape"):
        bundle.array("odd")


def test_compressed_blocks_are_refused_in_one_line(tmp_path):
    (tmp_path / "variables.index").write_bytes(table([(b"", b""), (b"k", b"")], kind=1))
    with pytest.raises(InputError, match="compressed") as caught:
        Bundle(tmp_path / "variables", shown=tmp_path)
    assert "\n" not in str(caught.value) and "variables.index" in str(caught.value)


def test_bundle_checks_checksums_and_bounds(tmp_path):
    prefix = write_bundle(tmp_path, {"w": np.ones((4, 4), np.float32)})
    data = tmp_path / "variables.data-00000-of-00001"
    data.write_bytes(data.read_bytes()[:40])
    with pytest.raises(InputError, match="cut short"):
        Bundle(prefix, shown=tmp_path).array("w")
    data.write_bytes(b"\x01" * 64)
    with pytest.raises(InputError, match="CRC-32C"):
        Bundle(prefix, shown=tmp_path).array("w")
    index = tmp_path / "variables.index"
    raw = bytearray(index.read_bytes())
    raw[3] ^= 0xFF
    index.write_bytes(bytes(raw))
    with pytest.raises(InputError, match="damaged checkpoint index"):
        Bundle(prefix, shown=tmp_path)
    index.write_bytes(b"short")
    with pytest.raises(InputError, match="footer"):
        Bundle(prefix, shown=tmp_path)


# --- the fixtures tf.keras 2.15 wrote --------------------------------------------------------


def _expected(entry: dict) -> dict[str, np.ndarray]:
    with np.load(FOLDER / entry["expected"], allow_pickle=False) as data:
        return dict(data)


def _error(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want))))


@pytest.mark.parametrize("entry", GOOD, ids=[e["name"] for e in GOOD])
@pytest.mark.parametrize("given", ["folder", "saved_model.pb"])
def test_reader_matches_keras(entry, given):
    path = FOLDER / entry["folder"]
    path = path if given == "folder" else path / "saved_model.pb"
    assert kind_of(path) == "savedmodel"
    model, data = savedmodel.read(path), _expected(entry)
    assert _error(model.forward(data["x"]), data["y"]) <= KERAS_TOL
    assert model.source.format == entry["format"] and model.source.backend == "tensorflow"
    assert model.source.keras_version == ("2.15.0" if "Keras metadata" in entry["format"] else "")
    h5 = gate2xlsx.load(FOLDER / entry["h5"])  # the same model through the HDF5 reader
    assert [layer.name for layer in model.layers] == [layer.name for layer in h5.layers]
    # without a configuration, constants are their float32 value's shortest decimal (0.2)
    # where a Keras config may hold its float64 image (0.20000000298023224)
    atol = 1e-12 if "Keras metadata" in entry["format"] else 1e-9
    assert np.allclose(model.forward(data["x"]), h5.forward(data["x"]), rtol=0, atol=atol)


def test_the_seed_recipe_reads_as_the_lesson():
    model = gate2xlsx.load(FOLDER / "or.hdf")
    assert model.name == "sequential" and model.n_inputs == 2
    assert model.loss == "binary_crossentropy" and model.optimizer["name"] == "sgd"
    assert gate2xlsx.load(FOLDER / "dense_bn").loss == "categorical_crossentropy"
    assert model.optimizer["learning_rate"] == pytest.approx(0.2)
    kernel = model.layers[0].weights()["kernel"]
    assert kernel.path == "layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE"


@pytest.mark.parametrize("entry", BAD, ids=[e["name"] for e in BAD])
def test_savedmodels_without_a_keras_model_are_refused(entry):
    with pytest.raises(UnsupportedModelError, match=entry["error_mentions"]) as caught:
        gate2xlsx.load(FOLDER / entry["folder"])
    assert "\n" not in str(caught.value) and entry["folder"] in str(caught.value)
    assert 'model.save("model.keras")' in caught.value.hint


def test_tf_saved_model_save_layers_are_told_by_their_operators():
    """No configuration in the folder: each layer's kind, activation and settings come from the
    operators its traced call shares (BatchNormalization's epsilon from its constant)."""
    model = gate2xlsx.load(FOLDER / "tf_saved")
    h5 = gate2xlsx.load(FOLDER / "tf_saved.h5")
    assert model.name == "tf_saved" and model.n_inputs == 3
    assert [type(layer) for layer in model.layers] == [type(layer) for layer in h5.layers]
    assert [layer.name for layer in model.layers] == [layer.name for layer in h5.layers]
    for ours, theirs in zip(model.layers, h5.layers):
        assert vars(ours).keys() == vars(theirs).keys()
        for key, value in vars(ours).items():
            if isinstance(value, Param):
                assert np.array_equal(value.values, vars(theirs)[key].values), (ours.name, key)
            elif key != "activation" or value.name != "leaky_relu":
                assert value == vars(theirs)[key], (ours.name, key)
    assert model.layers[1].epsilon == 0.01 and model.layers[4].activation.params == (
        ("alpha", 0.2),
    )


def test_only_layers_of_models_are_matched_by_name():
    """Metrics (named loss, accuracy), RNN cells and input layers carry names too; a layer
    may share one with them."""
    from gate2xlsx.readers.tensorflow.savedmodel import _is_layer
    from gate2xlsx.readers.tensorflow.savedmodel_objects import KerasNode

    def node(path: str, ident: str = "_tf_keras_layer") -> KerasNode:
        return KerasNode(1, path, ident, {"name": "accuracy"})

    assert _is_layer(node("root.layer_with_weights-1.layer-0"))
    assert not _is_layer(node("root.keras_api.metrics.1", "_tf_keras_metric"))
    assert not _is_layer(node("root.layer_with_weights-1.cell"))
    assert not _is_layer(node("root.layer-0", "_tf_keras_input_layer"))
    assert not _is_layer(node("root", "_tf_keras_sequential"))


def test_a_const_reads_packed_and_unpacked_floats():
    from gate2xlsx.readers.tensorflow.savedmodel_traced import _constant

    def const(tensor: bytes) -> Message:
        attr = field(1, b"value") + field(2, field(8, field(1, 1) + tensor))
        return Message(field(1, b"batchnorm/add/y") + field(2, b"Const") + field(5, attr))

    assert _constant(const(field(5, struct.pack("<f", 0.25)))) == 0.25  # packed
    assert _constant(const(enc_varint(5 << 3 | 5) + struct.pack("<f", 0.5))) == 0.5
    assert _constant(const(field(4, struct.pack("<f", 2.0)))) == 2.0  # tensor_content


# --- damaged and misplaced folders -----------------------------------------------------------


@pytest.fixture
def copy(tmp_path) -> Path:
    target = tmp_path / "or.hdf"
    shutil.copytree(FOLDER / "or.hdf", target)
    return target


def _refused(path: Path, error: type = InputError) -> str:
    with pytest.raises(error) as caught:
        gate2xlsx.load(path)
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_a_damaged_index_is_one_line(copy):
    index = copy / "variables" / "variables.index"
    raw = bytearray(index.read_bytes())
    raw[len(raw) // 3] ^= 0x55
    index.write_bytes(bytes(raw))
    assert "variables.index: damaged checkpoint index" in _refused(copy)


def test_a_truncated_data_file_is_one_line(copy):
    data = copy / "variables" / "variables.data-00000-of-00001"
    data.write_bytes(data.read_bytes()[:100])
    message = _refused(copy)
    assert "variables.data-00000-of-00001" in message and "cut short" in message


def test_damaged_keras_metadata_is_one_line(copy):
    meta = copy / "keras_metadata.pb"
    meta.write_bytes(meta.read_bytes()[:-40])
    assert "keras_metadata.pb: damaged Keras metadata" in _refused(copy)


def test_saved_model_pb_alone_is_refused(tmp_path):
    lone = tmp_path / "saved_model.pb"
    shutil.copy(FOLDER / "or.hdf" / "saved_model.pb", lone)
    shutil.copy(FOLDER / "or.hdf" / "keras_metadata.pb", tmp_path / "keras_metadata.pb")
    assert "has no variables/variables.index" in _refused(lone)


def test_a_folder_named_saved_model_pb_is_no_model(tmp_path):
    folder = tmp_path / "saved_model.pb"
    folder.mkdir()
    assert kind_of(folder) is None
    assert "is a folder, not a model" in _refused(folder)


def test_variables_linking_outside_the_folder_are_refused(copy, tmp_path):
    outside = tmp_path / "elsewhere"
    shutil.move(copy / "variables", outside)
    (copy / "variables").symlink_to(outside, target_is_directory=True)
    assert "links outside" in _refused(copy, UnsafeModelError)


def test_random_damage_is_always_one_error(copy):
    """Bytes flipped anywhere in the three files the reader opens: a Gate2XlsxError or a
    model, never another exception."""
    rng = np.random.default_rng(27)
    files = [copy / "keras_metadata.pb", copy / "variables" / "variables.index",
             copy / "variables" / "variables.data-00000-of-00001"]  # fmt: skip
    originals = {f: f.read_bytes() for f in files}
    for _ in range(60):
        target = files[rng.integers(len(files))]
        raw = bytearray(originals[target])
        for at in rng.integers(0, len(raw), 3):
            raw[at] = int(rng.integers(256))
        target.write_bytes(bytes(raw))
        try:
            savedmodel.read(copy)
        except Gate2XlsxError as exc:
            assert "\n" not in str(exc)
        target.write_bytes(originals[target])


def test_the_command_line_says_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "gate2xlsx", str(FOLDER / "tf_module"), "-o",
                           str(tmp_path / "m.xlsx")], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "without a Keras model (a tf.Module)" in done.stderr
