"""What the run's figures show, counted as the rows go by: no figure needs the rows themselves.

`OverviewCounts` takes event rows a chunk at a time and keeps filed cases per grid, FILE and
CLOSE rows per backlog sample and per day; `HotlineCounts` takes hotline calls a batch at a
time and keeps per clock hour the load and waits, and per handling unit the three-rate counts.
Both hold a fixed amount whatever the run's length (the backlog samples grow by one an hour
of simulated time: 87,601 numbers for ten years). `sim.outputs.figures` draws from them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sim.engine.eventlog import Step
from sim.errors import GridLoopError

__all__ = ["OverviewCounts", "HotlineCounts", "ANSWER_NORM_SECONDS", "MINUTES_PER_DAY"]

MINUTES_PER_DAY = 24 * 60
ANSWER_NORM_SECONDS = 15.0  # the service-level norm: answered within 15 s


class OverviewCounts:
    """Filed cases per grid and the backlog of one run, from its FILE and CLOSE rows.

    Args:
        n_grids: unit grids of the city (FILE rows must name one of them).
        horizon: end of the run, minutes since the scenario start.
        step: backlog sampling interval, minutes (> 0).
    """

    def __init__(self, n_grids: int, horizon: float, step: float = 60.0) -> None:
        if not step > 0:
            raise GridLoopError(f"backlog step must be > 0 minutes (got {step!r})")
        self.n_grids, self.horizon, self.step = n_grids, horizon, step
        self.times = step * np.arange(int(horizon // step) + 1, dtype=np.float64)
        self.day_starts = MINUTES_PER_DAY * np.arange(
            max(1, int(np.ceil(horizon / MINUTES_PER_DAY))) + 1, dtype=np.float64)
        self.filed_per_grid = np.zeros(n_grids, dtype=np.int64)
        n_samples, n_days = len(self.times), len(self.day_starts) - 1
        # per sample k: rows at times in (times[k-1], times[k]]; one more for later rows
        self._at = {s: np.zeros(n_samples + 1, dtype=np.int64) for s in ("file", "close")}
        self._day = {s: np.zeros(n_days, dtype=np.int64) for s in ("file", "close")}
        self.n_filed = self.n_closed = 0

    def add(self, events: np.ndarray) -> None:
        """Count a chunk of event rows (`EVENT_DTYPE`, any order)."""
        steps, when = events["step"], events["time"]
        is_file = steps == Step.FILE
        grids = events["grid"][is_file]
        if grids.size and (grids.min() < 0 or grids.max() >= self.n_grids):
            raise GridLoopError(
                f"FILE rows name grids outside 0..{self.n_grids - 1} (got {grids.min()}.."
                f"{grids.max()}); pass the row/col/subdistrict arrays of the city map the run "
                "used")
        self.filed_per_grid += np.bincount(grids, minlength=self.n_grids)
        for name, t in (("file", when[is_file]), ("close", when[steps == Step.CLOSE])):
            at = self._at[name]
            at += np.bincount(np.searchsorted(self.times, t, side="left"), minlength=len(at))
            day = np.searchsorted(self.day_starts, t, side="right") - 1
            days = self._day[name]
            days += np.bincount(day[day < len(days)], minlength=len(days))
            if name == "file":
                self.n_filed += len(t)
            else:
                self.n_closed += len(t)

    def backlog(self) -> tuple[np.ndarray, np.ndarray]:
        """``(times, open_cases)``: `sim.outputs.figures.backlog_series` of the rows so far."""
        n = len(self.times)
        opened = np.cumsum(self._at["file"][:n]) - np.cumsum(self._at["close"][:n])
        return self.times, opened.astype(np.int64)

    def per_day(self) -> dict[str, np.ndarray]:
        """FILE and CLOSE rows in each day [d, d + 1) of the run, keyed filed and closed."""
        return {"filed": self._day["file"].copy(), "closed": self._day["close"].copy()}


_CALL_COLUMNS = ("arrival", "answered", "wait", "work_order", "unit", "feedback_at", "reached",
                 "responded", "resolved", "satisfied")


class HotlineCounts:
    """Per clock hour the load and waits, per handling unit the three-rate counts, of the
    hotline's calls (`agents.hotline.Hotline.finish`'s table), a batch at a time."""

    def __init__(self) -> None:
        self.hourly = {k: np.zeros(24, dtype=np.int64) for k in ("offered", "answered", "fast")}
        self.hourly["wait"] = np.zeros(24, dtype=np.float64)
        self.units: dict[str, np.ndarray] = {}  # name -> closed, surveyed, responded, ...

    def add(self, calls: Mapping[str, Any], unit_names: Sequence[str] | None = None) -> None:
        """Count a batch of calls (a frame, or a mapping of column arrays).

        Args:
            calls: the calls; ``unit`` holds unit names ("" or None: no unit), or, with
                ``unit_names``, indices into it (-1: no unit).
            unit_names: the names of unit indices.

        Raises:
            GridLoopError: a column the figure reads is missing.
        """
        missing = [c for c in _CALL_COLUMNS if c not in calls]
        if missing:
            raise GridLoopError(f"the calls table lacks the columns {missing}")
        arrival = np.asarray(calls["arrival"], dtype=np.float64)
        hour = np.floor(arrival / 60.0).astype(np.int64) % 24
        answered = np.asarray(calls["answered"], dtype=bool)
        wait = np.asarray(calls["wait"], dtype=np.float64)
        fast = answered & (wait <= ANSWER_NORM_SECONDS / 60.0)
        h = self.hourly
        h["offered"] += np.bincount(hour, minlength=24)
        h["answered"] += np.bincount(hour[answered], minlength=24)
        h["fast"] += np.bincount(hour[fast], minlength=24)
        h["wait"] += np.bincount(hour[answered], weights=np.nan_to_num(wait[answered]),
                                 minlength=24)
        done = (np.asarray(calls["work_order"], dtype=bool)
                & ~np.isnan(np.asarray(calls["feedback_at"], dtype=np.float64)))
        if unit_names is None:                       # names: factorised (pandas, in C)
            import pandas as pd  # only for a frame's names: drawing needs no pandas

            unit = pd.Series(np.asarray(calls["unit"], dtype=object))
            done &= (unit.notna() & (unit != "")).to_numpy()
            codes, names = pd.factorize(unit[done])
            names = [str(n) for n in names]
        else:
            code = np.asarray(calls["unit"], dtype=np.int64)
            done &= code >= 0
            codes, names = code[done], list(unit_names)
        if not done.any():
            return
        reached = np.asarray(calls["reached"], dtype=bool)[done]
        flags = (np.ones(len(codes), dtype=bool), reached,
                 np.asarray(calls["responded"], dtype=bool)[done],
                 np.asarray(calls["resolved"], dtype=bool)[done] & reached,
                 np.asarray(calls["satisfied"], dtype=bool)[done] & reached)
        counts = np.stack([np.bincount(codes[f], minlength=len(names)) for f in flags], 1)
        for i in np.flatnonzero(counts[:, 0]).tolist():
            have = self.units.get(names[i])
            self.units[names[i]] = counts[i] if have is None else have + counts[i]

    def unit_counts(self) -> tuple[Sequence[str], np.ndarray]:
        """Unit names (sorted) and per unit: closed, surveyed, responded, resolved,
        satisfied (int64, one row a unit)."""
        names = sorted(self.units)
        rows = [self.units[n] for n in names]
        return names, (np.stack(rows) if rows else np.zeros((0, 5), dtype=np.int64))
