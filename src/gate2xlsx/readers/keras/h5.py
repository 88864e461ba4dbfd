"""Keras legacy HDF5: `model.save` and `save_weights` files of Keras 1.x, 2.x, tf.keras 2.x and
Keras 3's legacy `.h5` writer.

Layer order is the `layer_names` attribute; weight order within a layer is its
`weight_names` attribute (never HDF5's alphabetical iteration order).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import h5py

from ...errors import InputError
from ...ir.model import Model, Source
from ..hdf5 import attr, child, name_list, open_hdf5, read_array
from . import config as C
from . import graph_config as G
from . import weights_v3
from .layers import expected_weights
from .map_layers import build_graph

FORMAT = "Keras legacy HDF5"


def is_weights_only(handle: h5py.File) -> bool:
    return "layer_names" in handle.attrs or "layer_names0" in handle.attrs


def read(path: Path, architecture: dict | list | None = None) -> Model:
    """Read a legacy HDF5 model; `architecture` supplies the config of a weights-only file."""
    path = Path(path)
    with open_hdf5(path) as handle:
        weights_only = is_weights_only(handle)
        if not weights_only and "model_weights" not in handle and weights_v3.looks_like_v3(handle):
            return weights_v3.read_weights(path, architecture, handle)
        if weights_only:
            root = handle
        elif "model_weights" in handle:
            root = child(handle, "model_weights", file=path)
        else:
            raise InputError(
                "HDF5 file without Keras weights (no model_weights group and no "
                "layer_names attribute)",
                path=path,
            )
        keras_version = str(
            attr(handle, "keras_version", "") or attr(root, "keras_version", "") or ""
        )
        backend = str(attr(handle, "backend", "") or attr(root, "backend", "") or "")
        if architecture is None:
            if weights_only or "model_config" not in handle.attrs:
                raise InputError(
                    "the file holds weights only, without the architecture",
                    path=path,
                    hint="give the model's JSON (model.to_json()) with --architecture MODEL.json",
                )
            architecture = C.parse_json(attr(handle, "model_config"), path=path)
        config = C.unwrap(architecture)
        spec = G.graph_spec(config, path=path)
        weights = _weights_by_layer(root, path)
        _check_layers_present(spec.specs, weights, path)
        lookup = _lookup(weights, spec.specs, path)
        # a to_json() text says its Keras version
        keras_version = keras_version or weights_v3.keras_version_of(architecture)
        body = Model(build_graph(spec, lookup, keras_version=keras_version, path=path))
        training = (
            C.parse_json(attr(handle, "training_config"), path=path)
            if "training_config" in handle.attrs
            else None
        )
    return replace(
        body,
        name=C.model_name(config, path),
        loss=C.training_loss(training),
        optimizer=C.optimizer_settings(training),
        source=Source(
            str(path), FORMAT + (" (weights only)" if weights_only else ""), keras_version, backend
        ),
    )


def _check_layers_present(specs: list[C.LayerSpec], weights: dict[str, list[C.RawWeight]],
                          path: Path) -> None:  # fmt: skip
    """A layer that needs weights but has no group at all: the architecture and the weights
    come from different models, so name the layers the file does have."""
    for spec in specs:
        if spec.owner not in weights and expected_weights(spec.class_name, spec.config):
            have = ", ".join(name for name, found in weights.items() if found) or "none"
            raise InputError(f"the file has no layer {spec.owner!r}; its layers with weights are: "
                             f"{have}", path=path, hint="the architecture and the weights seem "
                             "to come from different models")  # fmt: skip


def _weights_by_layer(root: h5py.Group, path: Path) -> dict[str, list[C.RawWeight]]:
    layer_names = name_list(root, "layer_names")
    if layer_names is None:
        raise InputError("the weights group has no layer_names attribute", path=path)
    found: dict[str, list[C.RawWeight]] = {}
    for layer_name in layer_names:
        try:
            group = child(root, layer_name, file=path)
        except KeyError:
            raise InputError(
                f"layer {layer_name!r} is listed but has no weights group", path=path
            ) from None
        raw = []
        for weight_name in name_list(group, "weight_names") or []:
            try:
                dataset = child(group, weight_name, file=path)
            except KeyError:
                raise InputError(
                    f"layer {layer_name!r}: weight {weight_name!r} is listed but missing", path=path
                ) from None
            values = read_array(dataset, file=path)
            raw.append(
                C.RawWeight(weight_name, dataset.name.lstrip("/"), values, str(dataset.dtype))
            )
        found[layer_name] = raw
    return found


def _lookup(
    weights: dict[str, list[C.RawWeight]], specs: list[C.LayerSpec], path: Path
) -> C.WeightLookup:
    """Weights of a layer; a nested model's group holds all its inner layers' weights."""
    owners: dict[str, list[C.LayerSpec]] = {}
    for spec in specs:
        owners.setdefault(spec.owner, []).append(spec)

    def lookup(spec: C.LayerSpec) -> list[C.RawWeight]:
        if spec.owner == spec.name:
            return weights.get(spec.name, [])
        group = weights.get(spec.owner, [])
        mine = [w for w in group if spec.name in w.name.replace("\\", "/").split("/")[:-1]]
        if mine or not group:
            return mine
        return _by_order(spec, owners[spec.owner], group)

    return lookup


def _by_order(
    spec: C.LayerSpec, siblings: list[C.LayerSpec], group: list[C.RawWeight]
) -> list[C.RawWeight]:
    """Unnamed nested weights: trainable ones of every layer in order, then non-trainable ones."""
    trainable, frozen = [], []
    for sib in siblings:
        keys = expected_weights(sib.class_name, sib.config)
        moving = [k for k in keys if k.startswith("moving_") or k in ("mean", "variance", "count")]
        trainable.append((sib.name, len(keys) - len(moving)))
        frozen.append((sib.name, len(moving)))
    position, mine = 0, []
    for name, count in trainable + frozen:
        if name == spec.name:
            mine.extend(group[position : position + count])
        position += count
    return mine
