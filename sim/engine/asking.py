"""Asking the decision points: the model's policy, its answers checked, questions to a person.

`Decisions` is what the engine calls, one method per decision, named as the decision. Each
is bound once, when the model is built, to the built-in rule applied on plain values (while
the policy uses it: the same answers, no view, no check) or to the policy's own method
through its view, with every answer checked: a department index out of range, an unknown
action, a merge into a case that is not open, a non-boolean where a yes or no is due, a
route that leaves out a grid. The run then stops with a `DecisionError` naming the policy,
the method and the value.

A policy that `takes` a desk decision (a trainee's desk) gets a `Question` instead of being
asked: the method returns `PENDING`, the case's process waits at that step, and
`Question.answer` (checked the same way) resumes it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Real
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.engine.clock import PENDING, Pending, resume
from sim.engine.decisions import (
    DESK_POINTS,
    FIELD_POINTS,
    CloseAnswer,
    DecisionPoints,
    FileAnswer,
    VerifyAnswer,
    builtin_check_passes,
    builtin_dispatch,
    builtin_file,
    builtin_verify,
    overridden,
)
from sim.engine.mistakes import Mistakes, mistakes_of
from sim.engine.views import (
    CheckView,
    CityView,
    DispatchView,
    ExtensionView,
    FeedbackView,
    FilingView,
    PatrolView,
    QueueView,
    ReceiptView,
)
from sim.errors import GridLoopError

if TYPE_CHECKING:
    from sim.engine.casebook import Case, CaseBook

__all__ = ["Decisions", "DecisionError", "Question"]


class DecisionError(GridLoopError):
    """A policy gave an answer its decision point cannot carry out (a bug in the policy)."""


class Question:
    """A desk decision a person has taken (`DecisionPoints.takes`): the case waits at
    ``point`` until `answer` is called. ``view`` is what the decider sees; ``case`` is the
    engine's case (read it, never change it)."""

    __slots__ = ("point", "view", "case", "asked_at", "_decisions", "answered")

    def __init__(self, decisions: Decisions, point: str, view: Any, case: Case) -> None:
        self.point, self.view, self.case = point, view, case
        self.asked_at = decisions.city.now
        self._decisions = decisions
        self.answered = False

    def answer(self, value: Any, *, subclass: int = -1) -> None:
        """Answer as the policy method of ``point`` would (checked the same way), now; the
        case goes on at once. ``subclass`` (for ``file`` and ``dispatch``) first corrects the
        case's subclass, which the step then records and uses."""
        if self.answered:
            raise DecisionError(f"{self.point} for case {self.case.id} was already answered")
        d = self._decisions
        value = d.checked(self.point, value, self.view, who="the person at the desk")
        if subclass >= 0:
            if self.point not in ("file", "dispatch"):
                raise DecisionError(f"{self.point} for case {self.case.id}: a subclass is "
                                    f"corrected only when filing or dispatching")
            d.check_subclass(self.point, subclass, "the person at the desk")
            d.book.reclassify(self.case, subclass)
        self.answered = True
        resume(self.case, value)


