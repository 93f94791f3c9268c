"""The engine applies the built-in decision rules on plain values, without a view object;
a policy that overrides a decision point gets the views. Both must give the same run."""

from __future__ import annotations

import pytest

from sim.data.scenario import load_scenario
from sim.engine.decisions import CheckView, DecisionPoints, DispatchView, FilingView
from sim.model import CityModel


class _Viewed(DecisionPoints):
    """The built-in rules, reached through the overridable methods and their views."""

    def __init__(self) -> None:
        self.asked: dict[str, int] = {}

    def _ask(self, point: str) -> None:
        self.asked[point] = self.asked.get(point, 0) + 1

    def file_report(self, view: FilingView):  # type: ignore[override]
        self._ask("file_report")
        return super().file_report(view)

    def dispatch(self, view: DispatchView, u: float, v: float) -> int:
        self._ask("dispatch")
        return super().dispatch(view, u, v)

    def send_check(self, case: int) -> bool:
        self._ask("send_check")
        return super().send_check(case)

    def check_passes(self, view: CheckView, u: float) -> bool:
        self._ask("check_passes")
        return super().check_passes(view, u)

    def after_check(self, case: int, passed: bool):  # type: ignore[override]
        self._ask("after_check")
        return super().after_check(case, passed)


@pytest.mark.parametrize("overrides", [(), ("centre.dispatch_error=0.3",
                                            "inspectors.check_accuracy=0.6")])
def test_plain_rules_give_the_same_run_as_the_overridable_methods(overrides) -> None:
    sc = load_scenario("small-town", overrides, days=12, seed=4)
    plain = CityModel(sc).run()
    viewed_points = _Viewed()
    viewed = CityModel(sc, decisions=viewed_points).run()
    assert plain.events().tobytes() == viewed.events().tobytes()
    assert plain.problems().tobytes() == viewed.problems().tobytes()
    # the overriding policy was asked at every point, once per case that got there
    assert set(viewed_points.asked) == {"file_report", "dispatch", "send_check",
                                        "check_passes", "after_check"}
    assert min(viewed_points.asked.values()) > 100


def test_builtin_sees_overrides_on_the_class_and_on_the_instance() -> None:
    d = DecisionPoints()
    assert d.builtin("dispatch", "file_report")
    assert not _Viewed().builtin("dispatch")
    d.dispatch = lambda view, u, v: 0  # type: ignore[method-assign]
    assert not d.builtin("dispatch") and d.builtin("file_report")
