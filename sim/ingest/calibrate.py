"""Fit a scenario to a city's case log: arrivals, subclass mix, places and handling times.

`estimate` measures the log (`Estimates`); `sim.ingest.scenario_yaml` writes the scenario
with a comment on where each number came from. What is fitted, and how:

* Arrivals (cases a day, voided ones left out): the mean per day; the hour-of-day and
  day-of-week profiles (the margins of the hour-of-week counts, which are the
  maximum-likelihood profiles of the scenario's multiplicative model); subclass shares;
  subdistrict weights (cases per unit of grid weight). The full subclass x subdistrict x
  hour-of-week table is written beside the scenario with the rate the model gives each
  cell, and G-tests say which left-out interactions the log shows.
* Overdispersion: Pearson's index of daily counts around their weekday means, and a
  likelihood-ratio test of a negative binomial (gamma day multiplier) against Poisson;
  ``arrivals="negbin"`` (or ``"auto"`` when the test rejects Poisson at 1%) writes the
  fitted ``problems.day_dispersion``.
* Handling times per department x subclass: hours from dispatch (else filing, else report)
  to handling (else check, else close) of closed cases, fitted as lognormal, gamma and
  Weibull, lowest AIC kept (`sim.ingest.fitting`). A subclass with fewer than ``min_cases``
  takes its department's pooled fit, else its handbook value.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from sim.data.citymap import CityMap
from sim.ingest.caselog import CaseLog
from sim.ingest.fitting import (
    Dispersion,
    DurationFit,
    daily_dispersion,
    fit_duration,
    independence_test,
)

__all__ = ["Estimates", "estimate", "handling_hours", "arrival_table"]

Arrivals = Literal["poisson", "negbin", "auto"]


@dataclass
class Estimates:
    """What the log says, in the scenario's terms, with the tests behind it."""

    start_date: dt.date
    days: int
    cases: int
    voided: int
    per_day: float
    hourly_profile: list[float]
    weekly_profile: list[float]
    shares: dict[str, int]
    subdistrict_weight: dict[str, float]
    dispersion: Dispersion
    day_dispersion: float
    arrivals: str
    tests: dict[str, tuple[float, int, float]]
    department_of: dict[str, str]
    department_cases: dict[str, int]
    fits: dict[tuple[str, str], DurationFit] = field(default_factory=dict)
    department_fits: dict[str, DurationFit] = field(default_factory=dict)
    public_share: float = 0.0
    department_hours: dict[str, tuple[str, str]] = field(default_factory=dict)
    department_days: dict[str, str] = field(default_factory=dict)


def _profile(values: np.ndarray) -> list[float]:
    """Relative profile with mean 1, rounded for the scenario file."""
    v = np.asarray(values, dtype=float)
    m = v.mean()
    return [round(float(x), 3) for x in (v / m if m > 0 else np.ones_like(v))]


