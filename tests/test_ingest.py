"""Bringing a city's data in: case logs (bad rows located, none dropped silently), their event
logs (legal, and evaluated like the run they came from), handbook CSVs, and the report of a
run against a log."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.data.scenario import SCENARIO_DIR, load_scenario
from sim.data.taxonomy import load_handbook
from sim.engine.eventlog import Step, is_legal_sequence
from sim.errors import InputError
from sim.ingest.caselog import CASELOG_COLUMNS, read_caselog, write_rejected
from sim.ingest.convert import caselog_events, write_event_log
from sim.ingest.fromrun import run_caselog, write_caselog
from sim.ingest.handbook_csv import DEFAULTS, import_handbook
from sim.run import simulate, write_run

ROOT = Path(__file__).resolve().parent.parent
HANDBOOK = load_handbook(SCENARIO_DIR / "handbook" / "standard.yaml")
DEPARTMENT_OF = {s.code: s.department for s in HANDBOOK.subclasses}


@pytest.fixture(scope="module")
def town_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten days of the small town, written as a run folder."""
    out = tmp_path_factory.mktemp("town") / "run"
    write_run(simulate(load_scenario("small-town", days=10, seed=11)), out, figure=False)
    return out


@pytest.fixture(scope="module")
def town_log(town_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("log") / "caselog.csv"
    write_caselog(run_caselog(town_run), path)
    return path


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(CASELOG_COLUMNS) + ["description"])
        w.writeheader()
        for r in rows:
            w.writerow(r)
    return path


def _good(i: int, **change: str) -> dict[str, str]:
    row = {"service_request_id": f"R{i}", "service_code": "E01-01",
           "requested_datetime": "2026-03-02T09:00:00", "status": "closed",
           "agency_responsible": "sanitation", "grid_code": "990101001001001",
           "channel": "public", "dispatched_datetime": "2026-03-02T09:10:00",
           "closed_datetime": "2026-03-02T11:00:00", "description": "bins overflowing"}
    row.update(change)
    return row


BAD_ROWS = [  # (change, column at fault)
    ({"grid_code": "99010100100100"}, "grid_code"),
    ({"service_code": "E1-01"}, "service_code"),
    ({"service_code": "E99-99"}, "service_code"),            # not in the handbook
    ({"requested_datetime": "02/03/2026 09:00"}, "requested_datetime"),
    ({"closed_datetime": "2026-03-02T08:00:00"}, "closed_datetime"),  # before dispatch
    ({"status": "done"}, "status"),
    ({"status": "open"}, "status"),                           # open, yet closed_datetime
    ({"closed_datetime": ""}, "closed_datetime"),             # closed, no closing time
    ({"channel": "pigeon"}, "channel"),
    ({"lat": "123.4"}, "lat"),
    ({"service_request_id": "R0"}, "service_request_id"),     # duplicate id
]


def test_every_bad_row_is_set_aside_with_its_line_column_and_reason(tmp_path: Path) -> None:
    rows = [_good(0)] + [_good(i + 1, **change) for i, (change, _) in enumerate(BAD_ROWS)]
    rows.append(_good(99))
    log = read_caselog(_write(tmp_path / "log.csv", rows), subclasses=DEPARTMENT_OF)
    assert list(log.cases["id"]) == ["R0", "R99"]
    assert [(j.line, j.column) for j in log.rejected] == [
        (i + 3, column) for i, (_, column) in enumerate(BAD_ROWS)]
    assert len(log.cases) + len(log.rejected) == len(rows)   # nothing dropped silently
    out = write_rejected(log, tmp_path / "rejected.csv")
    table = pd.read_csv(out, dtype=str)
    assert list(table["line"].astype(int)) == [j.line for j in log.rejected]
    assert "got '99010100100100'" in table["reason"].iloc[0]
    assert table["description"].iloc[0] == "bins overflowing"  # the row as read


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.none(), st.sampled_from(range(len(BAD_ROWS) - 1))),
                min_size=1, max_size=25))
