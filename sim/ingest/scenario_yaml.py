"""`gridloop calibrate`: a case log in, a commented scenario (and its handbook and city) out.

For ``--out city.yaml`` it writes, next to it:

    city.yaml            the scenario; every fitted number says where it came from
    city.handbook.yaml   the handbook with fitted shares and handling hours
    city.grids.csv       the city's grid table (unless ``--grids`` or ``--map`` gives one)
    city.arrivals.csv    cases per subclass x subdistrict x hour of week, observed and fitted
    city.handling.csv    every handling-time fit (department x subclass, and pooled)
    city.rejected.csv    rows of the log that were turned away, with reasons (if any)
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.data.citymap import load_city
from sim.data.scenario import SCENARIO_DIR, Scenario, load_scenario
from sim.data.taxonomy import load_handbook
from sim.errors import InputError
from sim.ingest.calibrate import (
    Arrivals,
    Estimates,
    arrival_table,
    estimate,
    handling_of,
)
from sim.ingest.caselog import CaseLog, read_caselog, write_rejected
from sim.ingest.citycodes import write_grids_from_codes
from sim.ingest.handbook_csv import handbook_rows, write_handbook_yaml
from sim.ingest.mapping import Mapping, load_mapping
from sim.ingest.servicefit import (
    PROBS,
    ServicePlan,
    base_times,
    deconvolve,
    duty_days,
    km_quantiles,
    plan_department,
)
from sim.outputs.files import atomic_write

__all__ = ["Calibration", "calibrate", "base_handbook"]


@dataclass(frozen=True)
class Calibration:
    """What `calibrate` wrote and found."""

    scenario: Scenario
    estimates: Estimates
    log: CaseLog
    paths: dict[str, Path]
    plans: dict[str, ServicePlan] = field(default_factory=dict)
    fitted: Fitted | None = None


@dataclass
class Fitted:
    """What the pilot runs set, and what they showed (for the scenario's comments)."""

    rate_scale: float = 1.0
    detection_scale: float = 1.0
    propensity: float = 1.0
    pilots: list[str] = field(default_factory=list)
    corrections: list[str] = field(default_factory=list)
    intake: dict[str, tuple[list[float] | None, str]] = field(default_factory=dict)
    timezone: str = "Asia/Shanghai"
    holiday_country: str = ""
    holiday_subdivision: str = ""
    voided_share: float = 0.0
    night_share: float = 0.0
    checks: bool = True


NIGHT_SHARE = 0.05
"""From this share of reports between 23:00 and 07:00 up, inspectors work three shifts, so
public reports are verified at night too (judgement)."""


def _flow(obj: Any) -> str:
    """``obj`` as one line of YAML (a string as a JSON string, which YAML reads back)."""
    if isinstance(obj, str):
        return json.dumps(obj, ensure_ascii=False)
    return yaml.safe_dump(obj, default_flow_style=True, width=math.inf,
                          allow_unicode=True).strip()


def base_handbook(path: str | Path | None) -> tuple[str, list[dict], list[dict]]:
    """(name, classes, subclasses) of a handbook CSV or YAML (default: the bundled one)."""
    p = Path(path) if path else SCENARIO_DIR / "handbook" / "standard.yaml"
    if p.suffix.lower() == ".csv":
        classes, subs = handbook_rows(p)
        return f"Handbook imported from {p.name}", classes, subs
    hb = load_handbook(p)
    classes = [c.model_dump(mode="json", exclude_defaults=True) | {"kind": c.kind, "code": c.code}
               for c in hb.classes]
    subs = [s.model_dump(mode="json", exclude_none=True) for s in hb.subclasses]
    return hb.name, classes, subs


def _city(log: CaseLog, out: Path, grids: str | Path | None, map_file: str | Path | None,
          say: Callable[[str], None]) -> tuple[Path, str]:
    district = log.cases["grid"].iloc[0][:6]
    if map_file is not None:
        from sim.geo import import_geojson

        path = Path(import_geojson(map_file, out.parent, district_code=district))
        return path, f"imported from the map {Path(map_file).name}"
    if grids is not None:
        return Path(grids), f"the grid table {Path(grids).name}"
    path = out.with_suffix(".grids.csv")
    write_grids_from_codes(log.cases["grid"], path)
    say(f"  city: {log.cases['grid'].nunique()} grids from the log's codes -> {path.name}")
    return path, ("made from the grid codes in the log (schematic layout, uniform "
                  "residents; pass --grids or --map for the real one)")


def calibrate(log_path: str | Path, out: str | Path, *, handbook: str | Path | None = None,
              grids: str | Path | None = None, map_file: str | Path | None = None,
              arrivals: Arrivals = "auto", min_cases: int = 30, name: str | None = None,
              refine: int | None = None, mapping: str | Path | Mapping | None = None,
              say: Callable[[str], None] = lambda _m: None) -> Calibration:
    """Fit a scenario to a case log and write it (and its handbook, city and tables).

    Args:
        mapping: read ``log_path`` as a city's raw export through this mapping file
            (`sim.ingest.mapping`); the city's taxonomy and grids are written beside ``out``.
        refine: days of each pilot run (None: enough for about 2,500 cases, at least 28 and
            at most the log's span; 0: no pilot, crews and waits from the log alone). Pilots
            set ``problems.rate_scale``, ``inspectors.detection_scale`` and
            ``citizens.propensity_scale`` so a run files as many cases a day and as many
            public ones as the log, then measure what queueing adds to each department's time
            to close, so the rest can be fitted as waiting no crew controls.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    fitted = Fitted()
    if mapping is not None:
        from sim.ingest.cityimport import import_city
        m = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
        say(f"reading {log_path} with the mapping {Path(m.source).name if m.source else ''}")
        hb_csv = handbook if handbook and str(handbook).lower().endswith(".csv") else None
        city = import_city(log_path, m, out.parent, prefix=out.stem + ".", handbook_csv=hb_csv,
                           write_cases=False)
        log = city.log
        for note in city.notes:
            say(f"  note: {note}")
        paths["rejected"] = city.paths["rejected"]
        paths["handbook_csv"] = city.paths["handbook_csv"]
        hb_name, classes, subs = base_handbook(city.paths["handbook"])
        grids_path, district = city.grids_file, city.district_code
        paths["grids"] = grids_path
        city_note = "; ".join(n for n in city.notes if "grid" in n) or "made from the log"
        fitted.timezone = m.timezone
        fitted.holiday_country, fitted.holiday_subdivision = (m.holiday_country,
                                                              m.holiday_subdivision)
        handbook = None if hb_csv is None else handbook
        from_mapping = True
    else:
        hb_name, classes, subs = base_handbook(handbook)
        listed = {s["code"]: s["department"] for s in subs}
        say(f"reading {log_path}")
        log = read_caselog(log_path, subclasses=listed)
        if log.rejected:
            paths["rejected"] = write_rejected(log, out.with_suffix(".rejected.csv"))
            say(f"  {len(log.rejected)} rows rejected -> {paths['rejected'].name}")
        grids_path, city_note = _city(log, out, grids, map_file, say)
        district = log.cases["grid"].iloc[0][:6]
        from_mapping = False
    say(f"  {len(log.cases):,} cases over {log.days} days from {log.start_date}")
    listed = {s["code"]: s["department"] for s in subs}
    city_map = load_city(grids_path, district)
    known = set(city_map.codes)
    unknown = log.cases[~log.cases["grid"].isin(known)]
    if len(unknown):
        first = unknown.iloc[0]
        raise InputError(str(log_path), int(first["line"]), "grid_code",
                         f"expected a grid of the city in {grids_path.name}, got {first['grid']}")
    department_of = dict(listed)
    moved: dict[str, str] = {}
    if handbook is None and not from_mapping:  # the bundled handbook is a default
        modal = log.cases[log.cases["department"] != ""].groupby("subclass")["department"] \
            .agg(lambda s: s.value_counts().index[0])
        for code, dep in modal.items():
            if department_of.get(str(code)) != dep:
                moved[str(code)] = f"{department_of.get(str(code))} -> {dep}"
                department_of[str(code)] = str(dep)
    base = np.sqrt(np.maximum(city_map.residents, 1.0))  # residents ** residents_exponent
    say("fitting arrivals, crews and work")
    est = estimate(log, city_map, base, department_of=department_of, arrivals=arrivals,
                   min_cases=min_cases)
    c = log.cases
    fitted.voided_share = float((c["status"] == "voided").mean())
    hour = c["requested_datetime"].dt.hour
    fitted.night_share = float(((hour >= 23) | (hour < 7)).mean())
    fitted.checks = bool(c["checked_datetime"].notna().any())
    plans = _plans(c, est)
    paths["arrivals"] = atomic_write(out.with_suffix(".arrivals.csv"), lambda p: arrival_table(
        log, city_map, base, est).to_csv(p, index=False))
    paths["handling"] = atomic_write(out.with_suffix(".handling.csv"),
                                     lambda p: _fits_frame(est).to_csv(p, index=False))
    hb_path = out.with_suffix(".handbook.yaml")
    paths["handbook"] = _write_handbook(hb_path, hb_name, classes, subs, est, moved,
                                        Path(log_path).name, plans)
    args = (out, name or out.stem, est, log, grids_path, city_note, district, city_map.n_grids,
            hb_path, plans)

    def write() -> Scenario:
        text = _scenario_text(*args, fitted)
        paths["scenario"] = atomic_write(out, lambda p: p.write_text(text, encoding="utf-8"))
        return load_scenario(out)

    scenario = write()
    days = _pilot_days(est, refine)
    cases, deps = _pilots(out, est, fitted, days, write, say) if days else (None, [])
    targets = _fit_waits(c, est, plans, fitted, cases, deps, days, say)
    scenario = write()
    if days:
        _correct_waits(out, fitted, targets, days, write, say)
        scenario = load_scenario(out)
    return Calibration(scenario, est, log, paths, plans, fitted)


def _pilot_days(est: Estimates, refine: int | None) -> int:
    if refine is not None:
        return min(refine, est.days)
    return min(est.days, max(28, math.ceil(2500 / max(est.per_day, 1e-9))))


def _plans(c: pd.DataFrame, est: Estimates) -> dict[str, ServicePlan]:
    """Crews and work per department (`sim.ingest.servicefit.plan_department`)."""
    plans = {}
    ok = c["status"] != "voided"
    closed = c[ok & c["closed_datetime"].notna()]
    ttc = (closed["closed_datetime"] - closed["requested_datetime"]) / pd.Timedelta(hours=1)
    handled = c[ok & c["handled_datetime"].notna()]
    work = (handled["handled_datetime"] - handled["dispatched_datetime"].fillna(
        handled["requested_datetime"])) / pd.Timedelta(hours=1)
    deps = sorted(set(est.department_of.values()) | set(est.department_cases))
    for dep in deps:
        per_day = est.department_cases.get(dep, 0) / est.days
        own = work[handled["department"] == dep]
        if len(own) < 5:
            own = ttc[closed["department"] == dep]
        quick = float(own.quantile(0.2)) if len(own) >= 5 else 2.0
        mine = ttc[closed["department"] == dep]
        median = float(mine.median()) if len(mine) >= 5 else math.inf
        start, end = est.department_hours.get(dep, ("08:00", "20:00"))
        length = (int(end[:2]) * 60 + int(end[3:])) - (int(start[:2]) * 60 + int(start[3:]))
        ends = closed.loc[closed["department"] == dep, "closed_datetime"]
        days = duty_days(ends.dt.day_of_week.to_numpy()) if len(ends) >= 30 else "all"
        duty = (length % 1440 or 1440) / 60.0 * (5 / 7 if days == "workdays" else 1.0)
        plan = plan_department(dep, per_day, quick, duty, median,
                               peak=max(est.hourly_profile) * max(est.weekly_profile))
        plans[dep] = plan
        est.department_days[dep] = days
    return plans


def _pilots(out: Path, est: Estimates, fitted: Fitted, days: int, write: Callable[[], Scenario],
            say: Callable[[str], None], rounds: int = 4
            ) -> tuple[pd.DataFrame | None, list[str]]:
    """Pilot runs that set the rate, detection and propensity scales (see `calibrate`).

    Each round multiplies ``rate_scale`` by log / run filed cases a day, and moves the odds
    of a public report by log / run odds: through ``detection_scale`` (lower detection
    means fewer finds by inspectors), and through ``propensity_scale`` once detection is
    at its cap. Stops when filed cases are within 3% and the public share within 1 point."""
    from sim.run import simulate

    target = min(max(est.public_share, 0.002), 0.998)
    cases: pd.DataFrame | None = None
    deps: list[str] = []
    for k in range(rounds):
        sc = load_scenario(out, days=days)
        result = simulate(sc)
        cases, deps = result.cases, result.departments
        filed = cases[cases["t_file"].notna()]
        per_day = len(filed) / days
        public = float((filed["channel"] == 2).mean()) if len(filed) else 0.0
        line = (f"pilot {k + 1} ({days} days; rate_scale {fitted.rate_scale:g}, "
                f"detection_scale {fitted.detection_scale:g}, propensity_scale "
                f"{fitted.propensity:g}): {per_day:.2f} cases a day (log {est.per_day:g}), "
                f"public {public:.1%} (log {est.public_share:.1%})")
        say(f"  {line}")
        fitted.pilots.append(line)
        close = abs(per_day / est.per_day - 1) < 0.03 and abs(public - est.public_share) < 0.01
        if close or k == rounds - 1:
            break
        if per_day > 0:
            fitted.rate_scale = round(fitted.rate_scale * est.per_day / per_day, 4)
        run = min(max(public, 0.002), 0.998)
        odds = (target / (1 - target)) / (run / (1 - run))
        fewer = min(public, 1 - public) * len(filed)
        if fewer < 200:  # a few dozen reports of the rarer channel: noisy, so half a step
            odds = math.sqrt(odds)
        detection = fitted.detection_scale / odds
        cap = 2.0  # detection 0.5 at most doubled (to 1)
        if detection > cap:
            fitted.propensity = round(fitted.propensity * detection / cap, 4)
            detection = cap
        fitted.detection_scale = float(f"{max(detection, 1e-5):.4g}")
        write()
    return cases, deps


def _correct_waits(out: Path, fitted: Fitted, targets: dict[str, np.ndarray], days: int,
                   write: Callable[[], Scenario], say: Callable[[str], None], rounds: int = 2,
                   min_cases: int = 30) -> None:
    """Pilot runs with the fitted waits, each moving every department's waits by the gap
    between the log's and the run's time-to-close quantiles: duty hours and queues do not
    add a wait to the work as a sum does (a case held past closing time waits the night),
    and this puts the run, not the sum, on the log."""
    from sim.run import simulate

    for k in range(rounds):
        result = simulate(load_scenario(out, days=days))
        c = result.cases
        c = c[c["t_file"].notna()]
        names = np.asarray([*result.departments, ""])
        dep = names[c["final_department"].to_numpy()]
        end = days * 1440.0
        closed = c["t_close"].notna().to_numpy()
        hours = ((c["t_close"].fillna(end) - c["t_report"]) / 60.0).to_numpy()
        worst = 0.0
        for d, target in targets.items():
            values, note = fitted.intake.get(d, (None, ""))
            mine = dep == d
            if values is None or mine.sum() < min_cases:
                continue
            got = km_quantiles(hours[mine], closed[mine], beyond=np.inf)
            w = np.asarray(values, float)
            seen = days * 24.0 / 2  # what a pilot of ``days`` sees without heavy censoring
            ok = np.isfinite(got) & (target < seen) & (got < seen)
            gap = np.where(ok, target - got, 0.0)
            worst = max(worst, float(np.abs(gap).max()) if ok.any() else 0.0)
            w = np.sort(np.clip(w + gap, 0.0, max(w.max(), 0.0)))
            fitted.intake[d] = ([float(f"{x:.3g}") for x in w], note)
        fitted.corrections.append(f"correction {k + 1}: largest quantile gap {worst:.1f} h")
        say(f"  wait correction {k + 1}: largest quantile gap {worst:.1f} h")
        write()


def _fit_waits(c: pd.DataFrame, est: Estimates, plans: dict[str, ServicePlan], fitted: Fitted,
               pilot: pd.DataFrame | None, deps: list[str], days: int,
               say: Callable[[str], None], min_cases: int = 20) -> dict[str, np.ndarray]:
    """Each department's waiting no crew controls: the log's time to close (Kaplan-Meier)
    less what the pilot's queues, duty hours and centres gave (`deconvolve`)."""
    rng = np.random.default_rng(20_13)
    ok = c[c["status"] != "voided"]
    end = max(ok["requested_datetime"].max(), ok["closed_datetime"].max())
    closed = ok["closed_datetime"].notna()
    known = closed | (ok["status"] == "open")
    hours = ((ok["closed_datetime"].where(closed, end) - ok["requested_datetime"]) /
             pd.Timedelta(hours=1)).to_numpy()
    span_h = est.days * 24.0
    beyond = 2.0 * span_h
    if pilot is not None:
        base = base_times(pilot, deps)
        source = f"the last pilot's ({days} days) time to close"
    else:
        rw = np.random.default_rng(7)
        base = {d: rw.lognormal(math.log(max(p.work_hours, 0.01)) - 0.25, 0.7, 2000)
                for d, p in plans.items()}
        base["*"] = np.concatenate(list(base.values())) if base else np.zeros(1)
        source = "the work time alone (no pilot run)"
    dep = ok["department"].to_numpy()
    targets: dict[str, np.ndarray] = {}
    pooled = km_quantiles(hours[known.to_numpy()], closed.to_numpy()[known.to_numpy()],
                          beyond=beyond)
    for d in plans:
        mine = (dep == d) & known.to_numpy()
        if mine.sum() >= min_cases:
            target = km_quantiles(hours[mine], closed.to_numpy()[mine], beyond=beyond)
            whose = f"its {int(mine.sum())} cases"
        else:
            target, whose = pooled, f"all {int(known.sum())} cases (it has {int(mine.sum())})"
        b = base.get(d, base["*"])
        targets[d] = target
        w = deconvolve(target, b, rng)
        w = np.minimum(np.where(np.isfinite(w), w, beyond), beyond)
        if float(np.quantile(w, 0.9)) < 0.05:
            fitted.intake[d] = (None, f"no waiting beyond the queue: {whose}")
            continue
        values = [float(f"{x:.3g}") for x in w]
        open_share = float((w >= beyond).mean())
        fitted.intake[d] = (values, (
            f"waiting no crew controls (materials, contractors, permits; a stage when the "
            f"handbook has stage tables): the log's time to close of {whose} (Kaplan-Meier, "
            f"open cases censored) less {source}, matched at {len(PROBS)} quantiles, then "
            f"corrected on pilot runs"
            + (f"; {open_share:.0%} wait past the log's span (still open at its end)"
               if open_share else "")))
    n = sum(1 for v, _ in fitted.intake.values() if v)
    say(f"  waiting no crew controls fitted for {n} of {len(plans)} departments")
    return targets


def _fits_frame(est: Estimates) -> pd.DataFrame:
    groups = [*est.fits.items(), *(((dep, "*"), f) for dep, f in est.department_fits.items())]
    rows = [{"department": dep, "subclass": sub, "n": f.n, "family": f.family,
             "mean_hours": f.dist.mean, "cv": f.dist.cv, "shape": f.dist.shape,
             **{f"aic_{k}": round(v, 2) for k, v in f.aic.items()}, "ks": round(f.ks, 4)}
            for (dep, sub), f in groups]
    return pd.DataFrame(rows)


def _write_handbook(path: Path, name: str, classes: list[dict], subs: list[dict],
                    est: Estimates, moved: dict[str, str], source: str,
                    plans: dict[str, ServicePlan]) -> Path:
    notes: dict[str, str] = {}
    rows = []
    for s in subs:
        s = dict(s)
        code = s["code"]
        seen = est.shares.get(code, 0)
        s["share"] = seen if seen else 0.5
        s["department"] = est.department_of[code]
        plan = plans.get(s["department"])
        if plan is not None:
            s["handling_hours"] = {"dist": "lognormal", "mean": plan.work_hours, "cv": 0.8}
        fit, where = handling_of(est, code)
        note = [f"share: {seen} cases in the log" if seen else
                "share: not in the log (half a case, so the subclass stays possible)",
                f"handling_hours: the crew's work, {plan.note}; cv 0.8 (judgement)" if plan
                else "handling_hours: the base handbook's"]
        if fit is not None:
            note.append(f"(dispatch to handling in the log, waiting included: {where}: "
                        f"{fit.describe()})")
        if code in moved:
            note.append(f"department: the log's usual one ({moved[code]})")
        notes[code] = "\n".join(note)
        rows.append(s)
    header = (f"Calibrated from the case log {source} by `gridloop calibrate`.\n"
              "share = cases of the subclass in the log (normalised by the engine).\n"
              "handling_hours = the crew's work on site only; waiting for a crew comes from "
              "the\nsimulated queue, and waiting no crew controls from the department's "
              "intake_hours\nin the scenario (docs/import.md). Other fields come from the "
              "base handbook.")
    return write_handbook_yaml(path, f"{name} (calibrated)", classes, rows, header=header,
                               notes=notes)


def _scenario_text(out: Path, name: str, est: Estimates, log: CaseLog, grids: Path,
                   city_note: str, district: str, n_grids: int, hb_path: Path,
                   plans: dict[str, ServicePlan], fit: Fitted) -> str:
    d = est.dispersion
    rel = os.path.relpath(grids.resolve(), out.parent.resolve())
    g = {k: f"G={v[0]:.1f}, df={v[1]}, p={v[2]:.3g}" for k, v in est.tests.items()}
    pilot = fit.pilots[-1] if fit.pilots else "no pilot run"
    steered = f"{len(fit.pilots)} pilot run(s); the last: {pilot}" if fit.pilots else \
        "no pilot run (--refine 0): not steered"
    holidays = ""
    if fit.holiday_country:
        holidays = (f"\n  holiday_country: {fit.holiday_country}   # public holidays from the "
                    "holidays library (the mapping's)")
        if fit.holiday_subdivision:
            holidays += f"\n  holiday_subdivision: {fit.holiday_subdivision}"
    lines = [
        f"# Calibrated by `gridloop calibrate` from the case log {Path(log.source).name}:",
        f"# {est.cases:,} cases ({est.voided} voided left out) over {est.days} days from "
        f"{est.start_date}; {len(log.rejected)} rows rejected.",
        "# Each number below says where it came from. Check the fit with",
        f"#   gridloop run {out.name} --out runs/calibrated && "
        f"gridloop validate-against {Path(log.source).name} runs/calibrated",
        f"name: {_flow(name)}",
        f"description: {_flow('Calibrated from ' + Path(log.source).name)}",
        "seed: 1",
        f"days: {est.days}                       # the log's span",
        f"start_date: {est.start_date}           # the log's first day",
        "",
        "calendar:                       # limits of the city's own types count clock hours",
        f"  timezone: {_flow(fit.timezone)}   # the mapping's (times were read in it)"
        + holidays,
        "",
        "city:",
        f"  grids_file: {_flow(rel)}   # {city_note}",
        f"  district_code: {_flow(district)}          # digits 1-6 of the grid codes",
        "",
        "handbook:",
        f"  file: {_flow(hb_path.name)}   # shares and work fitted; see its comments",
        "",
        "problems:",
        f"  # {est.cases:,} cases / {est.days} days. Each logged case counts as one problem.",
        f"  per_day: {est.per_day:g}",
        f"  rate_scale: {fit.rate_scale:g}   # {steered}",
        "  # Hour-of-day and day-of-week margins of the hour-of-week counts (mean 1); the "
        "interaction",
        f"  # they leave out: {g['hour_of_day x day_of_week']}.",
        f"  hourly_profile: {_flow(est.hourly_profile)}",
        f"  weekly_profile: {_flow(est.weekly_profile)}   # Mon..Sun, per day of each kind",
        "  holiday_factor: 1.0             # not fitted",
        "  hotspot_weight: {}",
        "  residents_exponent: 0.5",
        "  # Cases per unit of grid weight in each subdistrict, relative to the whole city. "
        "Left out:",
        f"  # subclass x subdistrict {g['subclass x subdistrict']}; subclass x hour of day "
        f"{g['subclass x hour_of_day']}.",
        f"  # The full subclass x subdistrict x hour-of-week table: "
        f"{out.with_suffix('.arrivals.csv').name}.",
        f"  subdistrict_weight: {_flow(est.subdistrict_weight)}",
        f"  # Daily counts around their weekday means: variance/mean {d.index:.2f} over "
        f"{d.days} days",
        f"  # (chi-square p={d.p_value:.3g}); negative binomial vs Poisson: "
        f"LR={d.lr_statistic:.1f}, p={d.lr_p_value:.3g}.",
        f"  # Arrivals: {est.arrivals}"
        + (f" (gamma day multiplier, variance {est.day_dispersion:g})." if est.day_dispersion
           else " (day_dispersion 0)."),
        f"  day_dispersion: {est.day_dispersion:g}",
        "  recurrence: 0.0",
        "",
        "inspectors:",
        f"  count: {max(3, round(n_grids / 5.4))}    # judgement: Dongcheng 2015's ratio, "
        "one per ~5.4 grids (DOMAIN §2)",
        (f"  shifts: 3   # {fit.night_share:.0%} of the log's reports come 23:00-07:00: "
         "verification round the clock" if fit.night_share >= NIGHT_SHARE else
         f"  shifts: 2   # {fit.night_share:.0%} of the log's reports come 23:00-07:00"),
        f"  detection_scale: {fit.detection_scale:g}   # the log's inspector share "
        f"{1 - est.public_share:.1%}: {steered}",
        "",
        "citizens:",
        f"  propensity_scale: {fit.propensity:g}   # the log's public share "
        f"{est.public_share:.1%}: {steered}",
        "  repeat_factor: 0.0   # judgement: the log holds one request per case; repeat "
        "calls are not in it",
        f"  false_report_share: {min(fit.voided_share, 0.5):.4g}   # the log's voided share",
        "",
        "centre:                  # judgement: Dongcheng 2015's cases per person a day",
        ("  independent_checks: true   # the log records checks" if fit.checks else
         "  independent_checks: false  # the log has no check times: the department's own "
         "word closes a case"),
        f"  acceptors: {max(1, math.ceil(est.per_day / 110))}           # ~110 cases each",
        f"  shift_leaders: {max(1, math.ceil(est.per_day / 330))}       # ~330 cases each",
        f"  dispatchers: {max(1, math.ceil(est.per_day / 270))}         # ~270 cases each",
        "",
        "# Per department: crews and work from sim/ingest/servicefit.py (no department has "
        "more",
        "# crews than max(1, its cases a day); each states its utilisation); duty hours from "
        "when",
        "# the log's closures fall; intake_hours: the waiting no crew controls.",
        "departments:",
    ]
    for dep in sorted(plans):
        p = plans[dep]
        hours = est.department_hours.get(dep)
        days = est.department_days.get(dep, "all")
        lines.append(f"  {_flow(dep)}:")
        lines.append(f"    crews: {p.crews}   # {p.note}")
        if hours:
            lines.append(f"    hours: {_flow(list(hours))}   # when the log's closures fall "
                         "(1% trimmed each end)")
        lines.append(f"    days: {days}   # " + ("weekend closures under a quarter of a "
                                                 "weekday's" if days == "workdays" else
                                                 "closures every day of the week"))
        intake = fit.intake.get(dep)
        if intake and intake[0]:
            lines.append(f"    # {intake[1]}")
            lines.append(f"    intake_hours: {{dist: empirical, values: {_flow(intake[0])}}}")
        elif intake:
            lines.append(f"    # intake_hours: none ({intake[1]})")
    return "\n".join(lines) + "\n"
