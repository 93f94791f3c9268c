"""Views: what each decider sees, as plain read-only values (`sim.engine.decisions`).

One NamedTuple per kind of decision, built by the engine from the case when a policy's own
method is asked (never for the built-in rules), and `CityView`, the read-only view of the
city a policy is bound to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from sim.data.citymap import CityMap
    from sim.data.taxonomy import Handbook
    from sim.engine.casebook import CaseBook
    from sim.engine.clock import Clock

__all__ = ["FilingView", "DispatchView", "ReceiptView", "ExtensionView", "QueueView",
           "FeedbackView", "CheckView", "PatrolView", "CityView"]


class FilingView(NamedTuple):
    """A registered report, as the acceptor (``verify``) or shift leader (``file``) sees it."""

    case: int
    subclass: int
    grid: int
    channel: int              # Channel: 1 inspector, 2 public
    verified: bool | None     # None: not verified (yet, or not needed)
    open_case: int            # the open case it duplicates (`CaseBook.duplicate_of`), or -1
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
    alternates: tuple[int, ...] = ()        # departments that plausibly own it (handbook)
    alternate_cum: tuple[float, ...] = ()   # their cumulative weights


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
