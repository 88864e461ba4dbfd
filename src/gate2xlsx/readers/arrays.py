"""A NumPy network: the weight arrays of a from-scratch network (`W1, b1, W2, b2`, used as
`tanh(x @ W1 + b1) @ W2 + b2`), in memory or saved with `np.savez` / `np.save`, plus one
activation per layer, which the arrays themselves never say.

Orientation: a matrix is `(in, out)`, as `x @ W` multiplies, unless the arrays are named like a
PyTorch `state_dict` (`fc1.weight`, `fc1.bias`), which stores `(out, in)`; those are
transposed. Each layer is a 2-D matrix and, optionally, the 1-D bias right after it, in the
order given. Files are read with `allow_pickle=False`: an object array is refused unread.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..errors import InputError, UnsupportedModelError
from ..ir import activations as activation_table
from ..ir.families.dense import Dense
from ..ir.layer import Act, Param
from ..ir.model import Model, Source
from .zips import ZIP_ERRORS, member_names

NPY_MAGIC = b"\x93NUMPY"
MAX_TOTAL_BYTES = 1 << 30  # far beyond any network a spreadsheet can hold
IN_OUT = "NumPy arrays (x @ W: each matrix is (in, out))"
OUT_IN = "NumPy arrays named like a PyTorch state_dict (each weight (out, in), transposed)"
TORCH_SUFFIXES = (".weight", ".bias")


def is_npy(path: Path) -> bool:
    """One array saved by np.save."""
    with open(path, "rb") as handle:
        return handle.read(6) == NPY_MAGIC


def is_npz_of_arrays(path: Path) -> bool:
    """A zip of .npy members only (np.savez / np.savez_compressed)."""
    names = member_names(path)
    return bool(names) and all(n.endswith(".npy") for n in names)


def read(path: Path, activations: str | Sequence[str] | None) -> Model:
    """The network in a plain .npz (arrays in the order saved) or a .npy (one layer)."""
    path = Path(path)
    found = _load_file(path)
    if activations is None:
        raise InputError(
            f"holds NumPy arrays ({shapes(found)}) but says nothing of the activations",
            path=path,
            hint="name one per layer, for example --activations "
            + ",".join(["tanh"] * (len(_layers(found, path)) - 1) + ["softmax"]),
        )
    return from_arrays(found, activations, name=path.stem, path=path)


def from_arrays(
    arrays: Sequence | Mapping,
    activations: str | Sequence[str],
    *,
    name: str = "numpy_network",
    path: str | os.PathLike | None = None,
) -> Model:
    """A Model from weight arrays in layer order (a list, or a dict whose keys name them) and
    one activation name per layer ("tanh,softmax" or ["tanh", "softmax"])."""
    named = _named(arrays, path)
    layers = _layers(named, path)
    acts = _activations(activations, len(layers), path)
    torch = _torch_named(named)
    model_layers = [
        _dense(i, weight, bias, act, torch, named)
        for i, ((weight, bias), act) in enumerate(zip(layers, acts), start=1)
    ]
    _check_chain(model_layers, layers, named, path)
    fmt = OUT_IN if torch else IN_OUT
    n_inputs = model_layers[0].kernel.values.shape[0]
    return Model.chain(n_inputs, model_layers, name=name, source=Source(str(path or ""), fmt))


def described(arrays: Sequence | Mapping) -> str:
    """'W1 2 x 3, b1 3, ...' for arrays as a caller gives them (a list or dict)."""
    return shapes(_named(arrays, None))


def shapes(named: Mapping[str, np.ndarray]) -> str:
    """'W1 2 x 3, b1 3, ...': how messages list arrays."""
    return ", ".join(f"{key} {' x '.join(map(str, a.shape)) or 'scalar'}" for key, a in
                     named.items())  # fmt: skip


def _load_file(path: Path) -> dict[str, np.ndarray]:
    if path.stat().st_size > MAX_TOTAL_BYTES:
        raise InputError("the file is over 1 GiB; refusing to read it", path=path)
    try:
        with zipfile.ZipFile(path) as archive:
            if sum(i.file_size for i in archive.infolist()) > MAX_TOTAL_BYTES:
                raise InputError("the .npz declares over 1 GiB of arrays; refusing to read it",
                                 path=path)  # fmt: skip
    except zipfile.BadZipFile:
        pass  # a .npy
    try:
        loaded = np.load(path, allow_pickle=False)
        if isinstance(loaded, np.ndarray):
            return {path.stem: loaded}
        with loaded:
            return {key: loaded[key] for key in loaded.files}
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise InputError("holds an object array (a pickle inside): loading it would run "
                             "code, so gate2xlsx never does", path=path,
                             hint="save plain number arrays: np.savez(path, W1=W1, b1=b1, ...)",
                             ) from None  # fmt: skip
        raise InputError(f"damaged NumPy file ({str(exc).splitlines()[0][:200]})",
                         path=path) from None  # fmt: skip
    except (OSError, EOFError, *ZIP_ERRORS) as exc:
        raise InputError(f"damaged NumPy file ({str(exc).splitlines()[0][:200]})",
                         path=path) from None  # fmt: skip


def _named(arrays: Sequence | Mapping, path: object) -> dict[str, np.ndarray]:
    """Every array as float64 under its name (a list's are W1, b1, W2, ... as they stand)."""
    if isinstance(arrays, Mapping):
        items = [(str(key), value) for key, value in arrays.items()]
    elif isinstance(arrays, Sequence) and not isinstance(arrays, (str, bytes)):
        items = _list_names(arrays)
    else:
        raise InputError(f"expected a list or dict of weight arrays, got {type(arrays).__name__}",
                         path=path)  # fmt: skip
    if not items:
        raise InputError("no weight arrays given", path=path)
    named = {}
    for key, value in items:
        array = np.asarray(_plain(value))
        if array.dtype.kind not in "biuf":
            raise InputError(f"array {key!r} holds {array.dtype} values, not numbers", path=path)
        named[key] = array.astype(np.float64)
    return named


def _plain(value: object) -> object:
    """A torch tensor or other array-like as NumPy understands it (no framework imported)."""
    for method in ("detach", "cpu", "numpy"):
        if hasattr(value, method) and not isinstance(value, np.ndarray):
            value = getattr(value, method)()
    return value


def _list_names(arrays: Sequence) -> list[tuple[str, object]]:
    items, layer = [], 0
    for value in arrays:
        rank = np.ndim(_plain(value))
        layer += rank == 2
        items.append((f"{'W' if rank != 1 else 'b'}{max(layer, 1)}", value))
    return items


def _layers(named: Mapping[str, np.ndarray], path: object) -> list[tuple[str, str | None]]:
    """(matrix key, bias key or None) per layer, in order."""
    layers: list[tuple[str, str | None]] = []
    for key, array in named.items():
        if array.ndim == 2:
            layers.append((key, None))
        elif array.ndim == 1 and layers and layers[-1][1] is None:
            layers[-1] = (layers[-1][0], key)
        elif array.ndim == 1:
            raise InputError(f"array {key!r} ({array.shape[0]} values) is a bias with no weight "
                             f"matrix before it ({shapes(named)})", path=path)  # fmt: skip
        else:
            raise UnsupportedModelError(f"array {key!r} is {' x '.join(map(str, array.shape))}: "
                                        "a NumPy network's layers are 2-D weight matrices and "
                                        f"1-D biases ({shapes(named)})", path=path)  # fmt: skip
    return layers


def _torch_named(named: Mapping[str, np.ndarray]) -> bool:
    """Named like a state_dict: every key ends .weight / .bias (a mix is refused by name)."""
    torch = [key for key in named if key.endswith(TORCH_SUFFIXES)]
    other = [key for key in named if not key.endswith(TORCH_SUFFIXES)]
    if torch and other:
        raise UnsupportedModelError(f"array {other[0]!r} beside state_dict weights such as "
                                    f"{torch[0]!r}: gate2xlsx reads the .weight / .bias pairs "
                                    "of Linear layers from a state_dict, nothing else "
                                    f"({shapes(named)})")  # fmt: skip
    return bool(torch)


def _activations(given: str | Sequence[str], count: int, path: object) -> list[Act]:
    names = [n.strip() for n in given.split(",")] if isinstance(given, str) else list(given)
    if len(names) != count:
        raise InputError(f"{len(names)} activation(s) given ({', '.join(map(str, names))}) for "
                         f"{count} layer(s); name one per layer", path=path)  # fmt: skip
    unknown = [n for n in names if n not in activation_table.known()]
    if unknown:
        raise UnsupportedModelError(f"activation {unknown[0]!r} is not one gate2xlsx computes. "
                                    f"Supported: {', '.join(activation_table.known())}",
                                    path=path)  # fmt: skip
    return [Act(activation_table.ALIASES.get(n, n)) for n in names]


def _dense(index: int, weight: str, bias: str | None, act: Act, torch: bool,
           named: Mapping[str, np.ndarray]) -> Dense:  # fmt: skip
    """One layer, named dense_1, dense_2, ... (W1's layer is dense_1)."""
    kernel = named[weight].T if torch else named[weight]
    where = f"{weight} (out, in), transposed" if torch else weight
    return Dense(
        f"dense_{index}",
        "Dense",
        kernel=Param(kernel, where, "float64"),
        bias=None if bias is None else Param(named[bias], bias, "float64"),
        activation=act,
    )


def _check_chain(layers: list[Dense], keys: list, named: Mapping, path: object) -> None:
    """Each matrix takes what the one before gives; each bias matches its matrix."""
    orientation = "(out, in)" if _torch_named(named) else "(in, out)"
    for layer, (weight, bias) in zip(layers, keys):
        outputs = layer.kernel.values.shape[1]
        if layer.bias is not None and layer.bias.values.shape[0] != outputs:
            raise InputError(f"bias {bias!r} has {layer.bias.values.shape[0]} values but "
                             f"{weight!r} gives {outputs} outputs, read as {orientation} "
                             f"({shapes(named)})", path=path)  # fmt: skip
    for before, after, (w0, _), (w1, _) in zip(layers, layers[1:], keys, keys[1:]):
        gives, takes = before.kernel.values.shape[1], after.kernel.values.shape[0]
        if gives != takes:
            raise InputError(f"the arrays do not chain: {w0!r} gives {gives} outputs but {w1!r} "
                             f"takes {takes} inputs, read as {orientation} ({shapes(named)})",
                             path=path)  # fmt: skip
