"""A GraphSpec and its stored weights -> the Graph of IR layers every Keras reader builds
(ir/families: layers on tensors, merges, vector layers on the last axis). Every setting a layer's
config can hold that gate2xlsx does not compute is refused by name, never silently ignored.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import InputError, UnsupportedModelError
from ...ir.families.convolution import Conv, SeparableConv
from ...ir.families.merges import Merge
from ...ir.families.pooling import GlobalPool, Pool, Rearrange
from ...ir.families.recurrent import CLASS_CELLS
from ...ir.graph import Graph, Node, Port, made_shapes
from ...ir.layer import Layer, Param
from . import graph_config as G
from .config import LayerSpec, RawWeight, WeightLookup, check_classes
from .keras1 import modern
from .layers import activation_of, build_layer, first_width, weights_for
from .sequence_layers import SEQUENCE_CLASSES, masked_reads, sequence_layer


def build_graph(
    spec: G.GraphSpec, lookup: WeightLookup, *, keras_version: str, path: Path
) -> Graph:
    """The graph, each layer checked against the shapes it reads and its weights."""
    check_classes(spec.specs, path=path)
    inputs = _inputs(spec, lookup, path)
    shapes = {name: tuple(shape) for name, shape in inputs}
    nodes, masks = [], {}
    for layer_spec, reads in spec.nodes:
        unknown = [t for t in reads if t not in shapes]
        if unknown or not reads:
            raise InputError(f"layer {layer_spec.name!r} reads no known tensor", path=path)
        given = [shapes[t] for t in reads]
        layer = _layer(layer_spec, lookup(layer_spec), given, keras_version, path)
        reads = masked_reads(layer, list(reads), masks, path)
        given = [shapes[t] for t in reads]
        try:
            made = made_shapes(layer, given)
        except ValueError as exc:
            raise InputError(
                f"layer {layer.name!r} ({layer_spec.class_name}) does not fit the shapes it "
                f"reads {given}: {exc}",
                path=path,
            ) from None
        shapes.update(made)
        if any(len(s) > 3 or min(s, default=1) <= 0 for s in made.values()):
            raise UnsupportedModelError(
                f"layer {layer.name!r} ({layer_spec.class_name}) makes shape "
                f"{shapes[layer.name]}; gate2xlsx computes vectors, sequences and maps",
                path=path,
            )
        nodes.append(Node(layer, tuple(reads)))
    missing = [o for o in spec.outputs if o not in shapes]
    if missing or not spec.outputs:
        raise InputError(f"the model's output {missing or spec.outputs} is not computed", path=path)
    ports = [Port(name, tuple(shape)) for name, shape in inputs]
    return Graph(ports, nodes, list(spec.outputs))


def _inputs(spec: G.GraphSpec, lookup: WeightLookup, path: Path) -> list:
    """The inputs and their shapes; one given without a shape (a Sequential config that names
    none) is as wide as the first layer's kernel."""
    if not spec.nodes:
        raise InputError("the model has no layers with a known input size", path=path)
    first = spec.nodes[0][0]
    return [(name, [first_width(first, lookup(first), path)] if shape is None else shape)
            for name, shape in spec.inputs]  # fmt: skip


def _layer(spec: LayerSpec, raw: list, shapes: list, keras_version: str, path: Path) -> Layer:
    spec = modern(spec, path)
    cls, cfg = spec.class_name, spec.config
    if cls not in G.MERGE_CLASSES and len(shapes) != 1 and cls not in CLASS_CELLS:
        raise UnsupportedModelError(
            f"layer {spec.name!r} ({cls}) reads {len(shapes)} tensors", path=path
        )
    _channels_last(spec, path)
    shape = shapes[0]
    if cls in SEQUENCE_CLASSES:  # a recurrent layer may also read its initial states
        return sequence_layer(spec, raw, shapes, keras_version, path)
    if cls in G.CONV_CLASSES:
        return _conv(spec, raw, shape, keras_version, path)
    if cls in G.SEPARABLE_CLASSES:
        return _separable(spec, raw, shape, keras_version, path)
    if cls in G.POOL_CLASSES:
        pool = _pair(cfg.get("pool_size", 2), spec, path)
        strides = cfg.get("strides") or cfg.get("pool_size", 2)  # None: the pool size
        return Pool(spec.name, cls, op="max" if cls.startswith("Max") else "average",
                    pool=pool, strides=_pair(strides, spec, path), padding=_padding(spec, path),
                    rank=1 if cls.endswith("1D") else 2)  # fmt: skip
    if cls in G.GLOBAL_CLASSES:
        return GlobalPool(spec.name, cls, op="max" if "Max" in cls else "average",
                          keepdims=bool(cfg.get("keepdims", False)))  # fmt: skip
    if cls in G.MERGE_CLASSES:
        return _merge(spec, shapes, path)
    if cls in G.REARRANGE_CLASSES or cls in ("Flatten", "Reshape"):
        return _rearrange(spec, shape, path)
    if cls == "BatchNormalization":
        axis = cfg.get("axis", -1)
        axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
        if axis not in (-1, len(shape)):
            raise UnsupportedModelError(
                f"layer {spec.name!r} (BatchNormalization) normalises axis {axis}; gate2xlsx "
                "computes it over the channels (the last axis)",
                path=path,
            )
        spec = LayerSpec(cls, spec.name, {**cfg, "axis": -1}, spec.owner)
    if len(shape) == 3 and cls == "Dense":
        raise UnsupportedModelError(
            f"layer {spec.name!r} (Dense) reads a map {shape}; put a Flatten before it", path=path
        )
    return build_layer(spec, raw, shape[-1], keras_version, path)


