"""Headline indicators of a run, computed from the event log and the ground truth only.

`summarize` returns the numbers `summary.json` holds (see README for each definition); it
takes record arrays, not a live model, so it runs on a finished run read back from disk.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim.engine.eventlog import Channel
from sim.engine.problems import Fate

__all__ = ["summarize", "hours_stats", "hotline_summary", "three_rates"]


def hours_stats(minutes: np.ndarray) -> dict[str, float | None]:
    """Mean, median and 90th percentile of durations given in minutes, in hours."""
    m = np.asarray(minutes, dtype=float)
    m = m[~np.isnan(m)]
    if m.size == 0:
        return {"mean": None, "median": None, "p90": None}
    h = m / 60.0
    return {"mean": round(float(h.mean()), 3), "median": round(float(np.median(h)), 3),
            "p90": round(float(np.percentile(h, 90)), 3)}


def _rate(num: float, den: float) -> float | None:
    return round(float(num) / float(den), 4) if den else None


def summarize(cases: pd.DataFrame, problems: np.ndarray, *, event_subclasses: np.ndarray,
              days: int) -> dict[str, Any]:
    """Headline KPIs of one run.

    Args:
        cases: `sim.evaluation.case_table` of the run's events.
        problems: ground-truth rows (`sim.engine.eventlog.PROBLEM_DTYPE`).
        event_subclasses: bool per handbook subclass, True for events (事件).
        days: simulated days (for per-day rates).
    """
    filed = cases[cases["t_file"].notna()]
    n_filed = len(filed)
    suspended = filed["suspended"].astype(bool)
    # a suspended case (挂账) leaves the denominators, as in the evaluation (docs/evaluation.md)
    counted = filed[~suspended]
    closed = counted[counted["state"] == "closed"]
    handled = counted[counted["t_handle"].notna()]
    fate = problems["fate"]
    found = problems["found"]
    became_case = problems["first_case"] >= 0
    delay = found[~np.isnan(found)] - problems["created"][~np.isnan(found)]
    return {
        "problems_created": int(len(problems)),
        "problems_fixed": int(np.isin(fate, (Fate.FIXED, Fate.FIXED_ON_SPOT)).sum()),
        "problems_fixed_on_spot": int((fate == Fate.FIXED_ON_SPOT).sum()),
        "problems_vanished": int((fate == Fate.VANISHED).sum()),
        "problems_open_at_end": int((fate == Fate.OPEN).sum()),
        "reports": int(len(cases)),
        "cases_filed": n_filed,
        "cases_filed_per_day": round(n_filed / days, 1),
        "cases_closed": int((filed["state"] == "closed").sum()),
        "cases_open_at_end": int((filed["state"] != "closed").sum()),
        "cases_voided": int((cases["state"] == "voided").sum()),
        "cases_merged": int((cases["state"] == "merged").sum()),
        "share_found_by_inspectors": _rate((filed["channel"] == Channel.INSPECTOR).sum(), n_filed),
        "events_share": _rate(event_subclasses[filed["subclass"].to_numpy()].sum(), n_filed),
        "discovery_rate": _rate(became_case.sum(), len(problems)),
        "mean_hours_to_discovery": round(float(delay.mean()) / 60.0, 3) if delay.size else None,
        "on_time_handling_rate": _rate(handled["handled_on_time"].sum(), len(handled)),
        "rework_rate": _rate((handled["n_reworks"] > 0).sum(), len(handled)),
        "return_rate": _rate((filed["n_returns"] > 0).sum(), n_filed),
        "extension_rate": _rate((filed["n_extensions"] > 0).sum(), n_filed),
        "suspension_rate": _rate(suspended.sum(), n_filed),
        "closure_rate": _rate(len(closed), len(counted)),
        "hours_to_close": hours_stats((closed["t_close"] - closed["t_report"]).to_numpy()),
    }


def hotline_summary(calls: pd.DataFrame) -> dict[str, Any]:
    """Hotline service level: offered, answered within 15 s, abandonment, waits, orders."""
    n = len(calls)
    answered = calls["answered"].to_numpy(bool)
    wait = calls["wait"].to_numpy(float)
    return {
        "calls_offered": int(n),
        "calls_answered": int(answered.sum()),
        "connected_rate": _rate(answered.sum(), n),
        "answered_within_15s": _rate((answered & (wait <= 0.25)).sum(), n),
        "abandon_rate": _rate((~answered).sum(), n),
        "mean_wait_seconds": round(float(np.nanmean(wait[answered])) * 60, 2)
        if answered.any() else None,
        "work_orders": int(calls["work_order"].sum()),
        "grid_work_orders": int((calls["work_order"] & (calls["kind"] == 2)).sum()),
        "consultation_share": _rate((calls["kind"] == 0).sum(), n),
        "work_order_share": _rate(calls["work_order"].sum(), n),
    }


def three_rates(calls: pd.DataFrame) -> dict[str, float | None]:
    """三率 over work orders whose feedback is in: response (feedback by the deadline),
    resolution and satisfaction (among requesters the call-back survey reached)."""
    done = calls[calls["work_order"] & calls["feedback_at"].notna()]
    reached = done[done["reached"]]
    return {
        "work_orders_closed": int(len(done)),
        "surveyed": int(len(reached)),
        "response": _rate(done["responded"].sum(), len(done)),
        "resolution": _rate(reached["resolved"].sum(), len(reached)),
        "satisfaction": _rate(reached["satisfied"].sum(), len(reached)),
    }
