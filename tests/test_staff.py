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
                 seize: bool, log: dict[str, dict[int, tuple]]) -> None:
        self.env, self.pool, self.i, self.minutes, self.key = env, pool, i, minutes, key
        self.seize, self.log = seize, log
        self.life = None

    def arrive(self, _: object) -> None:
        start(self, self.run())

    def run(self):  # noqa: ANN201
        env, pool, arrived = self.env, self.pool, self.env.now
        if self.seize:
            server = yield pool.seize(self, self.key)
            self.log["started"][self.i] = (env.now, server, env.now - arrived)
            yield env.after(self, self.minutes)
            pool.release(server)
        else:
            server = yield pool.job(self, self.minutes, self.key)
            self.log["started"][self.i] = (env.now - self.minutes, server,
                                           env.now - self.minutes - arrived)
        self.log["ended"][self.i] = (env.now,)


def serve(window: tuple | None, servers: int, rule: str, jobs_: list, seize: bool,
          horizon: float) -> tuple[StaffPool, dict[str, dict[int, tuple]]]:
    env = Clock()
    w = None if window is None else DailyWindow(window[0], window[1], CAL, window[2])
    pool = StaffPool(env, "crews", servers, w, rule)
    log: dict[str, dict[int, tuple]] = {"started": {}, "ended": {}}
    for i in sorted(range(len(jobs_)), key=lambda i: jobs_[i][0]):
        arrival, minutes, key = jobs_[i]
        call_at(env, arrival, Job(env, pool, i, minutes, key, seize, log).arrive, None)
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


def test_an_open_window_is_remembered_only_until_it_closes() -> None:
    # Mon 2 Mar 2026, Wed 4th a holiday
    jobs_ = [(t, 1.0, 0.0) for t in (9 * 60, 16 * 60 + 59, 17 * 60, 1440 + 9 * 60,
                                     2 * 1440 + 10 * 60)]
    _, log = serve((8 * 60, 17 * 60, "workdays"), 1, "fifo", jobs_, True, 4 * 1440)
    # 17:00 is closed: that job starts at 08:00 next day, just before the one due at 09:00;
    # Wednesday is a holiday, so its job waits for Thursday 08:00
    starts = [log["started"][i][0] for i in range(len(jobs_))]
    assert starts == [9 * 60, 16 * 60 + 59, 1440 + 8 * 60, 1440 + 9 * 60, 3 * 1440 + 8 * 60]
