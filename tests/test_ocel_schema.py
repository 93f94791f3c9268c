"""The OCEL 2.0 export passes the published JSON schema, and a process-mining tool (pm4py)
reads it and finds the seven-step closed loop in it (issue 13, point 9)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.cli import main
from sim.export.ocel import check_ocel

LOOP = [("report", "file"), ("file", "dispatch"), ("dispatch", "handle_start"),
        ("handle_start", "handle"), ("handle", "check_send"), ("check_send", "check"),
        ("check", "close")]
"""Report, file, dispatch, handle, check, close: the loop's steps as directly-follows pairs
on a case (registration and verification come before filing, evaluation after)."""


@pytest.fixture(scope="module")
def ocel_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("ocel") / "run"
    assert main(["run", "small-town", "--days", "3", "--out", str(run), "--quiet"]) == 0
    assert main(["export", str(run), "--format", "ocel"]) == 0
    return run / "ocel.json"


def test_the_export_passes_the_published_schema(ocel_file: Path) -> None:
    doc = json.loads(ocel_file.read_text(encoding="utf-8"))
    assert check_ocel(doc) == []
    assert any(a["name"] == "actor" for e in doc["events"] for a in e["attributes"])
    bad = {**doc, "events": [{**doc["events"][0], "attributes": [{"name": "actor",
                                                                  "value": 3}]}]}
    assert check_ocel(bad) == ["events/0/attributes/0/value: 3 is not of type 'string'"]


def test_pm4py_reads_it_and_discovers_the_loop(ocel_file: Path) -> None:
    pm4py = pytest.importorskip("pm4py")
    ocel = pm4py.read_ocel2_json(str(ocel_file))
    assert {"case", "problem", "department"} <= set(ocel.objects["ocel:type"])
    flat = pm4py.ocel_flattening(ocel, "case")
    dfg, _, _ = pm4py.discover_dfg(flat)
    for pair in LOOP:
        assert dfg.get(pair, 0) > 0, pair