def _day_counts(log: CaseLog, cases: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    day = (cases["requested_datetime"].dt.normalize() - pd.Timestamp(log.start_date)).dt.days
    counts = np.bincount(day.to_numpy(), minlength=log.days)
    weekday = (np.arange(log.days) + log.start_date.weekday()) % 7
    return counts, weekday


def _hour_exposure(log: CaseLog) -> np.ndarray:
    """How many times each hour of the week (Monday 00:00 = 0) occurs in the log's days."""
    weekday = (np.arange(log.days) + log.start_date.weekday()) % 7
    per_day = np.bincount(weekday, minlength=7)
    return np.repeat(per_day, 24).astype(float)


def arrival_table(log: CaseLog, city: CityMap, base_weight: np.ndarray,
                  est: Estimates) -> pd.DataFrame:
    """Cases per subclass x subdistrict x hour of week, their rate per hour, and the rate the
    fitted (multiplicative) scenario gives the same cell."""
    c = log.cases[log.cases["status"] != "voided"]
    how = (c["requested_datetime"].dt.day_of_week * 24 + c["requested_datetime"].dt.hour).to_numpy()
    sub_of = {code: city.subdistrict_codes[s] for code, s in zip(city.codes, city.subdistrict,
                                                                  strict=True)}
    subs = sorted(est.shares)
    sds = list(city.subdistrict_codes)
    si = {s: i for i, s in enumerate(subs)}
    ki = {k: i for i, k in enumerate(sds)}
    counts = np.zeros((len(subs), len(sds), 168))
    np.add.at(counts, (c["subclass"].map(si).to_numpy(),
                       c["grid"].map(sub_of).map(ki).to_numpy(), how), 1)
    exposure = _hour_exposure(log)
    share = np.array([est.shares[s] for s in subs], dtype=float)
    share /= share.sum()
    w = np.array([est.subdistrict_weight.get(k, 1.0) for k in sds])
    place = np.bincount(city.subdistrict, base_weight, minlength=len(sds)) * w
    place /= place.sum()
    hour = np.asarray(est.hourly_profile) / sum(est.hourly_profile)
    week = np.asarray(est.weekly_profile) / np.mean(est.weekly_profile)
    per_hour = est.per_day * np.tile(hour, 7) * np.repeat(week, 24)
    model = share[:, None, None] * place[None, :, None] * per_hour[None, None, :]
    idx = pd.MultiIndex.from_product([subs, sds, range(168)],
                                     names=["subclass", "subdistrict", "hour_of_week"])
    out = pd.DataFrame({"cases": counts.ravel().astype(int),
                        "exposure_hours": np.tile(exposure, len(subs) * len(sds))}, index=idx)
    out["rate_per_hour"] = (out["cases"] / out["exposure_hours"].where(out["exposure_hours"] > 0)
                            ).round(5)
    out["scenario_rate_per_hour"] = model.ravel().round(5)
    return out.reset_index()


def estimate(log: CaseLog, city: CityMap, base_weight: np.ndarray, *,
             department_of: dict[str, str], arrivals: Arrivals = "auto",
             min_cases: int = 30) -> Estimates:
    """Measure ``log`` in the scenario's terms.

    Args:
        city: the city the log's grids lie in.
        base_weight: per grid, the weight the scenario gives it before subdistrict weights
            (residents ** residents_exponent).
        department_of: the handbook's department per subclass; a subclass the log sends
            mostly elsewhere keeps the handbook's unless the caller changes it.
    """
    all_cases = log.cases
    c = all_cases[all_cases["status"] != "voided"]
    counts, weekday = _day_counts(log, c)
    disp = daily_dispersion(counts, weekday)
    negbin = arrivals == "negbin" or (arrivals == "auto" and disp.lr_p_value < 0.01)
    t = c["requested_datetime"]
    by_hour = np.bincount(t.dt.hour, minlength=24)
    by_weekday = np.bincount(t.dt.day_of_week, minlength=7) / np.maximum(
        np.bincount(weekday, minlength=7), 1)
    shares = c["subclass"].value_counts().sort_index()
    grid_index = {g: i for i, g in enumerate(city.codes)}
    sub_idx = np.asarray(city.subdistrict)[c["grid"].map(grid_index).to_numpy()]
    n_sd = city.n_subdistricts
    per_sd = np.bincount(sub_idx, minlength=n_sd).astype(float)
    base_sd = np.bincount(city.subdistrict, base_weight, minlength=n_sd)
    weight = (per_sd / per_sd.sum()) / (base_sd / base_sd.sum())
    sd_weight = {city.subdistrict_codes[k]: round(float(weight[k]), 4) for k in range(n_sd)}
    how = (t.dt.day_of_week * 24 + t.dt.hour).to_numpy()
    sub_codes = sorted(shares.index)
    si = {s: i for i, s in enumerate(sub_codes)}
    s_idx = c["subclass"].map(si).to_numpy()

    def table(a: np.ndarray, na: int, b: np.ndarray, nb: int) -> np.ndarray:
        out = np.zeros((na, nb))
        np.add.at(out, (a, b), 1)
        return out

    tests = {
        "hour_of_day x day_of_week": independence_test(
            table(t.dt.day_of_week.to_numpy(), 7, t.dt.hour.to_numpy(), 24)),
        "subclass x hour_of_day": independence_test(
            table(s_idx, len(sub_codes), t.dt.hour.to_numpy(), 24)),
        "subclass x subdistrict": independence_test(table(s_idx, len(sub_codes), sub_idx, n_sd)),
        "subclass x hour_of_week": independence_test(table(s_idx, len(sub_codes), how, 168)),
    }
    dep_cases = c.loc[c["department"] != "", "department"].value_counts()
    est = Estimates(
        start_date=log.start_date, days=log.days, cases=len(c),
        voided=int((all_cases["status"] == "voided").sum()),
        per_day=round(len(c) / log.days, 3), hourly_profile=_profile(by_hour),
        weekly_profile=_profile(by_weekday), shares={s: int(shares[s]) for s in sub_codes},
        subdistrict_weight=sd_weight, dispersion=disp,
        day_dispersion=round(disp.day_dispersion, 5) if negbin else 0.0,
        arrivals="negbin" if negbin else "poisson", tests=tests,
        department_of=dict(department_of), department_cases={str(k): int(v) for k, v in
                                                              dep_cases.items()},
        public_share=float((c["channel"] == "public").mean()))
    moved = c["dispatched_datetime"].notna() & c["dispatched_datetime"].ne(
        c["requested_datetime"])
    if c["handled_datetime"].notna().any() or moved.any():  # lifecycle times, not only
        # open and close: dispatch-to-handling fits (waiting included) as a diagnostic
        est.fits, est.department_fits = handling_hours(c, min_cases=min_cases)
    est.department_hours = working_hours(c, min_cases=min_cases)
    return est


def working_hours(cases: pd.DataFrame, *, min_cases: int = 30,
                  tail: float = 0.01) -> dict[str, tuple[str, str]]:
    """Per department with at least ``min_cases`` handled cases, the clock hours its crews
    work: from the hour of the ``tail`` quantile of the handling times' time of day to the end
    of the hour of the 1 - ``tail`` quantile (``00:00``-``24:00`` when that spans the day).
    Work that runs past closing blurs the end, so the end is the rougher estimate."""
    end = cases["handled_datetime"].fillna(cases["checked_datetime"]).fillna(
        cases["closed_datetime"])
    ok = end.notna() & (cases["department"] != "")
    clock = end[ok].dt.hour + end[ok].dt.minute / 60.0
    out: dict[str, tuple[str, str]] = {}
    for dep, hours in clock.groupby(cases["department"][ok]):
        if len(hours) < min_cases:
            continue
        lo = int(np.floor(hours.quantile(tail)))
        hi = min(24, int(np.floor(hours.quantile(1 - tail))) + 1)
        out[str(dep)] = ("00:00", "24:00") if lo <= 1 and hi >= 23 else \
            (f"{lo:02d}:00", f"{hi:02d}:00")
    return out


def handling_hours(cases: pd.DataFrame, *, min_cases: int = 30
                   ) -> tuple[dict[tuple[str, str], DurationFit], dict[str, DurationFit]]:
    """Fitted handling-time distributions per (department, subclass) and per department,
    for groups with at least ``min_cases`` positive durations (hours)."""
    start = cases["dispatched_datetime"].fillna(cases["filed_datetime"]).fillna(
        cases["requested_datetime"])
    end = cases["handled_datetime"].fillna(cases["checked_datetime"]).fillna(
        cases["closed_datetime"])
    hours = (end - start) / pd.Timedelta(hours=1)
    ok = hours.notna() & (hours > 0) & (cases["department"] != "")
    d = pd.DataFrame({"department": cases["department"], "subclass": cases["subclass"],
                      "hours": hours})[ok]
    fits: dict[tuple[str, str], DurationFit] = {}
    for (dep, sub), g in d.groupby(["department", "subclass"], sort=True):
        if len(g) >= min_cases:
            fits[(str(dep), str(sub))] = fit_duration(g["hours"].to_numpy())
    pooled: dict[str, DurationFit] = {}
    for dep, g in d.groupby("department", sort=True):
        if len(g) >= min_cases:
            pooled[str(dep)] = fit_duration(g["hours"].to_numpy())
    return fits, pooled


def handling_of(est: Estimates, subclass: str) -> tuple[DurationFit | None, str]:
    """The fit a subclass's handbook row takes, and where it came from."""
    dep = est.department_of[subclass]
    if (dep, subclass) in est.fits:
        return est.fits[(dep, subclass)], f"fitted on {dep}'s {subclass} cases"
    if dep in est.department_fits:
        return est.department_fits[dep], f"{dep}'s pooled fit (too few {subclass} cases)"
    return None, "the handbook's value (too few cases to fit)"


def summary(est: Estimates) -> dict[str, Any]:
    """The headline numbers of a calibration, for the console and for tests."""
    d = est.dispersion
    return {"cases": est.cases, "days": est.days, "per_day": est.per_day,
            "dispersion_index": round(d.index, 3), "dispersion_p": d.p_value,
            "negbin_lr_p": d.lr_p_value, "arrivals": est.arrivals,
            "day_dispersion": est.day_dispersion, "fits": len(est.fits)}
