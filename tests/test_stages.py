"""Departments work in stages from the handbook (issue 11 points 1-4): visits and waits no crew
controls, extensions and suspensions that follow from the waits, deadlines planned against,
and capacity that stretches. Small runs of the small town and typical-city."""

from __future__ import annotations

import numpy as np
import pytest

from sim.data.scenario import load_scenario
from sim.engine.eventlog import Step
from sim.model import CityModel
from sim.run import simulate


@pytest.fixture(scope="module")
def town() -> CityModel:
    return CityModel(load_scenario("small-town", days=14, seed=3), strict=True).run()


def test_extensions_and_suspensions_come_from_waits(town: CityModel) -> None:
    """The bundled small town, like the calibrated cities, has no fixed rates: a case is
    extended or suspended only if its subclass has a wait no crew controls; and waits for
    the season are always suspended."""
    assert all(d.extension_rate == 0 == d.suspension_rate
               for d in town.spec.departments.values())
    ev = town.events()
    subs = town.handbook.subclasses
    waits = {i for i, s in enumerate(subs) if any(st.is_wait for st in s.plan)}
    touched = ev[np.isin(ev["step"], (Step.EXTEND, Step.SUSPEND))]
    assert len(touched) > 0
    true_subclass = town.problems()["subclass"][touched["problem"]]  # not as classified
    assert set(np.unique(true_subclass).tolist()) <= waits
    season = {i for i, s in enumerate(subs) if any(st.waits_for == "season" for st in s.plan)}
    assert season  # the handbook has one (replanting)


def test_waits_hold_no_crew(town: CityModel) -> None:
    """Crews are busy for less time than staged cases spend between the first crew's start
    and the feedback: the waits in between hold no crew."""
    ev = town.events()
    order = np.lexsort((ev["time"], ev["case"]))
    ev = ev[order]
    start = {int(c): t for c, t, s in zip(ev["case"], ev["time"], ev["step"], strict=True)
             if s == Step.HANDLE_START}
    span = sum(t - start[int(c)] for c, t, s in zip(ev["case"], ev["time"], ev["step"],
                                                    strict=True)
               if s == Step.HANDLE and int(c) in start)
    busy = sum(d.crews.stats.area_busy for d in town.departments)
    assert busy < 0.8 * span


def _handled_at_clock(m: CityModel, name: str) -> np.ndarray:
    """Clock minutes of the day at which the crews of department ``name`` reported their
    work done (HANDLE rows by a crew)."""
    ev = m.events()
    d = m.department_names.index(name)
    done = ev[(ev["step"] == Step.HANDLE) & (ev["actor"] >= 0) & (ev["department"] == d)]
    return done["time"] % 1440.0


def test_crews_stop_at_the_end_of_duty_and_resume_next_morning(town: CityModel) -> None:
    """The town's departments allow no overtime: a visit that would run past the end of
    duty stops there and is finished in the next duty period, so no crew reports work done
    outside its duty hours (before, visits ran on into the night)."""
    for name in ("sanitation", "enforcement", "subdistrict", "traffic", "greening"):
        opens, closes = (int(h[:2]) * 60 + int(h[3:]) for h in town.spec.departments[name].hours)
        clock = _handled_at_clock(town, name)
        assert len(clock) > 20, name
        assert ((clock >= opens) & (clock <= closes)).all(), name


def test_crews_finish_a_visit_as_overtime_within_the_limit() -> None:
    """With an hour of overtime allowed (and a backlog threshold never reached, so the
    window itself is never kept open), crews finish visits up to an hour past the close,
    never later, and the run counts that overtime."""
    over = ("departments.sanitation.overtime.max_hours=1",
            "departments.sanitation.overtime.backlog_hours=1000", "problems.rate_scale=2")
    m = CityModel(load_scenario("small-town", over, days=7, seed=3)).run()
    clock = _handled_at_clock(m, "sanitation")
    close = 22 * 60
    assert (clock <= close + 60.0).all()
    assert ((clock > close) & (clock <= close + 60.0)).sum() >= 3
    assert m.stretching.totals()["overtime_crew_hours"] > 0


