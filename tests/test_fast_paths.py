"""The engine's batched paths against the one-problem-at-a-time code they stand for.

Problems are made and armed in batches (a day's arrivals, a shift's detections, a handful of
recurrences): the shift-start rescan and the batched arming (`Discovery._arm_many`,
`set_detect_many`, `arm_before_many`) must leave what handling one problem at a time
leaves, and a day's grids what a mask per subclass gives. Recurrences are made in batches no
later than they are due.
"""

from __future__ import annotations

import math
import types

import numpy as np
import pytest

from agents.inspector import InspectorCorps
from sim.data.scenario import load_scenario
from sim.engine.decisions import DecisionPoints, PatrolView
from sim.engine.problems import Fate
from sim.model import CityModel


def _twins(overrides: tuple[str, ...], until: float) -> tuple[CityModel, CityModel]:
    out = []
    for _ in range(2):
        m = CityModel(load_scenario("small-town", overrides, days=6, seed=11)).start()
        m.env.run(until=until)
        out.append(m)
    return out[0], out[1]


def _state(m: CityModel) -> tuple:
    d, t = m.discovery, m.truth
    queue = sorted((e[0], e[2]) for e in m.env.entries())
    return (d.t_detect, d.t_citizen, d.t_vanish, d.armed, d.reported, t.grid, t.subclass,
            t.created, t.fate, t.recurrence_of, m.inspectors.waiting(), queue)


def _set_detect(m: CityModel, pid: int, t: float) -> None:
    """One problem at a time: an inspector will notice ``pid`` at ``t``."""
    d = m.discovery
    d.t_detect[pid] = t
    if t < d.armed[pid]:
        d._arm(pid)


def test_recurrences_are_made_in_batches_before_they_are_due() -> None:
    made: list[tuple[float, int]] = []
    m = CityModel(load_scenario("small-town", ("problems.recurrence=0.6",), days=8, seed=3))
    create_many = m.discovery.create_many

    def watched(grids, subs, times, recurrence_of=-1):  # noqa: ANN001, ANN202
        if isinstance(recurrence_of, np.ndarray):
            made.append((m.env.now, len(times)))
            assert (times >= m.env.now).all()  # not one made after it is due
        return create_many(grids, subs, times, recurrence_of)

    m.discovery.create_many = watched  # type: ignore[method-assign]
    m.run()
    pr = m.problems()
    again = pr[pr["recurrence_of"] >= 0]
    origin = pr[again["recurrence_of"]]
    assert len(again) > 100 and sum(n for _, n in made) == len(again)
    assert len(made) < len(again) / 2  # several a batch
    assert (origin["fate"] != Fate.OPEN).all() and (origin["ended"] <= again["created"]).all()
    assert (again["created"] < m.horizon).all()


class _SameRoutes(DecisionPoints):
    """The built-in route, as an override: asked at every shift, and counted."""

    calls = 0

    def patrol_route(self, view: PatrolView) -> np.ndarray:
        _SameRoutes.calls += 1
        return super().patrol_route(view)


def test_built_in_routes_are_planned_once_with_the_same_result() -> None:
    sc = load_scenario("small-town", days=4, seed=5)
    built_in = CityModel(sc).run()
    _SameRoutes.calls = 0
    asked = CityModel(sc, decisions=_SameRoutes()).run()
    shifts = len(asked.inspectors.beats) and _SameRoutes.calls // len(asked.inspectors.beats)
    assert shifts >= 4 * asked.spec.inspectors.shifts  # an override is asked every shift
    assert built_in.events().tobytes() == asked.events().tobytes()


# -- the shift-start rescan and batched arming, against one problem at a time -------------

def _rescan_one_by_one(corps: InspectorCorps, t0: float) -> None:
    """The rescan as it was first written: each waiting problem looked up, detected and
    armed on its own."""
    m = corps.m
    truth, disc = m.truth, m.discovery
    pending = [pid for waiting in corps.waiting() for pid in waiting
               if not truth.fate[pid] and truth.case[pid] < 0]
    corps._left = corps._left[:0]
    corps._new, corps._new_beat = [], []
    if not pending:
        return
    pids = np.asarray(pending)
    grids = np.asarray([truth.grid[q] for q in pending])
    since = np.asarray([truth.created[q] for q in pending])
    p = disc.detect_arr[np.asarray([truth.subclass[q] for q in pending])]
    t = corps.detection_times(grids, since, p)
    found = t < math.inf
    seen = pids[found].tolist()
    last = dict(zip(seen, t[found].tolist(), strict=True))  # a problem twice: its last time
    for pid in reversed(list(dict.fromkeys(reversed(seen)))):  # in order of last mention
        _set_detect(m, pid, last[pid])
    until = float(corps.next_shift_starts(np.array([t0]))[0])
    for pid, b in zip(pids[~found].tolist(), corps.grid_beat[grids[~found]].tolist(),
                      strict=True):
        corps._new.append(pid)
        corps._new_beat.append(b)
        if disc.armed[pid] == math.inf and min(disc.t_citizen[pid], disc.t_vanish[pid]) < until:
            disc._arm(pid)


