"""Model -> ONNX (opset 20) that onnxruntime runs and that computes what the sheet shows.

Every IR layer is written as the ONNX operators of its NumPy forward pass, on the IR's own
tensors: maps stay channels last, and a convolution or pooling transposes to ONNX's channels
first and back around its operator. A model read from ONNX keeps its own transposes (IR
Rearrange layers), so its input and output are the original file's. Weights are named
`<layer>/<weight>`, in the IR's layout (a Dense kernel input x unit, as the sheet shows it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import UnsupportedModelError
from ..formats.onnx_operators import GLOBAL_POOLS, OPERATOR_OF, POOLS, merge_operator, operator
from ..ir import activations
from ..ir.families.convolution import Conv, SeparableConv, geometry
from ..ir.families.dense import Activation, Dense, Identity, PReLU
from ..ir.families.merges import Merge
from ..ir.families.normalization import BatchNorm, Normalization, Rescaling
from ..ir.families.pooling import GlobalPool, Pool, Rearrange
from ..ir.graph import Node
from ..ir.layer import Act
from ..ir.model import Model
from ..version import __version__

OPSET = 20


def write(model: Model, path: Path) -> None:
    import onnx

    graph = model.graph
    builder = _Builder(graph.shapes())
    for node in graph.nodes:
        builder.layer(node)
    inputs = [_value_info(p.name, p.shape) for p in graph.inputs]
    outputs = [_value_info(p.name, p.shape) for p in graph.output_ports()]
    proto = onnx.helper.make_graph(builder.nodes, model.name or "gate2xlsx", inputs, outputs,
                                   initializer=builder.initializers)  # fmt: skip
    made = onnx.helper.make_model(proto, producer_name="gate2xlsx", producer_version=__version__,
                                  opset_imports=[onnx.helper.make_opsetid("", OPSET)])  # fmt: skip
    made.ir_version = 9
    onnx.checker.check_model(made)
    path.write_bytes(made.SerializeToString())


def _value_info(name: str, shape: tuple[int, ...]):
    import onnx

    return onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, ["N", *shape])


class _Builder:
    """ONNX nodes and initializers, layer by layer; each layer's result named after it."""

    def __init__(self, shapes: dict):
        self.shapes, self.nodes, self.initializers, self.count = shapes, [], [], 0

    def const(self, name: str, values) -> str:
        import onnx

        array = np.asarray(values, dtype=np.float32)
        self.initializers.append(onnx.numpy_helper.from_array(array, name))
        return name

    def ints(self, name: str, values) -> str:
        import onnx

        self.initializers.append(onnx.numpy_helper.from_array(np.asarray(values, np.int64), name))
        return name

    def op(self, op: str, inputs: list[str], out: str | None = None, **attrs) -> str:
        import onnx

        self.count += 1
        out = out or f"_t{self.count}"
        self.nodes.append(onnx.helper.make_node(op, inputs, [out], name=f"{op}_{self.count}",
                                                **attrs))  # fmt: skip
        return out

    def layer(self, node: Node) -> None:
        layer, reads, out = node.layer, list(node.inputs), node.layer.name
        shapes = [self.shapes[t] for t in reads]
        writer = WRITERS.get(type(layer))
        if writer is None:
            raise UnsupportedModelError(
                f"layer {layer.name!r} ({layer.class_name or type(layer).__name__}) cannot be "
                "written to ONNX yet; save .keras or .h5 instead"
            )
        result = writer(self, layer, reads, shapes)
        self.op("Identity", [result], out)

    def activation(self, act: Act, x: str, name: str) -> str:
        if act.name == "linear":
            return x
        params = {**activations.get(act.name).defaults, **act.kwargs}
        if act.name == "relu":
            return self.relu(x, name, **params)
        if act.name == "relu6":
            return self.relu(x, name, max_value=6.0)
        if act.name in OPERATOR_OF:
            row = OPERATOR_OF[act.name]
            return self.op(row.operator, [x], **row.written(params))
        if act.name == "silu":
            return self.op("Mul", [x, self.op("Sigmoid", [x])])
        raise UnsupportedModelError(
            f"layer {name!r}: activation {act.name!r} cannot be written to ONNX yet"
        )

    def relu(self, x: str, name: str, negative_slope=0.0, max_value=None, threshold=0.0) -> str:
        """Keras's relu: x from the threshold up (capped at max_value), below it
        negative_slope * (x - threshold)."""
        if not negative_slope and not threshold and max_value is not None:
            return self.op("Clip", [x, self.const(f"{name}/zero", 0.0),
                                    self.const(f"{name}/max_value", max_value)])  # fmt: skip
        if not negative_slope and not threshold:
            y = self.op("Relu", [x])
        else:
            shifted = self.op("Sub", [x, self.const(f"{name}/threshold", threshold)])
            low = self.op("Mul", [shifted, self.const(f"{name}/negative_slope", negative_slope)])
            above = self.op("GreaterOrEqual", [x, f"{name}/threshold"])
            y = self.op("Where", [above, x, low])
        if max_value is not None:
            y = self.op("Min", [y, self.const(f"{name}/max_value", max_value)])
        return y

    def channels_first(self, x: str, rank: int) -> str:
        perm = [0, rank + 1, *range(1, rank + 1)]
        return self.op("Transpose", [x], perm=perm)

    def channels_last(self, x: str, rank: int) -> str:
        perm = [0, *range(2, rank + 2), 1]
        return self.op("Transpose", [x], perm=perm)


