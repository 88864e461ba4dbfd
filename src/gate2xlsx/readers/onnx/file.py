"""An ONNX file opened safely: the protobuf parsed by the `onnx` package (imported here, only
when an ONNX file is read), and every weight turned into a NumPy array by us.

External data (weights in a sidecar file beside the model) is read only from inside the
model's own folder: no absolute paths, no `..`, no symbolic link that leads out (the class of
CVE-2022-25882 and CVE-2024-27318), and each read checked against the size the tensor
declares. Every location is checked before any external byte is read. onnx's own
external-data loader is never called.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePath

import numpy as np

from ...errors import InputError, UnsafeModelError, UnsupportedModelError

# protobuf refuses to parse a message of 2 GiB or more; a larger .onnx keeps its weights in
# external data.
MAX_PROTO_BYTES = 2**31 - 1


def import_onnx(path: Path):
    """The onnx package, or one line saying how to install it."""
    try:
        import onnx
    except ImportError:
        raise UnsupportedModelError(
            "reading ONNX files needs the onnx package, which is not installed",
            path=path,
            hint="pip install onnx",
        ) from None
    return onnx


def is_onnx(path: Path) -> bool:
    """A serialized ModelProto: field 1 (ir_version, a small varint) first, then more fields.
    Cheap enough to try on any file that is not one of the other formats."""
    with open(path, "rb") as handle:
        head = handle.read(2)
    return len(head) == 2 and head[0] == 0x08 and 1 <= head[1] <= 64


def load_model(path: Path):
    """The ModelProto, parsed from the file's bytes (external data left unread)."""
    onnx = import_onnx(path)
    size = path.stat().st_size
    if size > MAX_PROTO_BYTES:
        raise InputError(
            f"the file is {size:,} bytes; protobuf reads at most {MAX_PROTO_BYTES:,} in one "
            "message",
            path=path,
            hint="save it with external data: onnx.save(model, path, save_as_external_data=True)",
        )
    try:
        model = onnx.ModelProto.FromString(path.read_bytes())
    except Exception as exc:  # protobuf's DecodeError and friends
        raise InputError(f"not a readable ONNX file ({exc})", path=path) from None
    if not model.HasField("graph") or not model.graph.node:
        raise InputError("not an ONNX model (it holds no graph)", path=path)
    return model


def initializers(model, path: Path) -> dict[str, np.ndarray]:
    """Every initializer and Constant node's value, by name, as a NumPy array."""
    onnx = import_onnx(path)
    tensors = list(model.graph.initializer)
    external = [t for t in tensors if t.data_location == onnx.TensorProto.EXTERNAL]
    files = {t.name: _external_file(t, path) for t in external}  # all checked before reading
    found = {}
    for tensor in tensors:
        if tensor.name in files:
            found[tensor.name] = _read_external(tensor, files[tensor.name], path)
        else:
            found[tensor.name] = _to_array(tensor, path)
    for node in model.graph.node:
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            found[node.output[0]] = _constant(node, path)
    return found


def _to_array(tensor, path: Path) -> np.ndarray:
    from onnx import numpy_helper

    try:
        return np.array(numpy_helper.to_array(tensor))
    except Exception as exc:  # a raw_data whose size does not fit the dims, an odd dtype
        raise InputError(f"initializer {tensor.name!r} cannot be read ({exc})", path=path) from None


def _constant(node, path: Path) -> np.ndarray:
    from onnx import helper

    for attribute in node.attribute:
        value = helper.get_attribute_value(attribute)
        if attribute.name == "value":
            return _to_array(value, path)
        if attribute.name in ("value_float", "value_int"):
            return np.array(value)
        if attribute.name in ("value_floats", "value_ints"):
            return np.array(list(value))
    raise UnsupportedModelError(f"Constant node {node.name!r} holds no number", path=path)


def _external_file(tensor, path: Path) -> Path:
    """The sidecar file of an external tensor, refused unless it lies inside the model's
    folder."""
    info = {entry.key: entry.value for entry in tensor.external_data}
    location = info.get("location", "")
    where = f"initializer {tensor.name!r} keeps its data in {location!r}"
    pure = PurePath(location)
    if not location or pure.is_absolute() or os.path.isabs(location) or ":" in pure.parts[0]:
        raise UnsafeModelError(
            f"{where}, an absolute path; gate2xlsx reads external data only from the "
            "model's own folder",
            path=path,
        )
    if ".." in pure.parts or "\\" in location:
        raise UnsafeModelError(
            f"{where}, which climbs out of the model's folder; gate2xlsx reads external "
            "data only from the model's own folder",
            path=path,
        )
    folder = path.parent.resolve()  # the folder the file was given in
    target = (path.parent / location).resolve()
    if folder not in target.parents:
        raise UnsafeModelError(f"{where}, which leads outside the model's folder (a symbolic link)",
                         path=path)  # fmt: skip
    if not target.is_file():
        raise InputError(f"{where}, which is missing (keep it beside the model)", path=path)
    return target


def _read_external(tensor, file: Path, path: Path) -> np.ndarray:
    from onnx import helper

    info = {entry.key: entry.value for entry in tensor.external_data}
    try:
        dtype = np.dtype(helper.tensor_dtype_to_np_dtype(tensor.data_type))
        offset = int(info.get("offset", 0))
        length = int(info["length"]) if "length" in info else None
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"initializer {tensor.name!r}: bad external data ({exc})",
                         path=path) from None  # fmt: skip
    shape = tuple(int(d) for d in tensor.dims)
    need = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if dtype.kind not in "fiu" or (length is not None and length != need) or offset < 0:
        raise InputError(
            f"initializer {tensor.name!r} declares {length} bytes of external data; its "
            f"shape {list(shape)} of {dtype} needs {need}",
            path=path,
        )
    if file.stat().st_size < offset + need:
        raise InputError(
            f"initializer {tensor.name!r}: {file.name} is shorter than the {need} bytes at "
            f"offset {offset} it should hold",
            path=path,
        )
    with open(file, "rb") as handle:
        handle.seek(offset)
        data = handle.read(need)
    return np.frombuffer(data, dtype=dtype.newbyteorder("<")).reshape(shape).copy()
