"""The ONNX operators whose result depends on the order of axes: Flatten, Reshape, Transpose,
Concat, and the convolutions and pooling, which compute channels last (the IR's maps) and so
permute ONNX's channels-first tensors first. A mixin of onnx_graph.Translation."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..errors import UnsupportedModelError
from ..maps import Conv, GlobalPool, Merge, Pool, Rearrange, geometry
from ..model import Param
from .onnx_values import Shape, Tensor, attributes, pair


class LayoutOps:
    """Needs the Translation's _tensor, _const, _add, _claim, _layer_name, _set, shapes."""

    def _last(self, t: Tensor, node) -> Tensor:
        """t channels last (a map or sequence the convolutions read)."""
        if t.channels_last:
            return t
        rank = self._rank(t)
        if rank not in (2, 3):
            raise UnsupportedModelError(
                f"node {node.name!r} ({node.op_type}) reads shape {self.shapes[t.name]}; "
                "gate2xlsx convolves (C, L) and (C, H, W) tensors",
                path=self.path,
            )
        order = (2, 3, 1) if rank == 3 else (2, 1)
        self.ports = [
            replace(p, channels_first=p.channels_first or (p.name == t.name and rank == 3))
            for p in self.ports
        ]  # an image input: drawn channel by channel
        layer = Rearrange(self._claim(f"{t.name}_channels_last"), "Transpose", op="permute",
                          arg=order)  # fmt: skip
        return self._add(layer, [t], channels_last=True)

    def _first(self, t: Tensor) -> Tensor:
        """t in ONNX's own order (channels first)."""
        if not t.channels_last:
            return t
        rank = self._rank(t)
        order = (3, 1, 2) if rank == 3 else (2, 1)
        layer = Rearrange(self._claim(f"{t.name}_channels_first"), "Transpose", op="permute",
                          arg=order)  # fmt: skip
        return self._add(layer, [t])

    def _op_Flatten(self, node) -> None:
        axis = attributes(node).get("axis", 1)
        x = self._first(self._tensor(node))
        if axis != 1:
            raise UnsupportedModelError(
                f"node {node.name!r} (Flatten) flattens from axis {axis}; gate2xlsx keeps the "
                "batch axis",
                path=self.path,
            )
        self._set(node, self._flat(node, x, (int(np.prod(self.shapes[x.name])),)))

    def _op_Reshape(self, node) -> None:
        """To a constant shape that keeps the batch axis first (-1, 0, or the input's fixed
        batch size, as an export without dynamic axes writes it): a flatten or a reshape of
        each row; skl2onnx's regressor output reshape changes nothing the sheet shows."""
        x, target = self._first(self._tensor(node)), self._const(node, 1)
        size = int(np.prod(self.shapes[x.name]))
        dims = [int(d) for d in target.reshape(-1)] if target is not None else []
        rest = dims[1:]
        if rest.count(-1) == 1 and all(d > 0 for d in rest if d != -1):
            rest[rest.index(-1)] = size // max(int(np.prod([d for d in rest if d != -1])), 1)
        batch = dims[:1] in ([-1], [0]) or (dims[:1] == [self.batch] and self.batch is not None)
        if batch and rest and min(rest) > 0 and int(np.prod(rest)) == size:
            return self._set(node, self._flat(node, x, tuple(rest)))
        if dims in ([-1], [-1, 1]) and node.output[0] in self.outputs:
            # skl2onnx's regressor output: each row's values, one after another (a single
            # target keeps its shape; several come out one per row): the sheet shows each
            # input row's values in a row, as predict returns them
            return self._set(node, x)
        raise UnsupportedModelError(
            f"node {node.name!r} (Reshape) to {dims or 'a computed shape'} does not keep the "
            f"batch axis of shape {list(self.shapes[x.name])}",
            path=self.path,
        )

    def _op_Transpose(self, node) -> None:
        x = self._first(self._tensor(node))
        perm = [int(p) for p in attributes(node).get("perm", [])]
        if perm[:1] != [0] or sorted(perm) != list(range(self._rank(x) + 1)):
            raise UnsupportedModelError(f"node {node.name!r} (Transpose) moves the batch axis",
                                        path=self.path)  # fmt: skip
        layer = Rearrange(self._layer_name(node), "Transpose", op="permute", arg=tuple(perm[1:]))
        self._set(node, self._add(layer, [x]))

    def _op_Pad(self, node) -> None:
        """Zero padding of the spatial axes (torch's ZeroPad2d, F.pad; our writer's
        ZeroPadding): a Rearrange pad, which pads every axis but the last."""
        found = attributes(node)
        x, pads, value = self._tensor(node), self._const(node, 1), self._const(node, 2)
        axes = self._const(node, 3)
        mode = found.get("mode", b"constant")
        rank = self._rank(x)
        nonzero = value is not None and value.size and float(value.reshape(-1)[0]) != 0.0
        if pads is None or mode not in (b"constant", "constant") or axes is not None or nonzero:
            raise UnsupportedModelError(
                f"node {node.name!r} (Pad) must pad with zeros by constant amounts",
                path=self.path,
            )
        pads = [int(p) for p in pads.reshape(-1)]
        pairs = list(zip(pads[1 : rank + 1], pads[rank + 2 :]))  # without the batch axis
        if pads[0] or pads[rank + 1] or min(pads) < 0:
            raise UnsupportedModelError(f"node {node.name!r} (Pad) pads the batch axis or "
                                        "crops", path=self.path)  # fmt: skip
        if x.channels_last:  # ONNX's (C, H, W) pads as the IR's (H, W, C)
            pairs = pairs[1:] + pairs[:1]
        elif pairs[-1] != (0, 0) and rank > 1:
            x = self._last(x, node)
            pairs = pairs[1:] + pairs[:1]
        if pairs[-1] != (0, 0) or rank < 2:
            raise UnsupportedModelError(f"node {node.name!r} (Pad) pads the channels",
                                        path=self.path)  # fmt: skip
        layer = Rearrange(self._layer_name(node), "Pad", op="pad", arg=tuple(pairs[:-1]))
        self._set(node, self._add(layer, [x], x.channels_last))

    def _flat(self, node, x: Tensor, shape: Shape) -> Tensor:
        if self.shapes[x.name] == shape:
            return x
        op = "flatten" if len(shape) == 1 else "reshape"
        return self._add(Rearrange(self._layer_name(node), node.op_type, op=op,
                                   arg=() if op == "flatten" else shape), [x])  # fmt: skip

    def _op_Concat(self, node) -> None:
        reads = [self._tensor(node, k) for k in range(len(node.input))]
        rank = self._rank(reads[0])
        axis = attributes(node).get("axis", 1)
        axis = axis + rank + 1 if axis < 0 else axis
        if any(t.channels_last for t in reads) and axis == 1 and rank > 1:
            reads = [self._last(t, node) for t in reads]
            ours, last = -1, True
        else:
            reads = [self._first(t) for t in reads]
            ours, last = axis - 1, False
        if ours == rank - 1:
            ours = -1
        if axis == 0:
            raise UnsupportedModelError(f"node {node.name!r} (Concat) joins along the batch",
                                        path=self.path)  # fmt: skip
        layer = Merge(self._layer_name(node), "Concat", op="concatenate", axis=ours)
        self._set(node, self._add(layer, reads, last))

    # --- convolutions and pooling ---------------------------------------------------------

    def _op_Conv(self, node) -> None:
        attrs = attributes(node)
        x = self._last(self._tensor(node), node)
        w, b = self._const(node, 1), self._const(node, 2)
        if w is None:
            raise UnsupportedModelError(f"node {node.name!r} (Conv) reads a computed kernel",
                                        path=self.path)  # fmt: skip
        rank = w.ndim - 2
        cin = self.shapes[x.name][-1]
        group = int(attrs.get("group", 1))
        depthwise = group > 1
        if depthwise and not (group == cin and w.shape[1] == 1):
            raise UnsupportedModelError(
                f"node {node.name!r} (Conv) has group {group}; gate2xlsx computes group 1 and "
                "depthwise (group = input channels)",
                path=self.path,
            )
        # (cout, cin/group, k...) -> (k..., cin, cout); depthwise: (k..., cin, multiplier)
        kernel = np.moveaxis(w, (0, 1), (-1, -2))
        if depthwise:
            kernel = np.moveaxis(w.reshape(cin, -1, *w.shape[2:]), (0, 1), (-2, -1))
        x = self._padded(node, x, attrs, kernel.shape[:rank])
        strides = tuple(attrs.get("strides", [1] * rank))
        dilation = tuple(attrs.get("dilations", [1] * rank))
        note = " (stored out x in x kh x kw; shown as grids)"
        bias = Param(b, node.input[2]) if b is not None else None
        layer = Conv(self._layer_name(node), "Conv", kernel=Param(kernel, node.input[1] + note),
                     bias=bias, strides=pair(strides), dilation=pair(dilation),
                     depthwise=depthwise)  # fmt: skip
        self._set(node, self._add(layer, [x], True))

    def _padded(self, node, x: Tensor, attrs: dict, kernel: Shape) -> Tensor:
        """Explicit zero padding, as its own Rearrange (the convolution then pads nothing)."""
        if attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET", b"VALID", "VALID"):
            raise UnsupportedModelError(f"node {node.name!r} ({node.op_type}) uses auto_pad "
                                        f"{attrs['auto_pad']}; gate2xlsx reads explicit pads",
                                        path=self.path)  # fmt: skip
        pads = list(attrs.get("pads", [0] * 2 * len(kernel)))
        if not any(pads):
            return x
        rank = len(kernel)
        pairs = tuple((int(pads[i]), int(pads[i + rank])) for i in range(rank))
        layer = Rearrange(self._claim(f"{node.name or 'conv'}_pad"), "Pad", op="pad", arg=pairs)
        return self._add(layer, [x], True)

    def _pool(self, node, op: str) -> None:
        attrs = attributes(node)
        x = self._last(self._tensor(node), node)
        kernel = tuple(attrs.get("kernel_shape", []))
        rank = len(kernel)
        strides = tuple(attrs.get("strides", [1] * rank))
        padding = self._pool_padding(x, attrs, kernel, strides)
        problems = [
            what for what, bad in (
                ("padding other than Keras's 'same'", padding is None),
                ("ceil_mode", attrs.get("ceil_mode", 0)),
                ("dilations", any(d != 1 for d in attrs.get("dilations", [1]))),
                ("auto_pad", attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", b"VALID")),
                ("count_include_pad", padding == "same" and attrs.get("count_include_pad", 0)),
            ) if bad
        ]  # fmt: skip
        if problems:
            raise UnsupportedModelError(
                f"node {node.name!r} ({node.op_type}) uses {', '.join(problems)}; gate2xlsx "
                "pools unpadded windows, or padded as Keras's 'same'",
                path=self.path,
            )
        layer = Pool(self._layer_name(node), node.op_type, op=op, pool=pair(kernel),
                     strides=pair(strides), padding=padding, rank=rank)  # fmt: skip
        self._set(node, self._add(layer, [x], True))

    def _pool_padding(self, x: Tensor, attrs: dict, kernel: Shape, strides: Shape) -> str | None:
        """ "valid" without pads, "same" when the pads are exactly Keras's same geometry (the
        pooled cells are then the same), else None."""
        pads = [int(p) for p in attrs.get("pads", [])]
        if not any(pads):
            return "valid"
        rank, sizes = len(kernel), self.shapes[x.name][:-1]
        for axis, (n, k, st) in enumerate(zip(sizes, kernel, strides)):
            out, before = geometry(n, k, st, 1, "same")
            after = max((out - 1) * st + k - n, 0) - before
            if (pads[axis], pads[axis + rank]) != (before, after):
                return None
        return "same"

    def _op_MaxPool(self, node) -> None:
        if len(node.output) > 1 and node.output[1]:
            raise UnsupportedModelError(f"node {node.name!r} (MaxPool) returns indices",
                                        path=self.path)  # fmt: skip
        self._pool(node, "max")

    def _op_AveragePool(self, node) -> None:
        self._pool(node, "average")

    def _global(self, node, op: str) -> None:
        x = self._last(self._tensor(node), node)
        layer = GlobalPool(self._layer_name(node), node.op_type, op=op, keepdims=True)
        self._set(node, self._add(layer, [x], True))

    def _op_GlobalAveragePool(self, node) -> None:
        self._global(node, "average")

    def _op_GlobalMaxPool(self, node) -> None:
        self._global(node, "max")

    def _op_ReduceMean(self, node) -> None:
        attrs = attributes(node)
        x = self._tensor(node)
        axes = attrs.get("axes")
        if axes is None and self._const(node, 1) is not None:
            axes = [int(a) for a in self._const(node, 1).reshape(-1)]
        rank = self._rank(x) + 1
        axes = sorted(a + rank if a < 0 else a for a in (axes or []))
        if axes != list(range(2, rank)) or not attrs.get("keepdims", 1) or rank < 3:
            raise UnsupportedModelError(
                f"node {node.name!r} (ReduceMean) averages axes {axes}; gate2xlsx averages "
                "over all spatial axes (a global average pool)",
                path=self.path,
            )
        self._global(node, "average")
