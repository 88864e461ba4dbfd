"""What a user holds in a notebook, turned into a Model without saving it by hand: a tf.keras
2.x or Keras 3 model, a torch `nn.Module` (with an `example` input), a fitted scikit-learn
MLP or Pipeline, NumPy weight arrays, or a Model.

A framework is never imported here: an object's framework is named by the modules its type
comes from, and an object can only exist where its framework is already imported (found in
sys.modules). Keras and torch objects are saved by the framework's own writer into a private
temporary folder and read back by the reader that reads such files from disk, so a live
model and its saved file give the same workbook; scikit-learn's are read from their
attributes (nothing pickled).
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from ..errors import InputError, UnsupportedModelError
from ..ir.model import Model, Source
from . import arrays, skops

# the root module a type comes from -> its framework
FRAMEWORKS = {"keras": "keras", "tf_keras": "keras", "tensorflow": "keras", "torch": "torch",
              "sklearn": "sklearn"}  # fmt: skip
WHAT_IS_READ = (
    "a path, a Model, NumPy weight arrays (a list or dict), a tf.keras / Keras 3 model, a torch "
    "nn.Module (with example=) or a fitted scikit-learn MLP"
)


def from_object(
    thing: object, read_file: Callable[[Path], Model], *, activations=None, example=None
) -> Model:
    """The Model of anything but a path (see the module's docstring); `read_file` reads the
    file a live Keras model is saved to (readers.read_path, handed in: that package imports
    this module)."""
    if isinstance(thing, Model):
        return thing
    framework = framework_of(thing)
    if framework == "keras":
        return _keras(thing, read_file)
    if framework == "torch":
        return _torch(thing, example)
    if framework == "sklearn":
        return skops.from_estimator(thing)
    if _is_arrays(thing):
        if activations is None:
            named = arrays.described(thing)
            raise InputError(f"NumPy weight arrays ({named}) say nothing of the activations",
                             hint="pass activations=[...], one per layer, e.g. "
                             "activations=['tanh', 'softmax']")  # fmt: skip
        return arrays.from_arrays(thing, activations)
    raise UnsupportedModelError(f"gate2xlsx cannot read a {_type_name(thing)}; it reads "
                                f"{WHAT_IS_READ}")  # fmt: skip


def framework_of(thing: object) -> str | None:
    """ "keras", "torch" or "sklearn" for an object of theirs (by its type's modules, which
    must be imported already: a class that merely says it is torch's is no torch object)."""
    for cls in type(thing).__mro__:
        root = (cls.__module__ or "").split(".")[0]
        if root in FRAMEWORKS and root in sys.modules:
            return FRAMEWORKS[root]
    return None


def _type_name(thing: object) -> str:
    cls = type(thing)
    return f"{cls.__module__}.{cls.__qualname__}" if cls.__module__ != "builtins" else cls.__name__


def _is_arrays(thing: object) -> bool:
    values = thing.values() if isinstance(thing, Mapping) else thing
    if isinstance(thing, (str, bytes)) or not isinstance(values, (Sequence, type({}.values()))):
        return False
    return all(isinstance(v, np.ndarray) or hasattr(v, "__array__") or isinstance(v, list)
               for v in values)  # fmt: skip


def _keras(model: object, read_file: Callable[[Path], Model]) -> Model:
    """A Keras model saved by Keras itself (Keras 3: .keras; tf.keras 2.x: HDF5), read back."""
    if not hasattr(model, "save") or not hasattr(model, "layers"):
        raise UnsupportedModelError(f"a {_type_name(model)} is a Keras object but not a model; "
                                    "give the keras.Model")  # fmt: skip
    version = _keras_version(model)
    suffix = ".keras" if version.startswith("3") else ".h5"
    with tempfile.TemporaryDirectory(prefix="gate2xlsx-") as scratch:
        saved = Path(scratch) / f"model{suffix}"
        try:
            with warnings.catch_warnings():  # tf.keras calls HDF5 "legacy": we read it fine
                warnings.simplefilter("ignore")
                model.save(saved)
        except Exception as exc:  # the framework's own refusal, e.g. a subclassed model in h5
            raise UnsupportedModelError(
                f"Keras could not save this {type(model).__name__} ({_first_line(exc)})",
                hint="build it as a Sequential or functional model",
            ) from None
        found = read_file(saved)
    return _in_memory(found, f"live Keras {version} model ({found.source.format})")


def _keras_version(model: object) -> str:
    root = type(model).__module__.split(".")[0]
    module = sys.modules.get("keras" if root == "tensorflow" else root)
    return str(getattr(module, "__version__", "") or "")


def _torch(module: object, example: object) -> Model:
    """A torch nn.Module, exported by torch.onnx (TorchScript exporter, opset 17) and read back."""
    from . import onnx

    torch = sys.modules["torch"]
    if not isinstance(module, torch.nn.Module):
        raise UnsupportedModelError(f"a {_type_name(module)} is a torch object but not an "
                                    "nn.Module")  # fmt: skip
    if example is None:
        raise InputError(
            f"a torch {type(module).__name__} needs example=, an input tensor of the model's "
            "shape (batch first), to be traced",
            hint="gate2xlsx.export(net, 'net.xlsx', example=torch.zeros(1, 4))",
        )
    example = example if isinstance(example, tuple) else (example,)
    with tempfile.TemporaryDirectory(prefix="gate2xlsx-") as scratch:
        saved = Path(scratch) / f"{type(module).__name__}.onnx"
        try:
            torch.onnx.export(module, example, saved, input_names=["x"], output_names=["y"],
                              opset_version=17, dynamo=False)  # fmt: skip
        except Exception as exc:
            raise UnsupportedModelError(
                f"torch.onnx could not export this {type(module).__name__} ({_first_line(exc)})"
            ) from None
        found = onnx.read(saved)
    return _in_memory(found, f"live PyTorch model ({found.source.format})")


def _in_memory(model: Model, fmt: str) -> Model:
    """The Model read from a temporary file, said to come from memory."""
    model.source = Source("", fmt, model.source.keras_version, model.source.backend)
    return model


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
