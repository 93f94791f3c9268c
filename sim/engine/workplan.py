"""How a department plans and paces its work on cases: pure rules (docs/domain.md §4, §11).

A case reaches a department with a deadline and a plan of stages from the handbook (make
safe, wait for a part, repair: `sim.data.taxonomy.Stage`). A department process calls the
rules below with plain values and yields crew jobs and waits:

- `draw_stages` draws the stages one case goes through and how long each takes;
- `slack_share` and `release_delay`: when to put the case in front of the crews. Nobody
  starts a two-day job the minute it arrives when nothing ranks them on it: a department lets
  a share of the slack pass (Parkinson's law), less the more its evaluation weighs timeliness;
- `queue_key`: the crews' order (urgent first, then earliest deadline; under triage what is
  already late goes last);
- `stretch`: overtime, borrowed crews and triage as the backlog grows, within the limits the
  scenario states, so that capacity bends before it breaks;
- `time_pressure` and `quality_under_pressure`: hurried work fixes less;
- `wait_request`: a stage's long wait asks for an extension (延期) or suspends the case (挂账).

Every number comes from the scenario (`DepartmentSpec`) or the handbook; the functions hold
none. Minutes throughout; ``time_left`` and the like count on the clock the deadline counts
on (working minutes for ``wh``/``wd`` limits, clock minutes for ``h`` ones).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Literal, NamedTuple

from sim.data.scenario import DepartmentSpec
from sim.data.taxonomy import Stage

__all__ = ["Step", "StageTable", "Stretch", "draw_stages", "slack_share", "release_delay",
           "queue_key", "backlog_hours", "stretch", "time_pressure", "quality_under_pressure",
           "wait_request", "WaitAnswer"]

WaitAnswer = Literal["wait", "extend", "suspend"]

_TIER = 1.0e8
"""Minutes (about 190 years) between the tiers of `queue_key`: an ordering device, larger than
any deadline, not a model number."""


class Step(NamedTuple):
    """One stage of one case, drawn: what it is and how long it takes.

    ``minutes`` is on-site work for a crew stage (travel comes on top, the department's) and
    the length of the wait for a wait stage, in working minutes when ``working``.
    ``department`` names another department whose crews do a crew stage (None: the case's).
    ``milestone`` is the stage's own limit from dispatch, in minutes on its clock (None: none).
    """

    name: str
    wait: bool
    minutes: float
    working: bool
    department: str | None
    waits_for: str | None
    milestone: tuple[float, str] | None


class StageTable:
    """One subclass's stages, ready to draw case after case.

    ``durations[i]()`` draws stage ``i``'s length in minutes (a `sim.data.distributions`
    sampler on its own stream, scaled by 60); ``chance()`` draws the uniform that decides
    whether a stage with ``chance < 1`` happens. The expected crew minutes and wait minutes
    of the whole plan (`expected`) are what a department plans with before it knows the draws.
    """

    __slots__ = ("stages", "durations", "chance", "crew_minutes", "wait_minutes")

    def __init__(self, stages: Sequence[Stage], durations: Sequence[Callable[[], float]],
                 chance: Callable[[], float]) -> None:
        if len(stages) != len(durations):
            raise ValueError(f"{len(stages)} stages but {len(durations)} duration samplers")
        self.stages = tuple(stages)
        self.durations = tuple(durations)
        self.chance = chance
        self.crew_minutes = sum(60.0 * s.chance * s.hours.expected() for s in stages
                                if not s.is_wait)
        self.wait_minutes = sum(60.0 * s.chance * s.hours.expected() for s in stages
                                if s.is_wait)

    def draw(self) -> list[Step]:
        """The stages of one case (`draw_stages`)."""
        return draw_stages(self.stages, self.durations, self.chance)

    def expected(self, travel_minutes: float) -> float:
        """Expected minutes of the whole plan, each crew stage with one journey."""
        visits = sum(s.chance for s in self.stages if not s.is_wait)
        return self.crew_minutes + self.wait_minutes + visits * travel_minutes


def draw_stages(stages: Sequence[Stage], durations: Sequence[Callable[[], float]],
                chance: Callable[[], float]) -> list[Step]:
    """The stages one case goes through, in order, each with its length drawn.

    A stage with ``chance < 1`` happens when a uniform draw falls below it (materials out of
    stock in 60 % of cases); the handbook guarantees a crew stage that always happens.
    """
    return [_step(s, durations[i]()) for i, s in enumerate(stages)
            if s.chance >= 1.0 or chance() < s.chance]


def _step(s: Stage, minutes: float) -> Step:
    milestone = None if s.limit is None else (s.limit.value, s.limit.unit)
    return Step(s.name, s.is_wait, minutes, s.is_wait and s.unit == "wh", s.department,
                s.waits_for, milestone)


# -- planning against the deadline ------------------------------------------------------------

def slack_share(slack_use: float, slack_pressure: float, pressure: float) -> float:
    """Share of a case's slack a department lets pass before starting it.

    ``slack_use`` under no pressure, falling as ``slack_use / (1 + slack_pressure x
    pressure)`` with the evaluation pressure on timeliness it is under
    (`sim.engine.behaviour.planning_pressure`): a ranked department starts sooner.
    """
    if not 0.0 <= slack_use <= 1.0:
        raise ValueError(f"slack_use must be in [0, 1], got {slack_use}")
    return slack_use / (1.0 + max(0.0, slack_pressure) * max(0.0, pressure))


def release_delay(time_left: float, needed: float, share: float, urgent: bool) -> float:
    """Minutes a case waits before it joins the crews' queue.

    ``time_left`` is the time to the deadline, ``needed`` what the department expects the
    remaining work and waits to take (`StageTable.expected`); the slack is what is left over
    and the department lets ``share`` of it pass. Urgent cases and cases with no slack go to
    the crews at once. A longer limit means a later start, so the limit changes the work and
    not just the yardstick.
    """
    if urgent:
        return 0.0
    slack = time_left - needed
    return share * slack if slack > 0.0 else 0.0


def queue_key(deadline: float, urgent: bool, overdue: bool, triage: bool,
              overdue_last: bool = True) -> float:
    """The crews' order, smaller first: urgent cases, then the earliest deadline; under
    triage (and ``overdue_last``) a case already past its deadline goes behind every case
    still on time, since it counts as late whatever is done."""
    key = deadline
    if urgent:
        key -= _TIER
    elif triage and overdue and overdue_last:
        key += _TIER
    return key


# -- capacity that bends ----------------------------------------------------------------------

class Stretch(NamedTuple):
    """What a department does about its backlog today."""

    overtime_hours: float   # each crew stays on this long after its duty hours
    borrowed_crews: int     # crews borrowed from the lenders
    triage: bool            # late cases go last (`queue_key`)


def backlog_hours(queued_minutes: float, crews: int) -> float:
    """Queued crew work (travel and on-site minutes of the cases waiting) per crew, in hours."""
    return queued_minutes / 60.0 / crews if crews > 0 else math.inf


def stretch(backlog: float, spec: DepartmentSpec, duty_hours: float) -> Stretch:
    """Overtime, borrowing and triage for a backlog of ``backlog`` crew-hours per crew.

    Crews stay on for the excess over ``overtime.backlog_hours``, at most
    ``overtime.max_hours`` a day. Borrowing covers what is left over the
    ``borrowing.backlog_hours`` threshold after overtime, in crews working ``duty_hours`` a
    day, at most ``borrowing.max_crews`` (and only with lenders). Triage starts above
    ``triage.backlog_hours``. Each step is graded, so a growing backlog meets a growing
    answer rather than a switch.
    """
    ot = spec.overtime
    overtime = min(ot.max_hours, max(0.0, backlog - ot.backlog_hours))
    b = spec.borrowing
    borrowed = 0
    excess = backlog - overtime - b.backlog_hours
    if b.lenders and b.max_crews and excess > 0 and duty_hours > 0:
        borrowed = min(b.max_crews, math.ceil(excess * spec.crews / duty_hours))
    t = spec.triage.backlog_hours
    return Stretch(overtime, borrowed, t is not None and backlog > t)


def time_pressure(time_left: float, needed: float) -> float:
    """How hurried work is, 0 (twice the time needed or more) to 1 (no slack, or late)."""
    if needed <= 0.0:
        return 0.0 if time_left > 0.0 else 1.0
    return min(1.0, max(0.0, 2.0 - time_left / needed))


def quality_under_pressure(quality: float, slip: float, pressure: float) -> float:
    """The chance the work fixes the problem when done under ``pressure`` (`time_pressure`):
    ``quality`` falls by the share ``slip`` at full pressure."""
    return quality * (1.0 - slip * min(1.0, max(0.0, pressure)))


# -- waits that no crew controls --------------------------------------------------------------

def wait_request(wait: float, time_left: float, work_left: float, extensions: int,
                 spec: DepartmentSpec, waits_for: str | None = None) -> WaitAnswer:
    """What a department does when a stage must wait ``wait`` minutes (working time).

    Suspend (挂账) when the wait is longer than ``suspend_wait_hours`` or is for the season
    or for funds (docs/domain.md §11: seasonal works, waiting for funds or a project are
    parked in the problem bank); ask for an extension (延期) when the wait and the work left
    (``work_left``) overrun the time left and the department has extensions left
    (``max_extensions``, counting the ``extensions`` already granted); otherwise just wait.
    """
    if waits_for in ("season", "funds") or wait > 60.0 * spec.suspend_wait_hours:
        return "suspend"
    if wait + work_left > time_left and extensions < spec.max_extensions:
        return "extend"
    return "wait"
