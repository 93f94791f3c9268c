"""Decision points: every choice in the closed loop, behind one checked interface.

A *policy* is a `DecisionPoints`: its methods are the built-in rules (the dispatch
handbook's), and a subclass overrides those it decides differently. Each method has the
decision's one name (the same on training cards and in the glossary), takes a *view* (a
NamedTuple of plain values, `sim.engine.views`: what the decider sees) and, for the
stochastic rules, uniforms the engine drew itself:

    class PerfectDispatch(DecisionPoints):
        def dispatch(self, view, u, v):
            return view.handbook_department     # never mis-route

The model binds its policy once to a read-only `CityView` (``policy.city``: the clock, the
map, the handbook, the departments, the open cases) and asks it through
`sim.engine.asking.Decisions`, which checks every answer an overridden method gives.

Six decisions are made at a desk of the centres (`DESK_POINTS`): a person may take them
(`DecisionPoints.takes`). The others are how the city's actors behave in the field
(`FIELD_POINTS`) and answer at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Literal

import numpy as np

from sim.engine.mistakes import wrong_department
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

if TYPE_CHECKING:
    from sim.engine.asking import Question

__all__ = ["DecisionPoints", "CityView", "FilingView", "DispatchView", "ReceiptView",
           "ExtensionView", "QueueView", "FeedbackView", "CheckView", "PatrolView",
           "DESK_POINTS", "FIELD_POINTS", "overridden", "builtin_verify", "builtin_file",
           "builtin_dispatch", "builtin_check_passes"]

DESK_POINTS: Final = ("verify", "file", "dispatch", "extension", "check", "close")
"""Decisions made at a desk of the supervision or command centre: a person may take them."""
FIELD_POINTS: Final = ("patrol_route", "return_case", "request_suspension",
                       "request_extension", "queue_key", "check_passes")
"""How inspectors and departments behave: answered at once, by the policy."""

Merge = tuple[Literal["merge"], int]
VerifyAnswer = Literal["verify", "file", "void", "merge"] | Merge
FileAnswer = Literal["file", "void", "merge"] | Merge
CloseAnswer = Literal["close", "rework"]


# -- the built-in rules on plain values (the methods below and `sim.engine.asking` share them)
def builtin_verify(open_case: int, can_verify: bool) -> VerifyAnswer:
    if open_case >= 0:
        return ("merge", open_case)
    return "verify" if can_verify else "file"


def builtin_file(open_case: int, verified: bool | None) -> FileAnswer:
    if open_case >= 0:
        return ("merge", open_case)
    return "void" if verified is False else "file"


def builtin_dispatch(handbook_department: int, n_departments: int, returned_from: int,
                     error_rate: float, u: float, v: float, alternates: tuple[int, ...] = (),
                     alternate_cum: tuple[float, ...] = ()) -> int:
    if returned_from < 0 and u < error_rate and n_departments > 1:  # a mistake: where to
        return wrong_department(handbook_department, alternates, alternate_cum,
                                n_departments, v)
    return handbook_department


def builtin_check_passes(problem_still_there: bool, accuracy: float, u: float) -> bool:
    return True if not problem_still_there else u >= accuracy


class DecisionPoints:
    """The built-in (handbook) rules. Override a method to decide differently; ``city`` is
    the read-only `CityView` the model binds the policy to."""

    city: CityView | None = None

    def bind(self, city: CityView) -> None:
        """Called once by the model that uses this policy."""
        self.city = city

    # -- a person at the desk --------------------------------------------------------------
    def takes(self, point: str) -> bool:
        """Whether a person takes the question at desk decision ``point`` now (it is then
        not asked: `take` gets a `Question`). The built-in rules answer everything."""
        return False

    def take(self, question: Question) -> None:
        """Hold ``question`` until someone answers it (`Question.answer`)."""
        raise NotImplementedError(f"{type(self).__name__} takes {question.point!r} questions "
                                  f"but does not hold them")

    # -- desk decisions --------------------------------------------------------------------
    def verify(self, view: FilingView) -> VerifyAnswer:
        """The acceptor with a registered public report: merge a duplicate into the open
        case, else send an inspector to ``verify`` it (when one can go), else pass it to the
        shift leader to ``file``; ``void`` is also allowed. A merge is ``"merge"`` (into
        ``view.open_case``) or ``("merge", case)``."""
        return builtin_verify(view.open_case, view.can_verify)

    def file(self, view: FilingView) -> FileAnswer:
        """The shift leader: merge into an open case of the same problem, void what
        verification did not find, file the rest (the filing criterion is met by what an
        inspector saw on site)."""
        return builtin_file(view.open_case, view.verified)

    def dispatch(self, view: DispatchView, u: float, v: float) -> int:
        """The handbook's department; with probability ``error_rate`` a wrong one (mis-routing):
        one of the handbook's plausible departments (``view.alternates``), by weight, else any
        other. A returned case goes to the handbook's department for its corrected subclass."""
        return builtin_dispatch(view.handbook_department, view.n_departments, view.returned_from,
                                view.error_rate, u, v, view.alternates, view.alternate_cum)

    def extension(self, view: ExtensionView) -> bool:
        """The command centre's answer to a department asking for more time: grant all."""
        return True

    def check(self, view: FeedbackView) -> bool:
        """After the department's feedback: send an inspector to check (always, built in),
        rather than close on the department's word."""
        return True

    def close(self, view: FeedbackView) -> CloseAnswer:
        """After the check: ``close`` a passed case, send a failed one back for ``rework``."""
        return "close" if view.check_passed else "rework"

    # -- field decisions -------------------------------------------------------------------
    def patrol_route(self, view: PatrolView) -> np.ndarray:
        """Order in which an inspector walks the beat's grids each cycle this shift
        (serpentine by row).

        ``weights`` (given only under proactive governance) steer patrols: the grids with
        the highest positive weights, up to ``revisit_share`` of the beat, are walked a
        second time every cycle (a second serpentine through them). A route may name a grid
        more than once; every grid of the beat, and no other, must appear.
        """
        grids, rows, cols, weights = view.grids, view.rows, view.cols, view.weights
        r, c = rows[grids], cols[grids]
        c_key = np.where(r % 2 == 0, c, -c)
        route = grids[np.lexsort((c_key, r))]
        if weights is None or view.revisit_share <= 0 or not np.any(weights > 0):
            return route
        n_hot = min(int(np.ceil(view.revisit_share * len(grids))), int((weights > 0).sum()))
        hot = grids[np.argsort(-weights, kind="stable")[:n_hot]]
        hr, hc = rows[hot], cols[hot]
        return np.concatenate((route, hot[np.lexsort((np.where(hr % 2 == 0, hc, -hc), hr))]))

    def return_case(self, view: ReceiptView, u: float) -> bool:
        """A department returns a case that is not its duty (most of the time)."""
        return not view.ours and u < view.return_rate

    def request_suspension(self, view: ReceiptView, u: float) -> bool:
        """A department asks to suspend a case it cannot handle now (挂账)."""
        return u < view.suspension_rate

    def request_extension(self, view: ReceiptView, u: float) -> bool:
        """A department asks for more time (the command centre answers in `extension`)."""
        return u < view.extension_rate

    def queue_key(self, view: QueueView) -> float:
        """Crew queue order (smaller first): earliest deadline, or first come first served."""
        return view.deadline if view.rule == "deadline" else view.arrived

    def check_passes(self, view: CheckView, u: float) -> bool:
        """A check passes when the problem is gone; an unreliable check may miss it."""
        return builtin_check_passes(view.problem_still_there, view.accuracy, u)


def overridden(policy: DecisionPoints, point: str) -> bool:
    """Whether ``policy``'s method for ``point`` is not the built-in rule (overridden on its
    class or set on the instance)."""
    return point in vars(policy) or getattr(type(policy), point) is not \
        getattr(DecisionPoints, point)
