"""Working calendar and daily duty windows: when a handling limit's clock runs (docs/domain.md §4).

Simulation time is float minutes since ``start_date`` 00:00 local. `WorkingCalendar` counts
working minutes (one window a working day; listed weekdays minus holidays plus 调休 extra
workdays) and turns `TimeLimit`s into deadlines; `DailyWindow` says when staff are on duty.
"""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_left
from itertools import accumulate
from typing import Literal

from sim.data.scenario import CalendarSpec, clock_minutes
from sim.data.taxonomy import TimeLimit
from sim.errors import GridLoopError

__all__ = ["WorkingCalendar", "DailyWindow", "DAY_MINUTES", "MARGIN_DAYS", "calendar_days"]

DAY_MINUTES = 1440
"""Minutes in a day; day index ``d`` covers ``[1440*d, 1440*(d+1))``."""
MARGIN_DAYS = 400
"""Days precomputed past the horizon (deadlines fall after it); later days are computed."""

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY = float(DAY_MINUTES)
_NEVER = -(1 << 62)  # "no special day" sentinel for the last special day index


def calendar_days(spec: CalendarSpec, start_date: dt.date, days: int
                  ) -> tuple[tuple[dt.date, ...], tuple[dt.date, ...]]:
    """The calendar's holidays and extra workdays: its own lists, plus those of its holiday
    source (``holiday_country``) from a year before ``start_date`` to a year after the span
    of ``days``."""
    holidays, extra = tuple(spec.holidays), tuple(spec.extra_workdays)
    if spec.holiday_country:
        from sim.data.holidaysource import holiday_days
        end = start_date + dt.timedelta(days=days)
        more, swaps = holiday_days(spec.holiday_country, spec.holiday_subdivision,
                                   start_date.year - 1, end.year + 1)
        holidays, extra = holidays + more, extra + swaps
    return holidays, extra


