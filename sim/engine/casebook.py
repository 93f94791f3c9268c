"""The case (案件): what the platform records about a report, and the one book that keeps it.

A `Case` is the platform's working copy of one report; the truth about a case is its rows in
the event log. `CaseBook` is the only writer of both: every change to a case, to the
platform's index of open cases (by grid and subclass, which is how duplicates are spotted)
and to the links between cases and ground-truth problems goes through one of its named
operations (`file`, `merge`, `void`, `reclassify`, `dispatch`, `returned`, `extend`,
`suspend`, `summon`, `handled`, `checked`, `rework`, `close`...), each writing its row. In
strict mode every row is checked against the state machine in
`sim.engine.eventlog.TRANSITIONS` as it is written (`IllegalTransition`). Everyone else only
reads cases.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Mapping
from types import MappingProxyType
from typing import Any

import simpy

from sim.engine.eventlog import ROW, TRANSITIONS, ActorKind, EventLog, Step
from sim.engine.problems import GroundTruth
from sim.errors import GridLoopError

__all__ = ["Case", "CaseBook", "IllegalTransition"]

NAN = math.nan
_pack = ROW.pack
# The codes as plain ints: a case packs a dozen into its event rows, and an enum member
# costs an attribute lookup and an int conversion each time.
(_REPORT, _SELF_HANDLE, _VERIFY, _MERGE, _FILE, _VOID, _DISPATCH, _RETURN, _EXTEND, _SUSPEND,
 _HANDLE, _CHECK, _REWORK, _CLOSE, _SUMMON) = (int(s) for s in (
    Step.REPORT, Step.SELF_HANDLE, Step.VERIFY, Step.MERGE, Step.FILE, Step.VOID,
    Step.DISPATCH, Step.RETURN, Step.EXTEND, Step.SUSPEND, Step.HANDLE, Step.CHECK,
    Step.REWORK, Step.CLOSE, Step.SUMMON))
_SYSTEM, _INSPECTOR, _CITIZEN, _SHIFT_LEADER, _DISPATCHER, _DEPARTMENT, _SUBDISTRICT = (
    int(a) for a in (ActorKind.SYSTEM, ActorKind.INSPECTOR, ActorKind.CITIZEN,
                     ActorKind.SHIFT_LEADER, ActorKind.DISPATCHER, ActorKind.DEPARTMENT,
                     ActorKind.SUBDISTRICT))
_BY_INSPECTOR = 1  # Channel.INSPECTOR: also the REPORT row's outcome
# outcome codes (`Outcome`)
_CONFIRMED, _NOT_FOUND, _PASS, _FAIL, _ON_TIME, _OVERDUE, _WRONG = 3, 4, 7, 8, 9, 10, 11
_NO_PROBLEMS: tuple[int, ...] = ()
_OPEN = 0  # Fate.OPEN


class IllegalTransition(GridLoopError):
    """A step the case state machine does not allow (a bug in a policy or the engine)."""


class Case:
    """The platform's record of one report, from collection to close (read it; `CaseBook`
    writes it). ``life`` is its process while it is in the loop (`agents.caselife`)."""

    __slots__ = ("id", "problem", "grid", "subclass", "true_subclass", "channel", "beat",
                 "department", "deadline", "last", "returned_from", "on_time", "reworks",
                 "verified", "reported", "suspended", "merged", "calls", "direct", "life")

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
        self.life: Generator[Any, Any, Any] | None = None


class CaseBook:
    """Opens cases, writes their rows, and knows which are open (see the module docstring).

    ``ended``, when set, is called with a case carrying hotline calls that ends (voided,
    merged into a case that has closed, or closed): the hotline surveys its callers.
    """

    def __init__(self, env: simpy.Environment, log: EventLog, truth: GroundTruth,
                 strict: bool = False) -> None:
        self.env = env
        self.log = log
        self.truth = truth
        self.strict = strict
        self.count = 0
        self.ended: Callable[[Case], None] | None = None
        self._open: dict[tuple[int, int], int] = {}  # (grid, subclass) -> open case id
        self._live: dict[int, Case] = {}             # filed, not yet closed
        self.open_index: Mapping[tuple[int, int], int] = MappingProxyType(self._open)
        """(grid, subclass) -> the open case, read-only (`open_case` one at a time)."""
        self._limit = log.limit
        # the problem <-> case links this book writes inline (`file`, `open`): the ground
        # truth's columns themselves, held here to spare a call a case
        self._refs = truth.refs
        self._case = truth.case
        self._first_case = truth.first_case
        self._fate = truth.fate

    # -- reading ---------------------------------------------------------------------------
    def open_case(self, grid: int, subclass: int) -> int:
        """The open (filed, not closed) case of this grid and subclass, or -1."""
        return self._open.get((grid, subclass), -1)

    def duplicate_of(self, case: Case) -> int:
        """The open case a new report ``case`` duplicates, or -1: the open case of its grid and
        subclass, else the open case already tracking its problem under another subclass (an
        inspector misread it). The acceptor and the shift leader see the same thing at the
        same spot in the first report's photos, so one problem never has two open cases."""
        cid = self._open.get((case.grid, case.subclass), -1)
        if cid < 0 and case.problem >= 0:
            return self._case[case.problem]  # (`GroundTruth.case_of`)
        return cid

    def live(self, case_id: int) -> Case | None:
        """Case ``case_id`` if it is filed and not yet closed."""
        return self._live.get(case_id)

    def open_cases(self) -> int:
        """How many cases are filed and not closed."""
        return len(self._live)

    # -- rows ------------------------------------------------------------------------------
    # The operations most cases take (report, verified, file, dispatch, handled, checked,
    # close) write their row themselves, as `record` does: a call less per row.
    def record(self, case: Case, step: int, actor_kind: int, actor: int,
               deadline: float = NAN, outcome: int = 0) -> None:
        """Append the row for ``case`` taking ``step`` now (checked in strict mode). For the
        steps that change nothing but the log (verify_send, check_send, handle_start)."""
        if self.strict:
            self._check(case, step, actor_kind)
        buf = self.log.buf  # read each time: `EventLog.to_array` may start a new one
        buf += _pack(case.id, case.problem, self.env._now, step, actor_kind, actor,
                     case.department, deadline, outcome, case.grid, case.subclass)
        if len(buf) >= self._limit:
            self.log.flush()

    def _check(self, case: Case, step: int, actor_kind: int) -> None:
        """Strict mode: ``step`` must be allowed after the case's last one."""
        if case.last:
            if Step(step) not in TRANSITIONS[Step(case.last)]:
                raise IllegalTransition(
                    f"case {case.id}: {Step(case.last).name} -> {Step(step).name} "
                    f"by {ActorKind(actor_kind).name} is not an allowed transition")
        elif step != Step.REPORT:
            raise IllegalTransition(f"case {case.id}: first step {Step(step).name}, not REPORT")
        case.last = step

    # -- collection to filing --------------------------------------------------------------
    def open(self, problem: int, grid: int, subclass: int, true_subclass: int, channel: int,
             beat: int, *, verified: bool | None = None, call: int = -1,
             direct: bool = False) -> Case:
        """A new case for a report of ``problem`` (-1: nothing real) claiming ``subclass``.
        ``verified=False``: the shift leader can see it does not meet the filing criterion;
        ``call``: the hotline call it answers (``direct``: a work order needing no
        verification)."""
        case = Case(self.count, problem, grid, subclass, true_subclass, channel, beat,
                    self.env._now)  # type: ignore[attr-defined]
        self.count += 1
        if problem >= 0:  # the case names its problem until it ends
            self._refs[problem] += 1
        if verified is not None:
            case.verified = verified
        if call >= 0:
            case.calls = [call]
            case.direct = direct
        return case

    def report(self, case: Case, deadline: float) -> None:
        """The report reaches the centre (REPORT; the channel is its outcome)."""
        if case.channel == _BY_INSPECTOR:
            kind, actor = _INSPECTOR, case.beat
        else:
            kind, actor = _CITIZEN, -1
        if self.strict:
            self._check(case, _REPORT, kind)
        buf = self.log.buf
        buf += _pack(case.id, case.problem, self.env._now, _REPORT, kind, actor,
                     case.department, deadline, case.channel, case.grid, case.subclass)
        if len(buf) >= self._limit:
            self.log.flush()

    def self_handled(self, case: Case) -> None:
        """The inspector fixed it on the spot: reported and ended at once (SELF_HANDLE)."""
        self.record(case, _REPORT, _INSPECTOR, case.beat, NAN, _BY_INSPECTOR)
        self.record(case, _SELF_HANDLE, _INSPECTOR, case.beat)
        pid = case.problem  # it dealt with its problem (unless an earlier case did) and ends
        first = self._first_case
        if first[pid] < 0:
            first[pid] = case.id
        self._refs[pid] -= 1

    def verified(self, case: Case, there: bool, deadline: float) -> None:
        """The inspector's verification on site found the problem, or nothing (VERIFY)."""
        case.verified = there
        if self.strict:
            self._check(case, _VERIFY, _INSPECTOR)
        buf = self.log.buf
        buf += _pack(case.id, case.problem, self.env._now, _VERIFY, _INSPECTOR, case.beat,
                     case.department, deadline, _CONFIRMED if there else _NOT_FOUND, case.grid,
                     case.subclass)
        if len(buf) >= self._limit:
            self.log.flush()

    def merge(self, case: Case, into: int, actor_kind: int, actor: int) -> None:
        """A duplicate joins open case ``into`` and ends (MERGE). The problem it reports, if
        another one, rides on that case: its work covers both; its callers are answered
        when that case ends."""
        self.record(case, _MERGE, actor_kind, actor)
        target = self._live.get(into)
        if case.calls:
            if target is not None:
                target.calls = [*(target.calls or ()), *case.calls]
            elif self.ended is not None:
                self.ended(case)
        pid = case.problem
        if pid >= 0:
            self._refs[pid] -= 1  # it no longer names its problem
        if target is None or pid < 0 or target.problem == pid:
            return
        if self.truth.ride_on(pid, into):
            if target.merged is None:
                target.merged = []
            target.merged.append(pid)

    def void(self, case: Case, actor_kind: int, actor: int) -> None:
        """The report is voided and ends (VOID)."""
        self.record(case, _VOID, actor_kind, actor)
        if case.problem >= 0:
            self._refs[case.problem] -= 1  # it no longer names its problem
        if case.calls and self.ended is not None:
            self.ended(case)

    def file(self, case: Case, leader: int, deadline: float) -> None:
        """The shift leader files the case (FILE): it is open, indexed by its grid and
        subclass, and tracks its problem."""
        if self.strict:
            self._check(case, _FILE, _SHIFT_LEADER)
        buf = self.log.buf
        buf += _pack(case.id, case.problem, self.env._now, _FILE, _SHIFT_LEADER, leader,
                     case.department, deadline, 0, case.grid, case.subclass)
        if len(buf) >= self._limit:
            self.log.flush()
        self._open[(case.grid, case.subclass)] = case.id
        self._live[case.id] = case
        pid = case.problem
        if pid >= 0:  # the case tracks its problem; the first case filed for it is kept
            self._case[pid] = case.id
            first = self._first_case
            if first[pid] < 0:
                first[pid] = case.id

    def reclassify(self, case: Case, subclass: int) -> None:
        """The platform corrects the case's subclass; the open-case index follows."""
        if subclass == case.subclass:
            return
        index = self._open
        if case.id in self._live:
            if index.get((case.grid, case.subclass)) == case.id:
                del index[(case.grid, case.subclass)]
            index.setdefault((case.grid, subclass), case.id)
        case.subclass = subclass

    # -- dispatch and handling -------------------------------------------------------------
    def dispatch(self, case: Case, dispatcher: int, department: int, deadline: float,
                 wrong: bool) -> None:
        """Sent to ``department`` with its handling deadline (DISPATCH; ``wrong``: not the
        handbook's department for the true subclass, which only the simulator knows)."""
        case.department = department
        case.deadline = deadline
        if self.strict:
            self._check(case, _DISPATCH, _DISPATCHER)
        buf = self.log.buf
        buf += _pack(case.id, case.problem, self.env._now, _DISPATCH, _DISPATCHER, dispatcher,
                     department, deadline, _WRONG if wrong else 0, case.grid, case.subclass)
        if len(buf) >= self._limit:
            self.log.flush()

    def returned(self, case: Case, department: int) -> None:
        """The department sends the case back, not its duty (RETURN); the dispatcher
        corrects the subclass to the true one before dispatching again."""
        self.record(case, _RETURN, _DEPARTMENT, -1)
        case.returned_from = department
        self.reclassify(case, case.true_subclass)

    def extend(self, case: Case, deadline: float) -> None:
        """The command centre grants the department more time (EXTEND)."""
        case.deadline = deadline
        self.record(case, _EXTEND, _DEPARTMENT, -1, deadline)

    def suspend(self, case: Case) -> None:
        """The department suspends the case for now (SUSPEND)."""
        case.suspended = True
        self.record(case, _SUSPEND, _DEPARTMENT, -1)

    def summon(self, case: Case, subdistrict: int, department: int, due: float) -> None:
        """A subdistrict blows the whistle: ``department`` must be on site by ``due``
        (SUMMON)."""
        case.department = department
        self.record(case, _SUMMON, _SUBDISTRICT, subdistrict, due)

    def handled(self, case: Case, crew: int, outcome: int, deadline: float) -> None:
        """The department reports the work done (HANDLE; -1 crew: the summoned department's
        people), judged against the handling deadline in force."""
        now = self.env._now
        case.on_time = now <= case.deadline
        if self.strict:
            self._check(case, _HANDLE, _DEPARTMENT)
        buf = self.log.buf
        buf += _pack(case.id, case.problem, now, _HANDLE, _DEPARTMENT, crew, case.department,
                     deadline, outcome, case.grid, case.subclass)
        if len(buf) >= self._limit:
            self.log.flush()

    # -- check to close --------------------------------------------------------------------
    def checked(self, case: Case, passed: bool, deadline: float) -> None:
        """The inspector's check on site (CHECK): pass (close is due) or fail."""
        if self.strict:
            self._check(case, _CHECK, _INSPECTOR)
        buf = self.log.buf
        buf += _pack(case.id, case.problem, self.env._now, _CHECK, _INSPECTOR, case.beat,
                     case.department, deadline if passed else NAN, _PASS if passed else _FAIL,
                     case.grid, case.subclass)
        if len(buf) >= self._limit:
            self.log.flush()

    def rework(self, case: Case, deadline: float) -> None:
        """A failed check sends the case back with a fresh handling deadline (REWORK)."""
        case.reworks += 1
        case.deadline = deadline
        self.record(case, _REWORK, _SYSTEM, -1, deadline)

    def close(self, case: Case, leader: int) -> tuple[int, ...]:
        """The shift leader closes the case (CLOSE). Returns the problems it tracked that are
        still there (closed, not solved), which patrols may now find again."""
        if self.strict:
            self._check(case, _CLOSE, _SHIFT_LEADER)
        buf = self.log.buf
        buf += _pack(case.id, case.problem, self.env._now, _CLOSE, _SHIFT_LEADER, leader,
                     case.department, NAN, _ON_TIME if case.on_time else _OVERDUE, case.grid,
                     case.subclass)
        if len(buf) >= self._limit:
            self.log.flush()
        key = (case.grid, case.subclass)
        if self._open.get(key) == case.id:
            del self._open[key]
        self._live.pop(case.id, None)
        if case.calls and self.ended is not None:
            self.ended(case)
        if case.merged is None:  # (`GroundTruth.untrack` inline: a call less a case)
            pid = case.problem
            if pid < 0:
                return _NO_PROBLEMS
            self._refs[pid] -= 1
            tracking = self._case
            if tracking[pid] != case.id:
                return _NO_PROBLEMS
            tracking[pid] = -1
            return (pid,) if self._fate[pid] == _OPEN else _NO_PROBLEMS
        truth = self.truth
        return tuple(p for p in (case.problem, *case.merged)
                     if p >= 0 and truth.untrack(p, case.id))
