"""Convolutions: Conv1D/2D, DepthwiseConv, SeparableConv (and ONNX's Conv), as windows of taps
over maps `(h, w, c)` (a sequence `(t, c)` is a map one column wide). The sheet computes the
same windows (`taps`), so the two cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..layer import LINEAR, Act, Layer, Param, Shape


def as_map(shape: Shape) -> tuple[int, int, int]:
    """(t, c) -> (t, 1, c); (h, w, c) stays: what convolutions and pooling compute on."""
    return (shape[0], 1, shape[1]) if len(shape) == 2 else tuple(shape)  # type: ignore[return-value]


def as_kernel4(values: np.ndarray) -> np.ndarray:
    """A kernel as (kh, kw, cin, cout): a 1-D kernel (k, cin, cout) is one column wide."""
    return values[:, None] if values.ndim == 3 else values


CONV_KERNELS = ("kernel", "depthwise_kernel", "pointwise_kernel")  # shown as grids


def geometry(size: int, k: int, stride: int, dilation: int, padding: str) -> tuple[int, int]:
    """(output length, padding before) of a window of k taps `dilation` apart, as Keras (and
    TensorFlow) compute them: `same` pads the total need, the larger half after; `causal`
    pads before only."""
    span = (k - 1) * dilation + 1
    if padding == "valid":
        return max((size - span) // stride + 1, 0), 0
    if padding == "causal":
        return (size - 1) // stride + 1, span - 1
    out = -(-size // stride)
    return out, max((out - 1) * stride + span - size, 0) // 2


def taps(
    i: int, size: int, k: int, stride: int, dilation: int, before: int
) -> list[tuple[int, int]]:
    """The (tap, input index) pairs of output i that fall inside the input (padding: none)."""
    found = [(a, i * stride - before + a * dilation) for a in range(k)]
    return [(a, r) for a, r in found if 0 <= r < size]


@dataclass(eq=False)
class Conv(Layer):
    """Conv1D / Conv2D / DepthwiseConv2D: kernel (kh, kw, cin, cout), or (k, cin, cout) in 1D;
    a depthwise kernel's last axis is the depth multiplier."""

    kernel: Param = None  # type: ignore[assignment]
    bias: Param | None = None
    activation: Act = LINEAR
    strides: tuple[int, int] = (1, 1)
    dilation: tuple[int, int] = (1, 1)
    padding: str = "valid"
    depthwise: bool = False
    kind: ClassVar[str] = "conv"

    @property
    def rank(self) -> int:
        return self.kernel.values.ndim - 2

    def kernel4(self) -> np.ndarray:
        """The kernel as (kh, kw, cin, cout): a 1-D kernel is one column wide."""
        return as_kernel4(self.kernel.values)

    def weights(self) -> dict[str, Param]:
        return {"kernel": self.kernel, **({"bias": self.bias} if self.bias is not None else {})}

    def out_channels(self) -> int:
        kh, kw, cin, cout = self.kernel4().shape
        return cin * cout if self.depthwise else cout

    def window(self, hw: tuple[int, int]) -> list[tuple[int, int]]:
        """Per spatial axis: (output length, padding before)."""
        kh, kw = self.kernel4().shape[:2]
        return [geometry(n, k, s, d, self.padding)
                for n, k, s, d in zip(hw, (kh, kw), self.strides, self.dilation)]  # fmt: skip

    def output_shape(self, shape: Shape) -> Shape:
        h, w, _ = as_map(shape)
        (oh, _), (ow, _) = self.window((h, w))
        return (oh, self.out_channels()) if self.rank == 1 else (oh, ow, self.out_channels())

    def pre_activation(self, x: np.ndarray) -> np.ndarray:
        k4 = self.kernel4()
        kh, kw, cin, cout = k4.shape
        n, h, w = x.shape[0], *as_map(x.shape[1:])[:2]
        xm = x.reshape(n, h, w, cin)
        (oh, top), (ow, left) = self.window((h, w))
        (sh, sw), (dh, dw) = self.strides, self.dilation
        bottom = max((oh - 1) * sh + (kh - 1) * dh + 1 - h - top, 0)
        right = max((ow - 1) * sw + (kw - 1) * dw + 1 - w - left, 0)
        xp = np.pad(xm, ((0, 0), (top, bottom), (left, right), (0, 0)))
        z = np.zeros((n, oh, ow, self.out_channels()))
        for a in range(kh):
            for b in range(kw):
                part = xp[:, a * dh : a * dh + (oh - 1) * sh + 1 : sh,
                          b * dw : b * dw + (ow - 1) * sw + 1 : sw, :]  # fmt: skip
                if self.depthwise:
                    z += (part[..., None] * k4[a, b]).reshape(n, oh, ow, -1)
                else:
                    z += part @ k4[a, b]
        if self.bias is not None:
            z = z + self.bias.values
        return z.reshape(n, *self.output_shape(x.shape[1:]))

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self.activation(self.pre_activation(x))


@dataclass(eq=False)
class SeparableConv(Layer):
    """SeparableConv1D / 2D: a depthwise convolution (its kernel (kh, kw, cin, multiplier))
    then a pointwise one (1 x 1, kernel (1, 1, cin * multiplier, filters)), bias and
    activation on the second. Computed, and drawn, as those two steps."""

    depthwise_kernel: Param = None  # type: ignore[assignment]
    pointwise_kernel: Param = None  # type: ignore[assignment]
    bias: Param | None = None
    activation: Act = LINEAR
    strides: tuple[int, int] = (1, 1)
    dilation: tuple[int, int] = (1, 1)
    padding: str = "valid"
    kind: ClassVar[str] = "separable"

    def weights(self) -> dict[str, Param]:
        found = {
            "depthwise_kernel": self.depthwise_kernel,
            "pointwise_kernel": self.pointwise_kernel,
        }
        return {**found, **({"bias": self.bias} if self.bias is not None else {})}

    def steps(self) -> tuple[Conv, Conv]:
        """The two convolutions, named like the layer (their weights are the layer's)."""
        first = Conv(self.name, self.class_name, kernel=self.depthwise_kernel,
                     strides=self.strides, dilation=self.dilation, padding=self.padding,
                     depthwise=True)  # fmt: skip
        second = Conv(self.name, self.class_name, kernel=self.pointwise_kernel, bias=self.bias,
                      activation=self.activation)  # fmt: skip
        return first, second

    def output_shape(self, shape: Shape) -> Shape:
        first, second = self.steps()
        return second.output_shape(first.output_shape(shape))

    def forward(self, x: np.ndarray) -> np.ndarray:
        first, second = self.steps()
        return second.forward(first.forward(x))


def kernel_grid(k4: np.ndarray) -> np.ndarray:
    """How a kernel is shown: (kh, kw, cin, cout) -> a (cin * kh) x (cout * kw) block, grid
    (ci, co) at rows ci * kh.., columns co * kw..; kernel_from_grid is the inverse."""
    kh, kw, cin, cout = k4.shape
    return k4.transpose(2, 0, 3, 1).reshape(cin * kh, cout * kw)


def kernel_from_grid(grid: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The kernel of `shape` ((kh, kw, cin, cout), or (k, cin, cout) in 1-D) from its block."""
    kh, kw, cin, cout = (shape[0], 1, *shape[1:]) if len(shape) == 3 else shape
    return np.asarray(grid).reshape(cin, kh, cout, kw).transpose(1, 3, 0, 2).reshape(shape)
