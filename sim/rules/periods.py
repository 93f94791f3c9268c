"""Evaluation periods: the month, week or whole run whose cases a league table judges.

A case belongs to the period holding its report time (its first log row); it is then
followed to the horizon. Times are minutes since the run's start (day 0, 00:00). With a known
start date, months are calendar months ("2026-03") and weeks ISO weeks ("2026-W10"); without
one, months are 30-day blocks ("M01") and weeks 7-day blocks ("W01") from the start. The first
period also takes anything reported before the start, the last anything after the horizon.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Literal

from sim.errors import GridLoopError

__all__ = ["PERIOD_KINDS", "PeriodKind", "Period", "split_periods"]

PeriodKind = Literal["month", "week", "all"]
PERIOD_KINDS: tuple[str, ...] = ("month", "week", "all")
_DAY = 1440.0


@dataclass(frozen=True, slots=True)
class Period:
    """One evaluation period.

    Attributes:
        label: "all", "2026-03", "2026-W10", "M01" or "W01".
        start, end: its span in minutes since the start (end <= the horizon).
        first, last: whether it is the first / last period (open below / above).
    """

    label: str
    start: float
    end: float
    first: bool = True
    last: bool = True

    @property
    def bounds(self) -> tuple[float, float]:
        """The report times it takes, [t0, t1): open-ended at the first and last period."""
        return (-math.inf if self.first else self.start, math.inf if self.last else self.end)

    @property
    def days(self) -> float:
        return (self.end - self.start) / _DAY


def _month_starts(start: dt.date, days: float) -> list[tuple[str, float]]:
    out = [(f"{start.year:04d}-{start.month:02d}", 0.0)]
    y, m = start.year, start.month
    while True:
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        offset = (dt.date(y, m, 1) - start).days
        if offset >= days:
            return out
        out.append((f"{y:04d}-{m:02d}", offset * _DAY))


def _week_starts(start: dt.date, days: float) -> list[tuple[str, float]]:
    def label(d: dt.date) -> str:
        iso = d.isocalendar()
        return f"{iso.year:04d}-W{iso.week:02d}"

    out = [(label(start), 0.0)]
    offset = 7 - start.weekday()                  # days to the next Monday
    while offset < days:
        out.append((label(start + dt.timedelta(days=offset)), offset * _DAY))
        offset += 7
    return out


def split_periods(kind: str, horizon: float, start_date: dt.date | None = None
                  ) -> list[Period]:
    """The periods of a run of `horizon` minutes, in time order (at least one).

    Raises:
        GridLoopError: an unknown period kind.
    """
    if kind not in PERIOD_KINDS:
        raise GridLoopError(f"evaluation: period must be one of {', '.join(PERIOD_KINDS)} "
                            f"(got {kind!r})")
    horizon = max(float(horizon), 0.0)
    if kind == "all":
        return [Period("all", 0.0, horizon)]
    days = horizon / _DAY
    if start_date is not None:
        starts = (_month_starts if kind == "month" else _week_starts)(start_date, days)
    else:
        block, prefix = (30, "M") if kind == "month" else (7, "W")
        n = max(1, math.ceil(days / block))
        starts = [(f"{prefix}{i + 1:02d}", i * block * _DAY) for i in range(n)]
    ends = [t for _, t in starts[1:]] + [horizon]
    last = len(starts) - 1
    return [Period(label, t0, t1, first=i == 0, last=i == last)
            for i, ((label, t0), t1) in enumerate(zip(starts, ends, strict=True))]
