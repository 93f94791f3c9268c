"""A simulated run against a city's case log: the same measures on both event logs.

`gridloop validate-against LOG.csv RUN_DIR` imports the log with the run's handbook and
working calendar (so deadlines mean the same on both sides). Both sides are cut at the same
horizon, like with like: the first ``min(run days, log days)`` days of each, counting cases
reported in that window, and treating a closure after its end as not yet happened (censored),
as the run cannot see past its last day. It then compares, on filed cases:

* arrival profiles: filed cases per hour of the week (Monday 00:00 = 0), per week;
* time to close (report to close, hours): quantiles and the two-sample Kolmogorov-Smirnov
  distance (``scipy.stats.ks_2samp``);
* on-time handling rate by department (first handling against its deadline);
* the standard evaluation (sim/evaluation rule set ``standard``, whole span) of
  departments and subdistricts, side by side;
* a verdict per measure against the stated `TOLERANCES`: daily load, public share, KS on
  time to close per department (censored cases count as "later than the horizon"), on-time
  rate against the city's own deadlines, and the hour-of-week profile.

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
from sim.i18n import _
from sim.ingest.caselog import read_caselog, write_rejected
from sim.ingest.convert import caselog_events, write_event_log
from sim.outputs.runfolder import read_run_summary
from sim.rules.runlog import RunLog, log_names, read_run_log

__all__ = ["Comparison", "compare", "QUANTILES", "TOLERANCES", "censored_ks"]

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
SIDES = ("log", "run")
TOLERANCES = {
    "daily load": 0.10,          # relative difference of filed cases a day
    "public share": 0.05,        # points (absolute difference of shares)
    "time to close": 0.15,       # KS distance per department, cut at the horizon
    "on-time rate": 0.10,        # points, handled by the deadline among cases due in the window
    "hour of week": 0.05,        # total variation distance of the hour-of-week shares,
}                                # beyond what sampling noise alone gives
"""What counts as reproduced, per measure (the verdict lines of `compare`)."""
MIN_DEPARTMENT_CASES = 30
"""Departments with fewer filed cases on either side get no KS verdict (too few to tell)."""


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
    verdicts: pd.DataFrame | None = None
    department_ks: pd.DataFrame | None = None
    horizon_days: int = 0


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


def censored_ks(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov distance and its asymptotic p-value, where ``inf`` marks
    a case not closed by the horizon: the two cumulative curves are compared over the finite
    times, each reaching only its share of closed cases."""
    a, b = np.sort(np.asarray(a, float)), np.sort(np.asarray(b, float))
    if not len(a) or not len(b):
        return float("nan"), float("nan")
    at = np.concatenate([a[np.isfinite(a)], b[np.isfinite(b)]])
    if not len(at):
        return 0.0, 1.0
    fa = np.searchsorted(a, at, side="right") / len(a)
    fb = np.searchsorted(b, at, side="right") / len(b)
    d = float(np.abs(fa - fb).max())
    n = len(a) * len(b) / (len(a) + len(b))
    return d, float(stats.kstwobign.sf(d * np.sqrt(n)))


def _verdict(measure: str, scope: str, log: float, run: float, diff: float, tol: float,
             unit: str) -> dict:
    ok = bool(np.isfinite(diff) and abs(diff) <= tol)
    shown = {"relative": f"{diff:+.1%}", "points": f"{diff * 100:+.1f} points",
             "distance": f"{diff:.3f}"}[unit]
    bound = {"relative": f"within {tol:.0%}", "points": f"within {tol * 100:g} points",
             "distance": f"at most {tol:g}"}[unit]
    return {"measure": measure, "scope": scope, "log": log, "run": run, "difference": shown,
            "tolerance": bound, "verdict": "PASS" if ok else "FAIL"}


