"""Models that exercise every layer kind writers/ maps to Keras (for unit and Keras tests)."""

from __future__ import annotations

import numpy as np

from gate2xlsx.ir.families.dense import Activation, Dense, Identity, PReLU
from gate2xlsx.ir.families.normalization import BatchNorm
from gate2xlsx.ir.layer import Act, Param
from gate2xlsx.ir.model import Dataset, Model

RNG = np.random.default_rng(7)
X4 = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)


def param(*shape: int) -> Param:
    return Param(RNG.normal(size=shape).astype(np.float32))


def lesson_model() -> Model:
    """The lesson's OR network, with its training data and gate name."""
    model = Model.chain(
        2,
        [
            Dense("dense", "Dense", param(2, 2), param(2)),
            Activation("activation", "Activation", Act("softmax")),
        ],
        name="or",
        class_names=["false", "true"],
        input_names=["a", "b"],
        loss="binary_crossentropy",
    )
    model.data = Dataset(X4, np.array([[1, 0], [0, 1], [0, 1], [0, 1]], dtype=np.float64), "or")
    return model


def mixed_model() -> Model:
    """Every layer kind the writer maps to Keras."""
    return Model.chain(
        2,
        [
            Dense("hidden", "Dense", param(2, 3), param(3), Act("tanh")),
            BatchNorm(
                "bn",
                "BatchNormalization",
                param(3),
                param(3),
                param(3),
                Param(RNG.uniform(0.5, 2, 3)),
                epsilon=1e-3,
            ),
            PReLU("prelu", "PReLU", param(3)),
            Identity("drop", "Dropout"),
            Dense("dense_2", "Dense", param(3, 4), None, Act("silu")),
            Activation("leaky", "LeakyReLU", Act.of("leaky_relu", alpha=0.1)),
            Dense("out", "Dense", param(4, 2), param(2), Act("softmax")),
        ],
        name="mixed",
    )


def fused_model() -> Model:
    """Dense layers whose activation no Keras string names: saved as Dense + activation layer."""
    return Model.chain(
        2,
        [
            Dense("d1", "Dense", param(2, 4), param(4), Act.of("leaky_relu", alpha=0.2)),
            Dense("d2", "Dense", param(4, 2), None, Act("relu6")),
        ],
        name="fused",
    )


MODELS = {"lesson": lesson_model, "mixed": mixed_model, "fused": fused_model}