class WorkingCalendar:
    """Working time on a local calendar: one window ``[day_start, day_start + hours)`` a workday.

    Days ``0 .. horizon_days + MARGIN_DAYS`` are tabulated (workday flags, cumulative working
    minutes, next workday / day off); outside that range, including negative times, the same
    numbers come from the weekday rule plus the sorted holiday / extra-workday exceptions, so
    no query ever runs off the table. A date in both ``holidays`` and ``extra_workdays`` is a
    workday (extra workdays are applied last).

    Args:
        spec: the scenario's calendar (day start, hours, workdays, holidays, extra workdays).
        start_date: the local date of simulation time 0.
        horizon_days: days the run lasts; the table covers ``MARGIN_DAYS`` more.
    """

    def __init__(self, spec: CalendarSpec, start_date: dt.date, horizon_days: int) -> None:
        if horizon_days < 0:
            raise GridLoopError(f"calendar horizon must be >= 0 days, got {horizon_days}")
        self.spec = spec
        self.start_date = start_date
        self._ds = float(clock_minutes(spec.day_start))
        self._w = float(spec.working_hours) * 60.0
        week = {_WEEKDAYS.index(name) for name in spec.workdays}
        w0 = start_date.weekday()
        self._pat = tuple((w0 + i) % 7 in week for i in range(7))  # by day index mod 7
        self._pat_pref = [sum(self._pat[:i]) for i in range(8)]
        self._week_n = self._pat_pref[7]
        holidays, extra = calendar_days(spec, start_date, horizon_days + MARGIN_DAYS)
        self.holidays = frozenset(holidays)
        """Every holiday of the calendar: the scenario's and its holiday source's."""
        special: dict[int, bool] = {(d - start_date).days: False for d in holidays}
        special.update({(d - start_date).days: True for d in extra})
        self._special = {d: f for d, f in special.items() if f != self._pat[d % 7]}
        self._sp_days = sorted(self._special)
        self._sp_pref = [0]
        for d in self._sp_days:
            self._sp_pref.append(self._sp_pref[-1] + (1 if self._special[d] else -1))
        self._sp_last = self._sp_days[-1] if self._sp_days else _NEVER
        self._sp_zero = self._sp_pref[bisect_left(self._sp_days, 0)]

        n = horizon_days + MARGIN_DAYS
        self._n = n
        self._flags = [self._rule(d) for d in range(n)]
        # working minutes before day d, as (workday count) * W so the far rule agrees exactly
        self._cum = [k * self._w for k in accumulate(self._flags, initial=0)]
        self._next_work, self._next_off = [-1] * n, [-1] * n
        nw = no = -1
        for d in range(n - 1, -1, -1):
            if self._flags[d]:
                nw = d
            else:
                no = d
            self._next_work[d], self._next_off[d] = nw, no

    def _rule(self, day: int) -> bool:
        f = self._special.get(day)
        return self._pat[day % 7] if f is None else f

    def _count(self, day: int) -> int:
        """Workdays in ``[0, day)`` (negative: minus the workdays in ``[day, 0)``)."""
        full, rem = divmod(day, 7)
        sp = self._sp_pref[bisect_left(self._sp_days, day)] - self._sp_zero
        return full * self._week_n + self._pat_pref[rem] + sp

    def _cum_at(self, day: int) -> float:
        return self._cum[day] if 0 <= day <= self._n else self._count(day) * self._w

    def _next_day(self, day: int, workday: bool) -> int | None:
        """The first day index ``>= day`` that is (or is not) a workday; None if there is none."""
        if 0 <= day < self._n:
            x = (self._next_work if workday else self._next_off)[day]
            if x >= 0:
                return x
            day = self._n
        limit = max(day, self._sp_last + 1) + 7  # past the last exception the week repeats
        while day < limit:
            if self.is_workday(day) == workday:
                return day
            day += 1
        return None

    def is_workday(self, day: int) -> bool:
        """Whether day index ``day`` (0 = ``start_date``) is a working day."""
        if 0 <= day < self._n:
            return self._flags[day]
        return self._rule(day)

    def _before(self, t: float) -> float:
        """Working minutes in ``[0, t)`` (negative for ``t < 0``); continuous, non-decreasing."""
        d = int(t // _DAY)
        if 0 <= d < self._n:
            lo = self._cum[d]
            if not self._flags[d]:
                return lo
            hi = self._cum[d + 1]
        else:
            lo = self._count(d) * self._w
            if not self._rule(d):
                return lo
            hi = self._cum_at(d + 1)
        x = t - d * _DAY - self._ds
        if x <= 0.0:
            return lo
        v = lo + x
        return v if v < hi else hi

    def working_between(self, a: float, b: float) -> float:
        """Working minutes in ``[a, b]``; 0 if ``b <= a``, ``math.inf`` if ``b`` is infinite."""
        if b <= a:
            return 0.0
        if b == math.inf:
            return math.inf
        return self._before(b) - self._before(a)

    def add_working(self, t: float, minutes: float) -> float:
        """The earliest time ``T >= t`` with ``minutes`` working minutes in ``[t, T]``.

        Outside working time the clock starts at the next opening, so a limit that runs out at
        a close ends at the close (16:30), not at the next opening. ``minutes == 0`` returns
        ``t`` itself, wherever it falls. Returns ``math.inf`` if the calendar has no more
        working days.

        Raises:
            ValueError: ``minutes`` is negative.
        """
        if minutes <= 0.0:
            if minutes == 0.0:
                return t
            raise ValueError(f"add_working needs minutes >= 0, got {minutes}")
        if t == math.inf or minutes == math.inf:
            return math.inf
        d0 = int(t // _DAY)
        cum = self._cum
        if 0 <= d0 < self._n:  # `_before(t)` inline, within the table (a call less)
            f = cum[d0]
            if self._flags[d0]:
                x = t - d0 * _DAY - self._ds
                if x > 0.0:
                    v, hi = f + x, cum[d0 + 1]
                    f = v if v < hi else hi
        else:
            f = self._before(t)
        c = f + minutes
        if c <= f:  # minutes below float resolution at this time
            return t
        if d0 >= 0 and c <= cum[-1]:
            d = bisect_left(cum, c, d0) - 1  # cum[d] < c <= cum[d + 1], so d is a workday
            base = cum[d]
        else:
            found = self._find_far(c, d0)
            if found is None:
                return math.inf
            d = found
            base = self._count(d) * self._w
        x = c - base
        if x > self._w:
            x = self._w
        end = d * _DAY + self._ds + x
        return end if end > t else t

    def _find_far(self, c: float, lo: int) -> int | None:
        """The day ``d >= lo`` with ``cum(d) < c <= cum(d + 1)``, given ``cum(lo) < c``."""
        step = 8
        hi = lo + step
        while self._cum_at(hi) < c:
            if self._week_n == 0 and hi > self._sp_last:
                return None
            lo, step = hi, step * 2
            hi = lo + step
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self._cum_at(mid) < c:
                lo = mid
            else:
                hi = mid
        return lo

    def deadline(self, t: float, limit: TimeLimit, scale: float = 1.0) -> float:
        """When a limit set at ``t`` runs out (``scale`` multiplies it, e.g. time_limit_scale).

        ``wh`` counts working hours, ``wd`` working days of ``working_hours`` each (a 1 wd limit
        set at 10:00 ends at 10:00 the next workday), ``h`` natural hours.
        """
        unit = limit.unit
        if unit == "h":
            return t + limit.value * 60.0 * scale
        if unit == "wh":
            return self.add_working(t, limit.value * 60.0 * scale)
        return self.add_working(t, limit.value * self._w * scale)

    def date_of(self, t: float) -> dt.date:
        """The local date that time ``t`` falls on."""
        return self.start_date + dt.timedelta(days=int(t // _DAY))

    @property
    def working_minutes_per_day(self) -> float:
        """Working minutes in one working day (``working_hours * 60``)."""
        return self._w


class DailyWindow:
    """When a group of staff is on duty: a daily clock window on all days or on working days only.

    The window of day ``d`` is ``[1440*d + start_min, 1440*d + start_min + length)``; one with
    ``start_min > end_min`` (22:00-06:00) crosses midnight and belongs to the day it starts on
    for the ``days`` filter. An ``end_min`` of 0 after a later start means 24:00.

    Args:
        start_min: opening, minutes after midnight in ``[0, 1440)``.
        end_min: closing, minutes after midnight in ``[0, 1440]``.
        calendar: the working calendar (used when ``days == "workdays"``).
        days: ``"all"`` or ``"workdays"``.

    Raises:
        GridLoopError: bad ``days``, a clock outside the day, or a window of zero length.
    """

    def __init__(self, start_min: int, end_min: int, calendar: WorkingCalendar,
                 days: Literal["all", "workdays"] | str = "all") -> None:
        if days not in ("all", "workdays"):
            raise GridLoopError(f"duty window days must be 'all' or 'workdays', got {days!r}")
        if not (0 <= start_min < DAY_MINUTES and 0 <= end_min <= DAY_MINUTES):
            raise GridLoopError(f"duty window {start_min}-{end_min} min: start must be in "
                                f"[0, 1440) and end in [0, 1440] minutes after midnight")
        if end_min == 0 and start_min > 0:
            end_min = DAY_MINUTES
        if end_min == start_min:
            raise GridLoopError(f"duty window {_hhmm(start_min)}-{_hhmm(end_min)} has zero "
                                f"length (use 00:00-24:00 for round the clock)")
        self.start_min, self.end_min, self.calendar, self.days = start_min, end_min, calendar, days
        self.crosses_midnight = end_min < start_min
        self.length = end_min - start_min + (DAY_MINUTES if self.crosses_midnight else 0)
        self.always_open = days == "all" and self.length == DAY_MINUTES
        self._all = days == "all"

    @classmethod
    def from_clock(cls, start: str, end: str, calendar: WorkingCalendar,
                   days: Literal["all", "workdays"] | str = "all") -> DailyWindow:
        """A window from ``HH:MM`` strings, e.g. ``from_clock("22:00", "06:00", cal)``."""
        try:
            start_min, end_min = clock_minutes(start), clock_minutes(end)
        except ValueError:
            raise GridLoopError(f"duty window {start!r}-{end!r}: expected HH:MM clocks") from None
        return cls(start_min, end_min, calendar, days)

    def _on(self, day: int) -> bool:
        return self._all or self.calendar.is_workday(day)

    def is_open(self, t: float) -> bool:
        """Whether the staff are on duty at time ``t``."""
        if self.always_open:
            return True
        d = int(t // _DAY)
        off = t - d * _DAY
        if not self.crosses_midnight:
            if not self.start_min <= off < self.end_min:
                return False
        elif off < self.start_min:  # the small hours: in the window opened the day before?
            if off >= self.end_min:
                return False
            d -= 1
        return self._all or self.calendar.is_workday(d)  # (`_on` inline)

    def next_open(self, t: float) -> float:
        """``t`` if open, else the next opening time (``math.inf`` if there is none)."""
        if self.is_open(t):
            return t
        d = int(t // _DAY)
        first: int | None = d if t - d * _DAY <= self.start_min else d + 1
        if not self._all:
            first = self.calendar._next_day(first, True)
            if first is None:
                return math.inf
        return first * _DAY + self.start_min

    def closes_at(self, t: float) -> float:
        """The end of the window open at ``t`` (``math.inf`` if always open).

        Back-to-back round-the-clock windows (00:00-24:00 on consecutive workdays) count as one.
        For a closed ``t`` this is the close of the next window, ``closes_at(next_open(t))``.
        """
        if self.always_open:
            return math.inf
        if not self.is_open(t):
            t = self.next_open(t)
            if t == math.inf:
                return math.inf
        d = int(t // _DAY)
        day = d - 1 if self.crosses_midnight and t - d * _DAY < self.start_min else d
        if self.length == DAY_MINUTES:  # workdays only: runs until the next day off
            off = self.calendar._next_day(day + 1, False)
            return math.inf if off is None else off * _DAY
        return day * _DAY + self.start_min + self.length

    def __repr__(self) -> str:
        return f"DailyWindow({_hhmm(self.start_min)}-{_hhmm(self.end_min)}, days={self.days!r})"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