class Decisions:
    """The model's decision points: its policy bound to the city, asked with what each
    decider sees, its answers checked (see the module docstring).

    The engine calls one method per decision, named as the decision, with its own values; it
    returns the answer, or `PENDING` when a person took the question (a desk decision only:
    the case process yields it and waits). Each is bound once, when the model is built, to
    the built-in rule on plain values or to the policy's method through a view.
    """

    def __init__(self, policy: DecisionPoints, city: CityView, book: CaseBook,
                 error_rate: float, mistakes: Mistakes | None = None) -> None:
        policy.bind(city)
        self.policy = policy
        self.city = city
        self.book = book
        self.name = type(policy).__name__
        self._error = error_rate
        self._routing = city.routing
        self._n = len(city.departments)
        # where a wrong dispatch goes: the handbook's plausible departments (sim.engine.mistakes)
        if mistakes is None:
            mistakes = mistakes_of(city.handbook, city.departments)
        self._alternates, self._alternate_cum = mistakes.alternates, mistakes.alternate_cum
        self._duplicate_of = book.duplicate_of  # looked up per report
        self._desk = overridden(policy, "takes")
        viewed_points = set()
        for point in (*DESK_POINTS, *FIELD_POINTS):
            viewed = overridden(policy, point) or (self._desk and point in DESK_POINTS)
            if viewed:
                setattr(self, point, getattr(self, f"_{point}_viewed"))
                viewed_points.add(point)
        self.viewed = frozenset(viewed_points)
        """The points asked through the policy's views; the others apply the built-in rule
        (which hot callers may apply inline, as `agents.department` does on receipt)."""
        self.route_is_builtin = not overridden(policy, "patrol_route")

    # -- desk decisions: the built-in rules on plain values --------------------------------
    def verify(self, case: Case, can_verify: bool) -> VerifyAnswer | Pending:
        return builtin_verify(self._duplicate_of(case), can_verify)

    def file(self, case: Case) -> FileAnswer | Pending:
        return builtin_file(self._duplicate_of(case), case.verified)

    def dispatch(self, case: Case, u: float, v: float) -> int | Pending:
        sub = case.subclass
        return builtin_dispatch(self._routing[sub], self._n, case.returned_from, self._error,
                                u, v, self._alternates[sub], self._alternate_cum[sub])

    def extension(self, case: Case, department: int) -> bool | Pending:
        return True

    def check(self, case: Case) -> bool | Pending:
        return True

    def close(self, case: Case, passed: bool) -> CloseAnswer | Pending:
        return "close" if passed else "rework"

    # -- field decisions: the built-in rules on plain values -------------------------------
    def return_case(self, case: Case, department: int, ours: bool, rates: tuple, u: float
                    ) -> bool:
        return not ours and u < rates[0]

    def request_suspension(self, case: Case, department: int, ours: bool, rates: tuple,
                           u: float) -> bool:
        return u < rates[1]

    def request_extension(self, case: Case, department: int, ours: bool, rates: tuple,
                          u: float) -> bool:
        return u < rates[2]

    def queue_key(self, case: Case, department: int, rule: str, now: float) -> float:
        return case.deadline if rule == "deadline" else now

    def check_passes(self, case: Case, there: bool, accuracy: float, u: float) -> bool:
        return builtin_check_passes(there, accuracy, u)

    def patrol_route(self, beat: int, grids: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                     weights: np.ndarray | None = None, revisit_share: float = 0.0
                     ) -> np.ndarray:
        return self.policy.patrol_route(PatrolView(beat, grids, rows, cols, weights,
                                                   revisit_share))

    # -- desk decisions through the policy's views -----------------------------------------
    def _ask(self, point: str, view: Any, case: Case, method: Callable[..., Any],
             *draws: float) -> Any:
        if self._desk and self.policy.takes(point):
            self.policy.take(Question(self, point, view, case))
            return PENDING
        return self.checked(point, method(view, *draws), view)

    def _verify_viewed(self, case: Case, can_verify: bool) -> Any:
        view = FilingView(case.id, case.subclass, case.grid, case.channel, None,
                          self._duplicate_of(case), can_verify)
        return self._ask("verify", view, case, self.policy.verify)

    def _file_viewed(self, case: Case) -> Any:
        view = FilingView(case.id, case.subclass, case.grid, case.channel, case.verified,
                          self._duplicate_of(case))
        return self._ask("file", view, case, self.policy.file)

    def _dispatch_viewed(self, case: Case, u: float, v: float) -> Any:
        sub = case.subclass
        view = DispatchView(case.id, sub, case.grid, self._routing[sub], self._n,
                            case.returned_from, self._error, self._alternates[sub],
                            self._alternate_cum[sub])
        return self._ask("dispatch", view, case, self.policy.dispatch, u, v)

    def _extension_viewed(self, case: Case, department: int) -> Any:
        view = ExtensionView(case.id, case.subclass, department, case.deadline)
        return self._ask("extension", view, case, self.policy.extension)

    def _check_viewed(self, case: Case) -> Any:
        view = FeedbackView(case.id, case.subclass, case.grid, case.department, case.reworks,
                            None)
        return self._ask("check", view, case, self.policy.check)

    def _close_viewed(self, case: Case, passed: bool) -> Any:
        view = FeedbackView(case.id, case.subclass, case.grid, case.department, case.reworks,
                            passed)
        return self._ask("close", view, case, self.policy.close)

    # -- field decisions through the policy's views ----------------------------------------
    def _receipt(self, case: Case, department: int, ours: bool, rates: tuple) -> ReceiptView:
        return ReceiptView(case.id, case.subclass, department, ours, case.deadline, *rates)

    def _return_case_viewed(self, case: Case, department: int, ours: bool, rates: tuple,
                            u: float) -> bool:
        view = self._receipt(case, department, ours, rates)
        return self.checked("return_case", self.policy.return_case(view, u), view)

    def _request_suspension_viewed(self, case: Case, department: int, ours: bool,
                                   rates: tuple, u: float) -> bool:
        view = self._receipt(case, department, ours, rates)
        return self.checked("request_suspension", self.policy.request_suspension(view, u),
                            view)

    def _request_extension_viewed(self, case: Case, department: int, ours: bool,
                                  rates: tuple, u: float) -> bool:
        view = self._receipt(case, department, ours, rates)
        return self.checked("request_extension", self.policy.request_extension(view, u),
                            view)

    def _queue_key_viewed(self, case: Case, department: int, rule: str, now: float) -> float:
        view = QueueView(case.id, case.subclass, department, rule, case.deadline, now)
        return self.checked("queue_key", self.policy.queue_key(view), view)

    def _check_passes_viewed(self, case: Case, there: bool, accuracy: float, u: float
                             ) -> bool:
        view = CheckView(case.id, there, accuracy)
        return self.checked("check_passes", self.policy.check_passes(view, u), view)

    def _patrol_route_viewed(self, beat: int, grids: np.ndarray, rows: np.ndarray,
                             cols: np.ndarray, weights: np.ndarray | None = None,
                             revisit_share: float = 0.0) -> np.ndarray:
        view = PatrolView(beat, grids, rows, cols, weights, revisit_share)
        return self.checked("patrol_route", self.policy.patrol_route(view), view)

    # -- checking answers ------------------------------------------------------------------
    def checked(self, point: str, value: Any, view: Any, who: str | None = None) -> Any:
        """``value`` as the engine carries it out, if ``point`` can; else `DecisionError`."""
        if point in ("verify", "file"):
            return self._filing_answer(point, value, view, who)
        if point == "dispatch":
            if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) \
                    and 0 <= value < self._n:
                return int(value)
            self._refuse(point, value, view, f"a department index from 0 to {self._n - 1}",
                         who)
        if point == "close":
            if value in ("close", "rework"):
                return value
            self._refuse(point, value, view, "'close' or 'rework'", who)
        if point == "queue_key":
            if isinstance(value, Real) and not isinstance(value, bool) and \
                    math.isfinite(value):
                return float(value)
            self._refuse(point, value, view, "a finite number (smaller goes first)", who)
        if point == "patrol_route":
            return self._route(value, view, who)
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        return self._refuse(point, value, view, "True or False", who)

    def _filing_answer(self, point: str, value: Any, view: FilingView, who: str | None
                       ) -> Any:
        actions = ("verify", "file", "void", "merge") if point == "verify" else \
            ("file", "void", "merge")
        if value == "verify" and not view.can_verify:
            self._refuse(point, value, view, "'file', 'void' or a merge: no inspector can "
                         "verify this report", who)
        if isinstance(value, str) and value in actions and value != "merge":
            return value
        into = view.open_case if value == "merge" else (
            value[1] if isinstance(value, tuple) and len(value) == 2 and value[0] == "merge"
            else None)
        if into is None:
            self._refuse(point, value, view, " or ".join(repr(a) for a in actions) +
                         " or ('merge', case)", who)
        if not isinstance(into, (int, np.integer)) or isinstance(into, bool) or \
                into == view.case or self.book.live(int(into)) is None:
            self._refuse(point, value, view, "a merge into an open (filed, not closed) case",
                         who)
        return ("merge", int(into))

    def check_subclass(self, point: str, subclass: Any, who: str | None = None) -> None:
        n = len(self.city.handbook.subclasses)
        if not isinstance(subclass, (int, np.integer)) or not 0 <= subclass < n:
            raise DecisionError(f"{point}: {who or 'policy ' + self.name} gave subclass "
                                f"{subclass!r}, which does not exist: expected an index from "
                                f"0 to {n - 1}")

    def _route(self, value: Any, view: PatrolView, who: str | None) -> np.ndarray:
        route = np.asarray(value)
        if route.ndim != 1 or not np.issubdtype(route.dtype, np.integer):
            self._refuse("patrol_route", value, view, "a 1-d array of grid indices", who)
        if not np.array_equal(np.unique(route), np.unique(view.grids)):
            self._refuse("patrol_route", value, view, "every grid of the beat at least "
                         "once, and no other grid", who)
        return route

    def _refuse(self, point: str, value: Any, view: Any, expected: str, who: str | None
                ) -> Any:
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        what = f"beat {view.beat}" if point == "patrol_route" else f"case {view.case}"
        if who is None:
            raise DecisionError(f"policy {self.name}: {self.name}.{point}({what}) returned "
                                f"{shown}: expected {expected}")
        raise DecisionError(f"{point} for {what}: {who} answered {shown}: expected {expected}")
