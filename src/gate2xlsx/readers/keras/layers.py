"""Layer specs from a Keras config, plus the raw weights stored for them -> the IR layers on
vectors (the dense and normalization families; map_layers.py makes the rest and calls here).

Each layer's weights are matched to the names its class expects (Keras 1's `W`/`b` too), checked
for shape and finiteness, and its activation looked up in the activation table. Nothing named in
a config is ever imported or run (the class allow-list is config.check_classes).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ...errors import InputError, UnsupportedModelError
from ...ir import activations
from ...ir.families.dense import Activation, Dense, Identity, PReLU
from ...ir.families.normalization import BatchNorm, Normalization, Rescaling
from ...ir.layer import Act, Layer, Param
from .config import (
    CONV_CLASSES,
    IDENTITY_CLASSES,
    SEPARABLE_CLASSES,
    SYNONYMS,
    LayerSpec,
    RawWeight,
)


def first_width(spec: LayerSpec, raw: list[RawWeight], path: Path) -> int:
    """The input size a first layer's kernel tells, for a config that gives no input shape."""
    for weight in raw:
        if weight.values.ndim == 2:
            return int(weight.values.shape[0])
    raise InputError(
        f"cannot tell the input size: layer {spec.name!r} has no kernel and the "
        "configuration gives no input shape",
        path=path,
    )


def build_layer(
    spec: LayerSpec, raw: list[RawWeight], width: int, keras_version: str, path: Path
) -> Layer:
    """One vector layer (Dense, activations, BatchNorm, ...) on `width` features: the
    last axis of the tensor it reads."""
    cfg, name, cls = spec.config, spec.name, spec.class_name
    if cls in IDENTITY_CLASSES:
        return Identity(name, cls)
    weights = _match(spec, raw, expected_weights(cls, cfg), path)
    _check_finite(spec, weights, path)
    if cls == "Dense":
        return _dense(spec, weights, width, keras_version, path)
    _check_vectors(spec, weights, width, path)
    if cls == "Activation":
        return Activation(name, cls, activation_of(cfg.get("activation"), spec, keras_version,
                                                    path))  # fmt: skip
    if cls == "BatchNormalization":
        return _batch_norm(spec, weights, keras_version, path)
    if cls == "PReLU":
        return PReLU(name, cls, alpha=weights["alpha"])
    if cls == "Normalization":
        return _normalization(spec, weights, width, path)
    if cls == "Rescaling":
        return Rescaling(name, cls, scale=_scalar(cfg.get("scale", 1.0), spec, path),
                         offset=_scalar(cfg.get("offset", 0.0), spec, path))  # fmt: skip
    return Activation(name, cls, _activation_layer(spec, path))


def expected_weights(cls: str, cfg: dict) -> list[str]:
    if cls in SEPARABLE_CLASSES:
        keys = ["depthwise_kernel", "pointwise_kernel"]
        return [*keys, "bias"] if cfg.get("use_bias", True) else keys
    if cls in CONV_CLASSES:
        kernel = "depthwise_kernel" if cls.startswith("Depthwise") else "kernel"
        return [kernel, "bias"] if cfg.get("use_bias", cfg.get("bias", True)) else [kernel]
    if cls == "Dense":
        return ["kernel", "bias"] if cfg.get("use_bias", cfg.get("bias", True)) else ["kernel"]
    if cls in ("SimpleRNN", "GRU", "LSTM"):
        keys = ["kernel", "recurrent_kernel"]
        return [*keys, "bias"] if cfg.get("use_bias", True) else keys
    if cls == "Embedding":
        return ["embeddings"]
    if cls == "BatchNormalization":
        keys = ["gamma"] if cfg.get("scale", True) else []
        keys += ["beta"] if cfg.get("center", True) else []
        return keys + ["moving_mean", "moving_variance"]
    if cls == "PReLU":
        return ["alpha"]
    if cls == "Normalization":
        return [] if cfg.get("mean") is not None else ["mean", "variance", "count"]
    return []


