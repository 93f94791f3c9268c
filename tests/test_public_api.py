"""The packages' public names are pinned: changing them is a decision, not an accident."""

from __future__ import annotations

import agents
import sim


def test_sim_exports() -> None:
    assert sorted(sim.__all__) == ["DecisionPoints", "GridLoopError", "InputError", "RunResult",
                                   "Scenario", "load_scenario", "simulate", "write_run"]
    for name in sim.__all__:
        assert getattr(sim, name) is not None


def test_agents_exports() -> None:
    assert sorted(agents.__all__) == ["Beat", "CaseLife", "CitizenReporting", "CommandCentre",
                                      "Department", "Discovery", "InspectorCorps",
                                      "SupervisionCentre"]


def test_the_quick_start_works() -> None:
    result = sim.simulate(sim.load_scenario("small-town", ["inspectors.count=10"], days=1))
    assert result.summary()["days"] == 1
