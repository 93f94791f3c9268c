"""Inspectors' time is finite (issue 11 point 6): verify and check tasks, reports and
on-the-spot fixes take the beat's inspector off the patrol, so the beat's next round is
slower; fewer inspectors find less and verify later.

small-town, 10 days, seed 7: the same problems in every run (their arrivals do not depend on
the inspectors), so the runs are paired.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.data.scenario import load_scenario
from sim.engine.eventlog import Channel, Step
from sim.run import RunResult, simulate

REPORTS = ("inspectors.report_minutes={dist: lognormal, mean: 20, cv: 0.5}",
           "inspectors.fix_minutes={dist: lognormal, mean: 20, cv: 0.5}")


def run(*sets: str) -> RunResult:
    return simulate(load_scenario("small-town", list(sets), days=10, seed=7))


def finds(res: RunResult) -> int:
    ev = res.events
    return int(((ev["step"] == Step.REPORT) & (ev["outcome"] == Channel.INSPECTOR)).sum()
               + (ev["step"] == Step.SELF_HANDLE).sum())


def verify_minutes(res: RunResult) -> float:
    """Mean minutes from sending an inspector to verify to the verification on site."""
    ev = res.events
    sent = ev[ev["step"] == Step.VERIFY_SEND]
    done = dict(zip(ev["case"][ev["step"] == Step.VERIFY].tolist(),
                    ev["time"][ev["step"] == Step.VERIFY].tolist(), strict=True))
    waits = [done[c] - t for c, t in zip(sent["case"].tolist(), sent["time"].tolist(),
                                         strict=True) if c in done]
    assert len(waits) >= 20
    return float(np.mean(waits))


@pytest.fixture(scope="module")
def runs() -> dict[str, RunResult]:
    return {"free": run("inspectors.count=10"),
            "reports": run("inspectors.count=10", *REPORTS),
            "long-tasks": run("inspectors.count=10",
                              "inspectors.task_minutes={dist: lognormal, mean: 60, cv: 0.5}"),
            "more": run("inspectors.count=20")}


def test_time_spent_reporting_and_fixing_is_taken_from_the_patrol(runs: dict[str, RunResult]
                                                                 ) -> None:
    free, busy = finds(runs["free"]), finds(runs["reports"])
    assert busy < 0.95 * free, (busy, free)
    share = [r.summary()["share_found_by_inspectors"] for r in (runs["free"], runs["reports"])]
    assert share[1] < share[0]


def test_longer_tasks_leave_less_time_to_patrol(runs: dict[str, RunResult]) -> None:
    assert finds(runs["long-tasks"]) < 0.9 * finds(runs["free"])
    assert verify_minutes(runs["long-tasks"]) > 2 * verify_minutes(runs["free"])


def test_fewer_inspectors_find_less_and_verify_later(runs: dict[str, RunResult]) -> None:
    more, fewer = runs["more"], runs["free"]
    assert finds(fewer) < 0.95 * finds(more)
    assert verify_minutes(fewer) > 1.2 * verify_minutes(more)


def test_a_beats_round_slows_by_its_share_of_time_off_patrol() -> None:
    from sim.model import CityModel

    model = CityModel(load_scenario("small-town", days=2, seed=7))
    corps = model.inspectors
    model.start()
    model.env.run(until=7 * 60 + 1)  # the first shift has started (07:00)
    base = corps._cycle_arr.copy()
    grid = int(corps.beats[3].grids[0])
    corps.off_patrol(grid, corps.shift_len / 4)  # a quarter of a shift on tasks
    corps._shift_start(15 * 60.0)
    # the round is redrawn each shift; only beat 3's is slowed, by 1 / (1 - 1/4)
    ratio = corps._cycle_arr / base
    others = np.delete(ratio, 3)
    assert ratio[3] == pytest.approx(np.median(others) * 4 / 3, rel=0.25)
    assert ratio[3] > others.max()