def _import_log(log_path: Path, out: Path, scenario: Scenario | None, mapping: object | None,
                notes: list[str]):  # noqa: ANN202
    """The log as a `CaseLog` and the handbook and calendar it is read with."""
    handbook: Handbook
    if scenario is not None:
        hb_file = scenario.resolve(scenario.handbook.file)
        handbook = load_handbook(hb_file)
        calendar = scenario.calendar
        notes.append(_("log read with the run's handbook and calendar ({name})").format(
            name=scenario.name))
    else:
        from sim.data.scenario import SCENARIO_DIR
        hb_file = SCENARIO_DIR / "handbook" / "standard.yaml"
        handbook = load_handbook(hb_file)
        calendar = CalendarSpec()
        notes.append(_("the run names no scenario file: log read with the bundled handbook"))
    if mapping is not None:
        from sim.ingest.cityimport import import_city
        from sim.ingest.mapping import Mapping, load_mapping
        m = mapping if isinstance(mapping, Mapping) else load_mapping(str(mapping))
        grids = scenario.resolve(scenario.city.grids_file) if scenario is not None else None
        city = import_city(log_path, m, out, run_handbook=hb_file, run_grids=grids,
                           write_cases=False)
        log = city.log
        notes.append(_("log read through the mapping {mapping}; {n} rows rejected "
                       "(rejected.csv)").format(mapping=Path(m.source).name,
                                                n=len(log.rejected)))
        return log, handbook, calendar
    log = read_caselog(log_path, subclasses={s.code: s.department for s in handbook.subclasses},
                       timezone=calendar.timezone)
    if log.rejected:
        write_rejected(log, out / "rejected.csv")
        notes.append(_("{n} log rows rejected (rejected.csv)").format(n=len(log.rejected)))
    return log, handbook, calendar


def compare(log_path: str | Path, run_dir: str | Path, out: str | Path, *,
            mapping: object | None = None) -> Comparison:
    """Import ``log_path`` into ``out/log`` with the run's handbook and calendar, cut both at
    the same horizon, and compare (module docstring).

    Args:
        mapping: read ``log_path`` as a raw export through this mapping (file or `Mapping`).

    Raises:
        InputError: a log or run folder that cannot be read.
    """
    run_dir, out = Path(run_dir), Path(out)
    scenario, summary = _run_context(run_dir)
    notes: list[str] = []
    log, handbook, calendar = _import_log(Path(log_path), out, scenario, mapping, notes)
    run_deps = log_names(run_dir / "events.parquet")[0]
    log_deps = sorted({d for d in log.cases["department"] if d} - set(run_deps))
    imported = caselog_events(log, handbook, calendar=calendar,
                              departments=[*run_deps, *log_deps])
    write_event_log(imported, out / "log", source=str(log_path))
    logs = {"log": read_run_log(out / "log"), "run": read_run_log(run_dir)}
    deps = {"log": imported.departments, "run": run_deps}
    full = {s: _cases(logs[s], deps[s]) for s in SIDES}
    span = {"log": (imported.start_date, imported.days),
            "run": (dt.date.fromisoformat(summary["start_date"]), int(summary["days"]))}
    days = min(span["log"][1], span["run"][1])
    horizon = days * 1440.0
    notes.append(_("both sides cut at {days} days from their first day: cases reported in "
                   "that window; a closure after it counts as not yet closed (censored)").format(
        days=days))
    if span["log"][1] > days:
        notes.append(_("the log spans {span} days: only its first {days} are compared (run "
                       "longer for more)").format(span=span["log"][1], days=days))
    cases = {s: c[c["t_report"] < horizon] for s, c in full.items()}
    span = {s: (span[s][0], days) for s in SIDES}
    arrivals = pd.DataFrame({"hour_of_week": np.arange(168), "weekday": np.arange(168) // 24,
                             "hour": np.arange(168) % 24})
    for s in SIDES:
        arrivals[s] = _per_hour_of_week(cases[s], *span[s]).round(4)
    cut = {s: ((c["t_close"] - c["t_report"]) / 60.0).where(c["t_close"] < horizon, np.inf
                                                              ).to_numpy()
           for s, c in cases.items()}
    ttc = {s: x[np.isfinite(x)] for s, x in cut.items()}
    rows = {}
    for s in SIDES:
        x = ttc[s]
        rows[s] = {"n": len(x), "mean": x.mean() if len(x) else np.nan,
                   **{f"p{round(q * 100)}": np.quantile(x, q) if len(x) else np.nan
                      for q in QUANTILES}}
    time_to_close = pd.DataFrame(rows).T.rename_axis("side").reset_index()
    d, p = censored_ks(cut["log"], cut["run"])
    ks = {"statistic": d, "p_value": p}
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
    per_day = {s: len(cases[s]) / days for s in SIDES}
    public = {s: float((cases[s]["channel"] == 2).mean()) for s in SIDES}
    closed = {s: float(np.isfinite(cut[s]).mean()) for s in SIDES}
    due = {s: _on_time_in_window(c, horizon) for s, c in cases.items()}
    headline = pd.DataFrame({
        "measure": ["days compared", "filed cases a day", "public share",
                    "closed by the horizon", "on-time handling rate", "median hours to close",
                    "KS distance (hours to close, cut at the horizon)"],
        "log": [days, per_day["log"], public["log"], closed["log"], due["log"],
                np.median(ttc["log"]) if len(ttc["log"]) else np.nan, ks["statistic"]],
        "run": [days, per_day["run"], public["run"], closed["run"], due["run"],
                np.median(ttc["run"]) if len(ttc["run"]) else np.nan, np.nan]})
    dep_ks = _department_ks(cases, cut)
    verdicts = _verdicts(per_day, public, due, arrivals, dep_ks,
                         {s: len(c) for s, c in cases.items()})
    return Comparison(str(log_path), str(run_dir), arrivals, time_to_close, ks, on_time,
                      departments, subdistricts, headline, notes, ttc, verdicts, dep_ks, days)


