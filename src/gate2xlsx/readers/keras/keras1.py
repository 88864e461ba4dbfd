"""Keras 1 configs of the layers on tensors, in Keras 2's words: `Convolution2D(nb_filter,
nb_row, nb_col, border_mode, subsample, dim_ordering)` is `Conv2D(filters, kernel_size,
padding, strides, data_format)`, `Merge(mode=...)` is Add / Multiply / ... / Concatenate.
Keras 2 and 3 configs pass through unchanged.
"""

from __future__ import annotations

from ...errors import UnsupportedModelError
from .config import LayerSpec

RENAMED = {
    "Convolution1D": "Conv1D",
    "Convolution2D": "Conv2D",
    "AtrousConvolution1D": "Conv1D",
    "AtrousConvolution2D": "Conv2D",
}
MERGE_MODES = {"sum": "Add", "mul": "Multiply", "ave": "Average", "max": "Maximum",
               "concat": "Concatenate"}  # fmt: skip
ORDERING = {"tf": "channels_last", "th": "channels_first"}


def modern(spec: LayerSpec, path) -> LayerSpec:
    """The spec with Keras 2 class and setting names (a copy; Keras 2/3 specs as they are)."""
    cfg, cls = dict(spec.config), RENAMED.get(spec.class_name, spec.class_name)
    if spec.class_name == "Merge":
        mode = cfg.get("mode", "sum")
        if mode not in MERGE_MODES:
            raise UnsupportedModelError(
                f"layer {spec.name!r} (Merge) mode {mode!r}; supported: {', '.join(MERGE_MODES)}",
                path=path,
            )
        cls = MERGE_MODES[mode]
        cfg.setdefault("axis", cfg.get("concat_axis", -1))
    _move(cfg, "nb_filter", "filters")
    _move(cfg, "border_mode", "padding")
    _move(cfg, "subsample", "strides")
    _move(cfg, "subsample_length", "strides")
    _move(cfg, "atrous_rate", "dilation_rate")
    _move(cfg, "pool_length", "pool_size")
    _move(cfg, "stride", "strides")
    _move(cfg, "bias", "use_bias")
    _move(cfg, "length", "size")  # UpSampling1D
    if "nb_row" in cfg:
        cfg["kernel_size"] = [cfg.pop("nb_row"), cfg.pop("nb_col")]
    _move(cfg, "filter_length", "kernel_size")
    ordering = cfg.pop("dim_ordering", None)
    if ordering in ORDERING:
        cfg["data_format"] = ORDERING[ordering]
    padding = cfg.get("padding")
    if cls.startswith("ZeroPadding2D") and isinstance(padding, (list, tuple)) and len(padding) == 4:
        cfg["padding"] = [[padding[0], padding[1]], [padding[2], padding[3]]]
    return LayerSpec(cls, spec.name, cfg, spec.owner)


def _move(cfg: dict, old: str, new: str) -> None:
    if old in cfg and new not in cfg:
        cfg[new] = cfg.pop(old)
