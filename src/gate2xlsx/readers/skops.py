"""scikit-learn's MLPClassifier and MLPRegressor from a `.skops` file, without scikit-learn.

A .skops file is a zip of `schema.json` (the estimator's attributes as a tree of typed
nodes) and `.npy` arrays. We read the few attributes that define the network (coefs_,
intercepts_, activation, out_activation_, classes_) with zipfile, json and
`numpy.load(allow_pickle=False)`: nothing is imported or run, whatever the file names.

The Model computes what scikit-learn's predict_proba returns for a classifier (a binary one's
single logistic unit p becomes [1 - p, p], as skl2onnx writes it) and predict for a
regressor.
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
from pathlib import Path

import numpy as np

from ..errors import InputError, UnsupportedModelError
from ..ir.families.dense import Dense
from ..ir.families.merges import Merge
from ..ir.families.normalization import BatchNorm, Rescaling
from ..ir.graph import Graph, Node, Port
from ..ir.layer import Act, Param
from ..ir.model import Model, Source
from .zips import ZIP_ERRORS

ESTIMATORS = ("MLPClassifier", "MLPRegressor")
SCALERS = ("StandardScaler", "MinMaxScaler")  # the Pipeline steps read before one
ACTIVATIONS = {"relu": "relu", "tanh": "tanh", "logistic": "sigmoid", "identity": "linear",
               "softmax": "softmax"}  # fmt: skip
MAX_ARRAY_BYTES = 1 << 30


def is_skops(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return "schema.json" in archive.namelist()
    except ZIP_ERRORS:
        return False


def read(path: Path) -> Model:
    try:
        return _read(path)
    except ZIP_ERRORS as exc:  # a damaged member, an odd compression
        raise InputError(f"not a readable .skops archive ({exc})", path=path) from None


def _read(path: Path) -> Model:
    with zipfile.ZipFile(path) as archive:
        try:
            schema = json.loads(archive.read("schema.json"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"schema.json is not JSON ({exc})", path=path) from None
        *scalers, (estimator, fields, _) = _steps(schema, path)
        if estimator not in ESTIMATORS:
            raise UnsupportedModelError(
                f"the file holds a {estimator or 'non-estimator'}; gate2xlsx reads "
                f"{' and '.join(ESTIMATORS)} from .skops files (in a Pipeline after "
                f"{' or '.join(SCALERS)})",
                path=path,
                hint="other scikit-learn models: export to ONNX with skl2onnx, if it converts them",
            )
        attrs = _Attributes(archive, fields, path)
        coefs, intercepts = attrs.arrays("coefs_"), attrs.arrays("intercepts_")
        hidden, out = attrs.text("activation"), attrs.text("out_activation_")
        classes = attrs.array("classes_") if estimator == "MLPClassifier" else None
        width = coefs[0].shape[0] if coefs else 0
        first = [_scaler(cls, _Attributes(archive, f, path), name, width)
                 for cls, f, name in scalers]  # fmt: skip
    version = _Attributes(None, _fields(schema, path), path).optional_text("_sklearn_version")
    model = _model(coefs, intercepts, hidden, out, classes, first, path)
    model.name = path.stem
    model.source = Source(str(path), "skops (scikit-learn " + (version or "?") + ")", "", "")
    return model


def from_estimator(estimator: object) -> Model:
    """A fitted MLPClassifier / MLPRegressor (or a Pipeline of scalers before one) held in
    memory, read from its attributes as a .skops file's are: nothing pickled or imported."""
    steps = getattr(estimator, "steps", None)
    pairs = list(steps) if isinstance(steps, list) else [("", estimator)]
    *scalers, (_, last) = pairs
    cls = type(last).__name__
    if cls not in ESTIMATORS or any(type(s).__name__ not in SCALERS for _, s in scalers):
        names = " -> ".join(type(s).__name__ for _, s in pairs)
        raise UnsupportedModelError(f"a scikit-learn {names}: gate2xlsx reads "
                                    f"{' and '.join(ESTIMATORS)} (in a Pipeline after "
                                    f"{' or '.join(SCALERS)})")  # fmt: skip
    attrs = _Live(last)
    coefs, intercepts = attrs.arrays("coefs_"), attrs.arrays("intercepts_")
    width = coefs[0].shape[0] if coefs else 0
    first = [_scaler(type(s).__name__, _Live(s), str(name), width) for name, s in scalers]
    classes = attrs.array("classes_") if cls == "MLPClassifier" else None
    model = _model(coefs, intercepts, attrs.text("activation"), attrs.text("out_activation_"),
                   classes, first, None)  # fmt: skip
    model.name = cls
    version = getattr(sys.modules.get("sklearn"), "__version__", "?")
    model.source = Source("", f"scikit-learn {version} {cls} (read from its attributes)")
    return model


