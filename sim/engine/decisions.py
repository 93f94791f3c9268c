"""Decision points: every choice in the closed loop, behind one checked interface.

A *policy* is a `DecisionPoints`: its methods are the built-in rules (the dispatch
handbook's), and a subclass overrides those it decides differently. Each method has the
decision's one name (the same on training cards and in the glossary), takes a *view* (a
NamedTuple of plain values: what the decider sees) and, for the stochastic rules, uniforms
the engine drew itself:

    class PerfectDispatch(DecisionPoints):
        def dispatch(self, view, u, v):
            return view.handbook_department     # never mis-route

The model binds its policy once to a read-only `CityView` (``policy.city``: the clock, the
map, the handbook, the departments, the open cases) and asks it through `Decisions`, which
checks every answer an overridden method gives: a department out of range, an unknown
action or a subclass that does not exist stops the run with a `DecisionError` naming the
policy, the method and the value. The built-in rules are trusted and, while they are the
model's, applied on plain values without a view (same answers, no object per case).

Six decisions are made at a desk of the centres (`DESK_POINTS`): a person may take them.
A policy whose `takes` says so for a point gets a `Question` instead of being asked; the
case waits at that step until someone calls `Question.answer` (the training console). The
others are how the city's actors behave in the field (`FIELD_POINTS`) and answer at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Real
from typing import TYPE_CHECKING, Any, Final, Literal, NamedTuple

import numpy as np

from sim.engine.clock import PENDING, Clock, Pending, resume
from sim.errors import GridLoopError

if TYPE_CHECKING:
    from sim.data.citymap import CityMap
    from sim.data.taxonomy import Handbook
    from sim.engine.casebook import Case, CaseBook

__all__ = ["DecisionPoints", "Decisions", "DecisionError", "CityView", "Question",
           "FilingView", "DispatchView", "ReceiptView", "ExtensionView", "QueueView",
           "FeedbackView", "CheckView", "PatrolView", "DESK_POINTS", "FIELD_POINTS"]

DESK_POINTS: Final = ("verify", "file", "dispatch", "extension", "check", "close")
"""Decisions made at a desk of the supervision or command centre: a person may take them."""
FIELD_POINTS: Final = ("patrol_route", "return_case", "request_suspension",
                       "request_extension", "queue_key", "check_passes")
"""How inspectors and departments behave: answered at once, by the policy."""

Merge = tuple[Literal["merge"], int]
VerifyAnswer = Literal["verify", "file", "void", "merge"] | Merge
FileAnswer = Literal["file", "void", "merge"] | Merge
CloseAnswer = Literal["close", "rework"]


class DecisionError(GridLoopError):
    """A policy gave an answer its decision point cannot carry out (a bug in the policy)."""


# -- views: what each decider sees --------------------------------------------------------
class FilingView(NamedTuple):
    """A registered report, as the acceptor (``verify``) or shift leader (``file``) sees it."""

    case: int
    subclass: int
    grid: int
    channel: int              # Channel: 1 inspector, 2 public
    verified: bool | None     # None: not verified (yet, or not needed)
    open_case: int            # an open case for the same grid and subclass, or -1
    can_verify: bool = True   # an inspector can be sent (there are inspectors; not a direct
                              # hotline work order)


class DispatchView(NamedTuple):
    """What the dispatcher sees: the case's subclass and the handbook's department for it."""

    case: int
    subclass: int
    grid: int
    handbook_department: int
    n_departments: int
    returned_from: int        # department that returned it, or -1
    error_rate: float


class ReceiptView(NamedTuple):
    """A dispatched case as the department receiving it sees it, with its own rates."""

    case: int
    subclass: int
    department: int
    ours: bool                # the case is this department's duty (it can tell on site)
    deadline: float           # handling deadline, minutes
    return_rate: float        # how often it returns a case that is not its duty
    suspension_rate: float
    extension_rate: float


class ExtensionView(NamedTuple):
    """What the command centre sees when a department asks for more time (延期)."""

    case: int
    subclass: int
    department: int
    deadline: float           # the handling deadline now in force, minutes


class QueueView(NamedTuple):
    """A case joining a department's crew queue."""

    case: int
    subclass: int
    department: int
    rule: str                 # the department's priority: "deadline" or "fifo"
    deadline: float
    arrived: float


class FeedbackView(NamedTuple):
    """A case the department reports done, at the acceptor's (``check``) or, once checked,
    the shift leader's (``close``) desk."""

    case: int
    subclass: int
    grid: int
    department: int
    reworks: int
    check_passed: bool | None  # None: not checked


class CheckView(NamedTuple):
    """What the checking inspector finds on site, and how reliable the check is."""

    case: int
    problem_still_there: bool
    accuracy: float


class PatrolView(NamedTuple):
    """A beat at a shift's start: its grids and, under proactive governance, complaints."""

    beat: int
    grids: np.ndarray         # the beat's grid indices
    rows: np.ndarray          # row and column of every grid of the city
    cols: np.ndarray
    weights: np.ndarray | None  # per grid of ``grids``: recent complaints (proactive only)
    revisit_share: float


