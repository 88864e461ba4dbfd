"""What every Keras config reader shares: the layer classes gate2xlsx computes (an
allow-list: nothing named in a config is ever imported or run), a layer spec and its raw
weights, the JSON around the architecture, a layer entry's input shape and the tensors it
reads, and what `compile` was given. readers/graph_config.py walks the architecture itself
(Sequential, Functional, models nested in models); readers/layers.py and map_layers.py turn
the specs and their weights into IR layers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import InputError, UnsafeModelError, UnsupportedModelError

MODEL_CLASSES = {"Sequential", "Model", "Functional"}
IDENTITY_CLASSES = {
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
    "ActivityRegularization",
    # image augmentation: active in training only, the input unchanged at inference
    "RandomFlip",
    "RandomRotation",
    "RandomZoom",
    "RandomTranslation",
    "RandomContrast",
    "RandomBrightness",
}
SHAPE_CLASSES = {"Flatten", "Reshape", "InputLayer"}
CODE_CLASSES = {
    "Lambda",
    "TFOpLambda",
    "SlicingOpLambda",
    "TFSMLayer",
    "TorchModuleWrapper",
    "JaxLayer",
    "FlaxLayer",
}
COMPUTED_CLASSES = {
    "Dense",
    "Activation",
    "BatchNormalization",
    "LeakyReLU",
    "ReLU",
    "Softmax",
    "ELU",
    "PReLU",
    "ThresholdedReLU",
    "Normalization",
    "Rescaling",
}
# Layers on tensors and merges: a graph (readers/graph_config.py, readers/map_layers.py).
CONV_CLASSES = {
    "Conv1D", "Conv2D", "DepthwiseConv1D", "DepthwiseConv2D",
    "Convolution1D", "Convolution2D", "AtrousConvolution1D", "AtrousConvolution2D",
}  # fmt: skip
POOL_CLASSES = {
    f"{op}{kind}{d}D"
    for op in ("Max", "Average", "Avg")
    for kind in ("Pooling", "Pool")
    for d in (1, 2)
}
GLOBAL_CLASSES = {f"Global{op}Pooling{d}D" for op in ("Max", "Average") for d in (1, 2)} | {
    f"Global{op}Pool{d}D" for op in ("Max", "Avg") for d in (1, 2)
}
REARRANGE_CLASSES = {
    "Permute", "ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D",
    "UpSampling1D", "UpSampling2D",
}  # fmt: skip
MERGE_CLASSES = {
    "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Merge",
}  # fmt: skip
SEPARABLE_CLASSES = {"SeparableConv1D", "SeparableConv2D"}
# Sequences (readers/sequence_layers.py): token lookup and recurrent layers.
SEQUENCE_CLASSES = {"Embedding", "SimpleRNN", "GRU", "LSTM", "Bidirectional", "TimeDistributed"}
TENSOR_CLASSES = (
    CONV_CLASSES
    | SEPARABLE_CLASSES
    | POOL_CLASSES
    | GLOBAL_CLASSES
    | REARRANGE_CLASSES
    | SEQUENCE_CLASSES
)
SUPPORTED_LAYERS = sorted(
    COMPUTED_CLASSES | IDENTITY_CLASSES | SHAPE_CLASSES | TENSOR_CLASSES | MERGE_CLASSES
)
SUPPORTED = sorted(set(SUPPORTED_LAYERS) | MODEL_CLASSES)
SYNONYMS = {
    "W": "kernel",
    "b": "bias",
    "running_mean": "moving_mean",
    "running_std": "moving_variance",
}


@dataclass
class LayerSpec:
    """One layer of a config; `owner` is the top-level layer holding its weights (a nested
    model's)."""

    class_name: str
    name: str
    config: dict
    owner: str


@dataclass
class RawWeight:
    """One weight array as the file stores it, before it is matched to its layer."""

    name: str  # as stored (e.g. "dense_1/kernel:0", "dense_1_W", "vars/0")
    path: str  # dataset path in the file
    values: np.ndarray
    dtype: str


WeightLookup = Callable[[LayerSpec], list[RawWeight]]


TOO_DEEP = ("the model configuration is nested deeper than gate2xlsx follows (about 1,000 "
            "levels); no Keras model is built like that")  # fmt: skip


def parse_json(text: str | bytes, *, path: Path) -> dict | list:
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"the model configuration is not valid JSON ({exc})", path=path) from None
    except RecursionError:
        raise InputError(TOO_DEEP, path=path) from None


def unwrap(config: dict | list) -> dict | list:
    """Accept a `to_json()` text, a Keras 3 config.json, a TF.js model.json
    (`{"modelTopology": {"model_config": ...}}`), or a bare layer list."""
    if isinstance(config, dict) and "modelTopology" in config and "class_name" not in config:
        config = config["modelTopology"]
    if isinstance(config, dict) and "model_config" in config and "class_name" not in config:
        return config["model_config"]
    return config


def is_model_config(config: object) -> bool:
    """Whether unwrap(config) is something graph_config can walk: a model or a layer list."""
    inner = unwrap(config) if isinstance(config, (dict, list)) else None
    return isinstance(inner, list) or (isinstance(inner, dict) and "class_name" in inner)


