"""Units react to what is measured: the rule set alone moves outcomes, in the expected
direction, on identical random streams (and not at all when the behaviour model is off)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.data.scenario import BehaviourSpec, load_scenario
from sim.data.taxonomy import load_handbook
from sim.engine.behaviour import Pressures, UnitWeights, pressures, react
from sim.engine.eventlog import Outcome, Step
from sim.model import CityModel, behaviour_under
from sim.rules import RULES_DIR

ON = "evaluation.behaviour.enabled=true"
_SUBS = load_handbook(load_scenario("small-town").resolve("handbook/standard.yaml")).subclasses
ONE_VISIT = np.array([len(s.plan) == 1 for s in _SUBS])
"""Subclasses worked in one visit: their HANDLE_START -> HANDLE is crew time alone (staged
work also waits for parts and owners, which no behaviour speeds up)."""


def run(rules: str, *extra: str, days: int = 10) -> np.ndarray:
    sc = load_scenario("small-town", (f"evaluation.rules={rules}", *extra), days=days, seed=11)
    return CityModel(sc).run().events()


def outcomes(ev: np.ndarray) -> dict[str, float]:
    step, t, case = ev["step"], ev["time"], ev["case"]
    began = step == Step.HANDLE_START
    start = dict(zip(case[began].tolist(), t[began].tolist(), strict=True))
    ends = ev[step == Step.HANDLE]
    handling = [e["time"] - start[e["case"]] for e in ends
                if e["case"] in start and ONE_VISIT[e["subclass"]]]
    handled = max(len(ends), 1)
    return {
        "handling_minutes": float(np.mean(handling)),
        "rework": float((step == Step.REWORK).sum() / handled),
        "not_fixed": float(((step == Step.HANDLE) & (ev["outcome"] == Outcome.NOT_FIXED)).sum()
                           / handled),
        "extensions": float((step == Step.EXTEND).sum()),
        "returns": float((step == Step.RETURN).sum()),
        "voids": float((step == Step.VOID).sum()),
    }


def variant(tmp_path: Path, name: str, edits: dict[str, str]) -> str:
    text = (RULES_DIR / "standard.yaml").read_text()
    for old, new in edits.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / f"{name}.yaml"
    path.write_text(text.replace("name: standard", f"name: {name}", 1))
    return str(path)


def test_with_the_model_off_the_rule_set_changes_nothing() -> None:
    a = run("standard")
    b = run("points-deduction")
    assert a.tobytes() == b.tobytes()


def test_on_time_pressure_makes_work_faster_and_sloppier() -> None:
    base = outcomes(run("standard", ON))
    fast = outcomes(run("points-deduction", ON))  # 60 of 100 points ride on timeliness
    assert fast["handling_minutes"] < 0.85 * base["handling_minutes"]
    assert fast["not_fixed"] > base["not_fixed"]
    assert fast["rework"] > base["rework"]


def test_rework_pressure_makes_work_slower_with_more_extensions(tmp_path: Path) -> None:
    careful = variant(tmp_path, "careful", {
        "formula: ratio(handled_on_time, due, 1)\n        weight: 0.30":
            "formula: ratio(handled_on_time, due, 1)\n        weight: 0.05",
        "formula: ratio(reworked, handled, 0)\n        weight: 0.30":
            "formula: ratio(reworked, handled, 0)\n        weight: 0.55"})
    base = outcomes(run("standard", ON, "departments.traffic.extension_rate=0.05"))
    slow = outcomes(run(careful, ON, "departments.traffic.extension_rate=0.05"))
    assert slow["handling_minutes"] > 1.15 * base["handling_minutes"]
    assert slow["extensions"] > base["extensions"]
    assert slow["not_fixed"] < base["not_fixed"]


def test_report_quotas_bring_trivial_reports(tmp_path: Path) -> None:
    w = "\n        weight: "
    areas = "      - name: on_time_closure_rate\n        formula: ratio(closed_on_time, closed, 1)"
    quota = variant(tmp_path, "quota", {  # subdistricts rewarded for filing more
        f"formula: ratio(filed, highest(filed), 1){w}0.20":
            f"formula: ratio(filed, highest(filed), 1){w}0.50",
        f"formula: ratio(closed, filed, 1){w}0.30\n{areas}{w}0.40":
            f"formula: ratio(closed, filed, 1){w}0.20\n{areas}{w}0.20"})
    base = outcomes(run("standard", ON))
    padded = outcomes(run(quota, ON))
    assert padded["voids"] > base["voids"] + 20


def test_unpenalised_returns_bring_ping_pong(tmp_path: Path) -> None:
    base = outcomes(run("standard", ON))
    free = outcomes(run("three-rates", ON))  # nobody is judged on returns there
    assert free["returns"] > base["returns"] * 1.5


@pytest.mark.parametrize("name", ["standard", "points-deduction", "subdistrict", "three-rates"])
def test_presets_give_bounded_reactions(name: str) -> None:
    r = behaviour_under(load_scenario("small-town", (f"evaluation.rules={name}", ON)))
    assert 0.3 <= r.handling_factor <= 3.0
    assert -1 <= r.quality_delta <= 1 and r.own_return_rate >= 0
    if name == "standard":
        assert r == react(Pressures(), Pressures(), BehaviourSpec(enabled=True))


def test_pressures_follow_weights_and_points() -> None:
    weighted = {"departments": UnitWeights([("a", "ratio(handled_on_time, due, 1)", 0.4),
                                            ("b", "ratio(reworked, handled, 0)", 0.1)])}
    p = pressures(weighted)
    assert (p.on_time, p.rework, p.returns) == (0.4, 0.1, 0.0)
    points = {"departments": UnitWeights(
        [("rate", "ratio(closed_on_time, closed, 1)", 0.0),
         ("pts", "on_time_points * rate", 0.0)], score="pts + 10")}
    assert pressures(points, {"on_time_points": 70}).on_time == pytest.approx(0.7)
    spec = BehaviourSpec(enabled=True)
    more = react(Pressures(on_time=0.6), Pressures(on_time=0.3), spec)
    less = react(Pressures(on_time=0.1), Pressures(on_time=0.3), spec)
    assert more.handling_factor < 1 < less.handling_factor
    assert more.quality_delta < 0 < less.quality_delta
