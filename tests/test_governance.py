"""Governance models (docs/domain.md §1, §8): each engine switch does what it says, keeps the event
log legal, and the complaint-driven city against the 2004 grid reproduces the direction and rough
size of Dongcheng's change.

Feature tests run small-town (a few hundred cases a week) in strict mode, where every case
transition is checked against the state machine as it happens. The comparison runs the
default city for 30 days, the two presets on the same seed (common random numbers).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.data.governance import subclasses_named
from sim.data.scenario import load_scenario
from sim.engine.decisions import DecisionPoints, PatrolView
from sim.engine.eventlog import ActorKind, Channel, Step, is_legal_sequence
from sim.engine.problems import Fate
from sim.evaluation.units import department_counts
from sim.model import CityModel
from sim.rules import UnitRoster, evaluate_rules, load_rules
from sim.run import RunResult, simulate


def run(*overrides: str, days: int = 14, name: str = "small-town", seed: int = 7
        ) -> RunResult:
    return simulate(load_scenario(name, list(overrides), days=days, seed=seed), strict=True)


def steps_by_case(events: np.ndarray) -> dict[int, list[int]]:
    df = pd.DataFrame({"case": events["case"], "step": events["step"]})
    return {int(c): g.tolist() for c, g in df.groupby("case", sort=False)["step"]}


def count(events: np.ndarray, step: Step) -> int:
    return int((events["step"] == step).sum())


# ---------------------------------------------------------------- Dongcheng before and after 2004


@pytest.fixture(scope="module")
def before_after() -> tuple[dict[str, Any], dict[str, Any]]:
    """``complaint-driven`` and ``grid-2004`` on the default city, 30 days, one seed. (The
    same comparison from the command line: docs/governance.md.)"""
    out = []
    for name in ("governance/complaint-driven", "governance/grid-2004"):
        out.append(simulate(load_scenario(name, days=30, seed=2004)).summary())
    return out[0], out[1]


def test_grid_2004_closes_in_hours_where_complaints_took_about_a_week(
        before_after: tuple[dict[str, Any], dict[str, Any]]) -> None:
    before, after = before_after
    assert 72 <= before["hours_to_close"]["mean"] <= 336, "days, about a week"
    assert after["hours_to_close"]["mean"] <= 30, "hours, not days"
    assert before["hours_to_close"]["mean"] >= 10 * after["hours_to_close"]["mean"]


def test_grid_2004_inspectors_find_most_problems_and_close_most_cases(
        before_after: tuple[dict[str, Any], dict[str, Any]]) -> None:
    before, after = before_after
    assert 0.85 <= after["share_found_by_inspectors"] <= 0.96
    assert after["closure_rate"] >= 0.90
    assert before["share_found_by_inspectors"] == 0.0  # nobody patrols: complaints only
    assert before["closure_rate"] < after["closure_rate"]


def test_complaints_reach_a_small_share_of_problems(
        before_after: tuple[dict[str, Any], dict[str, Any]]) -> None:
    before, after = before_after
    assert before["discovery_rate"] <= 0.5 < 0.85 <= after["discovery_rate"]
    assert before["problems_open_at_end"] > 10 * after["problems_open_at_end"]


# ---------------------------------------------------------------- no inspectors, no checks


def test_no_inspectors_means_public_reports_only() -> None:
    r = run("inspectors.count=0")
    ev = r.events
    assert len(ev) > 500
    assert not np.isin(ev["actor_kind"], [ActorKind.INSPECTOR]).any()
    for step in (Step.SELF_HANDLE, Step.VERIFY_SEND, Step.VERIFY, Step.CHECK_SEND, Step.CHECK):
        assert count(ev, step) == 0, step.name
    reports = ev[ev["step"] == Step.REPORT]
    assert (reports["outcome"] == Channel.PUBLIC).all()
    assert count(ev, Step.CLOSE) > 100
    assert all(is_legal_sequence(s) for s in steps_by_case(ev).values())


def test_without_independent_checks_the_department_closes_its_own_cases() -> None:
    on = run()
    off = run("centre.independent_checks=false", "departments.sanitation.quality=0.6")
    assert count(on.events, Step.CHECK) > 0 and count(on.events, Step.REWORK) > 0
    ev = off.events
    for step in (Step.CHECK_SEND, Step.CHECK, Step.REWORK):
        assert count(ev, step) == 0, step.name
    assert count(ev, Step.VERIFY) > 0  # inspectors still verify public reports
    seqs = steps_by_case(ev)
    closed = [s for s in seqs.values() if s[-1] == Step.CLOSE]
    assert len(closed) > 100 and all(s[-2] == Step.HANDLE for s in closed)
    assert all(is_legal_sequence(s) for s in seqs.values())
    # closed on the department's word: some problems are still there (closed, not solved)
    handled = ev[(ev["step"] == Step.HANDLE) & (ev["outcome"] == 6)]  # NOT_FIXED
    assert len(handled) > 0
    assert set(handled["case"].tolist()) <= set(ev["case"][ev["step"] == Step.CLOSE].tolist()) \
        | set(ev["case"][ev["time"] > ev["time"].max() - 600].tolist())


def test_evaluation_off_means_no_tables_and_no_pressure() -> None:
    pushed = ["evaluation.rules=points-deduction", "evaluation.behaviour.enabled=true"]
    plain = run(days=7).events.tobytes()
    assert run(*pushed, days=7).events.tobytes() != plain  # pressure moves behaviour
    off = run(*pushed, "evaluation.enabled=false", days=7)
    assert off.evaluation() == {}
    assert off.events.tobytes() == plain  # nobody evaluated: no pressure, as calibrated
    assert run(days=7).evaluation()["departments"].shape[0] > 0


def test_in_tray_delays_work_by_about_its_mean() -> None:
    def dispatch_to_start(r: RunResult) -> float:
        ev = pd.DataFrame(r.events)
        first = ev.groupby(["case", "step"])["time"].min().unstack()
        d = (first[Step.HANDLE_START] - first[Step.DISPATCH]).dropna()
        return float(d.mean()) / 60.0

    base = run(days=21)
    tray = run(*(f"departments.{d}.intake_hours={{dist: deterministic, mean: 24}}"
                 for d in base.scenario.departments), days=21)
    assert 20 <= dispatch_to_start(tray) - dispatch_to_start(base) <= 28


# ---------------------------------------------------------------- loops


def test_subdistrict_loop_routes_its_subclasses_to_the_subdistrict_teams() -> None:
    handles = ["E05-01", "E02"]
    r = run("loops.subdistrict_handles=[E05-01, E02]", "departments.subdistrict.crews=3")
    idx = set(subclasses_named(r.handbook, tuple(handles)))
    assert {r.handbook.subclasses[i].code for i in idx} >= {"E05-01", "E02-01", "E02-04"}
    unit = r.departments.index("subdistrict")
    ev = r.events
    right = ev[(ev["step"] == Step.DISPATCH) & (ev["outcome"] != 11)]  # not mis-dispatched
    in_loop = np.isin(right["subclass"], list(idx))
    assert in_loop.sum() > 20
    assert (right["department"][in_loop] == unit).all()
    others = right[~in_loop]
    handbook_dept = np.array([r.departments.index(s.department) for s in r.handbook.subclasses])
    assert (others["department"] == handbook_dept[others["subclass"]]).all()
    assert all(is_legal_sequence(s) for s in steps_by_case(ev).values())


def test_community_loop_fixes_more_on_the_spot() -> None:
    base, more = run(), run("loops.on_spot_scale=2.5")
    s0, s1 = count(base.events, Step.SELF_HANDLE), count(more.events, Step.SELF_HANDLE)
    assert s1 > 1.6 * s0 > 0
    fixed = (more.problems["fate"] == Fate.FIXED_ON_SPOT).sum()
    assert fixed == s1


# ---------------------------------------------------------------- whistle-and-report


def summons_table(r: RunResult) -> pd.DataFrame:
    """One row per SUMMON with the next HANDLE_START of the case (when the department came)."""
    ev = pd.DataFrame(r.events)
    ev["row"] = np.arange(len(ev))
    s = ev[ev["step"] == Step.SUMMON]
    h = ev[ev["step"] == Step.HANDLE_START]
    m = s.merge(h[["case", "time", "row"]], on="case", suffixes=("", "_start"))
    m = m[m["row_start"] > m["row"]].sort_values("row_start").groupby("row").first()
    return m


def test_whistle_summons_arrive_within_30_minutes() -> None:
    r = run("whistle.enabled=true", "whistle.subclasses=[E05-02, E01-05]", days=21)
    ev = r.events
    joint = set(subclasses_named(r.handbook, ("E05-02", "E01-05")))
    m = summons_table(r)
    assert len(m) > 20 and len(m) == count(ev, Step.SUMMON) == r.summary()["summons"]
    assert ((m["time_start"] - m["time"]) <= 30.0 + 1e-9).all()  # float sums of 30 min
    assert np.allclose(m["deadline"] - m["time"], 30.0)
    # the subdistrict of the case's grid blows the whistle on the responsible department
    assert (m["actor_kind"] == ActorKind.SUBDISTRICT).all()
    assert (m["actor"] == r.city.subdistrict[m["grid"]]).all()
    handbook_dept = np.array([r.departments.index(s.department) for s in r.handbook.subclasses])
    true_sub = r.problems["subclass"][m["problem"].to_numpy()]
    assert (m["department"] == handbook_dept[true_sub]).all()
    # every dispatched case of a joint subclass is summoned (none waits in a crew queue)
    true_of_case = dict(zip(ev["case"].tolist(),
                            [-1 if p < 0 else int(r.problems["subclass"][p])
                             for p in ev["problem"].tolist()], strict=False))
    dispatched = set(ev["case"][ev["step"] == Step.DISPATCH].tolist())
    joint_cases = {c for c in dispatched if true_of_case[c] in joint}
    assert joint_cases and joint_cases <= set(m["case"].tolist())
    assert all(is_legal_sequence(s) for s in steps_by_case(ev).values())


def test_whistle_counts_in_the_department_evaluation(tmp_path: Path) -> None:
    r = run("whistle.enabled=true", "whistle.subclasses=[E05]")
    ev = r.events
    counts = department_counts(ev, len(r.departments), r.scenario.days * 1440.0)
    rows = ev[ev["step"] == Step.SUMMON]
    assert counts["summons"].sum() == len(rows) > 0
    assert (counts["summons"] == np.bincount(rows["department"],
                                            minlength=len(r.departments))).all()
    # and a rule set can score it (the `summons` count of the rules vocabulary)
    path = tmp_path / "whistle-rules.yaml"
    path.write_text("name: whistle\nperiod: all\nunits:\n  departments:\n    indicators:\n"
                    "      - {name: summons_rate, formula: 'ratio(summons, filed, 0)',\n"
                    "         weight: 1.0, higher_is_better: false}\n", encoding="utf-8")
    sc = r.scenario
    roster = UnitRoster.from_city(r.city, r.departments, grid_to_beat=r.grid_beat,
                                  n_beats=r.n_beats, n_acceptors=sc.centre.acceptors,
                                  n_shift_leaders=sc.centre.shift_leaders,
                                  n_dispatchers=sc.centre.dispatchers)
    table = evaluate_rules(load_rules(path), ev, roster,
                           horizon=sc.days * 1440.0)["departments"]
    assert table["summons"].sum() == len(rows)
    assert table["summons_rate"].max() > 0


def test_whistle_summons_long_overdue_and_ping_ponged_cases() -> None:
    # too few crews: cases wait past their deadlines; the whistle brings the department
    r = run("whistle.enabled=true", "whistle.overdue_hours=4", "whistle.returns=0",
            "departments.sanitation.crews=1", "centre.dispatch_error=0.3", days=10)
    ev = r.events
    m = summons_table(r)
    assert len(m) > 10
    prior = pd.DataFrame(ev).groupby("case")
    late = m[m["step"] == Step.SUMMON]
    # a summons for lateness comes at least overdue_hours after the deadline in force
    dl = pd.DataFrame(ev)
    dl = dl[dl["step"].isin([Step.DISPATCH, Step.EXTEND, Step.REWORK])]
    for row in late.itertuples():
        before = dl[(dl["case"] == row.case) & (dl["time"] <= row.time)]
        deadline = before["deadline"].iloc[-1]
        returned = (prior.get_group(row.case)["step"] == Step.RETURN).any()
        assert returned or row.time >= deadline + 240.0 - 1e-6
        assert row.time_start - row.time <= 30.0 + 1e-9
    assert all(is_legal_sequence(s) for s in steps_by_case(ev).values())


def test_whistle_with_own_crews_delays_the_departments_queue() -> None:
    """``whistle.crews: own``: a summons takes the department's next free crew ahead of its
    queue and holds it for the work, so the cases waiting for enforcement's two crews wait
    longer than when the summoned work is done by people outside the crews (``extra``)."""
    def waits(crews: str) -> tuple[float, list[int]]:
        r = run("whistle.enabled=true", "whistle.subclasses=[E01-05, E03-01, E03-02, E05-06]",
                "whistle.overdue_hours=null", "departments.enforcement.crews=2",
                f"whistle.crews={crews}", days=10)
        ev = pd.DataFrame(r.events)
        enf = r.departments.index("enforcement")
        summoned = set(ev["case"][ev["step"] == Step.SUMMON])
        start = ev[ev["step"] == Step.HANDLE_START].groupby("case").first()
        sent = ev[(ev["step"] == Step.DISPATCH) & (ev["department"] == enf)
                  & ~ev["case"].isin(summoned)].groupby("case")["time"].first()
        sent = sent[sent.index.isin(start.index)]
        queued = (start.loc[sent.index, "time"] - sent).mean()
        crews = sorted(set(start.loc[list(summoned & set(start.index)), "actor"]))
        return float(queued), crews

    extra_wait, extra_crews = waits("extra")
    own_wait, own_crews = waits("own")
    assert extra_crews == [-1]            # people outside the crews
    assert own_crews and set(own_crews) <= {0, 1}  # enforcement's own two crews
    assert own_wait > 1.2 * extra_wait, (own_wait, extra_wait)


def served_in_order(rule: str) -> list[tuple[str, float]]:
    """One crew busy for 10 minutes, two cases queued, then a summons: who gets the crew
    when (each holds it 10 minutes)."""
    from sim.engine.clock import Clock, start
    from sim.engine.pools import StaffPool

    env = Clock()
    pool = StaffPool(env, "crews", 1, rule=rule)  # type: ignore[arg-type]
    got: list[tuple[str, float]] = []

    class Case:
        life = None

        def __init__(self, name: str) -> None:
            self.name = name

    def life(c: Case, summoned: bool):  # noqa: ANN202
        crew = yield (pool.seize_first(c) if summoned else pool.seize(c, 0.0))
        got.append((c.name, env.now))
        yield env.after(c, 10.0)
        pool.release(crew)

    for name, summoned in (("busy", False), ("queued-1", False), ("queued-2", False),
                           ("summons", True)):
        c = Case(name)
        start(c, life(c, summoned))
    env.run(until=100.0)
    return got


@pytest.mark.parametrize("rule", ["fifo", "deadline"])
def test_a_summons_seizes_the_next_free_crew_ahead_of_the_queue(rule: str) -> None:
    assert served_in_order(rule) == [("busy", 0.0), ("summons", 10.0), ("queued-1", 20.0),
                                     ("queued-2", 30.0)]


def test_whistle_off_writes_no_summons() -> None:
    r = run()
    assert count(r.events, Step.SUMMON) == 0 and "summons" not in r.summary()


# ---------------------------------------------------------------- proactive patrols


def test_patrol_route_walks_hot_grids_twice_only_when_weighted() -> None:
    d = DecisionPoints()
    rows, cols = np.repeat(np.arange(4), 4), np.tile(np.arange(4), 4)
    grids = np.arange(16)

    def route_of(weights: np.ndarray | None, share: float) -> np.ndarray:
        return d.patrol_route(PatrolView(0, grids, rows, cols, weights, share))

    plain = route_of(None, 0.0)
    assert sorted(plain.tolist()) == grids.tolist()
    assert (route_of(np.zeros(16), 0.5) == plain).all()
    w = np.zeros(16)
    w[[3, 9, 12]] = [5.0, 1.0, 2.0]
    route = route_of(w, 0.5)
    assert (route[:16] == plain).all()
    assert sorted(route[16:].tolist()) == [3, 9, 12]  # hot grids only, each once more
    route = route_of(w, 0.1)  # ceil(1.6) = 2 grids
    assert sorted(route[16:].tolist()) == [3, 12]


def test_proactive_patrols_walk_complained_about_grids_more() -> None:
    model = CityModel(load_scenario("small-town", ["proactive.enabled=true",
                                                   "proactive.lag_days=1",
                                                   "proactive.hot_share=0.1"], days=10, seed=7),
                      strict=True)
    model.run()
    pro, corps = model.proactive, model.inspectors
    assert pro is not None and corps._visits is not None
    weights = pro.grid_weights(model.horizon - 1.0)
    assert weights.sum() > 0
    hot = weights > 0
    assert (corps._visits[hot] >= 1).all() and (corps._visits[corps.grid_beat >= 0] >= 1).all()
    walked_twice = corps._visits == 2
    assert walked_twice.any()
    assert (weights[walked_twice] > 0).all()  # extra effort only where residents complained
    left = hot & ~walked_twice  # complained about, walked once (10% of a beat walk twice)
    assert left.any() and weights[walked_twice].mean() > weights[left].mean()
    assert pro.themes and all(model.discovery.detect_arr[s] >= pro.base_detect[s]
                              for s in pro.themes)
    # every way a problem is watched sees the themes: batches read the array, recurrences
    # and single watches the list
    assert model.discovery.detect_p == model.discovery.detect_arr.tolist()
    assert any(model.discovery.detect_p[s] > pro.base_detect[s] for s in pro.themes)


def test_proactive_finds_problems_in_hot_grids_sooner() -> None:
    """Same seeds, same problems: in the grids residents complained about most, patrols of the
    proactive city notice problems sooner than the plain grid city's (problems appearing in
    patrol hours, after the first week's complaints have reached the patrols; two seeds
    pooled, since one seed's median moves by ~10%). The effort comes from somewhere: the
    beats that walk hot grids twice take longer to go round, so their other grids are
    visited less often."""
    days = 21
    found: dict[str, list[np.ndarray]] = {"pro": [], "base": []}
    for seed in (1, 2):
        base_m = CityModel(load_scenario("small-town", days=days, seed=seed)).run()
        pro_m = CityModel(load_scenario("small-town", ["proactive.enabled=true"], days=days,
                                        seed=seed)).run()
        ev = base_m.events()
        public = ev[(ev["step"] == Step.REPORT) & (ev["outcome"] == Channel.PUBLIC)]
        counts = np.bincount(public["grid"], minlength=base_m.city.n_grids)
        hot = counts >= max(np.quantile(counts, 0.9), 2)
        for key, m in (("pro", pro_m), ("base", base_m)):
            p = m.problems()
            hour = (p["created"] % 1440) / 60.0
            mine = hot[p["grid"]] & (p["created"] > 5 * 1440) & (hour > 8) & (hour < 20) \
                & (p["found_by"] == Channel.INSPECTOR)
            assert mine.sum() > 100
            found[key].append((p["found"][mine] - p["created"][mine]) / 60.0)
        twice = np.array([bool(np.any(pro_m.inspectors._visits[b.grids] > 1))  # type: ignore[index]
                          for b in pro_m.inspectors.beats])
        assert twice.any()
        assert pro_m.inspectors._cycle_arr[twice].mean() > \
            1.1 * base_m.inspectors._cycle_arr[twice].mean()
    hours = {k: float(np.median(np.concatenate(v))) for k, v in found.items()}
    assert hours["pro"] < 0.85 * hours["base"], hours
