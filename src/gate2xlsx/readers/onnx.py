"""ONNX files (PyTorch's exporters, skl2onnx) -> Model. onnx_file opens the file safely,
onnx_graph translates the operators; here the result becomes a Model: a chain of layers
when the graph is one (so the dense sheets, the decision map and training apply), a graph
otherwise."""

from __future__ import annotations

from pathlib import Path

from ..graph import Graph
from ..maps import Rearrange
from ..model import Activation, BatchNorm, Dense, Identity, Model, Rescaling, Source
from . import onnx_file
from .onnx_graph import Translation, check_operators

FORMAT = "ONNX"
CHAIN_LAYERS = (Dense, Activation, BatchNorm, Rescaling, Identity)
# what torch's exporters and skl2onnx ("ONNX(MLPClassifier)") call every graph: the file's
# name says more
GENERIC_NAMES = {"", "main_graph", "torch_jit", "torch-jit-export"}


def read(path: Path) -> Model:
    model = onnx_file.load_model(path)
    check_operators(model, path)
    arrays = onnx_file.initializers(model, path)
    translation = Translation(model, arrays, path)
    graph = translation.run()
    opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0)
    producer = " ".join(p for p in (model.producer_name, model.producer_version) if p)
    body = as_chain(graph) or Model.of_graph(graph)
    named = model.graph.name
    body.name = (
        path.name.split(".")[0] if named in GENERIC_NAMES or named.startswith("ONNX(") else named
    )
    body.class_names = translation.class_names
    made_by = f", written by {producer}" if producer else ""
    body.source = Source(str(path), f"{FORMAT} (opset {opset}{made_by})")
    return body


def as_chain(graph: Graph) -> Model | None:
    """The graph as a chain of vector layers, when it is one: one input, each node reading
    the one before, the last one the output. A leading flatten of the input is dropped (the
    input is then read flat, in the same order)."""
    if len(graph.inputs) != 1 or len(graph.outputs) != 1 or not graph.nodes:
        return None
    nodes, port = list(graph.nodes), graph.inputs[0]
    if len(port.shape) > 1:
        first = nodes[0].layer
        if not (isinstance(first, Rearrange) and first.op == "flatten"):
            return None
        nodes = nodes[1:]
    previous = graph.nodes[0].layer.name if len(port.shape) > 1 else port.name
    for node in nodes:
        if node.inputs != (previous,) or not isinstance(node.layer, CHAIN_LAYERS):
            return None
        previous = node.layer.name
    if graph.outputs != [previous] or not nodes:
        return None
    return Model(port.size, [node.layer for node in nodes], input_names=None)