def test_any_mix_of_rows_splits_exactly_into_cases_and_located_rejections(
        tmp_path: Path, plan: list[int | None]) -> None:
    # None: a good row; k: a row with the k-th mistake (the duplicate-id one is left out,
    # since it depends on order). Good and bad rows, in any order, are all accounted for.
    rows = [_good(i) if k is None else _good(i, **BAD_ROWS[k][0]) for i, k in enumerate(plan)]
    if all(k is not None for k in plan):
        rows.append(_good(len(plan)))
        plan = [*plan, None]
    log = read_caselog(_write(tmp_path / "mix.csv", rows), subclasses=DEPARTMENT_OF)
    assert list(log.cases["id"]) == [f"R{i}" for i, k in enumerate(plan) if k is None]
    assert [(j.line, j.column) for j in log.rejected] == [
        (i + 2, BAD_ROWS[k][1]) for i, k in enumerate(plan) if k is not None]


def test_strict_stops_at_the_first_bad_row_with_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "log.csv", [_good(0), _good(1, channel="pigeon")])
    with pytest.raises(InputError) as e:
        read_caselog(path, subclasses=DEPARTMENT_OF, strict=True)
    assert (e.value.file, e.value.line, e.value.path) == (str(path), 3, "channel")
    assert "expected inspector or public" in str(e.value)


