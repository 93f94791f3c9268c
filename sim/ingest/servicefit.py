"""Departments' service from a case log: crews and work time, and the waiting no crew controls.

A log's time to close is waiting and working together. `plan_department` splits it:

* **work** (crew time per case, the handbook's ``handling_hours``): no longer than the
  department's quick closures allow (half the time to close of its fastest fifth, at most
  `WORK_CAP_HOURS`), and no longer than its crews can keep up with;
* **crews**: the fewest that keep utilisation (cases a day x work hours / crew hours on duty)
  at or below `TARGET_UTILISATION` and the mean wait for a crew (Erlang C) at most
  `QUEUE_SHARE` of the median time to close, never more than max(1, the department's cases
  a day);
* **waiting for a crew** is what the simulated queue, duty hours and the centres add: measured
  on a pilot run of the fitted scenario (`base_times`);
* **waiting for things no crew controls** (materials, a contractor, a permit, another
  department) is the rest: `deconvolve` finds the delay distribution which, added to the
  pilot's times, gives the log's time-to-close distribution (Kaplan-Meier, so open cases
  count as censored). It is written as the department's ``intake_hours``, which the engine
  runs today. The hook for issue 11: the handbook now has stage tables (``work: wait``
  stages with a ``hours`` distribution); once the engine runs them, `fit_waits` in
  `sim.ingest.pilots` should write the same values as a wait stage of the department's
  subclasses instead, and the pilots then also see the extensions and suspensions long waits
  cause.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["ServicePlan", "plan_department", "km_quantiles", "deconvolve", "base_times",
           "TARGET_UTILISATION", "MAX_UTILISATION", "erlang_c_wait", "WORK_CAP_HOURS", "PROBS",
           "duty_days"]

TARGET_UTILISATION = 0.6
"""Crews are added until utilisation is at most this (judgement: stretched, not saturated)."""
MAX_UTILISATION = 0.85
"""Work is shortened so that the crews allowed keep utilisation at most this."""
WORK_CAP_HOURS = 2.0
"""Longest mean on-site work per case (judgement: the handbook default, docs/domain.md §3)."""
MIN_WORK_HOURS = 0.1
QUEUE_SHARE = 0.25
"""Crews are added until the mean wait for one (Erlang C) is at most this share of the
department's median time to close (judgement: in a department that closes fast, crews
are seldom all busy)."""
QUICK_SHARE = 0.5
"""Share of a quick closure's time to close that is the crew's work (judgement: the rest is
reporting, verification, dispatch and travel)."""
PROBS = (np.arange(60) + 0.5) / 60
"""Probabilities at which the waiting distribution is matched (60 equal steps)."""


@dataclass(frozen=True)
class ServicePlan:
    """One department's crews and work, and where each came from."""

    department: str
    cases_per_day: float
    crews: int
    work_hours: float
    utilisation: float
    duty_hours: float
    note: str


def erlang_c_wait(per_hour: float, work_hours: float, crews: int) -> float:
    """Mean wait in queue (hours) of an M/M/c queue: Erlang C."""
    a = per_hour * work_hours
    if a <= 0:
        return 0.0
    if a >= crews:
        return math.inf
    term, total = 1.0, 1.0
    for k in range(1, crews):
        term *= a / k
        total += term
    last = term * a / crews / (1 - a / crews)
    return last / (total + last) * work_hours / (crews - a)


def plan_department(name: str, cases_per_day: float, quick_hours: float,
                    duty_hours: float, median_hours: float = math.inf,
                    peak: float = 1.0) -> ServicePlan:
    """Crews and mean work hours for a department (see the module docstring).

    Args:
        cases_per_day: cases the department gets a day in the log.
        quick_hours: its quick closures' time to close (a low quantile), an upper bound on
            the work itself.
        duty_hours: crew hours on duty per crew per day (window length x share of days open).
        median_hours: its median time to close: the mean wait for a crew in the busiest hour
            (``peak`` times the day's mean rate) may be at most `QUEUE_SHARE` of it.
    """
    cap = max(1, math.floor(cases_per_day))
    work = min(WORK_CAP_HOURS, max(MIN_WORK_HOURS, QUICK_SHARE * quick_hours))
    why = ("the handbook default" if work == WORK_CAP_HOURS else
           f"{QUICK_SHARE:.0%} of its quick closures' time to close")
    load = cases_per_day * work  # crew hours of work a day
    per_hour = cases_per_day * peak / 24.0  # the busiest hour's arrivals
    crews = 1
    while crews < cap and (load / (crews * duty_hours) > TARGET_UTILISATION or erlang_c_wait(
            per_hour, work, crews) > QUEUE_SHARE * median_hours):
        crews += 1
    if load / (crews * duty_hours) > MAX_UTILISATION:
        work = MAX_UTILISATION * crews * duty_hours / max(cases_per_day, 1e-9)
        why = f"shortened so {crews} crew(s) keep up"
    util = cases_per_day * work / (crews * duty_hours)
    note = (f"{cases_per_day:.2f} cases a day x {work:.2g} h work ({why}) / ({crews} crew(s) x "
            f"{duty_hours:.3g} h on duty) = utilisation {util:.0%}; at most max(1, cases a "
            f"day) = {cap} crew(s)")
    return ServicePlan(name, cases_per_day, crews, round(work, 3), util, duty_hours, note)


