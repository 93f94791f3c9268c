"""Wrong dispatches and misclassifications go where real ones go (`sim.engine.mistakes`)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.data.taxonomy import load_handbook
from sim.engine.decisions import builtin_dispatch
from sim.engine.mistakes import misclassify, mistakes_of, wrong_department

TINY = """\
name: tiny
classes:
  - {kind: component, code: "01", name: Public utilities}
  - {kind: event, code: "01", name: City appearance}
  - {kind: event, code: "02", name: Advertising}
subclasses:
  - {code: C01-01, name: Drain cover, department: water, filing_criterion: x,
     closing_criterion: x, time_limit: {value: 4, unit: h}, share: 1, detection: 0.5,
     citizen_rate: 0, handling_hours: {dist: exponential, mean: 1},
     dispatch_alternates: {municipal: 3, telecom: 1}}
  - {code: E01-01, name: Garbage, department: sanitation, filing_criterion: x,
     closing_criterion: x, time_limit: {value: 4, unit: wh}, share: 1, detection: 0.5,
     citizen_rate: 0, handling_hours: {dist: exponential, mean: 1}}
  - {code: E01-02, name: Dirty road, department: sanitation, filing_criterion: x,
     closing_criterion: x, time_limit: {value: 2, unit: wh}, share: 1, detection: 0.5,
     citizen_rate: 0, handling_hours: {dist: exponential, mean: 1}, look_alikes: [E01-01]}
  - {code: E01-03, name: Muck, department: sanitation, filing_criterion: x,
     closing_criterion: x, time_limit: {value: 2, unit: wd}, share: 1, detection: 0.5,
     citizen_rate: 0, handling_hours: {dist: exponential, mean: 1}}
  - {code: E02-01, name: Small ads, department: subdistrict, filing_criterion: x,
     closing_criterion: x, time_limit: {value: 1, unit: wd}, share: 1, detection: 0.5,
     citizen_rate: 0, handling_hours: {dist: exponential, mean: 1}}
"""
DEPTS = ["sanitation", "water", "municipal", "telecom", "subdistrict"]


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    path = Path(tmp_path_factory.mktemp("hb")) / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    return mistakes_of(load_handbook(path), DEPTS)


def test_wrong_dispatch_goes_to_the_plausible_departments_by_weight(tables) -> None:  # noqa: ANN001
    alt, cum = tables.alternates[0], tables.alternate_cum[0]
    assert alt == (2, 3) and cum == (3.0, 4.0)
    picks = Counter(wrong_department(1, alt, cum, len(DEPTS), v)
                    for v in np.random.default_rng(0).random(8000))
    assert set(picks) == {2, 3}
    assert picks[2] / 8000 == pytest.approx(0.75, abs=0.02)


def test_without_alternates_a_wrong_dispatch_is_any_other_department(tables) -> None:  # noqa: ANN001
    assert tables.alternates[1] == ()
    for v in np.linspace(0, 0.999, 50):
        got = wrong_department(0, (), (), len(DEPTS), float(v))
        # the same department the built-in dispatch rule picks on a mistake
        assert got == builtin_dispatch(0, len(DEPTS), -1, 1.0, 0.0, float(v)) and got != 0
    assert wrong_department(0, (), (), 1, 0.5) == 0


def test_misclassification_stays_in_the_class_or_goes_to_a_look_alike(tables) -> None:  # noqa: ANN001
    assert tables.confusable[2] == (1,)          # dirty road -> its look-alike, garbage
    assert set(tables.confusable[1]) == {2, 3}   # garbage -> the other city-appearance rows
    assert set(tables.confusable[4]) == {0, 1, 2, 3}  # alone in its class: any other
    assert set(tables.confusable[0]) == {1, 2, 3, 4}
    got = {misclassify(1, tables.confusable[1], u) for u in np.linspace(0, 0.999, 20)}
    assert got == {2, 3}
    assert misclassify(3, (), 0.5) == 3


@given(v=st.floats(0, 1, exclude_max=True), w=st.lists(st.floats(0.01, 10), min_size=1,
                                                        max_size=5))
def test_wrong_department_is_always_an_alternate(v: float, w: list[float]) -> None:
    alt = tuple(range(10, 10 + len(w)))
    cum = tuple(np.cumsum(w).tolist())
    assert wrong_department(0, alt, cum, 20, v) in alt


# -- in a run: the dispatcher's and the inspector's mistakes go where real ones go ---------

@pytest.fixture(scope="module")
def mistaken_run():  # noqa: ANN201
    """small-town with many mistakes: a third of dispatches and inspector reports."""
    from sim.data.scenario import load_scenario
    from sim.engine.mistakes import mistakes_of
    from sim.run import simulate

    sc = load_scenario("small-town", ["centre.dispatch_error=0.3",
                                      "inspectors.misclassification=0.3"], days=6)
    res = simulate(sc)
    routing = [res.departments.index(s.department) for s in res.handbook.subclasses]
    return res, mistakes_of(res.handbook, res.departments), routing


def test_wrong_dispatches_in_a_run_go_to_the_handbooks_alternates(mistaken_run) -> None:  # noqa: ANN001
    from sim.engine.eventlog import Step

    res, tables, routing = mistaken_run
    ev = res.events
    d = ev[ev["step"] == Step.DISPATCH]
    wrong = d[d["department"] != np.asarray(routing)[d["subclass"]]]
    assert len(wrong) >= 30, "the run must make enough mistakes to judge them"
    for dept, sub in zip(wrong["department"].tolist(), wrong["subclass"].tolist(),
                         strict=True):
        assert dept in tables.alternates[sub], (res.handbook.subclasses[sub].code,
                                                res.departments[dept])


def test_misclassified_reports_in_a_run_are_look_alikes_or_same_class(mistaken_run) -> None:  # noqa: ANN001
    from sim.engine.eventlog import Channel, Step

    res, tables, _ = mistaken_run
    ev = res.events
    rep = ev[(ev["step"] == Step.REPORT) & (ev["outcome"] == Channel.INSPECTOR)
             & (ev["problem"] >= 0)]
    true = res.problems["subclass"][rep["problem"]]
    mis = rep["subclass"] != true
    assert mis.sum() >= 30
    subs = res.handbook.subclasses
    for believed, t in zip(rep["subclass"][mis].tolist(), true[mis].tolist(), strict=True):
        assert believed in tables.confusable[t]
        assert believed != t
        assert subs[believed].code in subs[t].look_alikes or \
            subs[believed].code[:3] == subs[t].code[:3] or not subs[t].look_alikes
