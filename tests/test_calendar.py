"""Tests for sim.engine.calendar: working-time arithmetic, deadlines and daily duty windows."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sim.data.scenario import CalendarSpec, clock_minutes
from sim.data.taxonomy import TimeLimit
from sim.engine.calendar import MARGIN_DAYS, DailyWindow, WorkingCalendar
from sim.errors import GridLoopError

MON = dt.date(2026, 3, 2)  # a Monday
WED = dt.date(2026, 3, 4)
STD = CalendarSpec()  # 08:30, 8 h, mon-fri
# National Day 2026: Thu 1 - Wed 7 Oct off; Sun 20 Sep and Sat 10 Oct worked in lieu.
NATIONAL_DAY = CalendarSpec(
    holidays=tuple(dt.date(2026, 10, d) for d in range(1, 8)),
    extra_workdays=(dt.date(2026, 9, 20), dt.date(2026, 10, 10)))
SIX_DAY = CalendarSpec(day_start="09:00", working_hours=7.5,
                       workdays=("mon", "tue", "wed", "thu", "fri", "sat"))
ODD = CalendarSpec(day_start="07:45", working_hours=7.3, workdays=("tue", "thu", "sat", "sun"),
                   holidays=(dt.date(2026, 3, 7), dt.date(2026, 3, 22)),
                   extra_workdays=(dt.date(2026, 3, 9),))


def at(start: dt.date, date: str, hhmm: str) -> float:
    """Simulation minutes of a local date and clock, for a run starting on ``start``."""
    return (dt.date.fromisoformat(date) - start).days * 1440.0 + clock_minutes(hhmm)


def cal(spec: CalendarSpec = STD, start: dt.date = MON, horizon: int = 30) -> WorkingCalendar:
    return WorkingCalendar(spec, start, horizon)


# -- add_working / deadline: tables ---------------------------------------------------------------

ADD_CASES = [
    # spec, start, (date, clock) set, working minutes, (date, clock) expected
    (STD, MON, ("2026-03-02", "16:00"), 240, ("2026-03-03", "12:00")),  # crosses the night
    (STD, MON, ("2026-03-02", "10:00"), 120, ("2026-03-02", "12:00")),
    (STD, MON, ("2026-03-02", "12:30"), 240, ("2026-03-02", "16:30")),  # ends at the close
    (STD, MON, ("2026-03-06", "15:00"), 240, ("2026-03-09", "11:00")),  # Friday -> Monday
    (STD, MON, ("2026-03-02", "07:00"), 60, ("2026-03-02", "09:30")),  # before opening
    (STD, MON, ("2026-03-02", "18:00"), 60, ("2026-03-03", "09:30")),  # after close
    (STD, MON, ("2026-03-07", "10:00"), 60, ("2026-03-09", "09:30")),  # Saturday
    (STD, MON, ("2026-03-02", "16:30"), 1, ("2026-03-03", "08:31")),  # exactly at close
    (STD, MON, ("2026-03-02", "08:30"), 480 * 5, ("2026-03-06", "16:30")),  # a full week
    (STD, MON, ("2026-03-02", "18:00"), 0, ("2026-03-02", "18:00")),  # zero: t itself
    (NATIONAL_DAY, MON, ("2026-09-30", "15:00"), 240, ("2026-10-08", "11:00")),  # over holiday
    (NATIONAL_DAY, MON, ("2026-09-19", "10:00"), 60, ("2026-09-20", "09:30")),  # Sat -> Sun 调休
    (NATIONAL_DAY, MON, ("2026-09-20", "10:00"), 60, ("2026-09-20", "11:00")),  # worked Sunday
    (NATIONAL_DAY, MON, ("2026-10-09", "16:00"), 60, ("2026-10-10", "09:00")),  # worked Saturday
    (NATIONAL_DAY, MON, ("2026-10-10", "16:00"), 60, ("2026-10-12", "09:00")),  # then Sun off
    (STD, WED, ("2026-03-06", "16:00"), 60, ("2026-03-09", "09:00")),  # start on a Wednesday
    (STD, WED, ("2026-03-04", "00:00"), 480 * 3, ("2026-03-06", "16:30")),  # Wed-Fri
    (STD, WED, ("2026-03-04", "00:00"), 480 * 3 + 1, ("2026-03-09", "08:31")),
    (SIX_DAY, MON, ("2026-03-07", "16:00"), 60, ("2026-03-09", "09:30")),  # 09:00-16:30, Sat
    (SIX_DAY, MON, ("2026-03-02", "16:00"), 450, ("2026-03-03", "16:00")),
    (STD, MON, ("2026-02-27", "15:00"), 240, ("2026-03-02", "11:00")),  # before start_date
    (STD, MON, ("2031-01-03", "16:00"), 60, ("2031-01-06", "09:00")),  # years past horizon
]


@pytest.mark.parametrize(("spec", "start", "set_at", "minutes", "due"), ADD_CASES)
def test_add_working(spec: CalendarSpec, start: dt.date, set_at: tuple[str, str], minutes: float,
                     due: tuple[str, str]) -> None:
    c = cal(spec, start)
    t = at(start, *set_at)
    assert c.add_working(t, minutes) == at(start, *due)
    if minutes:
        assert c.working_between(t, at(start, *due)) == pytest.approx(minutes, abs=1e-9)


DEADLINE_CASES = [
    # limit, scale, set, due   (STD calendar, start Monday 2026-03-02)
    (TimeLimit(value=4, unit="wh"), 1.0, ("2026-03-02", "16:00"), ("2026-03-03", "12:00")),
    (TimeLimit(value=4, unit="wh"), 0.5, ("2026-03-02", "16:00"), ("2026-03-03", "10:00")),
    (TimeLimit(value=2, unit="wh"), 1.0, ("2026-03-06", "16:00"), ("2026-03-09", "10:00")),
    (TimeLimit(value=1, unit="wd"), 1.0, ("2026-03-02", "10:00"), ("2026-03-03", "10:00")),
    (TimeLimit(value=1, unit="wd"), 1.0, ("2026-03-02", "18:00"), ("2026-03-03", "16:30")),
    (TimeLimit(value=2, unit="wd"), 1.0, ("2026-03-05", "10:00"), ("2026-03-09", "10:00")),
    (TimeLimit(value=5, unit="wd"), 1.0, ("2026-03-06", "16:30"), ("2026-03-13", "16:30")),
    (TimeLimit(value=0.5, unit="wd"), 1.0, ("2026-03-02", "14:30"), ("2026-03-03", "10:30")),
    (TimeLimit(value=20, unit="wd"), 1.0, ("2026-03-02", "08:30"), ("2026-03-27", "16:30")),
    (TimeLimit(value=2, unit="h"), 1.0, ("2026-03-06", "23:00"), ("2026-03-07", "01:00")),
    (TimeLimit(value=2, unit="h"), 1.5, ("2026-03-07", "12:00"), ("2026-03-07", "15:00")),
    (TimeLimit(value=48, unit="h"), 1.0, ("2026-03-06", "18:00"), ("2026-03-08", "18:00")),
]


@pytest.mark.parametrize(("limit", "scale", "set_at", "due"), DEADLINE_CASES)
def test_deadline(limit: TimeLimit, scale: float, set_at: tuple[str, str],
                  due: tuple[str, str]) -> None:
    assert cal().deadline(at(MON, *set_at), limit, scale) == at(MON, *due)


def test_deadline_wd_over_national_day() -> None:
    c = cal(NATIONAL_DAY)
    # Wed 30 Sep 10:00 + 2 wd: Thu 8 Oct 10:00 is one, Fri 9 Oct 10:00 is two.
    assert c.deadline(at(MON, "2026-09-30", "10:00"), TimeLimit(value=2, unit="wd")) == at(
        MON, "2026-10-09", "10:00")


BETWEEN_CASES = [
    (STD, ("2026-03-02", "00:00"), ("2026-03-09", "00:00"), 2400),
    (STD, ("2026-03-02", "12:00"), ("2026-03-02", "13:00"), 60),
    (STD, ("2026-03-02", "16:00"), ("2026-03-03", "09:00"), 60),
    (STD, ("2026-03-06", "16:00"), ("2026-03-09", "09:00"), 60),
    (STD, ("2026-03-07", "00:00"), ("2026-03-09", "00:00"), 0),
    (STD, ("2026-03-03", "09:00"), ("2026-03-02", "09:00"), 0),  # reversed
    (NATIONAL_DAY, ("2026-09-28", "00:00"), ("2026-10-12", "00:00"), 480 * 6),  # 28-30, 8-10
    (NATIONAL_DAY, ("2026-09-14", "00:00"), ("2026-09-21", "00:00"), 480 * 6),
    (SIX_DAY, ("2026-03-02", "00:00"), ("2026-03-09", "00:00"), 450 * 6),
]


@pytest.mark.parametrize(("spec", "a", "b", "expected"), BETWEEN_CASES)
def test_working_between(spec: CalendarSpec, a: tuple[str, str], b: tuple[str, str],
                         expected: float) -> None:
    assert cal(spec).working_between(at(MON, *a), at(MON, *b)) == expected


@pytest.mark.parametrize(("date", "expected"), [
    ("2026-09-18", True), ("2026-09-19", False), ("2026-09-20", True),  # Fri, Sat, 调休 Sun
    ("2026-09-30", True), ("2026-10-01", False), ("2026-10-05", False), ("2026-10-07", False),
    ("2026-10-08", True), ("2026-10-10", True), ("2026-10-11", False), ("2026-10-12", True),
    ("2026-02-28", False), ("2026-02-27", True), ("2027-10-01", True),  # before start; far
])
def test_is_workday_national_day(date: str, expected: bool) -> None:
    c = cal(NATIONAL_DAY)
    assert c.is_workday((dt.date.fromisoformat(date) - MON).days) is expected


def test_misc_accessors() -> None:
    c = cal(SIX_DAY, WED)
    assert c.working_minutes_per_day == 450
    assert c.date_of(0) == WED and c.date_of(1439.99) == WED
    assert c.date_of(1440) == dt.date(2026, 3, 5) and c.date_of(-1) == dt.date(2026, 3, 3)
    assert c.working_between(0, math.inf) == math.inf
    assert c.add_working(math.inf, 5) == math.inf
    with pytest.raises(ValueError):
        c.add_working(0, -1)


def test_no_more_workdays_gives_inf() -> None:
    spec = CalendarSpec(workdays=(), extra_workdays=(dt.date(2026, 3, 7),))
    c = cal(spec)
    assert c.add_working(at(MON, "2026-03-07", "16:00"), 31) == math.inf
    assert c.add_working(at(MON, "2026-03-07", "16:00"), 30) == at(MON, "2026-03-07", "16:30")
    assert c.working_between(0, 10**7) == 480


# -- properties ---------------------------------------------------------------------------------

SPECS = [STD, NATIONAL_DAY, SIX_DAY, ODD]
CALS = {(i, h): cal(s, MON, h) for i, s in enumerate(SPECS) for h in (1, 400)}
times = st.floats(min_value=-20 * 1440, max_value=500 * 1440).map(lambda x: round(x, 6))
amounts = st.floats(min_value=0, max_value=60 * 480, allow_nan=False)
spec_ix = st.integers(0, len(SPECS) - 1)


def naive_between(spec: CalendarSpec, a: float, b: float) -> float:
    """Reference: day by day, straight from the dates."""
    total = 0.0
    open_, length = clock_minutes(spec.day_start), spec.working_hours * 60
    for d in range(math.floor(a / 1440), math.floor(b / 1440) + 1):
        date = MON + dt.timedelta(days=d)
        work = date.strftime("%a").lower() in spec.workdays and date not in spec.holidays
        if work or date in spec.extra_workdays:
            lo, hi = d * 1440 + open_, d * 1440 + open_ + length
            total += max(0.0, min(b, hi) - max(a, lo))
    return total


@settings(max_examples=300)
@given(spec_ix, times, amounts)
def test_add_then_measure(i: int, t: float, m: float) -> None:
    c = CALS[i, 400]
    end = c.add_working(t, m)
    assert end >= t
    assert c.working_between(t, end) == pytest.approx(m, abs=1e-6)
    assert CALS[i, 1].add_working(t, m) == pytest.approx(end, abs=1e-6)  # table vs far rule


@settings(max_examples=200)
@given(spec_ix, st.integers(-10 * 1440, 400 * 1440), st.integers(1, 30 * 480))
def test_add_is_earliest(i: int, t: int, m: int) -> None:
    c = CALS[i, 400]
    end = c.add_working(t, m)
    assert end > t
    assert c.working_between(t, end - 0.5) < m  # the clock ran right up to `end`


@settings(max_examples=300)
@given(spec_ix, times, times, amounts, amounts)
def test_add_monotone(i: int, t1: float, t2: float, m1: float, m2: float) -> None:
    c = CALS[i, 400]
    t1, t2 = sorted((t1, t2))
    m1, m2 = sorted((m1, m2))
    assert c.add_working(t1, m1) <= c.add_working(t2, m1)
    assert c.add_working(t1, m1) <= c.add_working(t1, m2)


@settings(max_examples=300)
@given(spec_ix, times, times, times)
def test_between_additive_and_matches_reference(i: int, a: float, b: float, x: float) -> None:
    a, b, x = sorted((a, b, x))
    c = CALS[i, 400]
    whole = c.working_between(a, x)
    assert c.working_between(a, b) + c.working_between(b, x) == pytest.approx(whole, abs=1e-6)
    assert whole == pytest.approx(naive_between(SPECS[i], a, x), abs=1e-6)
    assert CALS[i, 1].working_between(a, x) == pytest.approx(whole, abs=1e-6)


def test_table_covers_margin() -> None:
    c = cal(STD, MON, 10)
    far = (10 + MARGIN_DAYS + 3) * 1440.0  # just past the table
    assert c.working_between(0, far) == cal(STD, MON, 1000).working_between(0, far)


# -- DailyWindow --------------------------------------------------------------------------------

# window (start, end, days), probe (date, clock), open?, next_open, closes_at  (NATIONAL_DAY cal)
WINDOW_CASES = [
    (("08:00", "20:00", "all"), ("2026-03-02", "07:59"), False, ("2026-03-02", "08:00"),
     ("2026-03-02", "20:00")),
    (("08:00", "20:00", "all"), ("2026-03-02", "08:00"), True, ("2026-03-02", "08:00"),
     ("2026-03-02", "20:00")),
    (("08:00", "20:00", "all"), ("2026-03-02", "20:00"), False, ("2026-03-03", "08:00"),
     ("2026-03-03", "20:00")),
    (("08:00", "20:00", "all"), ("2026-03-07", "10:00"), True, ("2026-03-07", "10:00"),
     ("2026-03-07", "20:00")),
    (("08:00", "20:00", "workdays"), ("2026-03-07", "10:00"), False, ("2026-03-09", "08:00"),
     ("2026-03-09", "20:00")),
    (("08:00", "20:00", "workdays"), ("2026-03-06", "21:00"), False, ("2026-03-09", "08:00"),
     ("2026-03-09", "20:00")),
    (("08:00", "20:00", "workdays"), ("2026-09-30", "21:00"), False, ("2026-10-08", "08:00"),
     ("2026-10-08", "20:00")),
    (("08:00", "20:00", "workdays"), ("2026-09-20", "09:00"), True, ("2026-09-20", "09:00"),
     ("2026-09-20", "20:00")),
    (("22:00", "06:00", "all"), ("2026-03-02", "23:00"), True, ("2026-03-02", "23:00"),
     ("2026-03-03", "06:00")),
    (("22:00", "06:00", "all"), ("2026-03-03", "03:00"), True, ("2026-03-03", "03:00"),
     ("2026-03-03", "06:00")),
    (("22:00", "06:00", "all"), ("2026-03-03", "06:00"), False, ("2026-03-03", "22:00"),
     ("2026-03-04", "06:00")),
    (("22:00", "06:00", "workdays"), ("2026-03-07", "03:00"), True, ("2026-03-07", "03:00"),
     ("2026-03-07", "06:00")),  # Friday's night shift runs into Saturday
    (("22:00", "06:00", "workdays"), ("2026-03-07", "23:00"), False, ("2026-03-09", "22:00"),
     ("2026-03-10", "06:00")),
    (("22:00", "06:00", "workdays"), ("2026-03-09", "03:00"), False, ("2026-03-09", "22:00"),
     ("2026-03-10", "06:00")),  # Sunday night: nobody
    (("22:00", "06:00", "workdays"), ("2026-10-01", "05:00"), True, ("2026-10-01", "05:00"),
     ("2026-10-01", "06:00")),  # 30 Sep night shift, though 1 Oct is a holiday
    (("20:00", "00:00", "all"), ("2026-03-02", "23:59"), True, ("2026-03-02", "23:59"),
     ("2026-03-03", "00:00")),
    (("00:00", "24:00", "workdays"), ("2026-03-02", "10:00"), True, ("2026-03-02", "10:00"),
     ("2026-03-07", "00:00")),  # back-to-back days merge
    (("00:00", "24:00", "workdays"), ("2026-03-08", "10:00"), False, ("2026-03-09", "00:00"),
     ("2026-03-14", "00:00")),
    (("00:00", "24:00", "workdays"), ("2026-09-19", "10:00"), False, ("2026-09-20", "00:00"),
     ("2026-09-26", "00:00")),  # 调休 Sunday starts a six-day run
    (("00:00", "24:00", "workdays"), ("2026-10-09", "10:00"), True, ("2026-10-09", "10:00"),
     ("2026-10-11", "00:00")),  # and the 调休 Saturday extends the Friday
]


@pytest.mark.parametrize(("win", "probe", "is_open", "next_open", "closes"), WINDOW_CASES)
def test_daily_window(win: tuple[str, str, str], probe: tuple[str, str], is_open: bool,
                      next_open: tuple[str, str], closes: tuple[str, str]) -> None:
    w = DailyWindow.from_clock(*win[:2], cal(NATIONAL_DAY), days=win[2])
    t = at(MON, *probe)
    assert not w.always_open
    assert w.is_open(t) is is_open
    assert w.next_open(t) == at(MON, *next_open)
    assert w.closes_at(t) == at(MON, *closes)


def test_always_open() -> None:
    w = DailyWindow.from_clock("00:00", "24:00", cal(), days="all")
    assert w.always_open and w.is_open(at(MON, "2026-03-08", "03:00"))
    assert w.next_open(12345.6) == 12345.6 and w.closes_at(12345.6) == math.inf


@pytest.mark.parametrize(("start", "end", "days"), [
    ("08:00", "08:00", "all"), ("00:00", "00:00", "workdays"), ("24:00", "24:00", "all"),
    ("24:00", "06:00", "all"), ("08:00", "20:00", "weekends"), ("8h", "20:00", "all"),
])
def test_bad_windows(start: str, end: str, days: str) -> None:
    with pytest.raises(GridLoopError):
        DailyWindow.from_clock(start, end, cal(), days=days)


def test_no_more_workdays_window() -> None:
    spec = CalendarSpec(workdays=(), extra_workdays=(dt.date(2026, 3, 7),))
    w = DailyWindow.from_clock("08:00", "20:00", cal(spec), days="workdays")
    assert w.next_open(at(MON, "2026-03-07", "21:00")) == math.inf
    assert w.closes_at(at(MON, "2026-03-07", "21:00")) == math.inf


WINDOWS = [("08:00", "20:00"), ("22:00", "06:00"), ("07:00", "15:00"), ("00:00", "24:00"),
           ("18:00", "00:00"), ("23:00", "01:00")]


@settings(max_examples=300)
@given(st.sampled_from(WINDOWS), st.sampled_from(["all", "workdays"]), spec_ix, times)
def test_window_properties(win: tuple[str, str], days: str, i: int, t: float) -> None:
    w = DailyWindow.from_clock(*win, CALS[i, 1], days=days)
    s, e = clock_minutes(win[0]), clock_minutes(win[1])
    d = math.floor(t / 1440)
    off = t - d * 1440
    on = (lambda k: True) if days == "all" else CALS[i, 400].is_workday
    if s < e:
        expected = s <= off < e and on(d)
    else:
        expected = (off >= s and on(d)) or (off < e and on(d - 1))
    assert w.is_open(t) is expected
    nxt = w.next_open(t)
    assume(nxt != math.inf)
    assert nxt >= t and w.is_open(nxt)
    assert nxt == t or not w.is_open((t + nxt) / 2) or (nxt - t) < 1e-6
    if w.always_open:
        return
    end = w.closes_at(nxt)
    assert end > nxt and not w.is_open(end) and w.is_open(end - 1e-3)
    assert w.closes_at(t) == end
