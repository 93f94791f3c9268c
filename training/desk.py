"""The trainee's desk: the decision points a role hands to a person, as `DecisionPoints`.

Inside the exercise's window every decision point of the trainee's role answers `DEFER`, so
the engine parks the case at that step and calls `park`; the session turns it into a card
and resumes the case when the trainee decides. Outside the window, and for every point the
role does not hold, the built-in rules decide as always. `HandbookDesk` is the reference:
the same points decided at once by the handbook, with no random mis-routing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sim.engine.decisions import (
    DEFER,
    DecisionPoints,
    Deferred,
    DispatchView,
    ExtensionView,
    FilingView,
)

__all__ = ["TraineeDesk", "HandbookDesk", "ParkHandler"]

ParkHandler = Callable[[str, Any, Any, Callable[[Any], None]], None]


class TraineeDesk(DecisionPoints):
    """Defers the ``points`` of the trainee's role from ``start`` (simulated minutes) on."""

    def __init__(self, points: frozenset[str], start: float, on_park: ParkHandler) -> None:
        self.points = points
        self.start = start
        self.on_park = on_park
        self.env: Any = None  # the model's SimPy environment, set once the model exists

    def _mine(self, point: str) -> bool:
        return point in self.points and self.env is not None and self.env._now >= self.start

    def register_report(self, view: FilingView, can_verify: bool) -> Any:
        if self._mine("verify"):
            return DEFER
        return super().register_report(view, can_verify)

    def file_report(self, view: FilingView) -> Any:
        if self._mine("file"):
            return DEFER
        return super().file_report(view)

    def send_check(self, case: int) -> bool | Deferred:
        return DEFER if self._mine("check") else True

    def after_check(self, case: int, passed: bool) -> Any:
        return DEFER if self._mine("close") else super().after_check(case, passed)

    def dispatch(self, view: DispatchView, u: float, v: float) -> Any:
        if self._mine("dispatch"):
            return DEFER
        return super().dispatch(view, u, v)

    def grant_extension(self, view: ExtensionView) -> bool | Deferred:
        return DEFER if self._mine("extension") else True

    def park(self, point: str, case: Any, view: Any, resume: Callable[[Any], None]) -> None:
        self.on_park(point, case, view, resume)


class HandbookDesk(DecisionPoints):
    """The reference policy: the built-in rules, except that inside the window the role's
    dispatches go exactly to the handbook's department (no random mis-routing) and its
    extension requests on urgent subclasses are refused (as `training.baseline` plays)."""

    def __init__(self, points: frozenset[str], start: float, urgent: list[bool]) -> None:
        self.points = points
        self.start = start
        self.urgent = urgent
        self.env: Any = None

    def _mine(self, point: str) -> bool:
        return point in self.points and self.env is not None and self.env._now >= self.start

    def dispatch(self, view: DispatchView, u: float, v: float) -> int:
        if self._mine("dispatch"):
            return view.handbook_department
        return super().dispatch(view, u, v)

    def grant_extension(self, view: ExtensionView) -> bool:
        return not (self._mine("extension") and self.urgent[view.subclass])