def test_missing_column_and_no_good_rows_are_clear_errors(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("service_request_id,service_code,requested_datetime\nR1,E01-01,2026-03-02\n")
    with pytest.raises(InputError, match="grid_code"):
        read_caselog(path)
    bad = _write(tmp_path / "bad.csv", [_good(0, grid_code="1")])
    with pytest.raises(InputError, match="none good"):
        read_caselog(bad)


def test_rows_of_another_district_are_rejected_not_dropped(tmp_path: Path) -> None:
    rows = [_good(i) for i in range(3)] + [_good(9, grid_code="110101001001001")]
    log = read_caselog(_write(tmp_path / "log.csv", rows))
    assert len(log.cases) == 3
    assert [(j.line, j.column) for j in log.rejected] == [(5, "grid_code")]


def test_cli_prints_the_count_and_writes_the_rejected_file(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture) -> None:
    path = _write(tmp_path / "log.csv", [_good(0), _good(1, status="done"), _good(2)])
    assert main(["import-log", str(path), "--out", str(tmp_path / "ev")]) == 0
    out = capsys.readouterr().out
    assert "1 rows rejected" in out and ":3: status:" in out
    assert (tmp_path / "ev" / "rejected.csv").exists()
    assert main(["import-log", str(path), "--out", str(tmp_path / "ev2"), "--strict"]) == 2
    assert ":3: status: expected open, closed or voided" in capsys.readouterr().err


def test_a_log_without_lifecycle_columns_still_gives_legal_cases(tmp_path: Path) -> None:
    rows = [_good(0, dispatched_datetime=""), _good(1, status="open", closed_datetime=""),
            _good(2, status="voided", closed_datetime="", dispatched_datetime=""),
            _good(3, status="open", closed_datetime="", dispatched_datetime="")]
    imported = caselog_events(read_caselog(_write(tmp_path / "l.csv", rows)), HANDBOOK)
    ev = imported.events
    steps = {c: list(ev["step"][ev["case"] == c]) for c in range(4)}
    assert steps[0] == [Step.REPORT, Step.FILE, Step.DISPATCH, Step.HANDLE_START, Step.HANDLE,
                        Step.CLOSE]
    assert steps[1] == [Step.REPORT, Step.FILE, Step.DISPATCH]   # open, being handled
    assert steps[2] == [Step.REPORT, Step.VOID]
    # open with no filing or dispatch time: filed and dispatched at the report, as a case of
    # the log was (it used to stay a lone report and vanish from every count, issue 13)
    assert steps[3] == [Step.REPORT, Step.FILE, Step.DISPATCH]
    assert all(is_legal_sequence(s) for s in steps.values())


def test_handling_deadline_counts_working_time(tmp_path: Path) -> None:
    # E01-01's limit is 4 working hours; dispatched Friday 16:00, the day ends 16:30:
    # 30 min on Friday, 3.5 h from Monday 08:30 -> due Monday 12:00. Time 0 is the log's
    # first day, Friday 00:00.
    rows = [_good(0, requested_datetime="2026-03-06T15:50:00",
                  dispatched_datetime="2026-03-06T16:00:00",
                  closed_datetime="2026-03-09T13:00:00")]
    ev = caselog_events(read_caselog(_write(tmp_path / "l.csv", rows)), HANDBOOK).events
    dispatch = ev[ev["step"] == Step.DISPATCH][0]
    assert dispatch["deadline"] == pytest.approx((3 * 24 + 12) * 60.0)
    close = ev[ev["step"] == Step.CLOSE][0]
    assert close["outcome"] == 10  # overdue: handled at 13:00 Monday


def test_a_run_exported_as_a_log_imports_to_the_same_measures(town_run: Path,
                                                                town_log: Path,
                                                                tmp_path: Path) -> None:
    log = read_caselog(town_log, subclasses=DEPARTMENT_OF)
    assert not log.rejected
    imported = caselog_events(log, HANDBOOK, calendar=load_scenario("small-town").calendar)
    ev = imported.events
    assert np.all(np.diff(ev["time"]) >= 0)
    order = np.argsort(ev["case"], kind="stable")
    cases, starts = np.unique(ev["case"][order], return_index=True)
    for steps in np.split(ev["step"][order], starts[1:]):
        assert is_legal_sequence(steps)
    run_cases = pd.read_parquet(town_run / "cases.parquet")
    filed = run_cases[run_cases["t_file"].notna()]
    assert len(cases) == int(run_cases["state"].isin(["closed", "open", "voided"]).sum())
    write_event_log(imported, tmp_path / "ev", source=str(town_log))
    assert main(["evaluate", str(tmp_path / "ev"), "--quiet"]) == 0
    league = pd.read_csv(tmp_path / "ev" / "evaluation" / "departments.csv")
    assert league.set_index("name")["filed"].sum() == len(filed)


def test_validate_against_a_run_and_its_own_log(town_run: Path, town_log: Path,
                                                tmp_path: Path) -> None:
    out = tmp_path / "val"
    assert main(["validate-against", str(town_log), str(town_run), "--out", str(out)]) == 0
    ttc = pd.read_csv(out / "time_to_close_quantiles.csv").set_index("side")
    assert ttc.loc["log", "n"] == ttc.loc["run", "n"]
    assert ttc.loc["log", "p50"] == pytest.approx(ttc.loc["run", "p50"], abs=0.01)
    head = pd.read_csv(out / "headline.csv").set_index("measure")
    assert head.loc["KS distance (hours to close, cut at the horizon)", "log"] < 0.01
    verdicts = pd.read_csv(out / "verdicts.csv")
    assert (verdicts["verdict"] == "PASS").all()   # a run against itself passes everything
    on_time = pd.read_csv(out / "on_time_by_department.csv")
    assert (on_time["handled_log"] == on_time["handled_run"]).all()
    assert np.allclose(on_time["rate_log"], on_time["rate_run"], atol=0.05)
    arrivals = pd.read_csv(out / "arrival_profile.csv")
    assert np.allclose(arrivals["log"], arrivals["run"])
    deps = pd.read_csv(out / "evaluation_departments.csv")
    assert (deps["filed_log"] == deps["filed_run"]).all()
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count("<svg") == 3
    # nothing is fetched when the page opens (xmlns URIs in the SVGs are names, not fetches)
    remote = r"""(src|href)\s*=\s*["']?(https?:)?//|url\(\s*["']?(https?:)?//"""
    assert not re.search(remote + "|<link|<script|@import", html, re.IGNORECASE)


def test_validate_against_a_different_run_shows_the_gap(town_log: Path, tmp_path: Path) -> None:
    slow = load_scenario("small-town", days=10, seed=11,
                         overrides=["departments.sanitation.crews=1"])
    write_run(simulate(slow), tmp_path / "slow", figure=False)
    assert main(["validate-against", str(town_log), str(tmp_path / "slow"), "--out",
                 str(tmp_path / "v")]) == 0
    on_time = pd.read_csv(tmp_path / "v" / "on_time_by_department.csv").set_index("department")
    assert on_time.loc["sanitation", "rate_run"] < on_time.loc["sanitation", "rate_log"] - 0.1


HANDBOOK_CSV = """code,name,class,department,urgency,limit,limit_unit,closing_criterion,share
E01-01,Exposed garbage,City appearance,sanitation,normal,4,wh,Garbage removed,3
E05-01,Unlicensed hawker,Street order,enforcement,一般,1,working days,Hawker gone,
C01-01,Water manhole cover,Public utilities,water,urgent,4,h,Cover replaced,
"""


def test_handbook_csv_becomes_a_loadable_handbook_with_documented_defaults(
        tmp_path: Path) -> None:
    src = tmp_path / "hb.csv"
    src.write_text(HANDBOOK_CSV, encoding="utf-8")
    hb = import_handbook(src, tmp_path / "hb.yaml")
    rows = {s.code: s for s in hb.subclasses}
    assert rows["E05-01"].time_limit.unit == "wd" and rows["E05-01"].urgency == "normal"
    assert rows["C01-01"].urgency == "urgent" and rows["C01-01"].kind == "component"
    assert rows["E01-01"].share == 3 and rows["E05-01"].share == DEFAULTS["share"]
    assert rows["E01-01"].handling_hours.mean == DEFAULTS["handling_mean_hours"]
    assert {(c.kind, c.code) for c in hb.classes} == {("event", "01"), ("event", "05"),
                                                     ("component", "01")}
    sc = load_scenario("small-town", overrides=[f"handbook.file={tmp_path / 'hb.yaml'}"])
    assert sc.handbook.file.endswith("hb.yaml")


@pytest.mark.parametrize(("line", "change", "column"), [
    ("E01-01,Garbage,City appearance,sanitation,normal,4,weeks,Removed", None, "limit_unit"),
    ("E01-01,Garbage,City appearance,sanitation,soon,4,wh,Removed", None, "urgency"),
    ("E01-01,Garbage,City appearance,sanitation,normal,-4,wh,Removed", None, "limit"),
    ("E01-1,Garbage,City appearance,sanitation,normal,4,wh,Removed", None, "code"),
    ("E01-01,Garbage,City appearance,,normal,4,wh,Removed", None, "department"),
    ("E05-02,Garbage,Appearance,sanitation,normal,4,wh,Removed", "second", "class"),
    ("E05-01,Garbage,Street order,sanitation,normal,4,wh,Removed", "second", "code"),
])
def test_bad_handbook_rows_name_their_line_and_field(tmp_path: Path, line: str,
                                                     change: str | None, column: str) -> None:
    header = "code,name,class,department,urgency,limit,limit_unit,closing_criterion\n"
    first = "E05-01,Hawker,Street order,enforcement,normal,1,wd,Gone\n"
    src = tmp_path / "hb.csv"
    src.write_text(header + first + line + "\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        import_handbook(src, tmp_path / "hb.yaml")
    assert (e.value.line, e.value.path) == (3, column)
    assert not (tmp_path / "hb.yaml").exists()


def test_bundled_examples_are_fresh_and_import(tmp_path: Path) -> None:
    import subprocess
    import sys

    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_caselog.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    log = read_caselog(ROOT / "scenarios" / "examples" / "caselog.csv",
                       subclasses=DEPARTMENT_OF)
    assert [j.column for j in log.rejected] == ["grid_code", "closed_datetime"]
    assert main(["import-handbook", str(ROOT / "scenarios" / "examples" / "handbook.csv"),
                 "--out", str(tmp_path / "hb.yaml")]) == 0
    assert [s.code for s in load_handbook(tmp_path / "hb.yaml").subclasses] == \
        [s.code for s in HANDBOOK.subclasses]


@pytest.mark.parametrize("missing", ["requested_datetime", "grid_code"])
def test_a_case_log_without_a_required_column_is_refused_at_its_header(
        tmp_path: Path, missing: str) -> None:
    src = SCENARIO_DIR / "examples" / "caselog.csv"
    with open(src, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))[:3]
    drop = rows[0].index(missing)
    path = tmp_path / "log.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([r[:drop] + r[drop + 1:] for r in rows])
    with pytest.raises(InputError) as e:
        read_caselog(path)
    assert str(e.value).startswith(f"{path}:1: {missing}: expected a header with the columns")


def test_a_handbook_without_a_required_column_is_refused_at_its_header(tmp_path: Path) -> None:
    src = SCENARIO_DIR / "examples" / "handbook.csv"
    lines = src.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    drop = header.index("department")
    path = tmp_path / "handbook.csv"
    path.write_text(",".join(header[:drop] + header[drop + 1:]) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        import_handbook(path, tmp_path / "out.yaml")
    assert str(e.value).startswith(f"{path}:1: department: expected a header with the columns")
