"""CSV injection (issue 17, point 8): no CSV GridLoop writes has a text cell a spreadsheet
would run, by one rule (`sim.outputs.csvcells`) used by every writer.

Before: ``rejected.csv``, ``case_ids.csv`` and evaluate's CSVs wrote ``=cmd|' /C calc'!A0``,
``@SUM(1)`` and ``+SUM(...)`` as they came; only the console's gradebook escaped them.
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.cli import main
from sim.data.citymap import load_city, write_city_csv
from sim.data.scenario import SCENARIO_DIR
from sim.outputs.csvcells import FORMULA_START, restore_cell, safe_cell

EVIL = ["=cmd|' /C calc'!A0", "@SUM(1)", "+SUM(1,2)", "-2+3", "\t=1", "\r=1", "x\r=1+1"]


@pytest.mark.parametrize("value, written", [
    ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"), ("@SUM(1)", "'@SUM(1)"),
    ("+SUM(1)", "'+SUM(1)"), ("-2+3", "'-2+3"), ("\t=1", "'\t=1"), ("\r=1", "'\n=1"),
    ("x\r=1", "x\n=1"), ("x\r\n=1", "x\n=1"),
    ("-", "'-"), ("-3.5", "-3.5"), ("+1e5", "+1e5"), ("E05-01", "E05-01"), ("", ""),
    (-3, -3), (2.5, 2.5), (None, None),
])
def test_text_that_starts_like_a_formula_is_quoted_and_numbers_are_not(value, written):
    assert safe_cell(value) == written


@given(st.text(max_size=30))
def test_no_written_cell_runs_and_readers_get_the_text_back(text):
    cell = safe_cell(text)
    assert cell[:1] not in FORMULA_START or float(cell) == float(cell)   # only numbers
    assert "\r" not in cell
    if not text.startswith("'") and "\r" not in text:
        assert restore_cell(cell) == text


def cells(folder: Path) -> dict[str, list[str]]:
    """Every cell of every CSV under ``folder``, by file name."""
    out = {}
    for path in sorted(folder.rglob("*.csv")):
        with open(path, encoding="utf-8-sig", newline="") as f:
            out[path.name] = [c for row in csv.reader(f) for c in row]
    return out


def runs_nothing(found: dict[str, list[str]]) -> None:
    for name, values in found.items():
        bad = [c for c in values if c[:1] in FORMULA_START and safe_cell(c) != c]
        assert not bad, f"{name}: {bad}"


def test_every_csv_of_an_import_and_its_evaluation_is_safe(tmp_path, capsys):
    log = tmp_path / "log.csv"
    with open(log, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["service_request_id", "service_code", "requested_datetime", "status",
                    "agency_responsible", "grid_code", "channel", "closed_datetime"])
        for i, evil in enumerate(EVIL):
            w.writerow([evil, "E01-01", "2026-03-02T09:00:00", "closed", "+SUM(1)",
                        "110101001001001", "public", "2026-03-02T11:00:00"])
            w.writerow([f"R{i}", "E01-01", "2026-03-02T09:00:00", "closed", "sanitation",
                        "110101001001001", "public", "2026-03-02T11:00:00"])
        w.writerow(["R-bad", evil, "2026-03-02T09:00:00", "closed", "sanitation",
                    "110101001001001", "public", ""])                # rejected.csv
    out = tmp_path / "imp"
    assert main(["import-log", str(log), "--out", str(out)]) == 0
    assert main(["evaluate", str(out), "--quiet"]) == 0
    capsys.readouterr()
    found = cells(out)
    assert {"case_ids.csv", "rejected.csv", "departments.csv"} <= set(found)
    assert "'=cmd|' /C calc'!A0" in found["case_ids.csv"]
    assert "'+SUM(1)" in found["departments.csv"]
    runs_nothing(found)


def test_the_gradebooks_are_safe():
    from training.cohort import CohortReport, CohortRow, gradebook_csv
    from training.console.instructor import gradebook_csv as console_gradebook

    console = console_gradebook("=HYPERLINK(1)", [{
        "trainee": "@bob", "exercise_id": "+e", "finished": True, "decisions": 1,
        "sim_now": 60.0, "score": None, "letter": None}])
    row = CohortRow(trainee="=bob", exercise="@ex", seed=1, score=50.0, grade="-", accuracy=0,
                    timeliness=0, outcome=0, decisions=1, deviations=0, critical=0,
                    missed=0, top_mistake="+SUM(1)")
    cohort = gradebook_csv(CohortReport(rows=(row,), mean=None, median=None, stdev=None,
                                        low=None, high=None, grades={}, histogram=(),
                                        mistakes=()))
    for text in (console, cohort):
        values = [c for r in csv.reader(text.splitlines()) for c in r]
        assert sum(v.startswith("'") for v in values) >= 3
        runs_nothing({"gradebook": values})


def test_the_open311_export_is_safe(tmp_path, monkeypatch):
    import pandas as pd

    from sim.export import open311

    evil = pd.DataFrame({"service_request_id": EVIL, "agency_responsible": EVIL[::-1],
                         "lat": [-33.5] * len(EVIL)})
    monkeypatch.setattr(open311, "open311_table", lambda run, **kw: evil)
    path = open311.write_open311(None, tmp_path / "open311.csv")   # type: ignore[arg-type]
    found = cells(tmp_path)
    assert "-33.5" in found[path.name]                     # numbers stay numbers
    runs_nothing(found)


def test_a_grid_table_written_with_formula_like_names_reads_back_the_same(tmp_path):
    city = load_city(SCENARIO_DIR / "cities" / "small-town.csv", "990101")
    city = dataclasses.replace(
        city, subdistrict_names=("=Old Town", *city.subdistrict_names[1:]),
        community_names=("-", *city.community_names[1:]))
    path = write_city_csv(city, tmp_path / "town.csv")
    assert "'=Old Town" in path.read_text(encoding="utf-8")
    again = load_city(path, "990101")
    assert again.subdistrict_names[0] == "=Old Town" and again.community_names[0] == "-"
