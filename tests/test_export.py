"""Tests of `gridloop export`: the Open311 case log against the GeoReport v2 service request
fields, and the OCEL 2.0 JSON log against the structure the OCEL 2.0 JSON schema requires."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.errors import GridLoopError, InputError
from sim.export.ocel import ocel_document
from sim.export.open311 import CASELOG_FIELDS, OPEN311_FIELDS
from sim.export.source import clock_times, read_run

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "scenarios" / "examples" / "synthetic-district.geojson"

# Open311 GeoReport v2, GET service requests: the fields of a service request, in order.
GEOREPORT_V2_FIELDS = (
    "service_request_id", "status", "status_notes", "service_name", "service_code",
    "description", "agency_responsible", "service_notice", "requested_datetime",
    "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat", "long",
    "media_url")
# GeoReport v2 date-times: ISO 8601 with the time zone (Z or an offset) included.
ISO_WITH_ZONE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)")

# The structure the OCEL 2.0 JSON schema requires (ocel-standard.org, "OCEL 2.0 JSON").
_STRING = {"type": "string"}
_RELATIONSHIP = {"type": "object", "required": ["objectId", "qualifier"],
                 "properties": {"objectId": _STRING, "qualifier": _STRING}}
_TYPE = {"type": "object", "required": ["name", "attributes"], "properties": {
    "name": _STRING,
    "attributes": {"type": "array", "items": {
        "type": "object", "required": ["name", "type"], "properties": {
            "name": _STRING,
            "type": {"type": "string",
                     "enum": ["string", "time", "integer", "float", "boolean"]}}}}}}
OCEL2_SCHEMA = {"type": "object", "required": ["objectTypes", "eventTypes", "objects", "events"],
                "properties": {
    "objectTypes": {"type": "array", "items": _TYPE},
    "eventTypes": {"type": "array", "items": _TYPE},
    "objects": {"type": "array", "items": {
        "type": "object", "required": ["id", "type"], "properties": {
            "id": _STRING, "type": _STRING,
            "attributes": {"type": "array", "items": {
                "type": "object", "required": ["name", "value", "time"],
                "properties": {"name": _STRING, "time": {"type": "string",
                                                          "format": "date-time"}}}},
            "relationships": {"type": "array", "items": _RELATIONSHIP}}}},
    "events": {"type": "array", "items": {
        "type": "object", "required": ["id", "type", "time"], "properties": {
            "id": _STRING, "type": _STRING, "time": {"type": "string", "format": "date-time"},
            "attributes": {"type": "array", "items": {
                "type": "object", "required": ["name", "value"],
                "properties": {"name": _STRING}}},
            "relationships": {"type": "array", "items": _RELATIONSHIP}}}}}}


def schema_errors(value: Any, schema: dict, where: str = "$") -> list[str]:
    """The subset of JSON Schema used above: type, required, properties, items, enum and
    format date-time."""
    kind = schema.get("type")
    ok = {"object": isinstance(value, dict), "array": isinstance(value, list),
          "string": isinstance(value, str), None: True}[kind]
    if not ok:
        return [f"{where}: expected {kind}, got {type(value).__name__}"]
    errors = []
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: {value!r} not in {schema['enum']}")
    if schema.get("format") == "date-time" and not ISO_WITH_ZONE.fullmatch(value):
        errors.append(f"{where}: {value!r} is not a date-time with a zone")
    if kind == "object":
        errors += [f"{where}: missing {k!r}" for k in schema.get("required", ()) if k not in value]
        for k, sub in schema.get("properties", {}).items():
            if k in value:
                errors += schema_errors(value[k], sub, f"{where}.{k}")
    if kind == "array" and "items" in schema:
        for i, item in enumerate(value):
            errors += schema_errors(item, schema["items"], f"{where}[{i}]")
            if len(errors) > 20:
                break
    return errors


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """Three days of the example map's starter scenario, written as a run folder."""
    from sim.data.scenario import load_scenario
    from sim.run import simulate, write_run

    base = tmp_path_factory.mktemp("export")
    assert main(["import-map", str(EXAMPLE), "--out", str(base / "pilot")]) == 0
    result = simulate(load_scenario(base / "pilot" / "synthetic-district.yaml", days=3))
    write_run(result, base / "run", figure=False)
    return base / "run"


