"""A city's raw export through a mapping file (issue 13): the mapping and its errors, rows set
aside with line, column and reason, time zones, the city's taxonomy, open cases kept, grids
from points, and the whole path of the San Francisco slice through calibrate, run and
validate-against."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.data.scenario import SCENARIO_DIR, CalendarSpec, load_scenario
from sim.engine.calendar import WorkingCalendar
from sim.errors import InputError
from sim.ingest.cityimport import import_city
from sim.ingest.mapping import Mapping, load_mapping
from sim.ingest.mappingtemplate import template
from sim.ingest.rawlog import parse_times, read_raw
from sim.ingest.servicefit import deconvolve, km_quantiles, plan_department

SF = SCENARIO_DIR / "examples" / "sf311"
RAW = SF / "cases-2015h2.csv"
MAPPING = SF / "mapping.yaml"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _mapping(**extra: object) -> Mapping:
    base = {"columns": {"id": "id", "opened": "opened", "closed": "closed", "type": "type",
                        "agency": "agency", "status": "status", "channel": "channel",
                        "due": "due", "lat": "lat", "lon": "lon"},
            "timezone": "America/New_York", "grid": {"cell_m": 250}}
    base.update(extra)
    return Mapping.model_validate(base)


HEADER = "id,opened,closed,due,type,agency,status,channel,lat,lon\n"


def _row(i: int, **kw: str) -> str:
    r = {"id": f"C{i}", "opened": "2015-07-01 09:00", "closed": "2015-07-01 13:00",
         "due": "2015-07-03 09:00", "type": "Pothole", "agency": "Public Works",
         "status": "Closed", "channel": "Phone", "lat": f"{42.35 + 0.001 * i:.4f}",
         "lon": "-71.06"} | kw
    return ",".join(r[k] for k in HEADER.strip().split(",")) + "\n"


def test_a_bad_mapping_is_located_by_file_and_line(tmp_path: Path) -> None:
    bad = _write(tmp_path / "m.yaml", "columns:\n  opened: a\n  type: b\n"
                 "timezone: Mars/Olympus\n")
    with pytest.raises(InputError) as e:
        load_mapping(bad)
    assert (e.value.line, e.value.path) == (4, "timezone")
    assert "IANA time zone" in e.value.message
    both = _write(tmp_path / "g.yaml", "columns: {opened: a, type: b}\n"
                  "grid:\n  cell_m: 200\n  column: g\n")
    with pytest.raises(InputError) as e:
        load_mapping(both)
    assert e.value.path == "grid.cell_m" and e.value.line == 3
    typo = _write(tmp_path / "t.yaml", "columns: {opened: a, typ: b}\n")
    with pytest.raises(InputError) as e:
        load_mapping(typo)
    assert "unknown key 'typ'" in e.value.message and e.value.line == 1
    raw = _write(tmp_path / "raw.csv", "a,c\n2015-07-01,x\n")
    named = _write(tmp_path / "n.yaml", "columns:\n  opened: a\n  type: b\n")
    with pytest.raises(InputError) as e:
        read_raw(raw, load_mapping(named))
    assert (e.value.line, e.value.path) == (3, "columns.type")
    assert "expected a column of raw.csv (a, c), got 'b'" in e.value.message


def test_the_template_recognises_a_real_export() -> None:
    text = template(RAW)
    for line in ('opened: "Opened"', 'type: "Request.Type"', 'agency: "Responsible.Agency"',
                 'point: "Point"', 'datetime_format: "%m/%d/%Y %I:%M:%S %p"',
                 'inspector: ["Integrated Agency"]', "grid: {cell_m: 250}"):
        assert line in text, line
    # a Chinese 12345 export: the column names are recognised too
    assert "opened: \"受理时间\"" in _template_of(["工单编号", "受理时间", "办结时间", "诉求类型",
                                                   "承办单位", "来源", "经度", "纬度"])


def _template_of(header: list[str]) -> str:
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "x.csv"
        p.write_text(",".join(header) + "\n" + ",".join(["1"] * len(header)) + "\n",
                     encoding="utf-8")
        return template(p)


def test_channel_words_of_other_cities_are_placed(tmp_path: Path) -> None:
    words = ["Employee Generated", "Citizens Connect App", "12345热线", "网格员上报", "ONLINE",
             "Carrier pigeon"]
    raw = _write(tmp_path / "raw.csv", HEADER + "".join(
        _row(i, channel=w) for i, w in enumerate(words)))
    log = read_raw(raw, _mapping())
    assert list(log.rows["channel"]) == ["inspector", "public", "public", "inspector",
                                         "public", "public"]
    assert "'Carrier pigeon' (1)" in " ".join(log.notes)   # the default, said so


def test_offsets_are_converted_into_the_city_zone_never_dropped() -> None:
    t = parse_times(pd.Series(["2015-07-01T16:00:00Z", "2015-07-01T12:00:00-04:00",
                               "2015-07-01 12:00", "", "2015-02-30 10:00"]),
                    None, "America/New_York")
    assert t[0] == pd.Timestamp("2015-07-01 12:00") and t[1] == pd.Timestamp("2015-07-01 12:00")
    assert t[2] == pd.Timestamp("2015-07-01 12:00")      # no offset: already local
    assert pd.isna(t[3]) and pd.isna(t[4])               # empty, impossible date


def test_every_bad_row_is_set_aside_with_line_column_and_reason(tmp_path: Path) -> None:
    rows = [_row(0), _row(1, closed="2015-06-30 09:00"), _row(2, opened="yesterday"),
            _row(3, status="Pending Review"), _row(4, lat=""), _row(0, type="Dup"),
            '"C6","2015-07-01 09:00","","","Tree","Parks","Open","Phone","42.3","-71.0"\n',
            _row(7, opened="1899-01-01 10:00"), _row(8, lat="120")]
    raw = _write(tmp_path / "raw.csv", HEADER + "".join(rows))
    log = read_raw(raw, _mapping())
    got = {(j.line, j.column): j.reason for j in log.rejected}
    assert set(got) == {(3, "closed"), (4, "opened"), (5, "status"), (6, "lat"), (7, "id"),
                        (9, "opened"), (10, "lat")}
    assert "expected a time not before opened (2015-07-01 09:00), got 2015-06-30 09:00" \
        in got[(3, "closed")]
    assert "'Pending Review'" in got[(5, "status")]
    assert "again (first on line 2)" in got[(7, "id")]
    assert "between 1970 and 2100" in got[(9, "opened")]
    assert sorted(log.rows["id"]) == ["C0", "C6"]
    assert dict(zip(log.rows["id"], log.rows["status"], strict=True)) == {"C0": "closed",
                                                                          "C6": "open"}


def test_all_bad_rows_still_write_rejected_and_keep_the_folder(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture
                                                               ) -> None:
    raw = _write(tmp_path / "raw.csv", HEADER + _row(0, opened="") + _row(1, opened="soon"))
    mapping = _write(tmp_path / "m.yaml", "columns: {id: id, opened: opened, type: type}\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("the analyst's own notes")
    assert main(["import-log", str(raw), "--mapping", str(mapping), "--out", str(out)]) == 2
    assert "expected at least one good case row, got 2 bad" in capsys.readouterr().err
    rejected = pd.read_csv(out / "rejected.csv", dtype=str, keep_default_na=False)
    assert list(rejected["line"]) == ["2", "3"] and set(rejected["column"]) == {"opened"}
    assert list(rejected.columns[:4]) == ["line", "column", "reason", "id"]
    assert (out / "notes.txt").read_text() == "the analyst's own notes"


def test_open_cases_are_filed_and_dispatched_and_quoted_newlines_keep_lines(
        tmp_path: Path) -> None:
    out = tmp_path / "imp"
    assert main(["import-log", str(RAW), "--mapping", str(MAPPING), "--out", str(out)]) == 0
    ev = pd.read_parquet(out / "events.parquet")
    ids = pd.read_csv(out / "case_ids.csv", dtype=str)
    raw = pd.read_csv(RAW, dtype=str, keep_default_na=False)
    open_ids = set(raw.loc[raw["Status"] == "Open", "CaseID"])
    opened = ids.loc[ids["service_request_id"].isin(open_ids), "case"].astype(int)
    assert len(opened) > 100
    steps = ev[ev["case"].isin(opened)].groupby("case")["step"].agg(list)
    assert all(s == ["report", "file", "dispatch"] for s in steps)
    rejected = pd.read_csv(out / "rejected.csv", dtype=str, keep_default_na=False)
    assert len(rejected) + len(ids) == len(raw)
    # line numbers are where each record starts, quoted newlines included
    lines = RAW.read_text(encoding="utf-8").split("\n")
    for line, case_id in zip(rejected["line"].astype(int), rejected["CaseID"], strict=True):
        assert lines[line - 1].split(",")[1].strip('"') == case_id
    hb = pd.read_csv(out / "handbook.csv")
    assert hb["types"].str.contains("Bulky Items").any()
    assert hb["limit_source"].str.contains("closed 3 in 4").all()


def test_due_dates_set_limits_and_a_handbook_csv_overrides(tmp_path: Path) -> None:
    rows = [_row(i, due="2015-07-02 09:00") for i in range(6)] + \
           [_row(10 + i, type="Graffiti", agency="Parks",
                 due="2015-07-11 09:00") for i in range(6)]
    raw = _write(tmp_path / "raw.csv", HEADER + "".join(rows))
    city = import_city(raw, _mapping(), tmp_path / "a")
    limits = {s.name: (s.time_limit.value, s.time_limit.unit, s.department)
              for s in city.handbook.subclasses}
    assert limits == {"Pothole": (24.0, "h", "public-works"), "Graffiti": (240.0, "h", "parks")}
    hb = pd.read_csv(tmp_path / "a" / "handbook.csv")
    hb.loc[hb["name"] == "Graffiti", ["department", "limit"]] = ["public-works", 48]
    hb.to_csv(tmp_path / "mine.csv", index=False)
    again = import_city(raw, _mapping(), tmp_path / "b", handbook_csv=tmp_path / "mine.csv")
    graffiti = next(s for s in again.handbook.subclasses if s.name == "Graffiti")
    assert (graffiti.time_limit.value, graffiti.department) == (48, "public-works")


def test_service_fit_splits_waiting_from_working() -> None:
    plan = plan_department("d", cases_per_day=40.0, quick_hours=3.0, duty_hours=12.0)
    assert plan.crews <= 40 and plan.utilisation <= 0.6 + 1e-9 and plan.work_hours == 1.5
    tight = plan_department("t", cases_per_day=0.5, quick_hours=100.0, duty_hours=1.0)
    assert tight.crews == 1 and tight.utilisation <= 0.85 + 1e-9   # work shortened
    rng = np.random.default_rng(1)
    wait, base = rng.lognormal(3, 1, 50_000), rng.exponential(2.0, 50_000)
    closed = np.ones(50_000, bool)
    target = km_quantiles(wait + base, closed)
    w = deconvolve(target, base, rng)
    assert np.allclose(np.median(w), np.median(wait), rtol=0.05)
    # censored: the open cases' follow-up counts, they are not dropped
    t = np.array([1.0, 2.0, 3.0, 10.0])
    assert km_quantiles(t, np.array([1, 1, 0, 0], bool), np.array([0.2, 0.4, 0.9]))[:2] \
        .tolist() == [1.0, 2.0]
    assert math.isinf(km_quantiles(t, np.array([1, 1, 0, 0], bool), np.array([0.9]))[0])


def test_holidays_come_from_the_library_with_beijings_working_day_swaps() -> None:
    cn = WorkingCalendar(CalendarSpec(holiday_country="CN"), dt.date(2026, 1, 1), 300)

    def work(d: dt.date) -> bool:
        return cn.is_workday((d - dt.date(2026, 1, 1)).days)

    assert not work(dt.date(2026, 1, 1)) and not work(dt.date(2026, 2, 17))   # New Year, 春节
    assert work(dt.date(2026, 1, 4)) and work(dt.date(2026, 2, 14))         # Sun, Sat: 调休
    assert work(dt.date(2026, 9, 20)) and work(dt.date(2026, 10, 10))
    ca = WorkingCalendar(CalendarSpec(holiday_country="US", holiday_subdivision="CA"),
                         dt.date(2015, 3, 30), 10)
    assert not ca.is_workday(1)  # 31 March 2015: Cesar Chavez Day in California
    with pytest.raises(ValueError):
        CalendarSpec(holiday_country="US", holiday_subdivision="ZZ")


def test_sf_slice_through_calibrate_run_and_validate(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "sf.yaml"
    assert main(["calibrate", str(RAW), "--mapping", str(MAPPING), "--out", str(out),
                 "--refine", "92", "--quiet"]) == 0
    sc = load_scenario(out)
    assert sc.calendar.timezone == "America/Los_Angeles"
    cases = pd.read_csv(tmp_path / "sf.handbook.csv")
    per_day = cases.groupby("department")["cases"].sum() / sc.days
    for name, dep in sc.departments.items():
        assert dep.crews <= max(1, math.floor(per_day.get(name, 0.0))), name
    text = out.read_text(encoding="utf-8")
    crews_lines = [ln for ln in text.splitlines() if ln.strip().startswith("crews:")]
    assert crews_lines and all("utilisation" in ln and "#" in ln for ln in crews_lines)
    assert "intake_hours: {dist: empirical" in text
    run = tmp_path / "run"
    assert main(["run", str(out), "--out", str(run)]) == 0
    capsys.readouterr()
    assert main(["validate-against", str(RAW), str(run), "--mapping", str(MAPPING)]) == 0
    printed = capsys.readouterr().out
    assert "both sides cut at 184 days" in printed
    v = pd.read_csv(run / "validation" / "verdicts.csv")
    load = v[v["measure"] == "daily load"].iloc[0]
    assert load["verdict"] == "PASS" and v[v["measure"] == "public share"].iloc[0][
        "verdict"] == "PASS"
    ks = pd.read_csv(run / "validation" / "time_to_close_by_department.csv")
    assert ks.iloc[0]["department"] == "dpw-ops-queue" and ks.iloc[0]["ks"] <= 0.15
    # exports: the scenario's zone by default (July in San Francisco: -07:00), and a fixed
    # offset given as two words; grids made from points carry their latitude and longitude
    assert main(["export", str(run), "--format", "open311"]) == 0
    o = pd.read_csv(run / "open311.csv", dtype=str, keep_default_na=False)
    assert o["requested_datetime"].str.endswith(("-07:00", "-08:00")).all()
    assert o["requested_datetime"].str.endswith("-07:00").iloc[0]
    lat = o["lat"].astype(float)
    assert lat.between(37.6, 37.9).all()
    assert main(["export", str(run), "--format", "open311", "--utc-offset", "-04:00",
                 "--out", str(tmp_path / "o.csv")]) == 0
    fixed = pd.read_csv(tmp_path / "o.csv", dtype=str, keep_default_na=False)
    assert fixed["requested_datetime"].str.endswith("-04:00").all()


def test_the_plain_case_log_converts_offsets_too(tmp_path: Path) -> None:
    from sim.ingest.caselog import read_caselog

    log = _write(tmp_path / "log.csv", "service_request_id,service_code,requested_datetime,"
                 "grid_code\nA,E01-01,2026-03-02T00:30:00Z,990101001001001\n"
                 "B,E01-01,2026-03-02T08:30:00,990101001001001\n")
    c = read_caselog(log, timezone="Asia/Shanghai").cases.set_index("id")
    assert c.loc["A", "requested_datetime"] == pd.Timestamp("2026-03-02 08:30")
    assert c.loc["B", "requested_datetime"] == pd.Timestamp("2026-03-02 08:30")
