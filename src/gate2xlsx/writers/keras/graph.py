"""A graph Model (tensors, branches, several inputs or outputs) as a Keras Functional model:
each layer's class, config and weights, and the configs tf.keras 2.15 (`model_config` of a
legacy .h5) and Keras 3 (`config.json` of a .keras) read back into the same network."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...errors import UnsupportedModelError
from ...ir.families.convolution import Conv, SeparableConv
from ...ir.families.dense import Activation
from ...ir.families.merges import Merge
from ...ir.families.pooling import GlobalPool, Pool, Rearrange
from ...ir.graph import Graph, output_shape, tensor_names
from ...ir.layer import Act, Layer
from ...ir.model import Model
from .layers import (
    _DENSE_DEFAULTS,
    KerasLayer,
    activation_layer,
    activation_string,
    layer_as_keras,
    model_name,
    portable,
)
from .sequences import CLASSES as _CELL_CLASSES
from .sequences import sequence_layer

RECURRENT_CLASSES = set(_CELL_CLASSES.values())


@dataclass
class GraphLayer:
    """One Keras layer of the Functional model and the Keras tensors (layer names) it reads."""

    layer: KerasLayer
    reads: list[str]
    shapes: list[tuple[int, ...]]  # the shapes it reads (build_config)
    shape: tuple[int, ...]  # the shape it makes


def graph_layers(model: Model, keras3: bool = False) -> tuple[list[GraphLayer], dict[str, str]]:
    """Every node as Keras layers (an activation no Keras string names becomes a layer after
    it, which then stands for the node's tensor), and which Keras layer makes each tensor."""
    graph: Graph = model.graph
    shapes = graph.shapes()
    made = {port.name: port.name for port in graph.inputs}
    found: list[GraphLayer] = []
    for node in graph.nodes:
        # a masked layer's last read is the token ids: Keras passes that mask on by itself
        inputs = node.inputs[:-1] if getattr(node.layer, "masked", False) else node.inputs
        reads = [made[t] for t in inputs]
        given = [shapes[t] for t in inputs]
        out = shapes[node.layer.name]
        keras = (sequence_layer(node.layer, keras3) or _tensor_layer(node.layer, given)
                 or layer_as_keras(node.layer))  # fmt: skip
        for k in keras:
            found.append(GraphLayer(k, reads, given, out))
            reads, given = [k.name], [out]
        made[node.layer.name] = reads[0]  # a layer Keras has no class for passes its input on
        for extra in tensor_names(node.layer.name, len(shapes_of(node.layer, given)))[1:]:
            made[extra] = extra  # return_state: the layer's further outputs, `<layer>:k`
    return found, made


def shapes_of(layer: Layer, given: list[tuple[int, ...]]) -> list:
    made = output_shape(layer, given)
    return made if isinstance(made, list) else [made]


def _history(tensor: str) -> list:
    """Keras's [layer, node index, output index] of a tensor name (`lstm:1`: the LSTM's second
    output)."""
    layer, _, index = tensor.rpartition(":")
    return [layer, 0, int(index)] if layer and index.isdigit() else [tensor, 0, 0]


def _tensor_layer(layer: Layer, shapes: list[tuple[int, ...]]) -> list[KerasLayer] | None:
    if isinstance(layer, Conv):
        return _conv(layer)
    if isinstance(layer, SeparableConv):
        return _separable(layer)
    if isinstance(layer, Pool):
        cls = ("Max" if layer.op == "max" else "Average") + f"Pooling{layer.rank}D"
        size = list(layer.pool[: layer.rank])
        return [KerasLayer(cls, layer.name, {"pool_size": size,
                                             "strides": list(layer.strides[: layer.rank]),
                                             "padding": layer.padding,
                                             "data_format": "channels_last"})]  # fmt: skip
    if isinstance(layer, GlobalPool):
        rank = len(shapes[0]) - 1
        cls = ("GlobalMax" if layer.op == "max" else "GlobalAverage") + f"Pooling{rank}D"
        return [KerasLayer(cls, layer.name, {"data_format": "channels_last",
                                             "keepdims": layer.keepdims})]  # fmt: skip
    if isinstance(layer, Rearrange):
        return [_rearrange(layer, shapes[0])]
    if isinstance(layer, Merge):
        cls = "Concatenate" if layer.op == "concatenate" else layer.op.capitalize()
        return [KerasLayer(cls, layer.name, {"axis": layer.axis + 1} if cls == "Concatenate"
                           else {})]  # fmt: skip
    return None


def _conv(layer: Conv) -> list[KerasLayer]:
    rank, act, after = layer.rank, layer.activation, []
    if not portable(act):
        after, act = [activation_layer(Activation(f"{layer.name}_activation", "Activation",
                                                  act))], Act("linear")  # fmt: skip
    k = layer.kernel.values.shape
    config: dict[str, Any] = {
        "kernel_size": list(k[:rank]),
        "strides": list(layer.strides[:rank]),
        "padding": layer.padding,
        "data_format": "channels_last",
        "dilation_rate": list(layer.dilation[:rank]),
        "activation": activation_string(layer, act),
        "use_bias": layer.bias is not None,
        "bias_initializer": _DENSE_DEFAULTS["bias_initializer"],
        "bias_regularizer": None,
        "activity_regularizer": None,
        "bias_constraint": None,
    }
    if layer.depthwise:
        cls = f"DepthwiseConv{rank}D"
        initializer = _DENSE_DEFAULTS["kernel_initializer"]
        config.update(depth_multiplier=int(k[-1]), depthwise_initializer=initializer,
                      depthwise_regularizer=None, depthwise_constraint=None)  # fmt: skip
    else:
        cls = f"Conv{rank}D"
        config.update(filters=int(k[-1]), groups=1, kernel_initializer=_DENSE_DEFAULTS[
            "kernel_initializer"], kernel_regularizer=None, kernel_constraint=None)  # fmt: skip
    weights = [(key, p.values) for key, p in layer.weights().items()]
    return [KerasLayer(cls, layer.name, config, weights), *after]


def _separable(layer: SeparableConv) -> list[KerasLayer]:
    """SeparableConv1D / 2D: the depthwise step's settings, the pointwise step's filters."""
    first, second = layer.steps()
    [depthwise, *after] = _conv(first)
    [pointwise, *after] = _conv(second)
    config = {**depthwise.config, "activation": pointwise.config["activation"],
              "use_bias": layer.bias is not None, "filters": pointwise.config["filters"],
              "pointwise_initializer": _DENSE_DEFAULTS["kernel_initializer"],
              "pointwise_regularizer": None, "pointwise_constraint": None}  # fmt: skip
    weights = [(key, p.values) for key, p in layer.weights().items()]
    return [KerasLayer(f"SeparableConv{first.rank}D", layer.name, config, weights), *after]


def _rearrange(layer: Rearrange, shape: tuple[int, ...]) -> KerasLayer:
    rank = len(shape) - 1
    if layer.op == "flatten":
        return KerasLayer("Flatten", layer.name, {"data_format": "channels_last"})
    if layer.op == "reshape":
        return KerasLayer("Reshape", layer.name, {"target_shape": list(layer.arg)})
    if layer.op == "permute":
        return KerasLayer("Permute", layer.name, {"dims": list(layer.arg)})
    if layer.op in ("pad", "crop"):
        cls = ("ZeroPadding" if layer.op == "pad" else "Cropping") + f"{rank}D"
        key = "padding" if layer.op == "pad" else "cropping"
        pairs = [list(p) for p in layer.arg]
        config: dict[str, Any] = {key: pairs[0] if rank == 1 else pairs}
        if rank == 2:
            config["data_format"] = "channels_last"
        return KerasLayer(cls, layer.name, config)
    if layer.op == "upsample":
        config = (
            {"size": layer.arg[0]}
            if rank == 1
            else {
                "size": list(layer.arg),
                "data_format": "channels_last",
                "interpolation": "nearest",
            }
        )
        return KerasLayer(f"UpSampling{rank}D", layer.name, config)
    raise UnsupportedModelError(f"layer {layer.name!r}: {layer.op} cannot be saved as Keras")


def functional_config(model: Model, keras3: bool) -> dict[str, Any]:
    """The Functional model's config in tf.keras 2.15's words or Keras 3's."""
    graph = model.graph
    entries = [_input_entry(p.name, p.shape, keras3) for p in graph.inputs]
    layers, made = graph_layers(model, keras3)
    entries += [_layer_entry(gl, keras3) for gl in layers]
    ins = [[p.name, 0, 0] for p in graph.inputs]
    outs = [_history(made[name]) for name in graph.outputs]
    config = {
        "name": model_name(model),
        "trainable": True,
        "layers": entries,
        "input_layers": ins[0] if keras3 and len(ins) == 1 else ins,
        "output_layers": outs[0] if keras3 and len(outs) == 1 else outs,
    }
    if not keras3:
        return {"class_name": "Functional", "config": config}
    return {"module": "keras.src.models.functional", "class_name": "Functional",
            "config": config, "registered_name": "Functional",
            "build_config": {"input_shape": None}, "compile_config": None}  # fmt: skip


def _input_entry(name: str, shape: tuple[int, ...], keras3: bool) -> dict[str, Any]:
    key = "batch_shape" if keras3 else "batch_input_shape"
    config = {key: [None, *shape], "dtype": "float32", "sparse": False, "ragged": False,
              "name": name}  # fmt: skip
    entry = {"class_name": "InputLayer", "config": config, "name": name, "inbound_nodes": []}
    return {"module": "keras.layers", **entry, "registered_name": None} if keras3 else entry


def _layer_entry(gl: GraphLayer, keras3: bool) -> dict[str, Any]:
    layer = gl.layer
    cfg = {"name": layer.name, "trainable": True, "dtype": "float32", **layer.config}
    if not keras3:  # as tf.keras writes it: a recurrent layer's initial states after its input
        nodes = [[[*_history(name), {}] for name in gl.reads]]
        return {"class_name": layer.class_name, "config": cfg, "name": layer.name,
                "inbound_nodes": nodes}  # fmt: skip
    for key in ("kernel_initializer", "bias_initializer", "depthwise_initializer"):
        if key in cfg:
            cfg[key] = {"module": "keras.initializers", **cfg[key], "registered_name": None}
    if layer.class_name == "LeakyReLU":
        cfg["negative_slope"] = cfg.pop("alpha")
    tensors = [{"class_name": "__keras_tensor__", "config": {"shape": [None, *s],
                "dtype": "float32", "keras_history": _history(name)}}
               for name, s in zip(gl.reads, gl.shapes)]  # fmt: skip
    shapes = [[None, *s] for s in gl.shapes]
    build = {"input_shape": shapes if len(shapes) > 1 else shapes[0]}
    node = {"args": [tensors] if len(tensors) > 1 else tensors, "kwargs": {}}
    if layer.class_name in RECURRENT_CLASSES and len(tensors) > 1:  # initial_state=[h, c]
        node = {"args": tensors[:1], "kwargs": {"initial_state": tensors[1:]}}
        build = {"shapes_dict": {"sequences_shape": shapes[0],
                                 "initial_state_shape": shapes[1:]}}  # fmt: skip
    return {"module": "keras.layers", "class_name": layer.class_name, "config": cfg,
            "registered_name": None, "build_config": build, "name": layer.name,
            "inbound_nodes": [node]}  # fmt: skip
