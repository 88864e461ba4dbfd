"""The losses gate2xlsx computes (in the sheet and in the trainer), and the names that mean them."""

from __future__ import annotations

from .errors import UnsupportedModelError
from .model import Model, final_activation

LOSSES = ("binary_crossentropy", "categorical_crossentropy", "mse")
_ALIASES = {
    "binary_crossentropy": "binary_crossentropy",
    "binarycrossentropy": "binary_crossentropy",
    "bce": "binary_crossentropy",
    "categorical_crossentropy": "categorical_crossentropy",
    "categoricalcrossentropy": "categorical_crossentropy",
    "cce": "categorical_crossentropy",
    "mse": "mse",
    "mean_squared_error": "mse",
    "meansquarederror": "mse",
}


def canonical(name: str | None) -> str | None:
    """The loss's canonical name (Keras's spellings and class names too), or None if unknown."""
    if not name:
        return None
    return _ALIASES.get(str(name).lower().replace("keras.losses.", ""))


def require(name: str) -> str:
    """The canonical name; refuses a loss gate2xlsx does not compute."""
    found = canonical(name)
    if found is None:
        raise UnsupportedModelError(
            f"loss {name!r} is not supported; choose one of {', '.join(LOSSES)}"
        )
    return found


def default_for(model: Model) -> str:
    """A loss for a model whose file stores none: from its last activation."""
    act = final_activation(model)
    if act == "softmax":
        return "categorical_crossentropy"
    return "binary_crossentropy" if act == "sigmoid" else "mse"