def model_name(config: dict | list, path: Path) -> str:
    """The model's own name from its config, else the file's stem."""
    inner = config.get("config") if isinstance(config, dict) else None
    name = inner.get("name") if isinstance(inner, dict) else None
    return str(name or path.stem)


# --- layer entries -----------------------------------------------------------------------


def layer_name(entry: dict) -> str:
    return str(
        entry.get("name") or (entry.get("config") or {}).get("name") or entry.get("class_name")
    )


def input_shape_of(entry: dict) -> list[int] | None:
    cfg = entry.get("config") or {}
    if not isinstance(cfg, dict):
        return None
    for key in ("batch_input_shape", "batch_shape"):
        if cfg.get(key):
            return list(cfg[key])[1:]
    if cfg.get("input_dim"):
        return [int(cfg["input_dim"])]
    if cfg.get("input_shape"):
        return list(cfg["input_shape"])
    return None


def history(node: object) -> list[str]:
    """Names of the layers feeding one inbound node (Keras 1/2 lists or Keras 3 dicts)."""
    if isinstance(node, dict):
        if node.get("class_name") == "__keras_tensor__":
            return [_tensor(*node["config"]["keras_history"][:3])]
        found: list[str] = []
        kwargs = {k: v for k, v in (node.get("kwargs") or {}).items() if k != "mask"}
        for value in list(node.get("args", [])) + list(kwargs.values()):
            found.extend(history(value))  # a mask is Embedding mask_zero's (sequence_layers)
        return found
    if isinstance(node, list):
        if len(node) >= 3 and isinstance(node[0], str) and isinstance(node[1], int):
            extra = node[3] if len(node) > 3 and isinstance(node[3], dict) else {}
            return [_tensor(*node[:3]), *history(list(extra.values()))]  # initial_state=
        return [name for item in node for name in history(item)]
    return []


def _tensor(layer: object, node: object, index: object) -> str:
    """A tensor's name in the graph: the layer's, `<layer>:k` for its k-th output (graph.py)."""
    return str(layer) if not index else f"{layer}:{index}"


def check_classes(specs: list[LayerSpec], *, path: Path) -> None:
    """Refuse every layer gate2xlsx cannot compute in one short message, grouped by class; the
    supported classes go on the Hint line."""
    code = [spec for spec in specs if spec.class_name in CODE_CLASSES]
    known = set(SUPPORTED_LAYERS) | CODE_CLASSES
    unknown = [spec for spec in specs if spec.class_name not in known]
    problems = []
    if code:
        problems.append(_grouped(code, "carries code, which gate2xlsx never runs",
                                 "carry code, which gate2xlsx never runs"))  # fmt: skip
    if unknown:
        problems.append(_grouped(unknown, "is not a layer gate2xlsx can compute",
                                 "are not layers gate2xlsx can compute"))  # fmt: skip
    if problems:
        error = UnsafeModelError if code else UnsupportedModelError
        raise error("; ".join(problems), path=path,
                    hint=f"Supported layers: {', '.join(SUPPORTED_LAYERS)}")  # fmt: skip


def _grouped(specs: list[LayerSpec], one: str, several: str, shown: int = 2) -> str:
    """`layer 'x' (Conv2D) <one>`, or `5 layers <several>: Conv2D (a, b and 2 more), ...`."""
    if len(specs) == 1:
        return f"layer {specs[0].name!r} ({specs[0].class_name}) {one}"
    by_class: dict[str, list[str]] = {}
    for spec in specs:
        by_class.setdefault(spec.class_name, []).append(spec.name)
    parts = []
    for cls, names in by_class.items():
        more = f" and {len(names) - shown} more" if len(names) > shown else ""
        parts.append(f"{cls} ({', '.join(names[:shown])}{more})")
    return f"{len(specs)} layers {several}: {', '.join(parts)}"


# --- what compile was given (training_config / compile_config) ----------------------------


OPTIMIZER_KEYS = ("learning_rate", "momentum", "nesterov", "beta_1", "beta_2", "epsilon", "rho")


def optimizer_settings(training: object) -> dict[str, object] | None:
    """The optimizer `compile` was given (name and the settings gate2xlsx trains with), from
    a training config: Keras 2's `optimizer_config`, Keras 3's `optimizer`; None if absent."""
    if not isinstance(training, dict):
        return None
    found = training.get("optimizer_config") or training.get("optimizer")
    if not isinstance(found, dict) or not isinstance(found.get("config"), dict):
        return None
    name = str(found.get("class_name", "")).split(">")[-1].lower()  # "Custom>SGD": tf.keras 2.15
    config = found["config"]
    settings: dict[str, object] = {"name": name}
    for key in OPTIMIZER_KEYS:
        value = config.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            settings[key] = float(value)
        elif isinstance(value, bool):
            settings[key] = value
    return settings


def training_loss(training: object) -> str | None:
    """The loss `compile` was given, from a training config (Keras 2) or compile config (3)."""
    if not isinstance(training, dict):
        return None
    loss = training.get("loss")
    if isinstance(loss, dict):  # Keras 3: {"module":..., "class_name": "BinaryCrossentropy", ...}
        loss = (
            loss.get("config", {}).get("name")
            if isinstance(loss.get("config"), dict)
            else loss.get("class_name")
        )
    return loss if isinstance(loss, str) else None
