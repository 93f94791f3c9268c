"""The trainee's desk: the decision points a role hands to a person, as `DecisionPoints`.

Inside the exercise's window the trainee's desk takes every desk decision of the role
(`DecisionPoints.takes`): the case waits at that step, and the question goes to the session,
which shows it as a card and answers it when the trainee decides (`Question.answer`).
Outside the window, and for every point the role does not hold, the built-in rules decide as
always. `HandbookDesk` is the reference: the same points decided at once by the handbook,
with no random mis-routing.
"""

from __future__ import annotations

from collections.abc import Callable

from sim.engine.asking import Question
from sim.engine.decisions import DecisionPoints, DispatchView, ExtensionView

__all__ = ["TraineeDesk", "HandbookDesk", "QuestionHandler"]

QuestionHandler = Callable[[Question], None]


class TraineeDesk(DecisionPoints):
    """Takes the ``points`` of the trainee's role from ``start`` (simulated minutes) on, and
    hands each question to ``on_question``."""

    def __init__(self, points: frozenset[str], start: float,
                 on_question: QuestionHandler) -> None:
        self.points = points
        self.start = start
        self.on_question = on_question

    def takes(self, point: str) -> bool:
        return point in self.points and self.city is not None and self.city.now >= self.start

    def take(self, question: Question) -> None:
        self.on_question(question)


class HandbookDesk(DecisionPoints):
    """The reference policy: the built-in rules, except that inside the window the role's
    dispatches go exactly to the handbook's department (no random mis-routing) and its
    extension requests on urgent subclasses are refused (as `training.baseline` plays)."""

    def __init__(self, points: frozenset[str], start: float, urgent: list[bool]) -> None:
        self.points = points
        self.start = start
        self.urgent = urgent

    def _mine(self, point: str) -> bool:
        return point in self.points and self.city is not None and self.city.now >= self.start

    def dispatch(self, view: DispatchView, u: float, v: float) -> int:
        if self._mine("dispatch"):
            return view.handbook_department
        return super().dispatch(view, u, v)

    def extension(self, view: ExtensionView) -> bool:
        return not (self._mine("extension") and self.urgent[view.subclass])