def _dense(b: _Builder, layer: Dense, reads, shapes) -> str:
    y = b.op("MatMul", [reads[0], b.const(f"{layer.name}/kernel", layer.kernel.values)])
    if layer.bias is not None:
        y = b.op("Add", [y, b.const(f"{layer.name}/bias", layer.bias.values)])
    return b.activation(layer.activation, y, layer.name)


def _activation(b: _Builder, layer: Activation, reads, shapes) -> str:
    return b.activation(layer.activation, reads[0], layer.name)


def _batchnorm(b: _Builder, layer: BatchNorm, reads, shapes) -> str:
    """BatchNormalization on the channels-first tensor: (x - mean) / sqrt(var + epsilon) *
    scale + B, the IR's formula (a missing gamma is 1, a missing beta 0)."""
    width = layer.moving_mean.values.size
    gamma = layer.gamma.values if layer.gamma is not None else np.ones(width)
    beta = layer.beta.values if layer.beta is not None else np.zeros(width)
    return _bn(b, layer.name, reads[0], shapes[0], gamma, beta, layer.moving_mean.values,
               layer.moving_variance.values, layer.epsilon)  # fmt: skip


def _bn(b: _Builder, name: str, x: str, shape, gamma, beta, mean, var, epsilon: float) -> str:
    rank = len(shape) - 1
    inputs = [b.channels_first(x, rank) if rank else x]
    for key, values in (("gamma", gamma), ("beta", beta), ("mean", mean), ("variance", var)):
        inputs.append(b.const(f"{name}/{key}", np.asarray(values).reshape(-1)))
    y = b.op("BatchNormalization", inputs, epsilon=float(epsilon))
    return b.channels_last(y, rank) if rank else y


def _normalization(b: _Builder, layer: Normalization, reads, shapes) -> str:
    """(x - mean) / std, or x * std + mean inverted, as a BatchNormalization with epsilon 0
    (std = max(sqrt(variance), 1e-7), as Keras computes it)."""
    mean = layer.mean.values.reshape(-1)
    std = np.maximum(np.sqrt(layer.variance.values.reshape(-1)), 1e-7)
    width = shapes[0][-1]
    mean, std = np.broadcast_to(mean, (width,)), np.broadcast_to(std, (width,))
    if layer.invert:
        return _bn(b, layer.name, reads[0], shapes[0], std, mean, np.zeros(width),
                   np.ones(width), 0.0)  # fmt: skip
    return _bn(b, layer.name, reads[0], shapes[0], np.ones(width), np.zeros(width), mean,
               std**2, 0.0)  # fmt: skip


def _rescaling(b: _Builder, layer: Rescaling, reads, shapes) -> str:
    y = b.op("Mul", [reads[0], b.const(f"{layer.name}/scale", layer.scale)])
    return b.op("Add", [y, b.const(f"{layer.name}/offset", layer.offset)])


def _identity(b: _Builder, layer, reads, shapes) -> str:
    return reads[0]


def _prelu(b: _Builder, layer: PReLU, reads, shapes) -> str:
    alpha = layer.alpha.values.reshape(shapes[0][-1:] if layer.alpha.values.size > 1 else ())
    return b.op("PRelu", [reads[0], b.const(f"{layer.name}/alpha", alpha)])