class _Live:
    """The reads of _Attributes, on a fitted estimator's own attributes."""

    def __init__(self, estimator: object):
        self.estimator, self.path = estimator, None

    def _get(self, key: str) -> object:
        if not hasattr(self.estimator, key):
            raise InputError(f"the {type(self.estimator).__name__} has no {key!r}: is it fitted?")
        return getattr(self.estimator, key)

    def value(self, key: str) -> object:
        return self._get(key)

    def text(self, key: str) -> str:
        return str(self._get(key))

    def array(self, key: str) -> np.ndarray:
        found = np.asarray(self._get(key))
        return found if found.dtype.kind in "biufUS" else np.asarray([str(v) for v in found])

    def arrays(self, key: str) -> list[np.ndarray]:
        return [np.asarray(a, dtype=np.float64) for a in self._get(key)]


def _steps(schema: dict, path: Path) -> list[tuple[str | None, dict, str]]:
    """(class, attributes, step name) of a Pipeline's steps, or of the one estimator."""
    if not isinstance(schema, dict):
        raise InputError("schema.json holds no estimator", path=path)
    if schema.get("__class__") != "Pipeline":
        return [(schema.get("__class__"), _fields(schema, path), "")]
    steps = _fields(schema, path).get("steps", {}).get("content")
    found = []
    for step in steps if isinstance(steps, list) else []:
        pair = step.get("content") if isinstance(step, dict) else None
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[1], dict)):
            raise InputError("a Pipeline step is not a (name, estimator) pair", path=path)
        name = json.loads(pair[0].get("content", '""')) if pair[0].get("is_json") else ""
        found.append((pair[1].get("__class__"), _fields(pair[1], path), str(name)))
    if not found:
        raise InputError("the Pipeline has no steps", path=path)
    for cls, _, name in found[:-1]:
        if cls not in SCALERS:
            raise UnsupportedModelError(
                f"Pipeline step {name!r} is a {cls}; gate2xlsx reads {' and '.join(SCALERS)} "
                "before the network",
                path=path,
            )
    return found


def _scaler(cls: str, attrs: _Attributes, name: str, width: int) -> BatchNorm:
    """StandardScaler: (x - mean_) / scale_ (the variance scale_ squared); MinMaxScaler:
    x * scale_ + min_. Both as BatchNorm.affine, so the sheet computes them exactly."""
    if cls == "MinMaxScaler":
        if attrs.value("clip"):
            raise UnsupportedModelError(f"Pipeline step {name!r} (MinMaxScaler) clips",
                                        path=attrs.path)  # fmt: skip
        return BatchNorm.affine(name, cls, width, gamma=Param(attrs.array("scale_"), "scale_"),
                                beta=Param(attrs.array("min_"), "min_"))  # fmt: skip
    given = {}
    if attrs.value("with_mean"):
        given["moving_mean"] = Param(attrs.array("mean_"), "mean_")
    if attrs.value("with_std"):
        scale = attrs.array("scale_")
        given["moving_variance"] = Param(scale.astype(np.float64) ** 2, "scale_ squared")
    return BatchNorm.affine(name, cls, width, **given)


def _fields(schema: dict, path: Path) -> dict:
    content = schema.get("content")
    inner = content.get("content") if isinstance(content, dict) else None
    if not isinstance(inner, dict):
        raise InputError("schema.json holds no estimator attributes", path=path)
    return inner