@pytest.fixture(scope="module")
def open311(run_dir: Path) -> pd.DataFrame:
    out = run_dir / "case-log.csv"
    assert main(["export", str(run_dir), "--format", "open311", "--out", str(out)]) == 0
    with open(out, encoding="utf-8", newline="") as f:
        header = next(csv.reader(f))
    assert tuple(header) == GEOREPORT_V2_FIELDS + CASELOG_FIELDS
    return pd.read_csv(out, dtype=str, keep_default_na=False)


def test_open311_columns_are_the_georeport_v2_fields_then_the_case_log_ones(open311) -> None:
    assert OPEN311_FIELDS == GEOREPORT_V2_FIELDS
    assert list(open311.columns[:len(GEOREPORT_V2_FIELDS)]) == list(GEOREPORT_V2_FIELDS)


def test_open311_has_one_row_per_case_with_its_fate(open311, run_dir: Path) -> None:
    cases = pd.read_parquet(run_dir / "cases.parquet")
    events = pd.read_parquet(run_dir / "events.parquet")
    fixed_on_spot = cases["state"] == "self_handled"
    assert fixed_on_spot.any()  # left out unless asked for
    assert open311["service_request_id"].tolist() == [
        str(c) for c in sorted(cases.loc[~fixed_on_spot, "case"])]
    assert set(open311["status"]) <= {"open", "closed", "voided"}
    counts = open311["status"].value_counts()
    steps = events["step"].astype(str)
    closed_in_log = (steps == "close").sum()
    voided_in_log = (steps == "void").sum() + (steps == "merge").sum()
    assert counts.get("closed", 0) == closed_in_log
    assert counts.get("voided", 0) == voided_in_log
    assert counts.get("open", 0) == (~fixed_on_spot).sum() - closed_in_log - voided_in_log
    # a closed case has a closing time, and only a closed one
    assert ((open311["closed_datetime"] != "") == (open311["status"] == "closed")).all()


def test_open311_date_times_carry_the_zone_and_follow_the_lifecycle(open311,
                                                                    run_dir: Path) -> None:
    columns = ["requested_datetime", "filed_datetime", "dispatched_datetime",
               "handled_datetime", "checked_datetime", "closed_datetime"]
    for column in [*columns, "updated_datetime", "expected_datetime"]:
        filled = open311[column][open311[column] != ""]
        assert filled.map(lambda t: bool(ISO_WITH_ZONE.fullmatch(t))).all(), column
    times = open311[columns].map(lambda t: dt.datetime.fromisoformat(t) if t else None)
    for _, row in times.iterrows():
        seen = [t for t in row if t is not None]
        assert seen == sorted(seen)
    # time 0 is the run's start_date 00:00 local, in +08:00
    events = pd.read_parquet(run_dir / "events.parquet")
    first = events[events["step"] == "report"].iloc[0]
    start = json.loads((run_dir / "summary.json").read_text())["start_date"]
    expected = dt.datetime.fromisoformat(start) + dt.timedelta(
        seconds=round(first["time_min"] * 60))
    got = open311.loc[open311["service_request_id"] == str(first["case"]),
                      "requested_datetime"].item()
    assert got == expected.strftime("%Y-%m-%dT%H:%M:%S+08:00")


def test_open311_fills_what_the_simulation_knows(open311) -> None:
    closed = open311[open311["status_notes"].str.contains("independent check")]
    assert (closed["service_name"] != "").all() and (closed["agency_responsible"] != "").all()
    assert (closed["expected_datetime"] != "").all()
    assert set(open311["channel"]) <= {"inspector", "public"}
    assert (open311["grid_code"] == open311["address_id"]).all()
    lat, lon = open311["lat"].astype(float), open311["long"].astype(float)
    # the example map lies around (116.006, 40.004), about 1 km across
    assert lat.between(39.99, 40.02).all() and lon.between(115.99, 116.02).all()
    assert (open311[["zipcode", "media_url"]] == "").all().all()