def _channels_last(spec: LayerSpec, path: Path) -> None:
    fmt = spec.config.get("data_format") or "channels_last"
    if fmt != "channels_last":
        raise UnsupportedModelError(
            f"layer {spec.name!r} ({spec.class_name}) uses data_format {fmt!r}; gate2xlsx "
            "computes channels_last (Keras's default)",
            path=path,
        )


def _conv(spec: LayerSpec, raw: list, shape: tuple, keras_version: str, path: Path) -> Conv:
    cfg, cls = spec.config, spec.class_name
    rank = 1 if cls.endswith("1D") else 2
    if len(shape) != rank + 1:
        raise UnsupportedModelError(
            f"layer {spec.name!r} ({cls}) reads shape {shape}; it needs "
            + ("a sequence (t, c)" if rank == 1 else "a map (h, w, c)"),
            path=path,
        )
    if int(cfg.get("groups", 1)) != 1:
        raise UnsupportedModelError(
            f"layer {spec.name!r} ({cls}) with groups {cfg['groups']}", path=path
        )
    weights = weights_for(spec, raw, path)
    kernel = weights.get("kernel", weights.get("depthwise_kernel"))
    if rank == 1 and kernel.values.ndim == 4 and kernel.values.shape[1] == 1:
        # Keras 1's Convolution1D stored (k, 1, cin, cout): it computed through conv2d
        kernel = Param(kernel.values[:, 0], kernel.path, kernel.dtype)
    depthwise = cls.startswith("Depthwise")
    if kernel.values.ndim != rank + 2 or kernel.values.shape[-2] != shape[-1]:
        raise InputError(
            f"layer {spec.name!r} ({cls}): kernel shape {kernel.values.shape} does not fit "
            f"an input of shape {shape}",
            path=path,
        )
    layer = Conv(spec.name, cls, kernel=kernel, bias=weights.get("bias"),
                 activation=activation_of(cfg.get("activation", "linear"), spec, keras_version,
                                          path),
                 strides=_pair(cfg.get("strides", 1), spec, path, rank),
                 dilation=_pair(cfg.get("dilation_rate", 1), spec, path, rank),
                 padding=_padding(spec, path), depthwise=depthwise)  # fmt: skip
    units = layer.out_channels()
    if layer.bias is not None and layer.bias.values.shape != (units,):
        raise InputError(
            f"layer {spec.name!r} ({cls}): bias shape {layer.bias.values.shape} "
            f"does not fit {units} filters",
            path=path,
        )
    if max(layer.strides) > 1 and max(layer.dilation) > 1:
        raise UnsupportedModelError(
            f"layer {spec.name!r} ({cls}) has both strides and "
            "dilation above 1, which Keras refuses",
            path=path,
        )
    return layer


def _separable(spec: LayerSpec, raw: list, shape: tuple, keras_version: str,
               path: Path) -> SeparableConv:  # fmt: skip
    """A depthwise step then a pointwise one, each checked as the convolution it is."""
    weights = weights_for(spec, raw, path)
    rank = 1 if spec.class_name.endswith("1D") else 2
    first = LayerSpec(f"DepthwiseConv{rank}D", spec.name, {**spec.config, "use_bias": False},
                      spec.owner)  # fmt: skip
    depth = _conv(first, [_raw(weights["depthwise_kernel"])], shape, keras_version, path)
    second = LayerSpec(f"Conv{rank}D", spec.name,
                       {"activation": spec.config.get("activation", "linear"),
                        "use_bias": "bias" in weights}, spec.owner)  # fmt: skip
    point_raw = [_raw(weights["pointwise_kernel"])] + (
        [_raw(weights["bias"])] if "bias" in weights else []
    )
    inner = depth.output_shape(shape)
    point = _conv(second, point_raw, inner, keras_version, path)
    return SeparableConv(spec.name, spec.class_name, depthwise_kernel=depth.kernel,
                         pointwise_kernel=point.kernel, bias=point.bias,
                         activation=point.activation, strides=depth.strides,
                         dilation=depth.dilation, padding=depth.padding)  # fmt: skip


