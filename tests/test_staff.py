"""`StaffPool` against what a pool of servers inside a duty window must do, job by job.

The pool keeps only the queue-length integral by time steps and remembers until when its
window is open; these tests replay random jobs and check every start, every wait and the
counters against the rules themselves, so a stale window or a wrong integral shows up.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from sim.data.scenario import CalendarSpec
from sim.engine.calendar import DailyWindow, WorkingCalendar
from sim.engine.clock import Clock, call_at
from sim.engine.pools import StaffPool

CAL = WorkingCalendar(
    CalendarSpec(holidays=(dt.date(2026, 3, 4),), extra_workdays=(dt.date(2026, 3, 8),)),
    dt.date(2026, 3, 2), 20)

windows = st.one_of(
    st.none(),
    st.tuples(st.integers(0, 1439), st.integers(0, 1440), st.sampled_from(["all", "workdays"]))
    .filter(lambda w: w[0] != w[1] and not (w[1] == 0 and w[0] == 0)))
jobs = st.lists(st.tuples(st.floats(0, 3.5 * 1440, allow_nan=False), # arrival
                          st.floats(0, 600, allow_nan=False),         # service minutes
                          st.floats(0, 100, allow_nan=False)),        # deadline key
                min_size=1, max_size=60)


@settings(max_examples=150, deadline=None)
@given(windows, st.integers(1, 3), st.sampled_from(["fifo", "deadline"]), jobs)
def test_pool_starts_jobs_only_when_it_may_and_whenever_it_can(window, servers, rule, jobs_
                                                               ) -> None:
    env = Clock()
    w = None if window is None else DailyWindow(window[0], window[1], CAL, window[2])
    started: dict[int, tuple[float, int, float]] = {}  # job: (start, server, waited)
    ended: dict[int, float] = {}
    pool = StaffPool(env, "crews", servers, w, rule,
                     on_start=lambda j, s, waited: started.__setitem__(j, (env.now, s, waited)))
    order = sorted(range(len(jobs_)), key=lambda i: jobs_[i][0])
    for i in order:
        arrival, minutes, key = jobs_[i]
        call_at(env, arrival, lambda i_, m=minutes, k=key: pool.submit(
            i_, m, lambda j, s: ended.__setitem__(j, env.now), k), i)
    horizon = 4 * 1440.0  # some jobs are still queued or in service at the end
    env.run(until=horizon)
    pool.settle(horizon)

    def open_(t: float) -> bool:
        return w is None or w.is_open(t)

    for i, (start, server, waited) in started.items():
        arrival, minutes, _ = jobs_[i]
        assert start >= arrival and waited == start - arrival
        assert open_(start), f"job {i} started at {start} with the window closed"
        assert 0 <= server < servers
        if i in ended:
            assert ended[i] == start + minutes
    # work-conserving: a job waits only while every server is busy or the window is shut,
    # so each delayed start is a window opening or another job's end
    ends = set(ended.values())
    for i, (start, _, waited) in started.items():
        if waited > 0:
            assert start in ends or (w is not None and not w.is_open(start - 1e-6)), (i, start)
    # no server holds two jobs at once
    by_server: dict[int, list[tuple[float, float]]] = {}
    for i, (start, server, _) in started.items():
        by_server.setdefault(server, []).append((start, start + jobs_[i][1]))
    for spans in by_server.values():
        spans.sort()
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
    # the counters and integrals tell the same story as the jobs
    s = pool.stats
    assert s.arrivals == len(jobs_) and s.started == len(started)
    assert s.completed == len(ended) and s.started - s.completed == pool.busy
    busy_area = sum(min(start + jobs_[i][1], horizon) - start
                    for i, (start, _, _) in started.items())
    assert abs(s.area_busy - busy_area) < 1e-6 * max(1.0, busy_area)
    queued = sum(st_[0] - jobs_[i][0] for i, st_ in started.items())
    queued += sum(horizon - t for t in pool.queued_since())
    assert abs(s.area_queue - queued) < 1e-6 * max(1.0, queued)
    assert abs(s.wait_sum - sum(v[2] for v in started.values())) < 1e-6 * max(1.0, s.wait_sum)


def test_an_open_window_is_remembered_only_until_it_closes() -> None:
    env = Clock()
    w = DailyWindow(8 * 60, 17 * 60, CAL, "workdays")  # Mon 2 Mar 2026, Wed 4th a holiday
    pool = StaffPool(env, "crews", 1, w)
    starts: list[float] = []
    pool.on_start = lambda j, s, waited: starts.append(env.now)
    for t in (9 * 60, 16 * 60 + 59, 17 * 60, 1440 + 9 * 60, 2 * 1440 + 10 * 60):
        call_at(env, t, lambda _: pool.submit("job", 1.0, lambda j, s: None), None)
    env.run(until=4 * 1440)
    # 17:00 is closed: that job starts at 08:00 next day, just before the one due at 09:00;
    # Wednesday is a holiday, so its job waits for Thursday 08:00
    assert starts == [9 * 60, 16 * 60 + 59, 1440 + 8 * 60, 1440 + 9 * 60, 3 * 1440 + 8 * 60]
