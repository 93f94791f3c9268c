"""Hostile data files (issue 17, points 1 and 11): case logs, event logs, maps, rule formulas.

Each case was a traceback or a near-hang in the probe: a case dated 9999-12-31 or 1600
(``evaluate`` took 578 s on a 41-case log), GeoJSON nested 100,000 deep and a formula of
1,000 terms (RecursionError), ``grades: {A: .inf}`` accepted.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.errors import InputError
from sim.geo import read_geojson
from sim.ingest.caselog import read_caselog
from sim.rules import load_rules
from sim.rules.expr import parse
from sim.rules.syntax import MAX_OPERATORS, FormulaError

COLUMNS = ["service_request_id", "service_code", "requested_datetime", "status",
           "agency_responsible", "grid_code", "channel", "closed_datetime"]


def caselog(path: Path, dates: list[tuple[str, str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for i, (requested, closed) in enumerate(dates):
            w.writerow([f"R{i}", "E01-01", requested, "closed", "sanitation",
                        "110101001001001", "public", closed])
    return path


GOOD = [("2026-03-02T09:00:00", "2026-03-02T11:00:00")] * 39


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("requested, closed, column", [
    ("1600-01-01T09:00:00", "1600-01-02T09:00:00", "requested_datetime"),
    ("2026-03-03T09:00:00", "9999-12-31T09:00:00", "closed_datetime"),
    ("2026-02-30T09:00:00", "", "requested_datetime"),
    ("2026-03-03T09:00:00", "9999-12-31T23:00:00+08:00", "closed_datetime"),  # with a zone
])
def test_case_dates_outside_the_range_are_rejected_rows_with_their_line(tmp_path, requested,
                                                                         closed, column):
    log = read_caselog(caselog(tmp_path / "log.csv", [*GOOD, (requested, closed)]))
    assert len(log.cases) == 39
    [bad] = log.rejected
    assert (bad.line, bad.column) == (41, column)
    with pytest.raises(InputError) as e:
        read_caselog(tmp_path / "log.csv", strict=True)
    assert (e.value.line, e.value.path) == (41, column)


def test_a_log_of_far_apart_dates_imports_and_evaluate_refuses_it_at_once(tmp_path, capsys):
    """1901 and 2026 are both real dates; 125 years of months is no evaluation (578 s)."""
    path = caselog(tmp_path / "log.csv", [*GOOD, ("1901-01-01T09:00:00",
                                                  "1901-01-02T09:00:00")])
    code, _, err = cli(capsys, "import-log", str(path), "--out", str(tmp_path / "imp"),
                       "--scenario", "dongcheng")
    assert code == 0, err
    code, out, err = cli(capsys, "evaluate", str(tmp_path / "imp"), "--quiet")
    assert code == 2 and out == ""
    assert err.startswith(f"gridloop: {tmp_path / 'imp' / 'summary.json'}: days: "
                          "expected 1 to 3,660 days")


def test_evaluate_refuses_an_event_log_whose_times_span_centuries(tmp_path, capsys):
    import pyarrow.parquet as pq

    path = caselog(tmp_path / "log.csv", GOOD)
    assert cli(capsys, "import-log", str(path), "--out", str(tmp_path / "imp"))[0] == 0
    events = tmp_path / "imp" / "events.parquet"
    table = pq.read_table(events)
    times = table.column("time_min").to_numpy().copy()
    times[-1] = 400 * 365.25 * 1440.0                # a row four centuries on
    pq.write_table(table.set_column(table.schema.get_field_index("time_min"), "time_min",
                                    [times]), events)
    (tmp_path / "imp" / "summary.json").unlink()
    code, _, err = cli(capsys, "evaluate", str(events), "--quiet")
    assert code == 2 and err.startswith(f"gridloop: {events}: time: expected event times "
                                        "spanning at most 3,660 days")


def test_evaluate_refuses_a_start_date_out_of_range(tmp_path, capsys):
    path = caselog(tmp_path / "log.csv", GOOD)
    assert cli(capsys, "import-log", str(path), "--out", str(tmp_path / "imp"))[0] == 0
    code, _, err = cli(capsys, "evaluate", str(tmp_path / "imp"), "--start-date",
                       "9999-12-31", "--quiet")
    assert code == 2 and "--start-date: start_date: expected a start date from" in err
    summary = tmp_path / "imp" / "summary.json"
    data = json.loads(summary.read_text())
    summary.write_text(json.dumps(dict(data, start_date="2026-02-30")))
    code, _, err = cli(capsys, "evaluate", str(tmp_path / "imp"), "--quiet")
    assert code == 2 and f"{summary}: start_date: expected a date" in err


@pytest.mark.parametrize("doc", [
    '{"type": "FeatureCollection", "features": ' + "[" * 100_000 + "]" * 100_000 + "}",
    '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
    '{"code": ' + "[" * 900 + "]" * 900 + '}, "geometry": {"type": "Polygon", '
    '"coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}}]}',
])
def test_geojson_nested_deep_is_a_located_error(tmp_path, doc):
    path = tmp_path / "deep.geojson"
    path.write_text(doc, encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_geojson(path)
    assert e.value.file == str(path)


def test_a_formula_of_a_thousand_terms_is_refused_at_its_column(tmp_path):
    with pytest.raises(FormulaError) as e:
        parse("+".join(["1"] * 1000))
    assert e.value.column == 2 * MAX_OPERATORS + 2
    assert parse("+".join(["x"] * (MAX_OPERATORS + 1))) is not None   # the ceiling itself
    rules = tmp_path / "r.yaml"
    rules.write_text("name: r\nunits:\n  departments:\n    indicators:\n      - name: a\n"
                     "        formula: " + "+".join(["x"] * 1000) + "\n        weight: 1\n",
                     encoding="utf-8")
    with pytest.raises(InputError) as e2:
        load_rules(rules)
    assert (e2.value.line, e2.value.path) == (6, "units.departments.indicators.0.formula")
    assert "more than 200 operators" in e2.value.message and len(str(e2.value)) < 400


@pytest.mark.parametrize("grades", ["{A: .inf, B: 0}", "{A: 90, B: .nan}", "{A: -.inf}"])
def test_rule_grades_must_be_finite(tmp_path, grades):
    rules = tmp_path / "r.yaml"
    rules.write_text(f"name: r\ngrades: {grades}\nunits:\n  departments:\n    indicators:\n"
                     "      - {name: a, formula: closed, weight: 1}\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_rules(rules)
    assert (e.value.line, e.value.path) == (2, "grades")
    assert "finite number for grade" in e.value.message


def test_evaluation_of_a_formula_at_the_ceiling_still_runs():
    from sim.rules.expr import evaluate

    node = parse("+".join(["x"] * (MAX_OPERATORS + 1)))
    out = evaluate(node, {"x": np.arange(3.0)}, 3)
    assert out.tolist() == [0.0, MAX_OPERATORS + 1.0, 2 * (MAX_OPERATORS + 1.0)]
