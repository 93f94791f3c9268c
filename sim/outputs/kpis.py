"""Headline indicators of a run, computed from the event log and the ground truth only.

`summarize` returns the numbers `summary.json` holds (see README for each definition); it
takes record arrays, not a live model, so it runs on a finished run read back from disk.
Every indicator is a count, a sum or an order statistic over cases, problems or calls, so
each has a running form (`CaseTotals`, `ProblemTotals`, `CallTotals`) that takes them a batch
at a time: a run streamed to disk gets the same numbers without holding its rows. Sums are
exact (`math.fsum`), so they do not depend on how the rows were split into batches; medians
and percentiles are exact order statistics found in two passes (`hours_stats_of`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from sim.engine.eventlog import Channel
from sim.engine.problems import Fate
from sim.evaluation.cases import CASE_STATES

__all__ = ["summarize", "hours_stats", "hours_stats_of", "hotline_summary", "three_rates",
           "CaseTotals", "ProblemTotals", "CallTotals"]

_CLOSED, _VOIDED, _MERGED = (CASE_STATES.index(s) for s in ("closed", "voided", "merged"))
_BINS = 1 << 16  # histogram bins of the first pass of `hours_stats_of`


def hours_stats(minutes: np.ndarray) -> dict[str, float | None]:
    """Mean, median and 90th percentile of durations given in minutes, in hours."""
    m = np.asarray(minutes, dtype=float)
    return hours_stats_of(lambda: (m,))


def hours_stats_of(batches: Callable[[], Iterable[np.ndarray]]) -> dict[str, float | None]:
    """`hours_stats` of durations that come in batches (minutes; NaN left out), holding one
    batch and the values near the median and the 90th percentile at a time.

    ``batches()`` is called three times and must give the same values each time: a count,
    a histogram of 65,536 bins, then the values in the bins holding the wanted ranks. The
    result equals numpy's ``mean``, ``median`` and ``percentile(.., 90)`` (linear) of all the
    values (the mean up to the last bit, being an exact sum).
    """
    def hours() -> Iterable[np.ndarray]:
        for b in batches():
            h = np.asarray(b, dtype=np.float64) / 60.0
            yield h[~np.isnan(h)]

    n, lo, hi, parts = 0, math.inf, -math.inf, []
    for h in hours():
        if h.size:
            n += h.size
            lo, hi = min(lo, float(h.min())), max(hi, float(h.max()))
            parts.append(math.fsum(h))
    if n == 0:
        return {"mean": None, "median": None, "p90": None}
    p90 = (n - 1) * np.true_divide(90, 100)          # numpy's virtual index, 'linear'
    below = int(np.floor(p90))
    ranks = {below, min(below + 1, n - 1), (n - 1) // 2, n // 2}
    width = (hi - lo) / _BINS if hi > lo else 1.0

    def bins(h: np.ndarray) -> np.ndarray:           # monotone in h: bins keep the order
        return np.minimum(((h - lo) / width).astype(np.int64), _BINS - 1)

    count = np.zeros(_BINS, dtype=np.int64)
    for h in hours():
        count += np.bincount(bins(h), minlength=_BINS)
    ends = np.cumsum(count)
    where = {r: int(np.searchsorted(ends, r, side="right")) for r in ranks}
    wanted = np.unique(list(where.values()))
    picked = np.sort(np.concatenate([h[np.isin(bins(h), wanted)] for h in hours()]))
    # the picked values are whole bins, in order: a rank's place among them
    first_of = {b: int(np.searchsorted(wanted, b)) for b in wanted.tolist()}
    offset = np.concatenate([[0], np.cumsum(count[wanted])])
    starts = {int(b): int(ends[b] - count[b]) for b in wanted}
    value = {r: float(picked[offset[first_of[b]] + r - starts[b]]) for r, b in where.items()}
    mid = n // 2
    median = value[mid] if n % 2 else float(np.mean([value[mid - 1], value[mid]]))
    a, b = np.float64(value[below]), np.float64(value[min(below + 1, n - 1)])
    gamma = p90 - np.floor(p90)                      # numpy's _lerp, as np.percentile does
    p = b - (b - a) * (1 - gamma) if gamma >= 0.5 else a + (b - a) * gamma
    return {"mean": round(math.fsum(parts) / n, 3), "median": round(median, 3),
            "p90": round(float(p), 3)}


def _rate(num: float, den: float) -> float | None:
    return round(float(num) / float(den), 4) if den else None


class CaseTotals:
    """Running counts over cases for `summarize`.

    Args:
        event_subclasses: bool per handbook subclass, True for events (事件).
    """

    _KEYS = ("reports", "filed", "closed", "voided", "merged", "by_inspector", "events",
             "handled", "handled_on_time", "reworked", "returned", "extended", "suspended",
             "counted", "counted_closed")

    def __init__(self, event_subclasses: np.ndarray) -> None:
        self.event_subclasses = np.asarray(event_subclasses, dtype=bool)
        self.n = dict.fromkeys(self._KEYS, 0)

    def add(self, c: Mapping[str, np.ndarray]) -> None:
        """Count a batch of cases, given as `sim.evaluation.CaseRows.cases` columns."""
        n = self.n
        filed = ~np.isnan(c["t_file"])
        state = c["state"]
        suspended = filed & c["suspended"].astype(bool)
        # a suspended case (挂账) leaves the denominators, as in the evaluation
        # (docs/evaluation.md)
        counted = filed & ~suspended
        handled = counted & ~np.isnan(c["t_handle"])
        n["reports"] += len(filed)
        n["filed"] += int(filed.sum())
        n["closed"] += int((filed & (state == _CLOSED)).sum())
        n["voided"] += int((state == _VOIDED).sum())
        n["merged"] += int((state == _MERGED).sum())
        n["by_inspector"] += int((filed & (c["channel"] == Channel.INSPECTOR)).sum())
        n["events"] += int(self.event_subclasses[c["subclass"][filed]].sum())
        n["handled"] += int(handled.sum())
        n["handled_on_time"] += int((handled & (c["handled_on_time"] == 1.0)).sum())
        n["reworked"] += int((handled & (c["n_reworks"] > 0)).sum())
        n["returned"] += int((filed & (c["n_returns"] > 0)).sum())
        n["extended"] += int((filed & (c["n_extensions"] > 0)).sum())
        n["suspended"] += int(suspended.sum())
        n["counted"] += int(counted.sum())
        n["counted_closed"] += int((counted & (state == _CLOSED)).sum())

    def result(self, days: int, hours_to_close: dict[str, float | None]) -> dict[str, Any]:
        """The case KPIs of `summarize`; ``hours_to_close`` from `hours_stats_of` over the
        report-to-close minutes of the filed, closed cases that were not suspended."""
        n = self.n
        filed = n["filed"]
        return {
            "reports": n["reports"],
            "cases_filed": filed,
            "cases_filed_per_day": round(filed / days, 1),
            "cases_closed": n["closed"],
            "cases_open_at_end": filed - n["closed"],
            "cases_voided": n["voided"],
            "cases_merged": n["merged"],
            "share_found_by_inspectors": _rate(n["by_inspector"], filed),
            "events_share": _rate(n["events"], filed),
            "on_time_handling_rate": _rate(n["handled_on_time"], n["handled"]),
            "rework_rate": _rate(n["reworked"], n["handled"]),
            "return_rate": _rate(n["returned"], filed),
            "extension_rate": _rate(n["extended"], filed),
            "suspension_rate": _rate(n["suspended"], filed),
            "closure_rate": _rate(n["counted_closed"], n["counted"]),
            "hours_to_close": hours_to_close,
        }


def close_minutes(c: Mapping[str, np.ndarray]) -> np.ndarray:
    """Report-to-close minutes of the filed, closed cases of a batch that were not suspended
    (挂账: out of the time to close, as out of the closure rate)."""
    closed = ~np.isnan(c["t_file"]) & ~np.isnan(c["t_close"]) & ~c["suspended"].astype(bool)
    return np.asarray(c["t_close"][closed] - c["t_report"][closed], dtype=np.float64)


class ProblemTotals:
    """Running counts over ground-truth rows (`PROBLEM_DTYPE`) for `summarize`."""

    def __init__(self) -> None:
        self.created = self.found = self.became_case = 0
        self.fate = np.zeros(len(Fate), dtype=np.int64)
        self._delay: list[float] = []

    def add(self, problems: np.ndarray) -> None:
        self.created += len(problems)
        self.fate += np.bincount(problems["fate"].astype(np.int64), minlength=len(Fate))
        self.became_case += int((problems["first_case"] >= 0).sum())
        found = ~np.isnan(problems["found"])
        self.found += int(found.sum())
        self._delay.append(math.fsum(problems["found"][found] - problems["created"][found]))

    def result(self) -> dict[str, Any]:
        f = self.fate
        return {
            "problems_created": self.created,
            "problems_fixed": int(f[Fate.FIXED] + f[Fate.FIXED_ON_SPOT]),
            "problems_fixed_on_spot": int(f[Fate.FIXED_ON_SPOT]),
            "problems_vanished": int(f[Fate.VANISHED]),
            "problems_open_at_end": int(f[Fate.OPEN]),
            "discovery_rate": _rate(self.became_case, self.created),
            "mean_hours_to_discovery": round(math.fsum(self._delay) / self.found / 60.0, 3)
            if self.found else None,
        }


_SUMMARY_ORDER = (
    "problems_created", "problems_fixed", "problems_fixed_on_spot", "problems_vanished",
    "problems_open_at_end", "reports", "cases_filed", "cases_filed_per_day", "cases_closed",
    "cases_open_at_end", "cases_voided", "cases_merged", "share_found_by_inspectors",
    "events_share", "discovery_rate", "mean_hours_to_discovery", "on_time_handling_rate",
    "rework_rate", "return_rate", "extension_rate", "suspension_rate", "closure_rate",
    "hours_to_close")


def headline(cases: CaseTotals, problems: ProblemTotals, days: int,
             hours_to_close: dict[str, float | None]) -> dict[str, Any]:
    """The headline KPIs of `summarize`, in ``summary.json``'s order."""
    both = {**problems.result(), **cases.result(days, hours_to_close)}
    return {k: both[k] for k in _SUMMARY_ORDER}