def test_open311_can_include_the_on_the_spot_fixes(run_dir: Path) -> None:
    from sim.export.open311 import open311_table

    table = open311_table(read_run(run_dir), self_handled=True)
    spot = table[table["status_notes"].str.startswith("fixed on the spot")]
    n_spot = (pd.read_parquet(run_dir / "events.parquet")["step"] == "self_handle").sum()
    assert len(spot) == n_spot > 0
    assert (spot["status"] == "closed").all() and (spot["agency_responsible"] == "").all()
    assert (spot["closed_datetime"] == spot["handled_datetime"]).all()
    assert (spot["channel"] == "inspector").all()


def test_clock_times_round_to_seconds_and_leave_nan_empty() -> None:
    out = clock_times(np.array([0.0, 61.51, np.nan, 1440.0]), dt.datetime(2026, 3, 2), "Z")
    assert out.tolist() == ["2026-03-02T00:00:00Z", "2026-03-02T01:01:31Z", "",
                            "2026-03-03T00:00:00Z"]


@pytest.fixture(scope="module")
def ocel(run_dir: Path) -> dict:
    out = run_dir / "log.ocel.json"
    assert main(["export", str(run_dir), "--format", "ocel", "--out", str(out)]) == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc == ocel_document(read_run(run_dir))  # the streamed file is the same document
    return doc


def test_ocel_matches_the_ocel2_json_schema(ocel) -> None:
    assert schema_errors(ocel, OCEL2_SCHEMA) == []


def test_ocel_references_resolve_and_attributes_are_declared(ocel, run_dir: Path) -> None:
    object_types = {t["name"]: {a["name"]: a["type"] for a in t["attributes"]}
                    for t in ocel["objectTypes"]}
    event_types = {t["name"]: {a["name"]: a["type"] for a in t["attributes"]}
                   for t in ocel["eventTypes"]}
    assert set(object_types) == {"case", "problem", "department", "inspector"}
    ids = [o["id"] for o in ocel["objects"]]
    assert len(ids) == len(set(ids))
    assert len({e["id"] for e in ocel["events"]}) == len(ocel["events"])
    known = set(ids)
    # values are strings (the published schema says so) that read as their declared type
    reads = {"string": str, "integer": int, "time": dt.datetime.fromisoformat, "float": float,
             "boolean": lambda v: {"true": True, "false": False}[v]}
    for o in ocel["objects"]:
        assert o["type"] in object_types
        for a in o["attributes"]:
            assert isinstance(a["value"], str)
            reads[object_types[o["type"]][a["name"]]](a["value"])
        assert all(r["objectId"] in known for r in o["relationships"])
    for e in ocel["events"]:
        declared = event_types[e["type"]]
        for a in e["attributes"]:
            assert isinstance(a["value"], str)
            reads[declared[a["name"]]](a["value"])
        assert all(r["objectId"] in known for r in e["relationships"])
        assert sum(r["qualifier"] == "case" for r in e["relationships"]) == 1
    events = pd.read_parquet(run_dir / "events.parquet")
    assert len(ocel["events"]) == len(events)
    assert sorted(event_types) == sorted(set(events["step"].astype(str)))
    times = [dt.datetime.fromisoformat(e["time"]) for e in ocel["events"]]
    assert times == sorted(times)  # the log's order is time order


def test_ocel_objects_cover_cases_departments_inspectors_and_problems(ocel,
                                                                      run_dir: Path) -> None:
    cases = pd.read_parquet(run_dir / "cases.parquet")
    by_type: dict[str, list[dict]] = {}
    for o in ocel["objects"]:
        by_type.setdefault(o["type"], []).append(o)
    assert len(by_type["case"]) == len(cases)
    with_problem = cases[cases["problem"] >= 0]
    concerns = {o["id"]: [r["objectId"] for r in o["relationships"]] for o in by_type["case"]}
    for case, problem in zip(with_problem["case"], with_problem["problem"], strict=True):
        assert concerns[f"case-{case}"] == [f"problem-{problem}"]
    handled = {r["objectId"] for e in ocel["events"] if e["type"] == "handle"
               for r in e["relationships"] if r["qualifier"] == "handled by"}
    assert handled and handled <= {o["id"] for o in by_type["department"]}
    checks = [e for e in ocel["events"] if e["type"] == "check"]
    assert checks and all(any(r["qualifier"] == "checked by" for r in e["relationships"])
                          for e in checks)
    assert {o["id"].split("-")[0] for o in by_type["inspector"]} == {"inspector"}


