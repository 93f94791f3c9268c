"""Levers a planner can trust (issue 11, docs/levers.md): each lever moves what happens the
way it would in a city, and by more than noise. Small runs (typical-city 7 days, dongcheng
5) on paired seeds: the two sides of each comparison see the same problems and draws (common
random numbers), so a direction that holds on every pair is the lever's, not the luck's. The full
curves with their intervals are `gridloop sweep` commands in docs/levers.md."""

from __future__ import annotations

from functools import cache
from typing import Any

from sim.data.scenario import load_scenario
from sim.run import RunResult, simulate

SEEDS = (1, 2)
DAYS = 7
DONGCHENG_DAYS = 5


@cache
def run(*overrides: str, seed: int) -> RunResult:
    return simulate(load_scenario("typical-city", overrides, days=DAYS, seed=seed))


def kpi(overrides: tuple[str, ...], seed: int) -> dict[str, Any]:
    return run(*overrides, seed=seed).summary()


def department_hours(overrides: tuple[str, ...], seed: int, name: str) -> float:
    """Mean hours from report to close of the cases a department handled last."""
    return hours_of(run(*overrides, seed=seed), name)


def hours_of(r: RunResult, name: str) -> float:
    """Mean hours from report to close of the cases department ``name`` handled last."""
    c = r.cases
    c = c[(c["state"] == "closed") & ~c["suspended"].astype(bool)
          & (c["final_department"] == r.departments.index(name))]
    return float(((c["t_close"] - c["t_report"]) / 60.0).mean())


def test_a_halved_limit_shortens_time_to_close_and_a_doubled_one_lengthens_it() -> None:
    """Departments plan against the deadline: the limit changes the work, not only the
    yardstick."""
    for seed in SEEDS:
        base = kpi((), seed)["hours_to_close"]["mean"]
        half = kpi(("handbook.time_limit_scale=0.5",), seed)["hours_to_close"]["mean"]
        double = kpi(("handbook.time_limit_scale=2",), seed)["hours_to_close"]["mean"]
        assert half < 0.85 * base < 0.85 * double, (seed, half, base, double)


def test_doubled_crews_shorten_that_departments_time_to_close() -> None:
    """From a stretched sanitation department (9 crews, half the calibrated 18) doubling its
    crews shortens its cases' time to close. (Above what the load needs, more crews change
    little in typical-city: its departments start late by choice; docs/levers.md.)"""
    for seed in SEEDS:
        few = department_hours(("departments.sanitation.crews=9",), seed, "sanitation")
        more = department_hours(("departments.sanitation.crews=18",), seed, "sanitation")
        assert more < 0.85 * few, (seed, more, few)


@cache
def dongcheng(*overrides: str, seed: int) -> RunResult:
    return simulate(load_scenario("dongcheng", overrides, days=DONGCHENG_DAYS, seed=seed))


def test_dongchengs_crews_answer_both_ways() -> None:
    """The default city at its calibrated staffing (crews two thirds busy, sized from the
    workload): doubling sanitation's crews shortens its cases' time to close (nearer crews,
    square-root law) and halving lengthens it (queues; overtime and borrowing hold it). Issue
    11 found doubling gave a byte-identical run."""
    for seed in SEEDS:
        base, half, double = (dongcheng(*o, seed=seed) for o in (
            (), ("departments.sanitation.crews=21",), ("departments.sanitation.crews=84",)))
        assert double.events.tobytes() != base.events.tobytes()
        hours = [hours_of(r, "sanitation") for r in (double, base, half)]
        assert hours[0] < hours[1] < 1.1 * hours[1] < hours[2], (seed, hours)
        assert half.summary()["stretch"]["overtime_crew_hours"] > \
            base.summary()["stretch"]["overtime_crew_hours"]


def test_halved_crews_stretch_before_on_time_handling_collapses() -> None:
    """Half the sanitation crews: the department works overtime (and borrows), its cases
    take longer, and on-time handling falls, but by far less than the knife edge issue 11
    found (99.7% -> 43% for 10% fewer crews): a stretched regime."""
    for seed in SEEDS:
        base = kpi((), seed)
        half = kpi(("departments.sanitation.crews=9",), seed)
        assert half["stretch"]["overtime_crew_hours"] > base["stretch"]["overtime_crew_hours"]
        assert department_hours(("departments.sanitation.crews=9",), seed, "sanitation") > \
            1.3 * department_hours((), seed, "sanitation")
        assert 0.7 * base["on_time_handling_rate"] < half["on_time_handling_rate"] < \
            base["on_time_handling_rate"]


def test_fewer_inspectors_find_a_smaller_share() -> None:
    for seed in SEEDS:
        base = kpi((), seed)["share_found_by_inspectors"]
        fewer = kpi(("inspectors.count=60",), seed)["share_found_by_inspectors"]
        assert fewer < base - 0.03, (seed, fewer, base)


def test_more_call_takers_shorten_waits() -> None:
    for seed in SEEDS:
        base = kpi((), seed)["hotline"]["mean_wait_seconds"]
        more = kpi(("hotline.call_takers=9",), seed)["hotline"]["mean_wait_seconds"]
        assert more < 0.7 * base, (seed, more, base)


def test_timeliness_weighted_rules_make_departments_start_sooner() -> None:
    """Dongcheng with behaviour on (3 days): a rule set that weighs on-time handling more
    (points-deduction, 0.6 against the standard 0.3) leaves departments less slack to use:
    shorter times to close; one with no weight on it (subdistrict) lets them use all their
    slack, as if nobody ranked them."""
    def hours(rules: str, seed: int) -> float:
        sc = load_scenario("dongcheng", ("evaluation.behaviour.enabled=true",
                                         f"evaluation.rules={rules}"), days=3, seed=seed)
        return float(simulate(sc).summary()["hours_to_close"]["mean"])

    for seed in SEEDS:
        strict, std, lax = (hours(r, seed) for r in ("points-deduction", "standard",
                                                     "subdistrict"))
        assert strict < 0.95 * std and 2 * std < lax, (seed, strict, std, lax)
