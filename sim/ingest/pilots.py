"""Pilot runs of a calibrated scenario, and what they set (`sim.ingest.scenario_yaml`).

`plans_of` gives each department its crews and work (`sim.ingest.servicefit`). `pilots` runs
the fitted scenario and steers ``problems.rate_scale``, ``inspectors.detection_scale`` and
``citizens.propensity_scale`` until a run files as many cases a day, and as many public ones,
as the log. `fit_waits` fits each department's waiting no crew controls on the last pilot's
times to close, and `correct_waits` moves it on more pilots until the run's quantiles sit on
the log's. Runs go through `sim.run.simulate` and scenario keys only, never engine internals.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.data.scenario import Scenario, load_scenario
from sim.i18n import _
from sim.ingest.calibrate import Estimates
from sim.ingest.servicefit import (
    PROBS,
    ServicePlan,
    base_times,
    deconvolve,
    duty_days,
    km_quantiles,
    plan_department,
)

__all__ = ["Fitted", "NIGHT_SHARE", "plans_of", "pilot_days", "pilots", "fit_waits",
           "correct_waits"]


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


def pilot_days(est: Estimates, refine: int | None) -> int:
    if refine is not None:
        return min(refine, est.days)
    return min(est.days, max(28, math.ceil(2500 / max(est.per_day, 1e-9))))


def plans_of(c: pd.DataFrame, est: Estimates) -> dict[str, ServicePlan]:
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


def pilots(out: Path, est: Estimates, fitted: Fitted, days: int, write: Callable[[], Scenario],
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
        say("  " + _("pilot {k} ({days} days; rate_scale {rate}, detection_scale {detection}, "
                     "propensity_scale {propensity}): {per_day} cases a day (log {log_per_day}), "
                     "public {public} (log {log_public})").format(
            k=k + 1, days=days, rate=f"{fitted.rate_scale:g}",
            detection=f"{fitted.detection_scale:g}", propensity=f"{fitted.propensity:g}",
            per_day=f"{per_day:.2f}", log_per_day=f"{est.per_day:g}", public=f"{public:.1%}",
            log_public=f"{est.public_share:.1%}"))
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


def correct_waits(out: Path, fitted: Fitted, targets: dict[str, np.ndarray], days: int,
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
        say("  " + _("wait correction {k}: largest quantile gap {gap} h").format(
            k=k + 1, gap=f"{worst:.1f}"))
        write()


def fit_waits(c: pd.DataFrame, est: Estimates, plans: dict[str, ServicePlan], fitted: Fitted,
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
            f"waiting no crew controls (materials, contractors, permits; a wait stage once "
            f"the engine runs stage tables): the log's time to close of {whose} (Kaplan-Meier, "
            f"open cases censored) less {source}, matched at {len(PROBS)} quantiles, then "
            f"corrected on pilot runs"
            + (f"; {open_share:.0%} wait past the log's span (still open at its end)"
               if open_share else "")))
    n = sum(1 for v, _ in fitted.intake.values() if v)
    say("  " + _("waiting no crew controls fitted for {n} of {total} departments").format(
        n=n, total=len(plans)))
    return targets