def weights_for(spec: LayerSpec, raw: list[RawWeight], path: Path) -> dict[str, Param]:
    """The layer's weights by role, checked for count and finiteness."""
    weights = _match(spec, raw, expected_weights(spec.class_name, spec.config), path)
    _check_finite(spec, weights, path)
    return weights


def _key(weight: RawWeight, layer_name: str) -> str:
    base = weight.name.replace("\\", "/").split("/")[-1].split(":")[0]
    if base.startswith(layer_name + "_"):
        base = base[len(layer_name) + 1 :]
    return SYNONYMS.get(base, base)


def _match(
    spec: LayerSpec, raw: list[RawWeight], expected: list[str], path: Path
) -> dict[str, Param]:
    """Weights by role: by their stored names when they say it, else in Keras's storage order."""
    if len(raw) != len(expected):
        found = ", ".join(w.name for w in raw) or "none"
        raise InputError(
            f"layer {spec.name!r} ({spec.class_name}) should have weights "
            f"{expected or 'none'} but the file has {found}",
            path=path,
        )
    keys = [_key(w, spec.name) for w in raw]
    if sorted(keys) != sorted(expected):
        keys = expected  # unnamed (vars/0, param_0): Keras's documented order
    return {k: Param(w.values, w.path, w.dtype) for k, w in zip(keys, raw)}


def _check_finite(spec: LayerSpec, weights: dict[str, Param], path: Path) -> None:
    for key, param in weights.items():
        if not np.all(np.isfinite(param.values)):
            raise InputError(
                f"layer {spec.name!r} weight {key!r} ({param.path}) holds NaN or infinite values",
                path=path,
            )


def _check_vectors(spec: LayerSpec, weights: dict[str, Param], width: int, path: Path) -> None:
    for key, param in weights.items():
        if key == "count":
            continue
        if param.values.size != width:
            raise InputError(
                f"layer {spec.name!r} weight {key!r} has shape {param.values.shape} but "
                f"the layer's input has {width} values",
                path=path,
            )


def _dense(
    spec: LayerSpec, weights: dict[str, Param], width: int, keras_version: str, path: Path
) -> Dense:
    kernel = weights["kernel"]
    units = spec.config.get("units", spec.config.get("output_dim"))
    if (
        kernel.values.ndim != 2
        or kernel.values.shape[0] != width
        or (units is not None and kernel.values.shape[1] != int(units))
    ):
        raise InputError(
            f"layer {spec.name!r} (Dense): kernel shape {kernel.values.shape} does not "
            f"fit {width} inputs and {units} units",
            path=path,
        )
    bias = weights.get("bias")
    if bias is not None and bias.values.shape != (kernel.values.shape[1],):
        raise InputError(
            f"layer {spec.name!r} (Dense): bias shape {bias.values.shape} does not fit "
            f"{kernel.values.shape[1]} units",
            path=path,
        )
    act = activation_of(spec.config.get("activation", "linear"), spec, keras_version, path)
    return Dense(spec.name, "Dense", kernel=kernel, bias=bias, activation=act)


def _batch_norm(
    spec: LayerSpec, weights: dict[str, Param], keras_version: str, path: Path
) -> BatchNorm:
    cfg = spec.config
    if cfg.get("mode", 0) != 0:
        raise UnsupportedModelError(
            f"layer {spec.name!r} (BatchNormalization) mode {cfg['mode']} "
            "uses batch statistics; only mode 0 is computable",
            path=path,
        )
    axis = cfg.get("axis", -1)
    axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
    if axis not in (-1, 1):
        raise UnsupportedModelError(
            f"layer {spec.name!r} (BatchNormalization) normalises axis {axis}", path=path
        )
    variance = weights["moving_variance"]
    epsilon = float(cfg.get("epsilon", 1e-3))
    if keras_version.startswith("1.0.") and _patch(keras_version) < 6:
        # Keras 1.0.0-1.0.5 kept a standard deviation and computed (x - mean) / (std + eps);
        # the variance v with sqrt(v + eps) = std + eps gives exactly that.
        std = variance.values
        variance = Param((std + epsilon) ** 2 - epsilon, variance.path, variance.dtype)
    return BatchNorm(
        spec.name,
        "BatchNormalization",
        gamma=weights.get("gamma"),
        beta=weights.get("beta"),
        moving_mean=weights["moving_mean"],
        moving_variance=variance,
        epsilon=epsilon,
    )