def _raw(param: Param) -> RawWeight:
    return RawWeight("", param.path, param.values, param.dtype)


def _pair(value, spec: LayerSpec, path: Path, rank: int | None = None) -> tuple[int, int]:
    """An int or a list of ints -> (rows, columns); 1-D layers step along rows only."""
    rank = rank or (1 if spec.class_name.endswith("1D") else 2)
    items = list(value) if isinstance(value, (list, tuple)) else [value] * rank
    if len(items) != rank or not all(isinstance(v, int) and v > 0 for v in items):
        raise UnsupportedModelError(
            f"layer {spec.name!r} ({spec.class_name}): setting {value!r} "
            "is not a size gate2xlsx reads",
            path=path,
        )
    return (items[0], 1) if rank == 1 else (items[0], items[1])


def _padding(spec: LayerSpec, path: Path) -> str:
    padding = str(spec.config.get("padding", "valid")).lower()
    allowed = (
        ("valid", "same", "causal") if spec.class_name.startswith("Conv1") else ("valid", "same")
    )
    if padding not in allowed:
        raise UnsupportedModelError(
            f"layer {spec.name!r} ({spec.class_name}) padding "
            f"{padding!r}; supported: {', '.join(allowed)}",
            path=path,
        )
    return padding


def _merge(spec: LayerSpec, shapes: list, path: Path) -> Merge:
    op = spec.class_name.lower()
    if op == "concatenate":
        rank = len(shapes[0])
        axis = int(spec.config.get("axis", -1))
        axis = axis - 1 if axis > 0 else rank + axis
        if not 0 <= axis < rank or any(len(s) != rank for s in shapes):
            raise UnsupportedModelError(
                f"layer {spec.name!r} (Concatenate) on axis {spec.config.get('axis')} of {shapes}",
                path=path,
            )
        return Merge(spec.name, spec.class_name, op=op, axis=axis)
    if any(tuple(s) != tuple(shapes[0]) for s in shapes) or (op == "subtract" and len(shapes) != 2):
        raise UnsupportedModelError(
            f"layer {spec.name!r} ({spec.class_name}) merges shapes "
            f"{shapes}; gate2xlsx merges equal shapes",
            path=path,
        )
    return Merge(spec.name, spec.class_name, op=op)


def _rearrange(spec: LayerSpec, shape: tuple, path: Path) -> Rearrange:
    cls, cfg = spec.class_name, spec.config
    spatial = len(shape) - 1
    if cls == "Flatten":
        return Rearrange(spec.name, cls, op="flatten")
    if cls == "Reshape":
        target = tuple(int(d) for d in cfg.get("target_shape") or ())
        size, known = int(np.prod(shape)), int(np.prod([d for d in target if d != -1]))
        target = tuple(size // known if d == -1 else d for d in target)
        if int(np.prod(target)) != size:
            raise InputError(f"layer {spec.name!r} (Reshape) to {target} from {shape}", path=path)
        return Rearrange(spec.name, cls, op="reshape", arg=target)
    if cls == "Permute":
        return Rearrange(spec.name, cls, op="permute", arg=tuple(int(d) for d in cfg["dims"]))
    if cls.startswith(("ZeroPadding", "Cropping")):
        key = "padding" if cls.startswith("Zero") else "cropping"
        pairs = _pairs(cfg.get(key, 1 if key == "padding" else 0), spatial, spec, path)
        return Rearrange(spec.name, cls, op="pad" if key == "padding" else "crop", arg=pairs)
    if cfg.get("interpolation", "nearest") != "nearest":
        raise UnsupportedModelError(
            f"layer {spec.name!r} (UpSampling2D) interpolation "
            f"{cfg['interpolation']!r}; supported: nearest",
            path=path,
        )
    size = cfg.get("size", 2)
    sizes = tuple(size) if isinstance(size, (list, tuple)) else (size,) * spatial
    return Rearrange(spec.name, cls, op="upsample", arg=tuple(int(s) for s in sizes))


def _pairs(value, spatial: int, spec: LayerSpec, path: Path) -> tuple:
    """Keras's padding/cropping forms: n, (a, b) (1-D) or (rows, cols) / ((t, b), (l, r))."""
    if isinstance(value, int):
        return ((value, value),) * spatial
    items = list(value)
    if spatial == 1 and len(items) == 2 and all(isinstance(v, int) for v in items):
        return ((items[0], items[1]),)
    if spatial == 2 and len(items) == 2:
        return tuple((v, v) if isinstance(v, int) else (int(v[0]), int(v[1])) for v in items)
    raise UnsupportedModelError(
        f"layer {spec.name!r} ({spec.class_name}) setting {value!r}", path=path
    )
