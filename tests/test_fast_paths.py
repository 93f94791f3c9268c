"""The engine's fast paths against the general code they shortcut.

A recurrence is created by `Discovery.create`, a scalar form of `create_many` kept for speed:
both must leave the model in the same state (same draws, same times, same pending lists, same
scheduled events), so a run's bytes do not depend on which one made a problem. Likewise the
shift-start rescan and the batched arming (`Discovery._arm_many`, `set_detect_many`,
`arm_before_many`) against one problem at a time, and a day's arrivals against a mask per
subclass.
"""

from __future__ import annotations

import math
import types

import numpy as np
import pytest

from agents.inspector import InspectorCorps
from sim.data.scenario import load_scenario
from sim.engine.decisions import DecisionPoints, PatrolView
from sim.model import CityModel


def _twins(overrides: tuple[str, ...], until: float) -> tuple[CityModel, CityModel]:
    out = []
    for _ in range(2):
        m = CityModel(load_scenario("small-town", overrides, days=6, seed=11))
        m.discovery.start()
        m.inspectors.start()
        m.env.run(until=until)
        out.append(m)
    return out[0], out[1]


def _state(m: CityModel) -> tuple:
    d, t = m.discovery, m.truth
    queue = sorted((e[0], e[2]) for e in m.env._queue)  # type: ignore[attr-defined]
    return (d.t_detect, d.t_citizen, d.t_vanish, d.armed, d.reported, t.grid, t.subclass,
            t.created, t.fate, t.token, t.recurrence_of,
            m.inspectors.waiting(), queue)


@pytest.mark.parametrize("overrides", [(), ("inspectors.count=0",), ("inspectors.shifts=1",),
                                       ("inspectors.days=workdays",),
                                       ("proactive.enabled=true", "proactive.lag_days=0",
                                        "proactive.window_days=1", "proactive.hot_share=0.5")])
@pytest.mark.parametrize("until", [600.0, 1500.0, 3000.0])
def test_one_recurrence_scalar_equals_vectorised(overrides: tuple[str, ...],
                                                 until: float) -> None:
    scalar, vector = _twins(overrides, until)
    rng = np.random.default_rng(int(until) + len(overrides))
    n_grids, n_subs = scalar.city.n_grids, len(scalar.handbook.subclasses)
    for _ in range(40):
        grid, sub = int(rng.integers(n_grids)), int(rng.integers(n_subs))
        t = until + float(rng.exponential(600.0))
        origin = int(rng.integers(len(scalar.truth)))
        a = scalar.discovery.create(grid, sub, t, origin)
        b = vector.discovery.create_many(np.array([grid]), np.array([sub]), np.array([t]),
                                         origin)
        assert a == b
        assert _state(scalar) == _state(vector)
    for m in (scalar, vector):
        m.env.run(until=m.horizon)
    assert scalar.events().tobytes() == vector.events().tobytes()
    assert scalar.problems().tobytes() == vector.problems().tobytes()


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


def test_one_watch_equals_many_on_grids_walked_twice() -> None:
    """Proactive patrols walk hot grids twice a cycle: the scalar watch must see that too."""
    overrides = ("proactive.enabled=true", "proactive.lag_days=0", "proactive.window_days=1",
                 "proactive.hot_share=0.5")
    scalar, vector = _twins(overrides, 1000.0)  # inside the 900-1380 shift of day 0
    visits = scalar.inspectors._visits
    assert visits is not None and (visits > 1).any(), "the test needs a grid walked twice"
    grids = np.flatnonzero(visits > 1).tolist() + np.flatnonzero(visits == 1)[:5].tolist()
    seen = set()
    for i, grid in enumerate(grids * 8):
        since, p = 1000.0 + 3.0 * i, 0.2  # later visits of the cycle, not only the first
        a = scalar.inspectors.watch_one(10_000 + i, grid, since, p)
        b = vector.inspectors.watch_many(np.array([10_000 + i]), np.array([grid]),
                                         np.array([since]), np.array([p]))
        assert a == float(b[0])
        seen.add(a)
    assert len(seen) > 3  # some problems noticed on a later visit of the shift


# -- the shift-start rescan and batched arming, against one problem at a time -------------

def _rescan_one_by_one(corps: InspectorCorps, t0: float) -> None:
    """The rescan as it was first written: each waiting problem looked up, detected and
    armed on its own (`Discovery.set_detect`, `Discovery.arm_before`)."""
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
    for pid, when in zip(pids[found].tolist(), t[found].tolist(), strict=True):
        disc.set_detect(pid, when)
    until = float(corps.next_shift_starts(np.array([t0]))[0])
    for pid, b in zip(pids[~found].tolist(), corps.grid_beat[grids[~found]].tolist(),
                      strict=True):
        corps._new.append(pid)
        corps._new_beat.append(b)
        if disc.armed[pid] == math.inf:
            disc.arm_before(pid, until)


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
        return sorted((e[0], e[2], e[4]) for e in m.env._queue  # type: ignore[attr-defined]
                      if len(e) == 5 and e[3].__name__ == "_happen")

    assert calls(bulk) == calls(single)
    assert len(calls(bulk)) > 20


def test_detections_in_bulk_equal_one_at_a_time_with_a_problem_twice() -> None:
    bulk, single = _twins((), 1000.0)
    truth = bulk.truth
    ids = [pid for pid in range(len(truth)) if not truth.fate[pid]][:40]
    ids = ids + ids[:5]  # the first five listed twice, with other times
    rng = np.random.default_rng(3)
    times = 1000.0 + rng.uniform(0.0, 400.0, len(ids))
    vanish = np.asarray([bulk.discovery.t_vanish[pid] for pid in ids])
    bulk.discovery.set_detect_many(np.asarray(ids), times, vanish)
    for pid, t in zip(ids, times.tolist(), strict=True):
        single.discovery.set_detect(pid, t)
    assert _state(bulk) == _state(single)
    distinct = ids[5:40]
    bulk.discovery.set_detect_many(np.asarray(distinct), times[5:40] - 30.0,
                                   vanish[5:40])
    for pid, t in zip(distinct, (times[5:40] - 30.0).tolist(), strict=True):
        single.discovery.set_detect(pid, t)
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
    for pid in listed:
        if single.discovery.armed[pid] == math.inf:
            single.discovery.arm_before(pid, until)
    assert _state(bulk) == _state(single)
    assert sum(bulk.discovery.armed[pid] < math.inf for pid in ids) >= 10
