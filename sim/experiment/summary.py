"""Tables of an experiment's results with confidence intervals (`sim.experiment.stats`).

`summarize` gives every KPI at every design point a t interval; `differences` gives paired
intervals of each point minus the baseline (Bonferroni over the points compared);
`steady_state` takes MSER-5 warm-up off the daily series (the same days at every point)
and intervals their means.
All read the experiment folder; none simulates.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import GridLoopError
from sim.experiment.stats import (
    mser,
    paired_difference,
    relative_half_width,
    steady_mean,
    t_interval,
)
from sim.experiment.store import load_results, load_table, read_manifest

__all__ = ["summarize", "differences", "steady_state"]


def _factor_columns(folder: str | Path, frame: pd.DataFrame) -> pd.DataFrame:
    manifest = read_manifest(folder)
    for factor in manifest.get("factors") or []:
        key = factor["key"]
        frame[key] = frame["point"].map({p["point"]: p["factors"].get(key)
                                         for p in manifest["points"]})
    return frame


def summarize(folder: str | Path, level: float = 0.95) -> pd.DataFrame:
    """One row per design point x KPI: n, mean, half_width, low, high, rel_half_width
    (half-width over |mean|), plus the sweep's varied keys."""
    results = load_results(folder)
    rows = []
    for (point, label, kpi), group in results.groupby(["point", "label", "kpi"], sort=False):
        iv = t_interval(group["value"].to_numpy(), level)
        rows.append({"point": point, "label": label, "kpi": kpi, "n": iv.n, "mean": iv.mean,
                     "half_width": iv.half_width, "low": iv.low, "high": iv.high,
                     "rel_half_width": relative_half_width(iv)})
    out = pd.DataFrame(rows).sort_values(["point"], kind="stable").reset_index(drop=True)
    return _factor_columns(folder, out)


def differences(folder: str | Path, baseline: int = 0, level: float = 0.95) -> pd.DataFrame:
    """Each design point minus the baseline, paired by replication, per KPI.

    Columns: point, label, kpi, n (pairs), difference, half_width, low, high, level (after
    Bonferroni over the points compared: 1 - (1 - level) / m), significant (the interval
    excludes 0), baseline_mean, relative (difference over the baseline mean).
    """
    results = load_results(folder)
    mixed = results.groupby("rep")["seed"].nunique()
    if (mixed > 1).any():
        raise GridLoopError(
            f"{folder}: replication {int(mixed[mixed > 1].index[0])}: expected the same seed at "
            "every design point (common random numbers: differences are paired by "
            "replication), got several; were task files copied in from another experiment?")
    wide = results.pivot_table(index=["kpi", "rep"], columns="point", values="value",
                               aggfunc="first", dropna=False)
    labels = dict(zip(results["point"], results["label"], strict=False))
    others = [p for p in sorted(labels) if p != baseline]
    rows = []
    for kpi, block in wide.groupby(level="kpi", sort=False):
        base = block[baseline].to_numpy(np.float64)
        base_mean = float(np.nanmean(base)) if np.isfinite(base).any() else np.nan
        for p in others:
            both = block[[baseline, p]].dropna()
            iv = paired_difference(both[p].to_numpy(), both[baseline].to_numpy(), level,
                                   comparisons=len(others))
            rows.append({"point": p, "label": labels[p], "kpi": kpi, "n": iv.n,
                         "difference": iv.mean, "half_width": iv.half_width, "low": iv.low,
                         "high": iv.high, "level": iv.level,
                         "significant": iv.excludes_zero(), "baseline_mean": base_mean,
                         "relative": iv.mean / base_mean if base_mean else np.nan})
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    return out.sort_values(["point"], kind="stable").reset_index(drop=True)


def steady_state(folder: str | Path, level: float = 0.95, batch: int = 5,
                 common: bool = True) -> pd.DataFrame:
    """Steady-state means of the daily series (backlog, filed, closed, problems,
    hours_to_close) per design point, after MSER-5 warm-up deletion.

    The truncation is chosen per point and series on the mean over its replications. With
    ``common`` (the default), every point then uses the longest truncation any point got for
    that series, so the points' means cover the same days and compare like with like;
    ``mser_days`` keeps each point's own pick. Each replication's mean after the truncation
    is one observation of the t interval. The run-length KPIs of `summarize` are left as
    they are (terminating).

    Columns: point, label, series, warmup_days, mser_days, n, mean, half_width, low, high.
    """
    daily = load_table(folder, "daily")
    paths = []
    for (point, label, series), group in daily.groupby(["point", "label", "name"], sort=False):
        wide = group.pivot_table(index="rep", columns="day", values="value", aggfunc="first",
                                 dropna=False).to_numpy(np.float64)
        with warnings.catch_warnings():  # a day with no value in any replication stays NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            mean_path = np.nanmean(wide, axis=0)
        d = mser(np.nan_to_num(mean_path, nan=float(np.nanmean(mean_path))), batch)
        paths.append((point, label, series, wide, d))
    longest: dict[str, int] = {}
    for _, _, series, _, d in paths:
        longest[series] = max(longest.get(series, 0), d)
    rows = []
    for point, label, series, wide, d in paths:
        use = longest[series] if common else d
        iv = t_interval([steady_mean(r, use) for r in wide], level)
        rows.append({"point": point, "label": label, "series": series, "warmup_days": use,
                     "mser_days": d, "n": iv.n, "mean": iv.mean, "half_width": iv.half_width,
                     "low": iv.low, "high": iv.high})
    return pd.DataFrame(rows).sort_values(["point"], kind="stable").reset_index(drop=True)
