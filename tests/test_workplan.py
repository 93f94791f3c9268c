"""Departments' planning rules (`sim.engine.workplan`): table-driven cases and properties.

These are the pure rules a department process calls (issue 11): when to start a case, the
crews' order, how capacity stretches with the backlog, quality under time pressure and what a
long wait turns into. Each test states the behaviour a planner relies on.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.data.distributions import Dist, make_sampler
from sim.data.scenario import DepartmentSpec
from sim.data.taxonomy import Stage
from sim.engine.behaviour import Pressures, planning_pressure
from sim.engine.randomness import Uniforms
from sim.engine.workplan import (
    StageTable,
    backlog_hours,
    draw_stages,
    quality_under_pressure,
    queue_key,
    release_delay,
    slack_share,
    stretch,
    time_pressure,
    wait_request,
)

minutes = st.floats(min_value=0, max_value=1e5, allow_nan=False)
share = st.floats(min_value=0, max_value=1)


def dept(**kw: object) -> DepartmentSpec:
    return DepartmentSpec.model_validate({"crews": 10, **kw})


# -- when to start --------------------------------------------------------------------------

def test_slack_share_falls_with_pressure() -> None:
    assert slack_share(0.6, 4.0, 0.0) == 0.6
    shares = [slack_share(0.6, 4.0, p) for p in (0.0, 0.1, 0.3, 0.6)]
    assert shares == sorted(shares, reverse=True) and shares[-1] < shares[0] / 2
    assert slack_share(0.6, 0.0, 0.6) == 0.6  # a department deaf to its ranking
    with pytest.raises(ValueError):
        slack_share(1.2, 1.0, 0.0)


@pytest.mark.parametrize(("left", "needed", "share", "urgent", "delay"), [
    (480, 120, 0.5, False, 180),   # half of 6 h of slack
    (480, 120, 0.0, False, 0),     # starts at once
    (480, 120, 1.0, False, 360),   # all the slack: finishes just in time, if all goes well
    (480, 600, 0.5, False, 0),     # no slack: at once
    (480, 120, 0.5, True, 0),      # urgent: at once
    (-30, 120, 0.5, False, 0),     # already late
])
def test_release_delay_table(left: float, needed: float, share: float, urgent: bool,
                             delay: float) -> None:
    assert release_delay(left, needed, share, urgent) == pytest.approx(delay)


@given(left=minutes, more=minutes, needed=minutes, share=share)
def test_a_longer_limit_never_starts_sooner_and_never_plans_to_be_late(
        left: float, more: float, needed: float, share: float) -> None:
    d = release_delay(left, needed, share, False)
    assert 0 <= d <= release_delay(left + more, needed, share, False)
    if left >= needed:
        assert d + needed <= left + 1e-6


def test_planning_pressure() -> None:
    standard, points = Pressures(on_time=0.3), Pressures(on_time=0.6)
    assert planning_pressure(points, standard, 1.0, reacting=True) == 0.6
    assert planning_pressure(points, standard, 1.0, reacting=False) == 0.3  # rules only score
    assert planning_pressure(points, standard, 0.5, reacting=True) == 0.3
    assert planning_pressure(points, standard, 1.0, reacting=True, evaluated=False) == 0.0


# -- the crews' order -----------------------------------------------------------------------

def test_queue_order_urgent_then_deadline_and_triage_puts_the_late_last() -> None:
    cases = {  # name: (deadline, urgent, overdue)
        "late": (100.0, False, True), "soon": (300.0, False, False),
        "later": (900.0, False, False), "urgent": (5000.0, True, False)}

    def order(triage: bool, overdue_last: bool = True) -> list[str]:
        return sorted(cases, key=lambda n: queue_key(*cases[n], triage, overdue_last))

    assert order(False) == ["urgent", "late", "soon", "later"]
    assert order(True) == ["urgent", "soon", "later", "late"]
    assert order(True, overdue_last=False) == ["urgent", "late", "soon", "later"]


# -- capacity that bends --------------------------------------------------------------------

def test_backlog_hours() -> None:
    assert backlog_hours(1200, 5) == 4.0
    assert backlog_hours(10, 0) == float("inf")


def test_no_stretch_by_default() -> None:
    assert stretch(1000.0, dept(), 12.0) == (0.0, 0, False)


def test_stretch_is_graded_and_capped() -> None:
    spec = dept(overtime={"max_hours": 2, "backlog_hours": 4},
                borrowing={"lenders": ["municipal"], "max_crews": 3, "backlog_hours": 8},
                triage={"backlog_hours": 12})
    table = {b: stretch(b, spec, 12.0) for b in (2, 5, 9, 10.5, 11, 13, 40)}
    assert table[2] == (0, 0, False)
    assert table[5] == (1, 0, False)           # overtime covers the excess over 4 h
    assert table[9] == (2, 0, False)           # capped at 2 h; 9 - 2 = 7 < 8: no borrowing
    assert table[10.5] == (2, 1, False)        # 0.5 h x 10 crews = 5 crew-hours: one crew
    assert table[11] == (2, 1, False)
    assert table[13] == (2, 3, True)           # 3 h x 10 = 30 crew-hours: capped at 3
    assert table[40] == (2, 3, True)
    answers = [stretch(b, spec, 12.0) for b in np.linspace(0, 50, 101)]
    for a, b in zip(answers, answers[1:], strict=False):  # never less as the backlog grows
        assert b.overtime_hours >= a.overtime_hours and b.borrowed_crews >= a.borrowed_crews
        assert b.triage >= a.triage


def test_no_borrowing_without_lenders() -> None:
    spec = dept(borrowing={"max_crews": 3, "backlog_hours": 1})
    assert stretch(50.0, spec, 8.0).borrowed_crews == 0


@pytest.mark.parametrize(("left", "needed", "p"), [
    (400, 100, 0.0), (200, 100, 0.0), (150, 100, 0.5), (100, 100, 1.0), (-50, 100, 1.0),
    (10, 0, 0.0), (0, 0, 1.0)])
def test_time_pressure_table(left: float, needed: float, p: float) -> None:
    assert time_pressure(left, needed) == pytest.approx(p)


@given(q=share, slip=share, p=st.floats(-1, 2))
def test_quality_under_pressure_stays_a_probability_and_never_rises(q: float, slip: float,
                                                                    p: float) -> None:
    got = quality_under_pressure(q, slip, p)
    assert 0 <= got <= q
    assert quality_under_pressure(q, slip, 0.0) == q


# -- waits ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("wait", "left", "work", "used", "waits_for", "answer"), [
    (60, 480, 60, 0, "materials", "wait"),          # fits in the limit
    (600, 480, 60, 0, "materials", "extend"),       # overruns: ask for more time
    (600, 480, 60, 1, "materials", "wait"),         # no extension left: wait and be late
    (6000, 480, 60, 0, "contractor", "suspend"),    # longer than 80 working hours
    (60, 4800, 60, 0, "season", "suspend"),         # seasonal works go to the problem bank
    (60, 4800, 60, 0, "funds", "suspend"),
])
def test_wait_request_table(wait: float, left: float, work: float, used: int,
                            waits_for: str, answer: str) -> None:
    assert wait_request(wait, left, work, used, dept(), waits_for) == answer


def test_wait_request_follows_the_department_limits() -> None:
    strict = dept(max_extensions=0, suspend_wait_hours=40)
    assert wait_request(600, 480, 60, 0, strict) == "wait"
    assert wait_request(2500, 48000, 60, 0, strict) == "suspend"


# -- drawing a case's stages ----------------------------------------------------------------

STAGES = (
    Stage(name="make safe", work="crew", hours=Dist(dist="deterministic", mean=0.5),
          limit={"value": 4, "unit": "h"}),
    Stage(name="parts", work="wait", waits_for="materials", unit="wh", chance=0.6,
          hours=Dist(dist="exponential", mean=16)),
    Stage(name="repair", work="crew", department="municipal",
          hours=Dist(dist="deterministic", mean=2)),
)


def table(seed: int = 1) -> StageTable:
    rng = np.random.default_rng(seed)
    return StageTable(STAGES, [make_sampler(s.hours, rng, 60.0) for s in STAGES], Uniforms(rng))


def test_stages_are_drawn_in_order_with_their_chance() -> None:
    t = table()
    plans = [t.draw() for _ in range(4000)]
    names = Counter(tuple(s.name for s in p) for p in plans)
    assert set(names) == {("make safe", "parts", "repair"), ("make safe", "repair")}
    assert names[("make safe", "parts", "repair")] / 4000 == pytest.approx(0.6, abs=0.03)
    first = plans[0]
    assert first[0].minutes == 30 and first[0].milestone == (4, "h") and not first[0].wait
    assert first[-1].department == "municipal" and first[-1].minutes == 120
    waits = [s for p in plans for s in p if s.wait]
    assert all(s.working and s.waits_for == "materials" for s in waits)
    assert np.mean([s.minutes for s in waits]) == pytest.approx(960, rel=0.08)


def test_expected_plan_counts_travel_per_visit() -> None:
    t = table()
    assert t.crew_minutes == 150 and t.wait_minutes == pytest.approx(0.6 * 960)
    assert t.expected(15.0) == pytest.approx(150 + 576 + 2 * 15)


def test_draw_stages_skips_nothing_that_always_happens() -> None:
    steps = draw_stages(STAGES, [lambda: 1.0] * 3, lambda: 0.99)
    assert [s.name for s in steps] == ["make safe", "repair"]
    with pytest.raises(ValueError):
        StageTable(STAGES, [lambda: 1.0], lambda: 0.5)
