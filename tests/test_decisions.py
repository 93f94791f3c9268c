"""Decision points as a checked contract: a policy's answer the engine cannot carry out stops
the run with a `DecisionError` naming the policy, the method and the value; policies see the
city through a read-only view bound once."""

from __future__ import annotations

import numpy as np
import pytest

from sim.data.scenario import load_scenario
from sim.engine.asking import DecisionError, Question
from sim.engine.decisions import (
    CityView,
    DecisionPoints,
    DispatchView,
    FeedbackView,
    FilingView,
    PatrolView,
    QueueView,
    ReceiptView,
)
from sim.engine.eventlog import Step
from sim.model import CityModel
from training.desk import TraineeDesk


def _run(policy: DecisionPoints, *overrides: str, strict: bool = False) -> CityModel:
    sc = load_scenario("small-town", overrides, days=3, seed=2)
    return CityModel(sc, decisions=policy, strict=strict).run()


class LastDepartment(DecisionPoints):
    def dispatch(self, view: DispatchView, u: float, v: float) -> int:
        return -1  # "the last one", as a list index would take it


class Vod(DecisionPoints):
    def file(self, view: FilingView):  # type: ignore[override]
        return "vod"


class NoCheckAnswer(DecisionPoints):
    def check(self, view: FeedbackView):  # type: ignore[override]
        return "yes"


class MergeIntoNothing(DecisionPoints):
    def file(self, view: FilingView):  # type: ignore[override]
        return ("merge", 10**9)


class BadKey(DecisionPoints):
    def queue_key(self, view: QueueView) -> float:
        return float("nan")


class AlwaysReturn(DecisionPoints):
    def return_case(self, view: ReceiptView, u: float):  # type: ignore[override]
        return 1  # an int, not a bool


class HalfRoute(DecisionPoints):
    def patrol_route(self, view: PatrolView) -> np.ndarray:
        return view.grids[: len(view.grids) // 2]


@pytest.mark.parametrize(("policy", "says"), [
    (LastDepartment(), "LastDepartment.dispatch(case "),
    (Vod(), "Vod.file(case "),
    (NoCheckAnswer(), "NoCheckAnswer.check(case "),
    (MergeIntoNothing(), "MergeIntoNothing.file(case "),
    (BadKey(), "BadKey.queue_key(case "),
    (AlwaysReturn(), "AlwaysReturn.return_case(case "),
    (HalfRoute(), "HalfRoute.patrol_route(beat "),
])
@pytest.mark.parametrize("strict", [False, True])
def test_an_answer_the_engine_cannot_carry_out_stops_the_run(policy: DecisionPoints, says: str,
                                                            strict: bool) -> None:
    with pytest.raises(DecisionError) as e:
        _run(policy, strict=strict)
    msg = str(e.value)
    assert msg.startswith(f"policy {type(policy).__name__}: {says}"), msg
    assert "returned" in msg and "expected" in msg


def test_the_messages_name_the_value_and_what_was_expected() -> None:
    with pytest.raises(DecisionError, match=r"returned -1: expected a department index from "
                                            r"0 to \d+"):
        _run(LastDepartment())
    with pytest.raises(DecisionError, match=r"returned 'vod': expected 'file' or 'void' or "
                                            r"'merge' or \('merge', case\)"):
        _run(Vod())


class Watching(DecisionPoints):
    """Reads the city it is bound to at every dispatch."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, int]] = []

    def dispatch(self, view: DispatchView, u: float, v: float) -> int:
        city = self.city
        assert isinstance(city, CityView)
        assert city.handbook_department(view.subclass) == view.handbook_department
        assert len(city.departments) == view.n_departments
        assert city.open_case(view.grid, view.subclass) >= 0  # its own case is open
        self.seen.append((city.now, view.case))
        return view.handbook_department


def test_a_policy_is_bound_once_to_a_read_only_view_of_the_city() -> None:
    policy = Watching()
    m = _run(policy)
    assert policy.city is not None and len(policy.seen) > 50
    times = [t for t, _ in policy.seen]
    assert times == sorted(times) and 0 < times[-1] <= m.horizon
    with pytest.raises(AttributeError):
        policy.city.now = 0.0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        policy.city.routing = ()  # type: ignore[misc]


def test_a_persons_answer_is_checked_like_a_policys() -> None:
    """A question a person took: a department out of range, an unknown action or a subclass
    that does not exist is refused with the value named, and the case still waits."""
    asked: list[Question] = []
    desk = TraineeDesk(frozenset({"dispatch"}), start=0.0, on_question=asked.append)
    m = CityModel(load_scenario("small-town", days=1, seed=2), decisions=desk).start()
    m.env.run(until=600.0)
    q = next(q for q in asked if q.point == "dispatch")
    rows = len(m.events())
    for bad, kw, says in ((99, {}, "answered 99: expected a department index"),
                          ("void", {}, "answered 'void'"),
                          (0, {"subclass": 999}, "gave subclass 999, which does not exist")):
        with pytest.raises(DecisionError, match=says):
            q.answer(bad, **kw)
        assert len(m.events()) == rows and not q.answered
    q.answer(1)
    assert m.events()[-1]["step"] == Step.DISPATCH and m.events()[-1]["department"] == 1
    with pytest.raises(DecisionError, match="already answered"):
        q.answer(1)