def km_quantiles(hours: np.ndarray, closed: np.ndarray, probs: np.ndarray = PROBS,
                 beyond: float = math.inf) -> np.ndarray:
    """Quantiles of time to close with open cases censored (Kaplan-Meier); a probability the
    follow-up never reaches gets ``beyond``."""
    t = np.asarray(hours, float)
    d = np.asarray(closed, bool)
    order = np.lexsort((~d, t))  # at ties, closures before censorings
    t, d = t[order], d[order]
    at_risk = len(t) - np.arange(len(t))
    factor = np.where(d, 1.0 - 1.0 / at_risk, 1.0)
    cdf = 1.0 - np.cumprod(factor)
    idx = np.searchsorted(cdf, np.asarray(probs) - 1e-12, side="left")
    out = np.full(len(probs), beyond)
    ok = idx < len(t)
    out[ok] = t[idx[ok]]
    return out


def deconvolve(target: np.ndarray, base: np.ndarray, rng: np.random.Generator,
               probs: np.ndarray = PROBS, rounds: int = 12, draws: int = 20_000
               ) -> np.ndarray:
    """Delays ``w`` (one per probability of ``probs``) such that ``w + base`` has the quantiles
    ``target`` at ``probs``: quantile matching, each round moving every delay by the gap
    between the target and the simulated sum at its probability. ``target`` may hold inf
    (beyond the log's follow-up): those delays stay inf."""
    target = np.asarray(target, float)
    base = np.asarray(base, float)
    if not len(base):
        base = np.zeros(1)
    finite = np.isfinite(target)
    w = np.maximum(np.where(finite, target - np.median(base), np.inf), 0.0)
    pick_w = rng.integers(0, len(w), draws)
    pick_b = rng.integers(0, len(base), draws)
    for _ in range(rounds):
        total = np.sort(w[pick_w] + base[pick_b])
        got = np.quantile(total[np.isfinite(total)], probs) if np.isfinite(total).any() \
            else np.zeros(len(probs))
        step = np.where(finite, target - got, 0.0)
        w = np.sort(np.maximum(np.where(finite, w + step, np.inf), 0.0))
    return w


def base_times(cases: object, departments: list[str], min_cases: int = 30
               ) -> dict[str, np.ndarray]:
    """Hours from report to close of each department's closed cases in a pilot run's case
    table (``sim.run.RunResult.cases``), with every department's pooled for those with fewer
    than ``min_cases`` (key ``"*"``)."""
    import pandas as pd

    c: pd.DataFrame = cases  # type: ignore[assignment]
    c = c[c["t_close"].notna() & c["t_file"].notna()]
    names = np.asarray([*departments, ""])
    dep = names[c["final_department"].to_numpy()]
    hours = ((c["t_close"] - c["t_report"]) / 60.0).to_numpy()
    out = {"*": hours}
    for d in set(dep) - {""}:
        x = hours[dep == d]
        if len(x) >= min_cases:
            out[str(d)] = x
    return out


def duty_days(weekday_of_closures: np.ndarray) -> str:
    """``workdays`` when weekend days see under a quarter of a weekday's closures, else
    ``all``."""
    counts = np.bincount(np.asarray(weekday_of_closures, int), minlength=7).astype(float)
    week, weekend = counts[:5].mean(), counts[5:].mean()
    return "workdays" if week > 0 and weekend < 0.25 * week else "all"