@pytest.mark.parametrize("overrides", [(), ("inspectors.shifts=1",), ("inspectors.days=workdays",),
                                       ("proactive.enabled=true", "proactive.lag_days=0",
                                        "proactive.window_days=1", "proactive.hot_share=0.5")])
def test_rescan_in_bulk_equals_one_problem_at_a_time(overrides: tuple[str, ...]) -> None:
    bulk, single = _twins(overrides, 1000.0)
    single.inspectors._rescan_all = types.MethodType(_rescan_one_by_one,  # type: ignore
                                                     single.inspectors)
    # a problem waiting twice (closed unsolved, then unseen again before the next shift)
    # takes the one-at-a-time path in bulk too
    for m in (bulk, single):
        corps = m.inspectors
        twice = corps.waiting()
        b = next(i for i, w in enumerate(twice) if w)
        corps._new.append(twice[b][0])
        corps._new_beat.append(b)
    assert _state(bulk) == _state(single)
    for until in (1500.0, 3000.0, 6000.0):
        for m in (bulk, single):
            m.env.run(until=until)
        assert _state(bulk) == _state(single)
    for m in (bulk, single):
        m.env.run(until=m.horizon)
    assert bulk.events().tobytes() == single.events().tobytes()
    assert bulk.problems().tobytes() == single.problems().tobytes()


def test_arming_in_bulk_equals_one_at_a_time() -> None:
    """`_arm_many` (a day's arrivals, a shift's detections) leaves what `_arm` leaves: the
    same armed times and the same queue entries in the same order, late repeats dropped."""
    bulk, single = _twins(("problems.rate_scale=2",), 2000.0)
    truth = bulk.truth
    ids = [pid for pid in range(len(truth)) if not truth.fate[pid]][::2]
    assert len(ids) > 50
    for m in (bulk, single):
        for pid in ids[::3]:
            m.discovery.reported[pid] = True  # late repeats of these are not armed
    bulk.discovery._arm_many(ids)
    for pid in ids:
        single.discovery._arm(pid)
    assert _state(bulk) == _state(single)
    def calls(m: CityModel) -> list:
        return sorted((e[0], e[2], e[4]) for e in m.env.entries()
                      if len(e) == 5 and e[3].__name__ == "_happen")

    assert calls(bulk) == calls(single)
    assert len(calls(bulk)) > 20


def test_detections_in_bulk_equal_one_at_a_time_with_a_problem_twice() -> None:
    bulk, single = _twins((), 1000.0)
    truth = bulk.truth
    ids = [pid for pid in range(len(truth)) if not truth.fate[pid]][:40]
    ids = ids + ids[:5]  # the first five listed twice, with other times: the last counts
    rng = np.random.default_rng(3)
    times = 1000.0 + rng.uniform(0.0, 400.0, len(ids))
    vanish = np.asarray([bulk.discovery.t_vanish[pid] for pid in ids])
    bulk.discovery.set_detect_many(np.asarray(ids), times, vanish)
    last = dict(zip(ids, times.tolist(), strict=True))
    for pid in dict.fromkeys(ids[5:] + ids[:5]):  # in the order of their last mention
        _set_detect(single, pid, last[pid])
    assert _state(bulk) == _state(single)
    distinct = ids[5:40]
    bulk.discovery.set_detect_many(np.asarray(distinct), times[5:40] - 30.0,
                                   vanish[5:40])
    for pid, t in zip(distinct, (times[5:40] - 30.0).tolist(), strict=True):
        _set_detect(single, pid, t)
    assert _state(bulk) == _state(single)


@pytest.mark.parametrize("overrides", [(), ("problems.day_dispersion=0.3",)])
def test_arrivals_grids_equal_a_mask_per_subclass(overrides: tuple[str, ...]) -> None:
    """A day's grids, drawn subclass by subclass on slices of a sort, are those a boolean
    mask per subclass gives (as first written), from the same draws."""
    arrivals = CityModel(load_scenario("dongcheng", overrides, days=2, seed=4)).discovery.arrivals
    for day in range(4):
        times, subs, grids = arrivals.day(np.random.default_rng(day), day, day % 7, day == 2,
                                          day * 1440.0)
        assert len(np.unique(subs)) > 20  # many subclasses in a day
        assert (np.diff(times) >= 0).all()
        u = np.random.default_rng(100 + day).random(len(subs))
        want = np.empty(len(subs), dtype=np.int64)
        for s in np.unique(subs):
            mask = subs == s
            want[mask] = np.searchsorted(arrivals.cum_grid[s], u[mask], side="right")
        assert arrivals.grids_of(subs, u).tobytes() == want.tobytes()


