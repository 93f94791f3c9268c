"""The engine's fast paths against the general code they shortcut.

A recurrence is created by `Discovery.create`, a scalar form of `create_many` kept for speed:
both must leave the model in the same state (same draws, same times, same pending lists, same
scheduled events), so a run's bytes do not depend on which one made a problem.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.model import CityModel
from sim.policies import DecisionPoints
from sim.scenario import load_scenario


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

    def patrol_route(self, grids, rows, cols, weights=None):  # noqa: ANN001, ANN201
        _SameRoutes.calls += 1
        return super().patrol_route(grids, rows, cols, weights)


def test_built_in_routes_are_planned_once_with_the_same_result() -> None:
    sc = load_scenario("small-town", days=4, seed=5)
    built_in = CityModel(sc).run()
    _SameRoutes.calls = 0
    asked = CityModel(sc, decisions=_SameRoutes()).run()
    shifts = len(asked.inspectors.beats) and _SameRoutes.calls // len(asked.inspectors.beats)
    assert shifts >= 4 * asked.spec.inspectors.shifts  # an override is asked every shift
    assert built_in.events().tobytes() == asked.events().tobytes()


class _Reversed(DecisionPoints):
    def patrol_route(self, grids, rows, cols, weights=None):  # noqa: ANN001, ANN201
        return super().patrol_route(grids, rows, cols, weights)[::-1]


def test_switching_back_to_built_in_routes_replans_them() -> None:
    m = CityModel(load_scenario("small-town", days=4, seed=5), decisions=_Reversed())
    m.discovery.start()
    m.inspectors.start()
    m.env.run(until=1440.0)
    city, beats = m.city, m.inspectors.beats

    def plan(d: DecisionPoints) -> np.ndarray:
        return np.concatenate([d.patrol_route(b.grids, city.row, city.col) for b in beats])

    assert (m.inspectors._route == plan(_Reversed())).all()
    m.decisions = DecisionPoints()
    m.env.run(until=m.horizon)
    assert (m.inspectors._route == plan(DecisionPoints())).all()


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
