"""Decision points: every choice in the closed loop, as a pure function behind one interface.

`DecisionPoints` groups the built-in rules (the dispatch handbook's). The engine only ever
calls these methods with plain values and random draws it made itself, so a trainee in the
console, a script or a learned policy takes a rule's place by overriding one method:

    class MyDispatch(DecisionPoints):
        def dispatch(self, view, u): ...

Each method is pure: same arguments, same answer; randomness comes in as uniforms ``u``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, Literal, NamedTuple

import numpy as np

__all__ = ["DecisionPoints", "FilingView", "DispatchView", "CheckView", "ExtensionView",
           "Filing", "Registration", "AfterCheck", "DEFER", "Deferred", "filing_rule",
           "dispatch_rule", "check_rule"]

Filing = Literal["file", "void", "merge"]
Registration = Literal["verify", "merge", "void", "file"]
AfterCheck = Literal["close", "rework"]


class Deferred:
    """The type of `DEFER`: a decision point's answer meaning "not decided yet"."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "DEFER"


DEFER: Final = Deferred()
"""Returned by a decision point that hands the choice to someone not yet ready (a trainee).

The engine then parks the case at that step: it calls `DecisionPoints.park` with a
``resume`` callable and leaves the case waiting; the clock runs on. Whoever deferred calls
``resume(answer)`` later, with the answer the decision point would have returned. The
built-in rules never defer."""


class FilingView(NamedTuple):
    """What the shift leader sees when deciding to file, void or merge a report."""

    case: int
    subclass: int
    grid: int
    channel: int              # Channel: 1 inspector, 2 public
    verified: bool | None     # None: no verification was needed (inspector report)
    open_case: int            # an open case for the same grid and subclass, or -1


class DispatchView(NamedTuple):
    """What the dispatcher sees: the case's subclass and the handbook's department for it."""

    case: int
    subclass: int
    grid: int
    handbook_department: int
    n_departments: int
    returned_from: int        # department that returned it, or -1
    error_rate: float


class ExtensionView(NamedTuple):
    """What the command centre sees when a department asks for more time (延期)."""

    case: int
    subclass: int
    department: int
    deadline: float           # the handling deadline now in force, minutes


class CheckView(NamedTuple):
    """What the checking inspector finds on site, and how reliable the check is."""

    case: int
    problem_still_there: bool
    accuracy: float


def filing_rule(open_case: int, verified: bool | None) -> Filing:
    """The built-in filing rule on plain values (`DecisionPoints.file_report`)."""
    if open_case >= 0:
        return "merge"
    if verified is False:
        return "void"
    return "file"


def dispatch_rule(handbook_department: int, n_departments: int, returned_from: int,
                  error_rate: float, u: float, v: float) -> int:
    """The built-in dispatch rule on plain values (`DecisionPoints.dispatch`)."""
    if returned_from < 0 and u < error_rate and n_departments > 1:
        other = int(v * (n_departments - 1))
        return other if other < handbook_department else other + 1
    return handbook_department


def check_rule(problem_still_there: bool, accuracy: float, u: float) -> bool:
    """The built-in check outcome on plain values (`DecisionPoints.check_passes`)."""
    if not problem_still_there:
        return True
    return u >= accuracy


class DecisionPoints:
    """The built-in (handbook) rules. Override a method to hand a decision to someone else."""

    def builtin(self, *points: str) -> bool:
        """Whether every decision point named is the built-in rule here (not overridden on
        the class or the instance). The engine then applies the rule on plain values
        (`filing_rule`, `dispatch_rule`, `check_rule`) without building a view for it: the
        same answers, without an object per case."""
        return all(point not in vars(self) and getattr(type(self), point) is
                   getattr(DecisionPoints, point) for point in points)

    def patrol_route(self, grids: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                     weights: np.ndarray | None = None, revisit_share: float = 0.0
                     ) -> np.ndarray:
        """Order in which an inspector walks the beat's grids each cycle this shift
        (serpentine).

        ``weights`` (per grid of ``grids``: recent complaints, given only under proactive
        governance) steer patrols: the grids with the highest positive weights, up to
        ``revisit_share`` of the beat, are walked a second time every cycle (a second
        serpentine through them). A route may name a grid more than once; every grid of the
        beat must appear at least once.
        """
        r, c = rows[grids], cols[grids]
        c_key = np.where(r % 2 == 0, c, -c)
        route = grids[np.lexsort((c_key, r))]
        if weights is None or revisit_share <= 0 or not np.any(weights > 0):
            return route
        n_hot = min(int(np.ceil(revisit_share * len(grids))), int((weights > 0).sum()))
        hot = grids[np.argsort(-weights, kind="stable")[:n_hot]]
        hr, hc = rows[hot], cols[hot]
        return np.concatenate((route, hot[np.lexsort((np.where(hr % 2 == 0, hc, -hc), hr))]))

    def file_report(self, view: FilingView) -> Filing:
        """Merge into an open case of the same problem, void what verification did not find,
        file the rest (the filing criterion is met by what an inspector saw on site)."""
        return filing_rule(view.open_case, view.verified)

    def register_report(self, view: FilingView, can_verify: bool) -> Registration:
        """The acceptor's first step with a public report: merge a duplicate into the open
        case, else send an inspector to verify (when there are inspectors and the report is
        not a direct hotline work order), else pass it to the shift leader to file."""
        if view.open_case >= 0 and self.file_report(view) == "merge":
            return "merge"
        return "verify" if can_verify else "file"

    def send_check(self, case: int) -> bool:
        """After the department's feedback: send an inspector to check (always, built in)
        rather than close on the department's word."""
        return True

    def after_check(self, case: int, passed: bool) -> AfterCheck:
        """After the check: close a passed case, send a failed one back for rework."""
        return "close" if passed else "rework"

    def grant_extension(self, view: ExtensionView) -> bool:
        """The command centre's answer to an extension request: the built-in grants all."""
        return True

    def park(self, point: str, case: Any, view: Any, resume: Callable[[Any], None]) -> None:
        """Called by the engine when a decision point returned `DEFER`: the case waits at
        ``point`` until whoever deferred calls ``resume(answer)``. ``case`` is the engine's
        live case (read it, do not change it); ``view`` what the decision point was shown."""
        raise NotImplementedError(f"{type(self).__name__} deferred {point!r} but cannot park")

    def dispatch(self, view: DispatchView, u: float, v: float) -> int:
        """The handbook's department; with probability ``error_rate`` a wrong one (mis-routing).
        A returned case goes to the handbook's department for its corrected subclass."""
        return dispatch_rule(view.handbook_department, view.n_departments, view.returned_from,
                             view.error_rate, u, v)

    def queue_key(self, rule: str, deadline: float, arrived: float) -> float:
        """Department queue order: earliest deadline first, or first come first served."""
        return deadline if rule == "deadline" else arrived

    def check_passes(self, view: CheckView, u: float) -> bool:
        """A check passes when the problem is gone; an unreliable check may miss it."""
        return check_rule(view.problem_still_there, view.accuracy, u)

    def return_case(self, not_ours: bool, return_rate: float, u: float) -> bool:
        """A department returns a case that is not its duty (most of the time)."""
        return not_ours and u < return_rate

    def request_extension(self, rate: float, u: float) -> bool:
        """A department asks for more time (the centre answers in `grant_extension`)."""
        return u < rate

    def request_suspension(self, rate: float, u: float) -> bool:
        """A department asks to suspend a case it cannot handle now (挂账)."""
        return u < rate