class _Attributes:
    """Typed reads of the estimator's attributes: JSON scalars, .npy arrays, lists of them."""

    def __init__(self, archive: zipfile.ZipFile, fields: dict, path: Path):
        self.archive, self.fields, self.path = archive, fields, path

    def _node(self, key: str) -> dict:
        node = self.fields.get(key)
        if not isinstance(node, dict):
            raise InputError(f"the estimator has no {key!r}: is it fitted?", path=self.path)
        return node

    def optional_text(self, key: str) -> str | None:
        return self.text(key) if key in self.fields else None

    def value(self, key: str) -> object:
        """A JSON scalar (a bool, number, string or None)."""
        node = self._node(key)
        if node.get("__loader__") != "JsonNode" or not node.get("is_json"):
            raise InputError(f"{key!r} is not stored as JSON text", path=self.path)
        return json.loads(node.get("content", "null"))

    def text(self, key: str) -> str:
        value = self.value(key)
        if not isinstance(value, str):
            raise InputError(f"{key!r} is not a string", path=self.path)
        return value

    def arrays(self, key: str) -> list[np.ndarray]:
        node = self._node(key)
        if node.get("__loader__") != "ListNode" or not isinstance(node.get("content"), list):
            raise InputError(f"{key!r} is not a list of arrays", path=self.path)
        return [self._npy(item, key) for item in node["content"]]

    def array(self, key: str) -> np.ndarray:
        return self._npy(self._node(key), key)

    def _npy(self, node: dict, key: str) -> np.ndarray:
        if node.get("__loader__") != "NdArrayNode" or node.get("type") != "numpy":
            raise UnsupportedModelError(
                f"{key!r} is stored as {node.get('__loader__')} ({node.get('type')}); gate2xlsx "
                "reads plain NumPy arrays only (never pickled objects)",
                path=self.path,
            )
        name = str(node.get("file", ""))
        try:
            info = self.archive.getinfo(name)
        except KeyError:
            raise InputError(f"{key!r}: the archive has no {name!r}", path=self.path) from None
        if info.file_size > MAX_ARRAY_BYTES:
            raise InputError(f"{key!r}: {name} is {info.file_size:,} bytes", path=self.path)
        try:
            return np.load(io.BytesIO(self.archive.read(name)), allow_pickle=False)
        except ValueError as exc:  # an object array needs pickle; or a damaged member
            raise UnsupportedModelError(f"{key!r} is not a plain NumPy array ({exc})",
                                        path=self.path) from None  # fmt: skip


def _model(coefs, intercepts, hidden, out, classes, first: list, path: Path) -> Model:
    if len(coefs) != len(intercepts) or not coefs:
        raise InputError("coefs_ and intercepts_ do not pair up", path=path)
    for name in (hidden, out):
        if name not in ACTIVATIONS:
            raise UnsupportedModelError(
                f"activation {name!r}; gate2xlsx computes {', '.join(ACTIVATIONS)}", path=path
            )
    layers = []
    for k, (w, b) in enumerate(zip(coefs, intercepts)):
        if w.ndim != 2 or b.shape != (w.shape[1],):
            raise InputError(f"coefs_[{k}] {w.shape} and intercepts_[{k}] {b.shape} do not fit",
                             path=path)  # fmt: skip
        if k and w.shape[0] != coefs[k - 1].shape[1]:
            raise InputError(f"coefs_[{k}] does not follow coefs_[{k - 1}]", path=path)
        act = ACTIVATIONS[hidden if k < len(coefs) - 1 else out]
        kernel, bias = Param(w, f"coefs_[{k}]"), Param(b, f"intercepts_[{k}]")
        layers.append(Dense(f"layer_{k + 1}", "MLP layer", kernel=kernel, bias=bias,
                            activation=Act.of(act)))  # fmt: skip
    n_inputs = coefs[0].shape[0]
    names = None if classes is None else [str(c) for c in classes.reshape(-1)]
    if classes is not None and len(names) == 2 and coefs[-1].shape[1] == 1:
        return _binary(first + layers, n_inputs, names)
    return Model.chain(n_inputs, first + layers, class_names=names)


def _binary(layers: list, n_inputs: int, names: list[str]) -> Model:
    """predict_proba of a binary classifier: [1 - p, p] from the one logistic unit p."""
    nodes = [Node(layers[0], ("input",))]
    nodes += [Node(layer, (prev.name,)) for prev, layer in zip(layers, layers[1:])]
    p = layers[-1].name
    q = Rescaling("negative_class", "1 - p", scale=-1.0, offset=1.0)
    both = Merge("probabilities", "Concat", op="concatenate")
    nodes += [Node(q, (p,)), Node(both, ("negative_class", p))]
    graph = Graph([Port("input", (n_inputs,))], nodes, ["probabilities"])
    return Model(graph, class_names=names)
