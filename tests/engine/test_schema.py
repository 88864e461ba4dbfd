"""The OOXML schema, as the Open XML SDK checks it (openxml-audit): every fixture workbook,
in each formula mode, with nothing found beyond tests/openxml_allowlist.json.

openxml-audit runs from its own venv (it brings lxml, which would change how openpyxl writes
in the test environment): $GATE2XLSX_OPENXML_AUDIT names its executable (.ci/run sets it),
else `openxml-audit` on PATH.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from conftest import FIXTURES, SAMPLES, _in_ci
from test_keras_fixtures import GOOD, load
from test_onnx_fixtures import MANIFEST as ONNX_MANIFEST
from test_onnx_fixtures import ONNX
from test_tensor_fixtures import FLAVOURS, entries

import gate2xlsx
from gate2xlsx.app.options import TrainingOptions

ALLOWLIST = json.loads((Path(__file__).parents[1] / "openxml_allowlist.json").read_text())
SAMPLE_MODELS = {"or": "or.hdf", "and": "and.hdf", "xor": "xor.h5"}


@pytest.fixture(scope="module")
def audit() -> str:
    found = os.environ.get("GATE2XLSX_OPENXML_AUDIT") or shutil.which("openxml-audit")
    if not found:
        if _in_ci():
            pytest.fail("openxml-audit is not installed: in CI the schema check must run")
        pytest.skip("openxml-audit is not installed (pip install openxml-audit in a venv)")
    return found


def findings(audit: str, folder: Path) -> list[dict]:
    out = subprocess.run(
        [audit, str(folder), "-r", "-o", "json", "-m", "0"], capture_output=True, text=True
    )
    reports = json.loads(out.stdout)
    return [{"file": Path(r["file"]).name, **e} for r in reports for e in r["errors"]]


def allowed(finding: dict) -> bool:
    return any(
        finding["part_uri"] == entry["part_uri"]
        and finding["node"] == entry["node"]
        and re.search(entry["description"], finding["description"])
        for entry in ALLOWLIST["findings"]
    )


def test_every_fixture_workbook_is_schema_valid(audit, tmp_path):
    for entry in GOOD:
        book = tmp_path / (entry["file"].replace("/", "__") + ".xlsx")
        gate2xlsx.write_workbook(load(entry), book)
    for stem, file in SAMPLE_MODELS.items():
        for mode in ("mmult", "sumproduct", "expanded"):
            book = tmp_path / f"{stem}_{mode}.xlsx"
            gate2xlsx.write_workbook(gate2xlsx.load(SAMPLES / file), book, formulas=mode)
    for case in ("xor_adam", "or_sigmoid1"):  # a Training sheet: its line chart, its switch
        start = FIXTURES / "training" / f"{case}.init.h5"
        model = gate2xlsx.load(start)
        gate2xlsx.write_workbook(
            model,
            tmp_path / f"{case}_training.xlsx",
            gate=case[:3].strip("_"),
            training=TrainingOptions(20, batch_size=2),
        )
    for flavour in FLAVOURS:  # graphs: grids, colour scales over several ranges, two outputs
        for entry in entries(flavour):
            model = gate2xlsx.load(FIXTURES / flavour / entry["files"][0])
            gate2xlsx.write_workbook(
                model, tmp_path / f"{flavour.replace('/', '_')}_{entry['name']}.xlsx"
            )
    for entry in ONNX_MANIFEST:  # PyTorch and scikit-learn: one file of each model
        gate2xlsx.write_workbook(gate2xlsx.load(ONNX / entry["files"][0]),
                                 tmp_path / f"onnx_{entry['name']}.xlsx")  # fmt: skip
    graphs = sum(len(entries(f)) for f in FLAVOURS) + len(ONNX_MANIFEST)
    assert len(list(tmp_path.glob("*.xlsx"))) == len(GOOD) + 11 + graphs
    found = findings(audit, tmp_path)
    assert [f for f in found if not allowed(f)][:5] == []


def test_the_validator_finds_what_it_should(audit, tmp_path):
    """Not a validator that passes everything: an inline string without a shared-strings
    table is reported, as it is on openpyxl's own files."""
    wb = openpyxl.Workbook()
    wb.active["A1"] = "inline"
    wb.save(tmp_path / "openpyxl.xlsx")
    assert findings(audit, tmp_path)


def test_every_allowlist_entry_says_why_and_where_it_is_shown(audit, tmp_path):
    openpyxl.Workbook().save(tmp_path / "default.xlsx")
    default = findings(audit, tmp_path)
    for entry in ALLOWLIST["findings"]:
        assert entry["why"] and entry["shown_on"]
        if entry["shown_on"] == "openpyxl default":
            assert any(allowed(f) and f["node"] == entry["node"] for f in default), entry