def _case_columns(cases: pd.DataFrame) -> dict[str, np.ndarray]:
    """A `sim.evaluation.case_table` frame as the columns `CaseTotals.add` reads."""
    c = {k: cases[k].to_numpy() for k in ("t_file", "t_handle", "t_close", "t_report",
                                          "suspended", "channel", "subclass", "n_reworks",
                                          "n_returns", "n_extensions")}
    c["state"] = cases["state"].cat.codes.to_numpy() if hasattr(cases["state"], "cat") \
        else np.asarray([CASE_STATES.index(s) for s in cases["state"]])
    c["handled_on_time"] = cases["handled_on_time"].astype("Float64").to_numpy(
        dtype=np.float64, na_value=np.nan)
    for k in ("t_file", "t_handle", "t_close", "t_report"):
        c[k] = c[k].astype(np.float64)
    return c


def summarize(cases: pd.DataFrame, problems: np.ndarray, *, event_subclasses: np.ndarray,
              days: int) -> dict[str, Any]:
    """Headline KPIs of one run.

    Args:
        cases: `sim.evaluation.case_table` of the run's events.
        problems: ground-truth rows (`sim.engine.eventlog.PROBLEM_DTYPE`).
        event_subclasses: bool per handbook subclass, True for events (事件).
        days: simulated days (for per-day rates).
    """
    c = _case_columns(cases)
    totals = CaseTotals(event_subclasses)
    totals.add(c)
    truth = ProblemTotals()
    truth.add(problems)
    return headline(totals, truth, days, hours_stats(close_minutes(c)))