class CityView:
    """What a policy may read of the city, read-only: the clock, the map, the handbook, the
    departments, whose duty each subclass is, and the platform's open cases."""

    __slots__ = ("_clock", "_book", "_map", "_handbook", "_departments", "_routing")

    def __init__(self, clock: Clock, book: CaseBook, city: CityMap, handbook: Handbook,
                 departments: list[str], routing: list[int]) -> None:
        self._clock, self._book = clock, book
        self._map, self._handbook = city, handbook
        self._departments = tuple(departments)
        self._routing = tuple(routing)

    @property
    def now(self) -> float:
        """Simulated minutes since the scenario start."""
        return self._clock._now  # type: ignore[attr-defined,no-any-return]

    @property
    def map(self) -> CityMap:
        """The city's unit grids (positions, communities, residents...)."""
        return self._map

    @property
    def handbook(self) -> Handbook:
        return self._handbook

    @property
    def departments(self) -> tuple[str, ...]:
        """Department names, by index."""
        return self._departments

    @property
    def routing(self) -> tuple[int, ...]:
        """The department whose duty each subclass is (after loop routing), by index."""
        return self._routing

    def handbook_department(self, subclass: int) -> int:
        return self._routing[subclass]

    def open_case(self, grid: int, subclass: int) -> int:
        """The open case of this grid and subclass, or -1."""
        return self._book.open_case(grid, subclass)

    def is_open_case(self, case: int) -> bool:
        """Case ``case`` is filed and not closed (a merge may join it)."""
        return self._book.live(case) is not None


# -- the built-in rules, on plain values (the methods below and the fast path share them) --
def _filing(open_case: int, verified: bool | None) -> FileAnswer:
    if open_case >= 0:
        return ("merge", open_case)
    return "void" if verified is False else "file"


def _dispatch(handbook_department: int, n_departments: int, returned_from: int,
              error_rate: float, u: float, v: float) -> int:
    if returned_from < 0 and u < error_rate and n_departments > 1:
        other = int(v * (n_departments - 1))
        return other if other < handbook_department else other + 1
    return handbook_department


def _check_passes(problem_still_there: bool, accuracy: float, u: float) -> bool:
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
        if view.open_case >= 0:
            return ("merge", view.open_case)
        return "verify" if view.can_verify else "file"

    def file(self, view: FilingView) -> FileAnswer:
        """The shift leader: merge into an open case of the same problem, void what
        verification did not find, file the rest (the filing criterion is met by what an
        inspector saw on site)."""
        return _filing(view.open_case, view.verified)

    def dispatch(self, view: DispatchView, u: float, v: float) -> int:
        """The handbook's department; with probability ``error_rate`` a wrong one (mis-routing).
        A returned case goes to the handbook's department for its corrected subclass."""
        return _dispatch(view.handbook_department, view.n_departments, view.returned_from,
                         view.error_rate, u, v)

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
        return _check_passes(view.problem_still_there, view.accuracy, u)


def overridden(policy: DecisionPoints, point: str) -> bool:
    """Whether ``policy``'s method for ``point`` is not the built-in rule (overridden on its
    class or set on the instance)."""
    return point in vars(policy) or getattr(type(policy), point) is not \
        getattr(DecisionPoints, point)


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
                 error_rate: float) -> None:
        policy.bind(city)
        self.policy = policy
        self.city = city
        self.book = book
        self.name = type(policy).__name__
        self._error = error_rate
        self._routing = city.routing
        self._n = len(city.departments)
        self._open = book.open_index  # looked up per report
        self._desk = overridden(policy, "takes")
        for point in (*DESK_POINTS, *FIELD_POINTS):
            viewed = overridden(policy, point) or (self._desk and point in DESK_POINTS)
            if viewed:
                setattr(self, point, getattr(self, f"_{point}_viewed"))
        self.route_is_builtin = not overridden(policy, "patrol_route")

    # -- desk decisions: the built-in rules on plain values --------------------------------
    def verify(self, case: Case, can_verify: bool) -> VerifyAnswer | Pending:
        open_case = self._open.get((case.grid, case.subclass), -1)
        if open_case >= 0:
            return ("merge", open_case)
        return "verify" if can_verify else "file"

    def file(self, case: Case) -> FileAnswer | Pending:
        return _filing(self._open.get((case.grid, case.subclass), -1), case.verified)

    def dispatch(self, case: Case, u: float, v: float) -> int | Pending:
        return _dispatch(self._routing[case.subclass], self._n, case.returned_from,
                         self._error, u, v)

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
        return _check_passes(there, accuracy, u)

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
                          self._open.get((case.grid, case.subclass), -1), can_verify)
        return self._ask("verify", view, case, self.policy.verify)

    def _file_viewed(self, case: Case) -> Any:
        view = FilingView(case.id, case.subclass, case.grid, case.channel, case.verified,
                          self._open.get((case.grid, case.subclass), -1))
        return self._ask("file", view, case, self.policy.file)

    def _dispatch_viewed(self, case: Case, u: float, v: float) -> Any:
        view = DispatchView(case.id, case.subclass, case.grid, self._routing[case.subclass],
                            self._n, case.returned_from, self._error)
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
