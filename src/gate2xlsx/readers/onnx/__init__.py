"""ONNX files (PyTorch's exporters, skl2onnx) -> Model. onnx_file opens the file safely,
onnx_graph translates the operators into the graph; here it becomes a Model, named and
sourced (a chain when the graph is one, Model.as_chain: the dense sheets, the decision map
and training then apply)."""

from __future__ import annotations

from pathlib import Path

from ...ir.model import Model, Source
from . import file as onnx_file
from .graph import Translation, check_operators

FORMAT = "ONNX"
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
    body = Model(graph)
    named = model.graph.name
    body.name = (
        path.name.split(".")[0] if named in GENERIC_NAMES or named.startswith("ONNX(") else named
    )
    body.class_names = translation.class_names
    made_by = f", written by {producer}" if producer else ""
    body.source = Source(str(path), f"{FORMAT} (opset {opset}{made_by})")
    return body