def _on_time_in_window(c: pd.DataFrame, horizon: float) -> float:
    """Share handled by their deadline, among cases whose deadline falls inside the window
    (a case still unhandled at its deadline counts as late, handled or not later)."""
    due = c["handle_deadline"]
    mine = due.notna() & (due < horizon) & ~c["suspended"].astype(bool)
    if not mine.any():
        return float("nan")
    return float((c.loc[mine, "t_handle"] <= due[mine]).mean())


def _department_ks(cases: dict[str, pd.DataFrame], cut: dict[str, np.ndarray]) -> pd.DataFrame:
    rows = []
    names = cases["log"]["department"].value_counts()
    run_names = cases["run"]["department"].to_numpy()
    log_names_ = cases["log"]["department"].to_numpy()
    for dep, n in names.items():
        if not dep:
            continue
        a, b = cut["log"][log_names_ == dep], cut["run"][run_names == dep]
        d, p = censored_ks(a, b)
        rows.append({"department": dep, "cases_log": int(n), "cases_run": len(b),
                     "median_hours_log": float(np.median(a)) if len(a) else np.nan,
                     "median_hours_run": float(np.median(b)) if len(b) else np.nan,
                     "ks": d, "p_value": p})
    return pd.DataFrame(rows, columns=["department", "cases_log", "cases_run",
                                       "median_hours_log", "median_hours_run", "ks",
                                       "p_value"])


def _noise_tv(p: np.ndarray, n1: int, n2: int) -> float:
    """The total variation distance two samples of sizes ``n1`` and ``n2`` drawn from the same
    shares ``p`` show on average: half the sum of E|p1 - p2| (normal approximation)."""
    sd = np.sqrt(p * (1 - p) * (1 / max(n1, 1) + 1 / max(n2, 1)))
    return float(0.5 * (sd * np.sqrt(2 / np.pi)).sum())


def _verdicts(per_day: dict, public: dict, due: dict, arrivals: pd.DataFrame,
              dep_ks: pd.DataFrame, n: dict) -> pd.DataFrame:
    t = TOLERANCES
    rows = [_verdict("daily load", "filed cases a day", per_day["log"], per_day["run"],
                     per_day["run"] / per_day["log"] - 1 if per_day["log"] else np.nan,
                     t["daily load"], "relative"),
            _verdict("public share", "filed cases", public["log"], public["run"],
                     public["run"] - public["log"], t["public share"], "points")]
    big = dep_ks[(dep_ks["cases_log"] >= MIN_DEPARTMENT_CASES) &
                 (dep_ks["cases_run"] >= MIN_DEPARTMENT_CASES)]
    for r in big.itertuples(index=False):
        rows.append(_verdict("time to close (KS)", str(r.department), r.median_hours_log,
                             r.median_hours_run, r.ks, t["time to close"], "distance"))
    if np.isfinite(due["log"]) and np.isfinite(due["run"]):
        rows.append(_verdict("on-time rate", "cases due in the window", due["log"], due["run"],
                             due["run"] - due["log"], t["on-time rate"], "points"))
    share = {s: arrivals[s].fillna(0) / max(arrivals[s].fillna(0).sum(), 1e-12) for s in SIDES}
    tv = float(0.5 * np.abs(share["log"] - share["run"]).sum())
    noise = _noise_tv(share["log"].to_numpy(), n["log"], n["run"])
    rows.append(_verdict("hour of week", f"filed cases' shares, beyond sampling noise "
                         f"({noise:.3f})", tv, noise, max(0.0, tv - noise), t["hour of week"],
                         "distance"))
    return pd.DataFrame(rows)
