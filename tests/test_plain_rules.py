"""The engine applies the built-in decision rules on plain values, without a view object;
a policy that overrides a decision point gets the views. Both must give the same run."""

from __future__ import annotations

import pytest

from sim.data.scenario import load_scenario
from sim.engine.asking import Decisions
from sim.engine.decisions import DESK_POINTS, FIELD_POINTS, DecisionPoints, overridden
from sim.model import CityModel

_VIEWED = tuple(p for p in (*DESK_POINTS, *FIELD_POINTS) if p != "patrol_route")


class _Viewed(DecisionPoints):
    """The built-in rules, reached through the overridable methods and their views."""

    def __init__(self) -> None:
        self.asked: dict[str, int] = {}


def _counting(point: str):  # noqa: ANN202
    def method(self: _Viewed, *args: object) -> object:
        self.asked[point] = self.asked.get(point, 0) + 1
        return getattr(DecisionPoints, point)(self, *args)
    return method


for _point in _VIEWED:
    setattr(_Viewed, _point, _counting(_point))


@pytest.mark.parametrize("overrides", [(), ("centre.dispatch_error=0.3",
                                            "inspectors.check_accuracy=0.6",
                                            "departments.enforcement.suspension_rate=0.2",
                                            "departments.traffic.extension_rate=0.3")])
def test_plain_rules_give_the_same_run_as_the_overridable_methods(overrides) -> None:
    sc = load_scenario("small-town", overrides, days=12, seed=4)
    plain = CityModel(sc).run()
    viewed_points = _Viewed()
    viewed = CityModel(sc, decisions=viewed_points).run()
    assert plain.events().tobytes() == viewed.events().tobytes()
    assert plain.problems().tobytes() == viewed.problems().tobytes()
    # the overriding policy was asked at every point, once per case that got there
    asked = viewed_points.asked
    busy = {"file", "dispatch", "check", "check_passes", "close", "return_case",
            "request_suspension", "queue_key"}
    assert busy <= set(asked) and min(asked[p] for p in busy) > 100
    if overrides:  # departments ask for more time, the command centre answers
        assert asked["request_extension"] > 100 and asked["extension"] > 5


def test_overridden_sees_the_class_and_the_instance() -> None:
    d = DecisionPoints()
    assert not overridden(d, "dispatch") and not overridden(d, "file")
    assert overridden(_Viewed(), "dispatch")
    d.dispatch = lambda view, u, v: 0  # type: ignore[method-assign]
    assert overridden(d, "dispatch") and not overridden(d, "file")


def test_every_decision_point_is_a_method_and_has_a_plain_and_a_viewed_form() -> None:
    for point in (*DESK_POINTS, *FIELD_POINTS):
        assert callable(getattr(DecisionPoints, point)), point
        assert callable(getattr(Decisions, point)), point
        assert callable(getattr(Decisions, f"_{point}_viewed")), point