def _patch(version: str) -> int:
    try:
        return int(version.split(".")[2].split("-")[0])
    except (IndexError, ValueError):
        return 99


def _normalization(
    spec: LayerSpec, weights: dict[str, Param], width: int, path: Path
) -> Normalization:
    cfg = spec.config
    if cfg.get("mean") is not None:  # mean and variance given in the config, not adapted
        mean = np.broadcast_to(np.asarray(cfg["mean"], dtype=np.float64).reshape(-1), (width,))
        var = np.broadcast_to(np.asarray(cfg["variance"], dtype=np.float64).reshape(-1), (width,))
        weights = {
            "mean": Param(mean.copy(), "config: mean"),
            "variance": Param(var.copy(), "config: variance"),
        }
    return Normalization(
        spec.name,
        "Normalization",
        mean=weights["mean"],
        variance=weights["variance"],
        count=weights.get("count"),
        invert=bool(cfg.get("invert", False)),
    )


def _scalar(value: object, spec: LayerSpec, path: Path) -> float:
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    raise UnsupportedModelError(
        f"layer {spec.name!r} ({spec.class_name}): only a single number is "
        f"supported here, not {value!r}",
        path=path,
    )


def _activation_layer(spec: LayerSpec, path: Path) -> Act:
    cfg, cls = spec.config, spec.class_name
    if cls == "LeakyReLU":
        return Act.of("leaky_relu", alpha=float(cfg.get("negative_slope", cfg.get("alpha", 0.3))))
    if cls == "ReLU":
        max_value = cfg.get("max_value")
        return Act.of(
            "relu",
            negative_slope=float(cfg.get("negative_slope") or 0.0),
            max_value=None if max_value is None else float(max_value),
            threshold=float(cfg.get("threshold") or 0.0),
        )
    if cls == "ELU":
        return Act.of("elu", alpha=float(cfg.get("alpha", 1.0)))
    if cls == "ThresholdedReLU":
        return Act.of("thresholded_relu", theta=float(cfg.get("theta", 1.0)))
    if cls == "Softmax":
        axis = cfg.get("axis", -1)
        if axis not in (-1, 1, [-1], [1]):
            raise UnsupportedModelError(
                f"layer {spec.name!r} (Softmax) over axis {axis}", path=path
            )
        return Act("softmax")
    raise UnsupportedModelError(f"layer {spec.name!r} ({cls}) is not supported", path=path)


def activation_of(value: object, spec: LayerSpec, keras_version: str, path: Path) -> Act:
    """An allow-listed activation from a config value; anything else is refused by name."""
    if value is None:
        return Act("linear")
    params: dict = {}
    if isinstance(
        value, dict
    ):  # Keras 3 may serialise {"class_name": "function", "config": "relu"}
        inner = value.get("config")
        name = (
            inner
            if isinstance(inner, str)
            else (inner or {}).get("name")
            if isinstance(inner, dict)
            else None
        )
        if value.get("class_name") not in ("function", None) and not isinstance(inner, str):
            name = None
    else:
        name = value
    if not isinstance(name, str) or name not in activations.known():
        shown = value if isinstance(value, str) else json.dumps(value)[:80]
        raise UnsupportedModelError(
            f"layer {spec.name!r} ({spec.class_name}) uses activation "
            f"{shown!r}, which is not one gate2xlsx computes. Supported: "
            f"{', '.join(activations.known())}",
            path=path,
        )
    if name == "hard_sigmoid" and keras_version.startswith("3"):
        params["slope"] = 1 / 6
    name = activations.ALIASES.get(name, name)
    return Act.of(name, **params)
