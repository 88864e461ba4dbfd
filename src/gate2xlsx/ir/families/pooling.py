"""Pooling and reshaping: max and average pooling over windows, global pooling (masked
for sequences), and the layers that only move numbers (Flatten, Reshape, Permute, ...)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..layer import Layer, Shape
from .convolution import as_map, geometry, taps


@dataclass(eq=False)
class Pool(Layer):
    """MaxPooling / AveragePooling 1D and 2D; `same` padding averages over the cells inside."""

    op: str = "max"  # max | average
    pool: tuple[int, int] = (2, 2)
    strides: tuple[int, int] = (2, 2)
    padding: str = "valid"
    rank: int = 2
    kind: ClassVar[str] = "pool"

    def window(self, hw: tuple[int, int]) -> list[tuple[int, int]]:
        return [geometry(n, k, s, 1, self.padding) for n, k, s in zip(hw, self.pool, self.strides)]

    def output_shape(self, shape: Shape) -> Shape:
        h, w, c = as_map(shape)
        (oh, _), (ow, _) = self.window((h, w))
        return (oh, c) if self.rank == 1 else (oh, ow, c)

    def forward(self, x: np.ndarray) -> np.ndarray:
        n, (h, w, c) = x.shape[0], as_map(x.shape[1:])
        xm = x.reshape(n, h, w, c)
        (oh, top), (ow, left) = self.window((h, w))
        out = np.zeros((n, oh, ow, c))
        reduce = np.max if self.op == "max" else np.mean
        for i in range(oh):
            rows = [r for _, r in taps(i, h, self.pool[0], self.strides[0], 1, top)]
            for j in range(ow):
                cols = [q for _, q in taps(j, w, self.pool[1], self.strides[1], 1, left)]
                part = xm[:, rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1, :]
                out[:, i, j, :] = reduce(part, axis=(1, 2))
        return out.reshape(n, *self.output_shape(x.shape[1:]))


@dataclass(eq=False)
class GlobalPool(Layer):
    """GlobalMaxPooling / GlobalAveragePooling 1D and 2D: one number per channel. `masked`:
    the average over the steps whose token id (its last read) is not 0 (Embedding mask_zero)."""

    op: str = "average"
    keepdims: bool = False
    masked: bool = False
    kind: ClassVar[str] = "global_pool"

    def output_shape(self, shape: Shape, *mask: Shape) -> Shape:
        return (*([1] * (len(shape) - 1)), shape[-1]) if self.keepdims else (shape[-1],)

    def forward(self, x: np.ndarray, *ids: np.ndarray) -> np.ndarray:
        axes = tuple(range(1, x.ndim - 1))
        if self.masked:  # Keras: sum(x * mask) / sum(mask)
            keep = (ids[0] != 0)[..., None]
            found = (x * keep).sum(axis=1) / keep.sum(axis=1)
        else:
            found = x.max(axis=axes) if self.op == "max" else x.mean(axis=axes)
        return found.reshape(x.shape[0], *self.output_shape(x.shape[1:]))


@dataclass(eq=False)
class Rearrange(Layer):
    """Layers that only move numbers: Flatten, Reshape, Permute, ZeroPadding, Cropping,
    UpSampling. `sources` says, for each output element, which input element it copies (-1:
    a zero), the one rule both the NumPy pass and the sheet follow."""

    op: str = "flatten"  # flatten | reshape | permute | pad | crop | upsample
    arg: tuple = ()
    kind: ClassVar[str] = "rearrange"

    def sources(self, shape: Shape) -> np.ndarray:
        """An int array of the output's shape: the flat input index each element copies."""
        idx = np.arange(int(np.prod(shape))).reshape(shape)
        if self.op == "flatten":
            return idx.reshape(-1)
        if self.op == "reshape":
            return idx.reshape(self.arg)
        if self.op == "permute":
            return idx.transpose([d - 1 for d in self.arg])
        spatial = len(shape) - 1
        if self.op == "pad":
            return np.pad(idx, [*self.arg, (0, 0)], constant_values=-1)
        if self.op == "crop":
            cut = tuple(slice(a, n - b) for (a, b), n in zip(self.arg, shape[:spatial]))
            return idx[cut]
        for axis, size in enumerate(self.arg):  # upsample: nearest, each cell repeated
            idx = np.repeat(idx, size, axis=axis)
        return idx

    def output_shape(self, shape: Shape) -> Shape:
        return tuple(self.sources(shape).shape)

    def forward(self, x: np.ndarray) -> np.ndarray:
        src = self.sources(x.shape[1:])
        flat = x.reshape(x.shape[0], -1)
        return np.where(src >= 0, flat[:, np.maximum(src, 0)], 0.0)