def test_travel_follows_the_square_root_of_the_crews() -> None:
    """dongcheng's travel times hold for its crews (``travel_crews``): doubled crews are
    nearer the site by 1/sqrt(2), and the department plans with that travel; a scenario
    that does not say (small-town) keeps its travel whatever the crews."""
    import math

    base = CityModel(load_scenario("dongcheng", days=1))
    double = CityModel(load_scenario("dongcheng", ("departments.sanitation.crews=84",),
                                     days=1))
    assert base.departments[0].name == "sanitation"
    assert base.departments[0].travel_scale == 1.0
    assert double.departments[0].travel_scale == pytest.approx(math.sqrt(0.5))
    travel = base.spec.departments["sanitation"].travel_minutes.expected()
    one_visit = [i for i, s in enumerate(base.handbook.subclasses) if len(s.plan) == 1][0]
    assert base.departments[0].stages.needed[one_visit] - \
        double.departments[0].stages.needed[one_visit] == pytest.approx(
            travel * (1 - math.sqrt(0.5)))
    town = CityModel(load_scenario("small-town", ("departments.sanitation.crews=8",), days=1))
    assert town.departments[0].travel_scale == 1.0


def test_components_take_longer_than_events() -> None:
    """Components wait for parts, contractors and owners: they close later than events."""
    r = simulate(load_scenario("typical-city", days=10, seed=5))
    c = r.cases
    closed = c[(c["state"] == "closed") & ~c["suspended"].astype(bool)]
    hours = (closed["t_close"] - closed["t_report"]) / 60.0
    component = np.array([s.kind == "component" for s in r.handbook.subclasses])
    is_comp = component[closed["subclass"].to_numpy()]
    assert hours[is_comp].mean() > 1.5 * hours[~is_comp].mean()


def test_last_stage_limit_is_the_cases_limit() -> None:
    """A cover: make safe within the row's 4 h, set the cover within its stage's working day
    (the case's limit); the row goes to the crews as urgent."""
    m = CityModel(load_scenario("small-town", days=1))
    i = m.handbook.index("C01-01")
    assert m.handbook.subclasses[i].time_limit.unit == "h"
    assert (m.sub_limit[i].value, m.sub_limit[i].unit) == (1.0, "wd")
    assert m.departments[0].urgent[i] or m.handbook.subclasses[i].urgency == "urgent"


def test_stakes_set_how_much_slack_departments_use() -> None:
    """The same departments under higher evaluation stakes let less slack pass."""
    low = CityModel(load_scenario("typical-city", ("evaluation.stakes=0.1",), days=1))
    high = CityModel(load_scenario("typical-city", ("evaluation.stakes=1",), days=1))
    assert 0 < high.planning_pressure and high.planning_pressure > low.planning_pressure
    assert high.departments[0].slack < low.departments[0].slack
    off = CityModel(load_scenario("typical-city", ("evaluation.enabled=false",), days=1))
    assert off.planning_pressure == 0.0 and off.departments[0].slack == 0.68


def test_a_stage_by_another_department_takes_its_crews(tmp_path) -> None:  # noqa: ANN001
    """Covers set by municipal works' crews (a crew stage with ``department``): municipal's
    crews get more jobs, water's fewer, and the cases still close."""
    import shutil

    from sim.data.scenario import SCENARIO_DIR

    shutil.copytree(SCENARIO_DIR / "handbook", tmp_path / "handbook")
    hb = tmp_path / "handbook" / "standard.yaml"
    text = hb.read_text(encoding="utf-8")
    old = "      - {name: set cover, work: crew, hours: {dist: lognormal, mean: 0.6, cv: 0.5}, "
    assert text.count(old) >= 2
    hb.write_text(text.replace(old, old[:-2] + ", department: municipal, ", 2),
                  encoding="utf-8")
    (tmp_path / "town.yaml").write_text(
        (SCENARIO_DIR / "small-town.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    shutil.copytree(SCENARIO_DIR / "cities", tmp_path / "cities")
    over = ("problems.rate_scale=3",)
    base = CityModel(load_scenario("small-town", over, days=10, seed=4)).run()
    moved = CityModel(load_scenario(tmp_path / "town.yaml", over, days=10, seed=4),
                      strict=True).run()
    arrivals = {m: {d.name: d.crews.stats.arrivals for d in m.departments}
                for m in (base, moved)}
    assert arrivals[moved]["municipal"] > arrivals[base]["municipal"]
    assert arrivals[moved]["water"] < arrivals[base]["water"]
    assert moved.cases.count > 0