def test_export_without_a_scenario_leaves_names_and_places_empty(run_dir: Path,
                                                                 tmp_path: Path) -> None:
    summary = json.loads((run_dir / "summary.json").read_text())
    folder = tmp_path / "bare"
    folder.mkdir()
    for name in ("cases.parquet", "events.parquet"):
        (folder / name).write_bytes((run_dir / name).read_bytes())
    with pytest.raises(InputError, match="start_date"):
        read_run(folder)
    run = read_run(folder, start_date=dt.date.fromisoformat(summary["start_date"]),
                   utc_offset="Z")
    assert run.subclass_names == {} and run.problems is None
    doc = ocel_document(run)
    assert schema_errors(doc, OCEL2_SCHEMA) == []
    assert doc["events"][0]["time"].endswith("Z")


def test_export_errors_are_one_line(run_dir: Path, tmp_path: Path, capsys) -> None:
    assert main(["export", str(tmp_path), "--format", "ocel"]) == 2
    assert "cases.parquet: no such file" in capsys.readouterr().err
    with pytest.raises(GridLoopError, match="UTC offset"):
        read_run(run_dir, utc_offset="8")
    assert main(["export", str(run_dir), "--format", "open311", "--scenario",
                 "small-town"]) == 2
    assert "another city than the run" in capsys.readouterr().err


def test_the_schema_check_itself_catches_broken_logs(ocel) -> None:
    broken = json.loads(json.dumps(ocel))
    del broken["events"][0]["time"]
    broken["objects"][0]["relationships"][0:0] = [{"objectId": 7, "qualifier": "x"}]
    broken["eventTypes"][0]["attributes"][0]["type"] = "text"
    errors = schema_errors(broken, OCEL2_SCHEMA)
    assert any("events[0]: missing 'time'" in e for e in errors)
    assert any("objects[0].relationships[0].objectId: expected string" in e for e in errors)
    assert any("'text' not in" in e for e in errors)
    assert schema_errors({"objects": []}, OCEL2_SCHEMA)[0] == "$: missing 'objectTypes'"


# --- round trip through the case-log importer (sim.ingest) --------------------------------------

def test_open311_export_reads_back_as_a_case_log(open311, run_dir: Path) -> None:
    from sim.data.scenario import load_scenario
    from sim.data.taxonomy import load_handbook
    from sim.ingest.caselog import read_caselog

    sc = load_scenario(json.loads((run_dir / "summary.json").read_text())["scenario_file"])
    handbook = load_handbook(sc.resolve(sc.handbook.file))
    log = read_caselog(run_dir / "case-log.csv",
                       subclasses={s.code: s.department for s in handbook.subclasses})
    assert log.rejected == []                       # every exported row is a good case row
    assert len(log.cases) == len(open311)
    assert log.cases["status"].value_counts().to_dict() == \
        open311["status"].value_counts().to_dict()
    back = log.cases.set_index("id")
    for row in open311.sample(20, random_state=1).itertuples():
        case = back.loc[row.service_request_id]
        assert case["grid"] == row.grid_code and case["subclass"] == row.service_code
        assert case["channel"] == row.channel
        assert case["requested_datetime"] == pd.Timestamp(row.requested_datetime[:19])
        if row.status == "closed":
            assert case["department"] == row.agency_responsible
            assert case["closed_datetime"] == pd.Timestamp(row.closed_datetime[:19])


def test_calibrate_builds_its_city_from_a_map(open311, run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "fitted" / "pilot.yaml"
    assert main(["calibrate", str(run_dir / "case-log.csv"), "--map", str(EXAMPLE),
                 "--out", str(out)]) == 0
    from sim.data.citymap import load_city
    from sim.data.scenario import load_scenario

    sc = load_scenario(out)
    city = load_city(sc.resolve(sc.city.grids_file), sc.city.district_code)
    assert city.n_grids == 100 and city.geometry is not None
    assert (sc.resolve(sc.city.grids_file).with_name(
        Path(sc.city.grids_file).stem + ".shapes.json")).exists()