def test_waiting_problems_armed_in_bulk_once_each() -> None:
    """`arm_before_many` arms what `arm_before` arms for problems with nothing armed, and a
    problem listed twice only once."""
    bulk, single = _twins((), 1000.0)
    d = bulk.discovery
    ids = [pid for pid in range(len(bulk.truth)) if d.armed[pid] == math.inf][:30]
    assert len(ids) == 30
    until = 1380.0
    for m in (bulk, single):
        for i, pid in enumerate(ids):  # a third report before the next shift starts
            if i % 3 == 0:
                m.discovery.t_citizen[pid] = 1100.0 + i
    listed = ids + ids[:6]
    vanish = np.asarray([d.t_vanish[pid] for pid in listed])
    bulk.discovery.arm_before_many(np.asarray(listed), vanish, until)
    one = single.discovery
    for pid in listed:
        if one.armed[pid] == math.inf and min(one.t_citizen[pid], one.t_vanish[pid]) < until:
            one._arm(pid)
    assert _state(bulk) == _state(single)
    assert sum(bulk.discovery.armed[pid] < math.inf for pid in ids) >= 10


def test_stage_plans_drawn_fast_equal_the_plain_draw() -> None:
    """`Stages.draw` (no `Step` per stage) draws and groups as `Stages.draw_plain` does: same
    visits and waits, same draws in the same order, for every staged subclass of every
    department of dongcheng (waits, chances below 1, other departments' crews)."""
    twins = [CityModel(load_scenario("dongcheng", (), days=1, seed=3)) for _ in range(2)]
    staged = [i for i, s in enumerate(twins[0].handbook.subclasses) if len(s.plan) > 1]
    assert len(staged) >= 3
    kinds = set()
    for d_fast, d_plain in zip(twins[0].departments, twins[1].departments, strict=True):
        for sub in staged:
            for _ in range(40):
                fast, plain = d_fast.stages.draw(sub), d_plain.stages.draw_plain(sub)
                assert fast == plain
                assert [type(p) for p in fast] == [type(p) for p in plain]
                kinds.update((type(p).__name__, len(fast)) for p in fast)
    assert {k for k, _ in kinds} == {"Visit", "Wait"}
    assert len({n for _, n in kinds}) > 1  # plans of several lengths: chances drawn


def test_handling_deadlines_equal_the_calendars() -> None:
    """`CaseLife.handling_deadline` (each limit's minutes worked out once) gives what
    `WorkingCalendar.deadline` gives, for every subclass, at times in and out of hours."""
    m = CityModel(load_scenario("dongcheng", ("handbook.time_limit_scale=1.3",), days=1,
                                seed=3))
    life, case = m.caselife, types.SimpleNamespace(subclass=0)
    units = {lim.unit for lim in m.sub_limit}
    assert {"h", "wh"} <= units or {"h", "wd"} <= units
    for t in np.linspace(0.0, 9 * 1440.0, 97).tolist():
        m.env._now = t  # type: ignore[attr-defined]
        for sub, lim in enumerate(m.sub_limit):
            case.subclass = sub
            assert life.handling_deadline(case) == m.calendar.deadline(t, lim, 1.3)  # type: ignore[arg-type]


# -- the clock's held entries, against a clock that queues every entry at once ------------

@pytest.mark.parametrize(("scenario", "days", "seed"), [("small-town", 30, 11),
                                                        ("dongcheng", 8, 7)])
def test_holding_later_entries_out_of_the_queue_leaves_the_event_log(
        monkeypatch: pytest.MonkeyPatch, scenario: str, days: int, seed: int) -> None:
    """Day and shift starts queued one after another, happenings due after tonight kept by
    day (and dropped once their problem has ended), entries due after the clock's current
    slot kept by slot: the same event log, problems and count of queue entries, byte for
    byte, as a clock that queues every entry at once."""
    from sim.engine.clock import Clock
    runs = []
    for holds in (False, True):
        monkeypatch.setattr(Clock, "holds_ahead", holds)
        m = CityModel(load_scenario(scenario, days=days, seed=seed)).run()
        runs.append((m.events().tobytes(), m.problems().tobytes(), m.sim_events,
                     m.env.later_from < math.inf))
    plain, held = runs
    assert held[:3] == plain[:3]
    assert held[3] and not plain[3]  # the fast clock did hold entries
    assert len(plain[0]) > 10_000
