"""Embeddings: token ids looked up in a table of rows, and the inputs that take ids (their
starting row and random rows of valid ids)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ...errors import InputError
from ..layer import Layer, Param, Shape


@dataclass(eq=False)
class Embedding(Layer):
    """Token ids (t,) -> their rows of `embeddings` (vocabulary, d): a sequence (t, d)."""

    embeddings: Param = None  # type: ignore[assignment]
    mask_zero: bool = False  # id 0 is padding: the layers after it skip those steps
    kind: ClassVar[str] = "embedding"

    @property
    def vocabulary(self) -> int:
        return self.embeddings.values.shape[0]

    def weights(self) -> dict[str, Param]:
        return {"embeddings": self.embeddings}

    def output_shape(self, shape: Shape) -> Shape:
        return (*shape, self.embeddings.values.shape[1])

    def ids(self, x: np.ndarray) -> np.ndarray:
        """The token ids, refused unless whole numbers in [0, vocabulary) (as Keras on CPU)."""
        ids = np.rint(x)
        bad = (ids != x) | (ids < 0) | (ids >= self.vocabulary)
        if np.any(bad):
            raise InputError(
                f"layer {self.name!r} (Embedding) reads token id {x[bad].flat[0]:g}; ids are "
                f"whole numbers from 0 to {self.vocabulary - 1}"
            )
        return ids.astype(np.int64)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self.embeddings.values[self.ids(x)]


def token_inputs(graph) -> dict[str, int]:
    """The inputs that hold token ids, each with its vocabulary size (the Embedding's)."""
    ports = {port.name for port in graph.inputs}
    return {node.inputs[0]: node.layer.vocabulary for node in graph.nodes
            if isinstance(node.layer, Embedding) and node.inputs[0] in ports}  # fmt: skip


def starting_row(graph) -> np.ndarray:
    """The Network sheet's first example when no rows are given: zeros, token id 1 in token
    inputs (0 is the padding an Embedding with mask_zero skips). Shape (1, inputs)."""
    tokens = token_inputs(graph)
    parts = [np.full(p.size, 1.0 if p.name in tokens and tokens[p.name] > 1 else 0.0)
             for p in graph.inputs]  # fmt: skip
    return np.concatenate(parts).reshape(1, -1)


def random_rows(graph, k: int, seed: int = 0) -> np.ndarray:
    """k seeded rows: values uniform in [0, 1) (3 decimals), token ids uniform over the
    vocabulary."""
    rng, tokens = np.random.default_rng(seed), token_inputs(graph)
    parts = [rng.integers(0, tokens[p.name], (k, p.size)).astype(np.float64) if p.name in tokens
             else np.round(rng.uniform(0, 1, (k, p.size)), 3) for p in graph.inputs]  # fmt: skip
    return np.concatenate(parts, axis=1)