def _rearrange(b: _Builder, layer: Rearrange, reads, shapes) -> str:
    """Permute is a Transpose, zero padding a Pad; the others (flatten, reshape, crop,
    upsample) a gather of the flat indices `sources` says, reshaped."""
    shape = shapes[0]
    if layer.op == "permute":
        return b.op("Transpose", [reads[0]], perm=[0, *layer.arg])
    if layer.op == "pad":  # every axis but the last (the channels), none of the batch
        before, after = [p[0] for p in layer.arg], [p[1] for p in layer.arg]
        pads = b.ints(f"{layer.name}/pads", [0, *before, 0, 0, *after, 0])
        return b.op("Pad", [reads[0], pads, b.const(f"{layer.name}/zero", 0.0)])
    src = layer.sources(shape)
    size = int(np.prod(shape))
    flat = b.op("Reshape", [reads[0], b.ints(f"{layer.name}/flat", [-1, size])])
    if not np.array_equal(src.reshape(-1), np.arange(size)):
        flat = b.op("Gather", [flat, b.ints(f"{layer.name}/sources", src.reshape(-1))], axis=1)
    return b.op("Reshape", [flat, b.ints(f"{layer.name}/shape", [-1, *src.shape])])


def _merge(b: _Builder, layer: Merge, reads, shapes) -> str:
    if layer.op == "concatenate":
        axis = layer.axis + 1 if layer.axis >= 0 else layer.axis
        return b.op("Concat", reads, axis=axis)
    return b.op(merge_operator(layer.op, len(reads)), reads)


def _conv(b: _Builder, layer: Conv, reads, shapes) -> str:
    k4 = layer.kernel4()
    kh, kw, cin, cout = k4.shape
    rank = layer.rank
    if layer.depthwise:
        weight = k4.transpose(2, 3, 0, 1).reshape(cin * cout, 1, kh, kw)
    else:
        weight = k4.transpose(3, 2, 0, 1)
    weight = weight[..., 0] if rank == 1 else weight
    hw = shapes[0][:-1] if rank == 2 else shapes[0][:1]
    pads = _pads(hw, weight.shape[2:], layer.strides[:rank], layer.dilation[:rank], layer.padding)
    x = b.channels_first(reads[0], rank)
    inputs = [x, b.const(f"{layer.name}/kernel", weight)]
    if layer.bias is not None:
        inputs.append(b.const(f"{layer.name}/bias", layer.bias.values))
    y = b.op("Conv", inputs, strides=list(layer.strides[:rank]),
             dilations=list(layer.dilation[:rank]), pads=pads,
             group=cin if layer.depthwise else 1)  # fmt: skip
    y = b.channels_last(y, rank)
    return b.activation(layer.activation, y, layer.name)


def _pads(hw, kernel, strides, dilation, padding: str) -> list[int]:
    before, after = [], []
    for n, k, s, d in zip(hw, kernel, strides, dilation):
        out, first = geometry(n, k, s, d, padding)
        need = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
        before.append(first)
        after.append(max(need - first, 0))
    return before + after


def _separable(b: _Builder, layer: SeparableConv, reads, shapes) -> str:
    first, second = layer.steps()
    first.name, second.name = f"{layer.name}/depthwise", f"{layer.name}/pointwise"
    mid = _conv(b, first, reads, shapes)
    return _conv(b, second, [mid], [first.output_shape(shapes[0])])


def _pool(b: _Builder, layer: Pool, reads, shapes) -> str:
    rank = layer.rank
    hw = shapes[0][:-1] if rank == 2 else shapes[0][:1]
    pads = _pads(hw, layer.pool[:rank], layer.strides[:rank], (1,) * rank, layer.padding)
    x = b.channels_first(reads[0], rank)
    op = operator(POOLS, layer.op)
    extra = {} if layer.op == "max" else {"count_include_pad": 0}
    y = b.op(op, [x], kernel_shape=list(layer.pool[:rank]), strides=list(layer.strides[:rank]),
             pads=pads, **extra)  # fmt: skip
    return b.channels_last(y, rank)


def _global_pool(b: _Builder, layer: GlobalPool, reads, shapes) -> str:
    """GlobalAveragePool / GlobalMaxPool on the channels-first tensor; without keepdims the
    (N, C, 1, ...) result flattened to (N, C)."""
    if layer.masked:
        raise UnsupportedModelError(f"layer {layer.name!r}: a masked average cannot be written "
                                    "to ONNX yet")  # fmt: skip
    rank = len(shapes[0]) - 1
    op = operator(GLOBAL_POOLS, layer.op)
    y = b.op(op, [b.channels_first(reads[0], rank)])
    if not layer.keepdims:
        return b.op("Flatten", [y], axis=1)
    return b.channels_last(y, rank)


WRITERS = {
    Dense: _dense, Activation: _activation, BatchNorm: _batchnorm,
    Normalization: _normalization, Rescaling: _rescaling, Identity: _identity, PReLU: _prelu,
    Rearrange: _rearrange, Merge: _merge, Conv: _conv, SeparableConv: _separable, Pool: _pool,
    GlobalPool: _global_pool,
}  # fmt: skip
