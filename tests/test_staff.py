"""`StaffPool` against what a pool of servers inside a duty window must do, job by job.

The pool keeps only the queue-length integral by time steps and remembers until when its
window is open; these tests replay random jobs, each the life of a small process, and check
every start, every wait and the counters against the rules themselves, so a stale window or
a wrong integral shows up. A job (``yield pool.job``) and a seized server held as long
(``yield pool.seize`` ... ``pool.release``) must give the same schedule.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from sim.data.scenario import CalendarSpec
from sim.engine.calendar import DailyWindow, WorkingCalendar
from sim.engine.clock import Clock, call_at, start
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


class Job:
    """A process needing a server: arrives, waits, is served ``minutes``, leaves."""

    def __init__(self, env: Clock, pool: StaffPool, i: int, minutes: float, key: float,
                 seize: bool, log: dict[str, dict[int, tuple]], work: bool = False) -> None:
        self.env, self.pool, self.i, self.minutes, self.key = env, pool, i, minutes, key
        self.seize, self.log, self.work = seize, log, work
        self.life = None

    def arrive(self, _: object) -> None:
        start(self, self.run())

    def run(self):  # noqa: ANN201
        env, pool, arrived = self.env, self.pool, self.env.now
        if self.seize:
            server = yield pool.seize(self, self.key)
            self.log["started"][self.i] = (env.now, server, env.now - arrived)
            if self.work:  # the same in one queue entry
                assert (yield pool.work(self, server, self.minutes)) == server
            else:
                yield env.after(self, self.minutes)
                pool.release(server)
        else:
            server = yield pool.job(self, self.minutes, self.key)
            self.log["started"][self.i] = (env.now - self.minutes, server,
                                           env.now - self.minutes - arrived)
        self.log["ended"][self.i] = (env.now,)


def serve(window: tuple | None, servers: int, rule: str, jobs_: list, seize: bool,
          horizon: float, work: bool = False) -> tuple[StaffPool, dict[str, dict[int, tuple]]]:
    env = Clock()
    w = None if window is None else DailyWindow(window[0], window[1], CAL, window[2])
    pool = StaffPool(env, "crews", servers, w, rule)
    log: dict[str, dict[int, tuple]] = {"started": {}, "ended": {}}
    for i in sorted(range(len(jobs_)), key=lambda i: jobs_[i][0]):
        arrival, minutes, key = jobs_[i]
        call_at(env, arrival, Job(env, pool, i, minutes, key, seize, log, work).arrive, None)
    env.run(until=horizon)
    pool.settle(horizon)
    return pool, log


@settings(max_examples=150, deadline=None)
@given(windows, st.integers(1, 3), st.sampled_from(["fifo", "deadline"]), jobs)
def test_pool_starts_jobs_only_when_it_may_and_whenever_it_can(window, servers, rule, jobs_
                                                               ) -> None:
    horizon = 4 * 1440.0  # some jobs are still queued or in service at the end
    pool, log = serve(window, servers, rule, jobs_, True, horizon)
    started = log["started"]
    ended = {i: v[0] for i, v in log["ended"].items()}
    w = pool.window

    def open_(t: float) -> bool:
        return w is None or w.is_open(t)

    for i, (start_, server, waited) in started.items():
        arrival, minutes, _ = jobs_[i]
        assert start_ >= arrival and waited == start_ - arrival
        assert open_(start_), f"job {i} started at {start_} with the window closed"
        assert 0 <= server < servers
        if i in ended:
            assert ended[i] == start_ + minutes
    # work-conserving: a job waits only while every server is busy or the window is shut,
    # so each delayed start is a window opening or another job's end
    ends = set(ended.values())
    for i, (start_, _, waited) in started.items():
        if waited > 0:
            assert start_ in ends or (w is not None and not w.is_open(start_ - 1e-6)), (i, start_)
    # no server holds two jobs at once
    by_server: dict[int, list[tuple[float, float]]] = {}
    for i, (start_, server, _) in started.items():
        by_server.setdefault(server, []).append((start_, start_ + jobs_[i][1]))
    for spans in by_server.values():
        spans.sort()
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
    # the counters and integrals tell the same story as the jobs
    s = pool.stats
    assert s.arrivals == len(jobs_) and s.started == len(started)
    assert s.completed == len(ended) and s.started - s.completed == pool.busy
    busy_area = sum(min(start_ + jobs_[i][1], horizon) - start_
                    for i, (start_, _, _) in started.items())
    assert abs(s.area_busy - busy_area) < 1e-6 * max(1.0, busy_area)
    queued = sum(st_[0] - jobs_[i][0] for i, st_ in started.items())
    queued += sum(horizon - t for t in pool.queued_since())
    assert abs(s.area_queue - queued) < 1e-6 * max(1.0, queued)
    assert abs(s.wait_sum - sum(v[2] for v in started.values())) < 1e-6 * max(1.0, s.wait_sum)
    # a job of so many minutes is served exactly as a server seized and held that long
    job_pool, job_log = serve(window, servers, rule, jobs_, False, horizon)
    assert job_log["ended"] == log["ended"]
    assert {i: v[1] for i, v in job_log["started"].items()} == \
        {i: v[1] for i, v in started.items() if i in ended}
    assert (job_pool.stats.area_queue, job_pool.stats.wait_sum) == (s.area_queue, s.wait_sum)


@settings(max_examples=100, deadline=None)
@given(windows, st.integers(1, 3), st.sampled_from(["fifo", "deadline"]),
       st.lists(st.tuples(st.floats(0, 3.5 * 1440, allow_nan=False),
                          st.sampled_from([0.0, 5.0, 10.0, 30.0, 600.0]),  # many ties
                          st.floats(0, 100, allow_nan=False)), min_size=1, max_size=60))
def test_work_is_after_then_release_in_one_entry(window, servers, rule, jobs_) -> None:
    """``yield pool.work(case, crew, minutes)`` (a crew visit's end, one queue entry) starts
    and ends every job at the same time on the same server, in the same order, with the
    same counters and integrals, as ``yield env.after(...)`` then ``pool.release(crew)``."""
    horizon = 4 * 1440.0
    plain_pool, plain = serve(window, servers, rule, jobs_, True, horizon)
    work_pool, work = serve(window, servers, rule, jobs_, True, horizon, work=True)
    assert list(work["started"].items()) == list(plain["started"].items())
    assert list(work["ended"].items()) == list(plain["ended"].items())  # the same order
    a, b = plain_pool.stats, work_pool.stats
    assert [getattr(a, k) for k in a.__slots__] == [getattr(b, k) for k in b.__slots__]
    assert plain_pool.busy == work_pool.busy


def test_an_open_window_is_remembered_only_until_it_closes() -> None:
    # Mon 2 Mar 2026, Wed 4th a holiday
    jobs_ = [(t, 1.0, 0.0) for t in (9 * 60, 16 * 60 + 59, 17 * 60, 1440 + 9 * 60,
                                     2 * 1440 + 10 * 60)]
    _, log = serve((8 * 60, 17 * 60, "workdays"), 1, "fifo", jobs_, True, 4 * 1440)
    # 17:00 is closed: that job starts at 08:00 next day, just before the one due at 09:00;
    # Wednesday is a holiday, so its job waits for Thursday 08:00
    starts = [log["started"][i][0] for i in range(len(jobs_))]
    assert starts == [9 * 60, 16 * 60 + 59, 1440 + 8 * 60, 1440 + 9 * 60, 3 * 1440 + 8 * 60]


# -- stretching: overtime and crews lent or borrowed (issue 11) --------------------------------

def test_overtime_keeps_one_days_window_open_longer() -> None:
    """Work queued after the close starts in the overtime of the day it was granted for,
    and on later days the window closes on time again."""
    env = Clock()
    w = DailyWindow(8 * 60, 17 * 60, CAL, "all")
    pool = StaffPool(env, "crews", 1, w, "fifo")
    log: dict[str, dict[int, tuple]] = {"started": {}, "ended": {}}
    jobs_ = [(17 * 60 + 30, 10.0), (1440 + 17 * 60 + 30, 10.0)]
    for i, (arrival, minutes) in enumerate(jobs_):
        call_at(env, arrival, Job(env, pool, i, minutes, 0.0, True, log).arrive, None)
    call_at(env, 60.0, lambda _: pool.extend_window(17 * 60, 19 * 60), None)
    env.run(until=3 * 1440)
    assert log["started"][0][0] == 17 * 60 + 30           # in the overtime
    assert log["started"][1][0] == 2 * 1440 + 8 * 60      # next day: waits for the morning


@settings(max_examples=100, deadline=None)
@given(windows, st.integers(1, 4), jobs,
       st.lists(st.tuples(st.floats(0, 3.5 * 1440, allow_nan=False), st.integers(0, 5)),
                max_size=6))
def test_resized_pool_never_serves_more_jobs_than_servers(window, servers, jobs_, sizes
                                                          ) -> None:
    """Crews lent and borrowed (`StaffPool.resize`): at any time no more jobs run than the
    servers the pool has had since they started, no server holds two jobs, every job ends,
    queued work starts when servers come, and the counters still add up."""
    env = Clock()
    w = None if window is None else DailyWindow(window[0], window[1], CAL, window[2])
    pool = StaffPool(env, "crews", servers, w, "deadline")
    log: dict[str, dict[int, tuple]] = {"started": {}, "ended": {}}
    for i in sorted(range(len(jobs_)), key=lambda i: jobs_[i][0]):
        arrival, minutes, key = jobs_[i]
        call_at(env, arrival, Job(env, pool, i, minutes, key, True, log).arrive, None)
    size_at: list[tuple[float, int]] = [(0.0, servers)]
    for t, n in sorted(sizes):
        call_at(env, t, lambda n_, n=n: pool.resize(n), None)
        size_at.append((t, n))
    horizon = 8 * 1440.0
    env.run(until=horizon)
    started = log["started"]
    by_server: dict[int, list[tuple[float, float]]] = {}
    for i, (start_, server, _) in started.items():
        by_server.setdefault(server, []).append((start_, start_ + jobs_[i][1]))
        before = [n for t, n in size_at if t < start_] or [servers]
        n_then = max([before[-1]] + [n for t, n in size_at if t == start_])  # same-time order
        assert server < n_then, f"job {i} started on server {server} of {n_then}"
    for spans in by_server.values():
        spans.sort()
        assert all(a[1] <= b[0] + 1e-6 for a, b in zip(spans, spans[1:], strict=False))
    s = pool.stats
    assert s.started == len(started) and s.started - s.completed == pool.busy
    if size_at[-1][1] > 0 and w is None:
        assert len(started) == len(jobs_)  # servers at the end: nothing waits for ever
