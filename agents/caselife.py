"""One case's life, from report to close: the closed loop (闭环) of docs/domain.md §3, one process.

`CaseLife.life` is a plain generator, one per case, read top to bottom. It yields whatever
the case waits for (`sim.engine.clock`): a staff pool's job (``acceptor = yield
sup.acceptors.job(case, minutes)``, resumed with the server when the work is done), an
inspector's task, a desk decision (``dept = decide.dispatch(case, u, v)``: the answer at
once, or `PENDING` when a person took the question, which the life then yields to wait for
the answer), or the department's part
(``yield from department.handle(case)``, `agents.department`). Every change to the case goes
through the case book (`sim.engine.casebook.CaseBook`), which writes the event rows.

Problems (ground truth) and patrols live in batches elsewhere (`agents.discovery`,
`agents.inspector`); they hand a case over here by `CaseLife.begin`, and the life hands a
problem back to them when a case closes while its problem is still there.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from sim.engine.casebook import Case
from sim.engine.clock import PENDING
from sim.engine.eventlog import ActorKind, Channel, Step

if TYPE_CHECKING:
    from sim.model import CityModel

__all__ = ["CaseLife"]

Life = Generator[Any, Any, None]
_PUBLIC = int(Channel.PUBLIC)
_VERIFY_SEND, _CHECK_SEND = int(Step.VERIFY_SEND), int(Step.CHECK_SEND)
_ACCEPTOR, _SHIFT_LEADER = int(ActorKind.ACCEPTOR), int(ActorKind.SHIFT_LEADER)


class CaseLife:
    """The steps every case goes through, and who takes them."""

    def __init__(self, model: CityModel) -> None:
        self.env = model.env
        self.book = model.cases
        self.decide = model.decide
        self.sup = model.supervision
        self.cmd = model.command
        self.inspectors = model.inspectors
        self.departments = model.departments
        self.discovery = model.discovery
        self.fate = model.truth.fate
        self.routing = model.sub_dept
        self.calendar = model.calendar
        self.limits = model.sub_limit
        self.scale = model.limit_scale
        # per subclass, what `WorkingCalendar.deadline` adds to the time a limit is set: clock
        # minutes (``h``: True) or working minutes, computed as it computes them
        w = model.calendar.working_minutes_per_day
        self._limit_minutes = [
            (lim.unit == "h", lim.value * (w if lim.unit == "wd" else 60.0) * self.scale)
            for lim in self.limits]
        spec = model.spec.inspectors
        self.verify_limit = spec.verify_limit_minutes
        self.check_limit = spec.check_limit_minutes
        # the policy's own `check` / `close` (or a person's) are asked; the built-in rules
        # (check every case; close on a pass) are applied here without a call
        self.ask_check = "check" in model.decide.viewed
        self.ask_close = "close" in model.decide.viewed

    def begin(self, case: Case) -> None:
        """A report reaches the supervision centre: its case starts its life (`start`, inlined:
        once a case)."""
        case.life = life = self.life(case)
        try:
            value = life.send(None)
            while value is not PENDING:
                value = life.send(value)
        except StopIteration:
            case.life = None

    def life(self, case: Case) -> Life:
        """Case ``case`` from its report to its close (or to a merge or a void)."""
        book, decide, sup, cmd = self.book, self.decide, self.sup, self.cmd
        # 1 collection (上报): the report reaches the centre; an acceptor registers it
        book.report(case, sup.due())
        acceptor = yield sup.acceptors.job(case, sup.register_t())
        # 2 verification (核实): the acceptor merges a public report, voids it, passes it to
        #   filing, or sends the beat's inspector to see whether the problem is there
        if case.channel == _PUBLIC:
            choice = decide.verify(case, self.inspectors.active and not case.direct)
            if choice is PENDING:  # a person takes it: wait for the answer
                choice = yield choice
            if choice == "verify":
                book.record(case, _VERIFY_SEND, _ACCEPTOR, acceptor,
                            self.inspectors.task_deadline(self.verify_limit))
                yield self.inspectors.task(case)
                book.verified(case, self.problem_there(case), sup.due())
            elif choice == "void":
                book.void(case, _ACCEPTOR, acceptor)
                return
            elif choice != "file":
                book.merge(case, choice[1], _ACCEPTOR, acceptor)
                return
        # 3 filing (立案): the shift leader files it, voids it or merges it into an open case
        leader = yield sup.leaders.job(case, sup.file_t())
        choice = decide.file(case)
        if choice is PENDING:
            choice = yield choice
        if choice == "void":
            book.void(case, _SHIFT_LEADER, leader)
            return
        if choice != "file":
            book.merge(case, choice[1], _SHIFT_LEADER, leader)
            return
        book.file(case, leader, sup.due())
        # 4 dispatch (派遣) and 5 handling (处置): a dispatcher sends it to a department, which
        #   handles it and reports back, or returns it (not its duty) to be dispatched again
        while True:
            dispatcher = yield cmd.dispatchers.job(case, cmd.dispatch_t())
            dept = decide.dispatch(case, cmd.u(), cmd.u())
            if dept is PENDING:
                dept = yield dept
            book.dispatch(case, dispatcher, dept, self.handling_deadline(case),
                          dept != self.routing[case.true_subclass])
            if (yield from self.departments[dept].handle(case)):
                break
        # 6 check (核查): an acceptor sends the beat's inspector to check the work; a failed
        #   check sends the case back for rework (返工)
        while sup.checks:
            acceptor = yield sup.acceptors.job(case, sup.register_t())
            if self.ask_check:  # the built-in rule checks every case
                check = decide.check(case)
                if check is PENDING:
                    check = yield check
                if not check:
                    break  # closed on the department's word
            book.record(case, _CHECK_SEND, _ACCEPTOR, acceptor,
                        self.inspectors.task_deadline(self.check_limit))
            yield self.inspectors.task(case)
            passed = decide.check_passes(case, self.problem_there(case), sup.check_accuracy,
                                         sup.u())
            book.checked(case, passed, sup.due())
            if self.ask_close:
                close = decide.close(case, passed)
                if close is PENDING:
                    close = yield close
                if close == "close":
                    break
            elif passed:  # the built-in rule: close after a pass, rework after a fail
                break
            book.rework(case, self.handling_deadline(case))
            yield from self.departments[case.department].handle(case, rework=True)
        # 7 close (结案): the shift leader closes it; a problem still there is unseen again
        leader = yield sup.leaders.job(case, sup.close_t())
        for pid in book.close(case, leader):
            self.discovery.unseen_again(pid, self.env._now)  # type: ignore[attr-defined]

    def problem_there(self, case: Case) -> bool:
        """Whether the case's problem is still there (what an inspector sees on site)."""
        return case.problem >= 0 and not self.fate[case.problem]

    def handling_deadline(self, case: Case) -> float:
        """The handbook's handling limit for the case's subclass, from now (working time):
        `WorkingCalendar.deadline` with the limit's minutes worked out once."""
        clock, minutes = self._limit_minutes[case.subclass]
        now = self.env._now  # type: ignore[attr-defined]
        return now + minutes if clock else self.calendar.add_working(now, minutes)
