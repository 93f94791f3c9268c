"""The case (案件): what the platform records about a report, and its legal transitions.

A `Case` is the platform's mutable working copy; the truth about a case is its rows in the
event log, written through `CaseBook.record`, which (in strict mode) refuses any step the
state machine in `sim.engine.eventlog.TRANSITIONS` does not allow. `CaseBook` also keeps the
platform's index of open cases by (grid, subclass), which is how duplicates are spotted.
"""

from __future__ import annotations

import math

import simpy

from sim.engine.eventlog import ROW, TRANSITIONS, ActorKind, EventLog, Step
from sim.errors import GridLoopError

__all__ = ["Case", "CaseBook", "IllegalTransition"]

NAN = math.nan
_pack = ROW.pack


class IllegalTransition(GridLoopError):
    """A step the case state machine does not allow (a bug in a policy or the engine)."""


class Case:
    """The platform's record of one report, from collection to close."""

    __slots__ = ("id", "problem", "grid", "subclass", "true_subclass", "channel", "beat",
                 "department", "deadline", "last", "returned_from", "on_time", "reworks",
                 "verified", "reported", "suspended", "merged", "calls",
                 "direct")

    def __init__(self, cid: int, problem: int, grid: int, subclass: int, true_subclass: int,
                 channel: int, beat: int, reported: float) -> None:
        self.id = cid
        self.problem = problem
        self.grid = grid
        self.subclass = subclass
        self.true_subclass = true_subclass
        self.channel = channel
        self.beat = beat
        self.department = -1
        self.deadline = NAN
        self.last = 0
        self.returned_from = -1
        self.on_time = True
        self.reworks = 0
        self.verified: bool | None = None
        self.reported = reported
        self.suspended = False
        self.merged: list[int] | None = None  # other problems whose reports merged in
        self.calls: list[int] | None = None   # hotline calls this case answers
        self.direct = False                   # hotline work order: no verification


class CaseBook:
    """Creates cases, writes their event rows and knows which are open."""

    def __init__(self, env: simpy.Environment, log: EventLog, strict: bool = False) -> None:
        self.env = env
        self.log = log
        self.strict = strict
        self.count = 0
        self.open_index: dict[tuple[int, int], int] = {}
        self.live: dict[int, Case] = {}  # filed, not yet closed
        self._buf = log.buf
        self._limit = log.limit
        if strict:  # check every transition against the state machine as it happens
            self.record = self._record_strict  # type: ignore[method-assign]

    def open(self, problem: int, grid: int, subclass: int, true_subclass: int, channel: int,
             beat: int) -> Case:
        case = Case(self.count, problem, grid, subclass, true_subclass, channel, beat,
                     self.env.now)
        self.count += 1
        return case

    def record(self, case: Case, step: int, actor_kind: int, actor: int,
               deadline: float = NAN, outcome: int = 0) -> None:
        """Append the row for ``case`` taking ``step`` now (checked in strict mode)."""
        buf = self._buf
        buf += _pack(case.id, case.problem, self.env._now, step, actor_kind, actor,
                     case.department, deadline, outcome, case.grid, case.subclass)
        if len(buf) >= self._limit:
            self.log.flush()
            self._buf = self.log.buf

    def _record_strict(self, case: Case, step: int, actor_kind: int, actor: int,
                       deadline: float = NAN, outcome: int = 0) -> None:
        self._check(case, step, actor_kind)
        case.last = step
        CaseBook.record(self, case, step, actor_kind, actor, deadline, outcome)

    def _check(self, case: Case, step: int, actor_kind: int) -> None:
        if case.last:
            if Step(step) not in TRANSITIONS[Step(case.last)]:
                raise IllegalTransition(
                    f"case {case.id}: {Step(case.last).name} -> {Step(step).name} "
                    f"by {ActorKind(actor_kind).name} is not an allowed transition")
        elif step != Step.REPORT:
            raise IllegalTransition(f"case {case.id}: first step {Step(step).name}, not REPORT")