class CallTotals:
    """Running counts over hotline calls (rows of `agents.hotline.Hotline.finish`'s table)
    for `hotline_summary` and `three_rates`."""

    _KEYS = ("offered", "answered", "fast", "answered_waits", "work_orders", "grid_orders",
             "consultations", "closed", "surveyed", "responded", "resolved", "satisfied")

    def __init__(self) -> None:
        self.n = dict.fromkeys(self._KEYS, 0)
        self._wait: list[float] = []

    def add(self, calls: Mapping[str, Any]) -> None:
        n = self.n
        answered = np.asarray(calls["answered"], dtype=bool)
        wait = np.asarray(calls["wait"], dtype=np.float64)
        order = np.asarray(calls["work_order"], dtype=bool)
        feedback = np.asarray(calls["feedback_at"], dtype=np.float64)
        reached = np.asarray(calls["reached"], dtype=bool)
        n["offered"] += len(answered)
        n["answered"] += int(answered.sum())
        n["fast"] += int((answered & (wait <= 0.25)).sum())
        waits = wait[answered]
        waits = waits[~np.isnan(waits)]
        n["answered_waits"] += waits.size
        self._wait.append(math.fsum(waits))
        n["work_orders"] += int(order.sum())
        kind = np.asarray(calls["kind"])
        n["grid_orders"] += int((order & (kind == 2)).sum())
        n["consultations"] += int((kind == 0).sum())
        done = order & ~np.isnan(feedback)
        n["closed"] += int(done.sum())
        n["surveyed"] += int((done & reached).sum())
        n["responded"] += int((done & np.asarray(calls["responded"], dtype=bool)).sum())
        for k in ("resolved", "satisfied"):
            n[k] += int((done & reached & np.asarray(calls[k], dtype=bool)).sum())

    def service(self) -> dict[str, Any]:
        """`hotline_summary`'s numbers."""
        n = self.n
        return {
            "calls_offered": n["offered"],
            "calls_answered": n["answered"],
            "connected_rate": _rate(n["answered"], n["offered"]),
            "answered_within_15s": _rate(n["fast"], n["offered"]),
            "abandon_rate": _rate(n["offered"] - n["answered"], n["offered"]),
            "mean_wait_seconds": round(math.fsum(self._wait) / n["answered_waits"] * 60, 2)
            if n["answered_waits"] else None,
            "work_orders": n["work_orders"],
            "grid_work_orders": n["grid_orders"],
            "consultation_share": _rate(n["consultations"], n["offered"]),
            "work_order_share": _rate(n["work_orders"], n["offered"]),
        }

    def three_rates(self) -> dict[str, float | None]:
        """`three_rates`' numbers."""
        n = self.n
        return {
            "work_orders_closed": n["closed"],
            "surveyed": n["surveyed"],
            "response": _rate(n["responded"], n["closed"]),
            "resolution": _rate(n["resolved"], n["surveyed"]),
            "satisfaction": _rate(n["satisfied"], n["surveyed"]),
        }


def _call_totals(calls: pd.DataFrame) -> CallTotals:
    totals = CallTotals()
    totals.add(calls)
    return totals


def hotline_summary(calls: pd.DataFrame) -> dict[str, Any]:
    """Hotline service level: offered, answered within 15 s, abandonment, waits, orders."""
    return _call_totals(calls).service()


def three_rates(calls: pd.DataFrame) -> dict[str, float | None]:
    """三率 over work orders whose feedback is in: response (feedback by the deadline),
    resolution and satisfaction (among requesters the call-back survey reached)."""
    return _call_totals(calls).three_rates()
