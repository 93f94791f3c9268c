"""A simulated run against a city's case log: the same measures on both event logs.

`gridloop validate-against LOG.csv RUN_DIR` imports the log with the run's handbook and
working calendar (so deadlines mean the same on both sides), then compares, on filed cases:

* arrival profiles: filed cases per hour of the week (Monday 00:00 = 0), per week;
* time to close (report to close, hours): quantiles and the two-sample Kolmogorov-Smirnov
  distance (``scipy.stats.ks_2samp``);
* on-time handling rate by department (first handling against its deadline);
* the standard evaluation (sim/evaluation rule set ``standard``, whole span) of
  departments and subdistricts, side by side.

`compare` returns the tables; `sim.ingest.report_html` draws them into one HTML file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim.data.scenario import CalendarSpec, Scenario, load_scenario
from sim.data.taxonomy import Handbook, load_handbook
from sim.errors import InputError
from sim.evaluation import case_table
from sim.ingest.caselog import read_caselog, write_rejected
from sim.ingest.convert import caselog_events, write_event_log
from sim.outputs.runfolder import read_run_summary
from sim.rules.runlog import RunLog, log_names, read_run_log

__all__ = ["Comparison", "compare", "QUANTILES"]

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
SIDES = ("log", "run")


@dataclass
class Comparison:
    """The side-by-side tables (each with a ``log`` and a ``run`` column or block)."""

    log_source: str
    run_dir: str
    arrivals: pd.DataFrame
    time_to_close: pd.DataFrame
    ks: dict[str, float]
    on_time: pd.DataFrame
    departments: pd.DataFrame
    subdistricts: pd.DataFrame
    headline: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    ttc_hours: dict[str, np.ndarray] = field(default_factory=dict)


def _run_context(run_dir: Path) -> tuple[Scenario | None, dict]:
    summary = read_run_summary(run_dir)  # refuses files that do not match its list
    if not summary:
        raise InputError(str(run_dir), None, "", "expected a run folder written by `gridloop "
                         "run` (events.parquet, summary.json), got no summary.json")
    file = summary.get("scenario_file")
    scenario = load_scenario(file) if isinstance(file, str) and Path(file).exists() else None
    return scenario, summary


def _cases(log: RunLog, departments: list[str]) -> pd.DataFrame:
    c = case_table(log.events)
    c = c[c["t_file"].notna()].copy()
    names = np.asarray([*departments, ""])
    c["department"] = names[c["final_department"].to_numpy()]
    return c


def _per_hour_of_week(c: pd.DataFrame, start: dt.date, days: int) -> np.ndarray:
    """Filed cases per hour of the week, per week of the span."""
    t = pd.Timestamp(start) + pd.to_timedelta(c["t_report"].to_numpy(), unit="min")
    how = np.asarray(t.day_of_week * 24 + t.hour)
    weekday = (np.arange(days) + start.weekday()) % 7
    exposure = np.repeat(np.bincount(weekday, minlength=7), 24).astype(float)
    counts = np.bincount(how, minlength=168).astype(float)
    return np.divide(counts, exposure, out=np.full(168, np.nan), where=exposure > 0)


def _evaluation(log: RunLog, kind: str) -> pd.DataFrame:
    from sim.rules import evaluate_periods, load_rules

    rules = load_rules("standard")
    tables = evaluate_periods(rules, log.events, log.roster, horizon=log.horizon, period="all",
                              start_date=log.start_date, calls=log.calls)
    t = tables[kind]
    cols = [c for c in t.columns if c.endswith("_rate") or c in ("filed", "score", "grade")]
    return t.set_index("name")[cols]


def _side_by_side(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    out = pd.concat({"log": a, "run": b}, axis=1)
    out = out.swaplevel(axis=1).sort_index(axis=1, level=0, sort_remaining=False)
    out.columns = [f"{m}_{side}" for m, side in out.columns]
    return out.reset_index().rename(columns={"index": "name"})


def compare(log_path: str | Path, run_dir: str | Path, out: str | Path) -> Comparison:
    """Import ``log_path`` into ``out/log`` with the run's handbook and calendar, and compare.

    Raises:
        InputError: a log or run folder that cannot be read.
    """
    run_dir, out = Path(run_dir), Path(out)
    scenario, summary = _run_context(run_dir)
    notes: list[str] = []
    handbook: Handbook
    if scenario is not None:
        handbook = load_handbook(scenario.resolve(scenario.handbook.file))
        calendar = scenario.calendar
        notes.append(f"log read with the run's handbook and calendar ({scenario.name})")
    else:
        from sim.data.scenario import SCENARIO_DIR
        handbook = load_handbook(SCENARIO_DIR / "handbook" / "standard.yaml")
        calendar = CalendarSpec()
        notes.append("the run names no scenario file: log read with the bundled handbook")
    log = read_caselog(log_path, subclasses={s.code: s.department for s in handbook.subclasses})
    if log.rejected:
        write_rejected(log, out / "rejected.csv")
        notes.append(f"{len(log.rejected)} log rows rejected (rejected.csv)")
    run_deps = log_names(run_dir / "events.parquet")[0]
    log_deps = sorted({d for d in log.cases["department"] if d} - set(run_deps))
    imported = caselog_events(log, handbook, calendar=calendar,
                              departments=[*run_deps, *log_deps])
    write_event_log(imported, out / "log", source=str(log_path))
    logs = {"log": read_run_log(out / "log"), "run": read_run_log(run_dir)}
    deps = {"log": imported.departments, "run": run_deps}
    cases = {s: _cases(logs[s], deps[s]) for s in SIDES}
    span = {"log": (imported.start_date, imported.days),
            "run": (dt.date.fromisoformat(summary["start_date"]), int(summary["days"]))}
    arrivals = pd.DataFrame({"hour_of_week": np.arange(168), "weekday": np.arange(168) // 24,
                             "hour": np.arange(168) % 24})
    for s in SIDES:
        arrivals[s] = _per_hour_of_week(cases[s], *span[s]).round(4)
    ttc = {s: ((c["t_close"] - c["t_report"]) / 60.0).dropna().to_numpy()
           for s, c in cases.items()}
    rows = {}
    for s in SIDES:
        x = ttc[s]
        rows[s] = {"n": len(x), "mean": x.mean() if len(x) else np.nan,
                   **{f"p{round(q * 100)}": np.quantile(x, q) if len(x) else np.nan
                      for q in QUANTILES}}
    time_to_close = pd.DataFrame(rows).T.rename_axis("side").reset_index()
    ks = {"statistic": np.nan, "p_value": np.nan}
    if len(ttc["log"]) and len(ttc["run"]):
        big = len(ttc["log"]) * len(ttc["run"]) > 10_000   # exact is slow and may fail
        r = stats.ks_2samp(ttc["log"], ttc["run"], method="asymp" if big else "auto")
        ks = {"statistic": float(r.statistic), "p_value": float(r.pvalue)}
    on_time = pd.concat({s: c[c["handled_on_time"].notna() & ~c["suspended"]]
                         .astype({"handled_on_time": float})
                         .groupby("department")["handled_on_time"].agg(["mean", "size"])
                         for s, c in cases.items()}, axis=1)
    on_time.columns = [f"{'rate' if m == 'mean' else 'handled'}_{s}" for s, m in on_time.columns]
    on_time = on_time.rename_axis("department").reset_index()
    departments = _side_by_side(_evaluation(logs["log"], "departments"),
                                _evaluation(logs["run"], "departments"))
    subs_log = _evaluation(logs["log"], "subdistricts")
    subs_run = _evaluation(logs["run"], "subdistricts")
    if scenario is not None:  # the run names subdistricts; the log has their codes
        from sim.data.citymap import load_city
        city = load_city(scenario.resolve(scenario.city.grids_file), scenario.city.district_code)
        subs_log = subs_log.rename(index=dict(zip(city.subdistrict_codes,
                                                  city.subdistrict_names, strict=True)))
    subdistricts = _side_by_side(subs_log, subs_run)
    per_day = {s: len(cases[s]) / span[s][1] for s in SIDES}
    public = {s: float((cases[s]["channel"] == 2).mean()) for s in SIDES}
    closed = {s: float(cases[s]["t_close"].notna().mean()) for s in SIDES}
    handled = {s: float(cases[s]["handled_on_time"].dropna().mean()) for s in SIDES}
    headline = pd.DataFrame({
        "measure": ["days", "filed cases a day", "public share", "closure rate",
                    "on-time handling rate", "median hours to close", "KS distance (hours to "
                    "close)"],
        "log": [span["log"][1], per_day["log"], public["log"], closed["log"], handled["log"],
                np.median(ttc["log"]) if len(ttc["log"]) else np.nan, ks["statistic"]],
        "run": [span["run"][1], per_day["run"], public["run"], closed["run"], handled["run"],
                np.median(ttc["run"]) if len(ttc["run"]) else np.nan, np.nan]})
    return Comparison(str(log_path), str(run_dir), arrivals, time_to_close, ks, on_time,
                      departments, subdistricts, headline, notes, ttc)
