"""The supervision centre (监督中心) and the command centre (指挥中心).

Supervision: acceptors (受理员) register reports, send inspectors to verify public reports and
to check finished work; shift leaders (值班长) file, void or merge, and close. Command:
dispatchers (派遣员) send filed cases to departments by the handbook, and re-dispatch returns.
Each role is a `StaffPool`; every choice goes through the model's `DecisionPoints`.
"""

from __future__ import annotations

import math
from functools import partial
from typing import TYPE_CHECKING

import mesa

from sim.engine.calendar import DailyWindow
from sim.engine.casebook import Case
from sim.engine.decisions import (
    DEFER,
    CheckView,
    DispatchView,
    FilingView,
    check_rule,
    dispatch_rule,
    filing_rule,
)
from sim.engine.eventlog import ActorKind, Channel, Outcome, Step
from sim.engine.pools import StaffPool
from sim.engine.problems import Fate

if TYPE_CHECKING:
    from sim.model import CityModel

__all__ = ["SupervisionCentre", "CommandCentre"]

AK = ActorKind
# The codes as plain ints: a case packs a dozen into its event rows, and an enum member
# costs an attribute lookup and an int conversion each time.
_REPORT, _VERIFY_SEND, _VERIFY, _MERGE, _FILE, _VOID, _DISPATCH, _CHECK_SEND, _CHECK, _CLOSE = (
    int(s) for s in (Step.REPORT, Step.VERIFY_SEND, Step.VERIFY, Step.MERGE, Step.FILE,
                     Step.VOID, Step.DISPATCH, Step.CHECK_SEND, Step.CHECK, Step.CLOSE))
_INSPECTOR, _CITIZEN, _ACCEPTOR, _SHIFT_LEADER, _DISPATCHER = (
    int(a) for a in (AK.INSPECTOR, AK.CITIZEN, AK.ACCEPTOR, AK.SHIFT_LEADER, AK.DISPATCHER))
_CONFIRMED, _NOT_FOUND, _PASS, _FAIL, _ON_TIME, _OVERDUE, _WRONG, _NONE = (
    int(o) for o in (Outcome.CONFIRMED, Outcome.NOT_FOUND, Outcome.PASS, Outcome.FAIL,
                     Outcome.ON_TIME, Outcome.OVERDUE, Outcome.WRONG, Outcome.NONE))
_BY_INSPECTOR, _PUBLIC = int(Channel.INSPECTOR), int(Channel.PUBLIC)
_OPEN = int(Fate.OPEN)


class SupervisionCentre(mesa.Agent):
    """Acceptors and shift leaders: from report to filing, and from feedback to close."""

    def __init__(self, model: CityModel) -> None:
        super().__init__(model)
        self.m = model
        spec = model.spec.centre
        self.spec = spec
        self.window = DailyWindow.from_clock(spec.hours[0], spec.hours[1], model.calendar)
        env = model.env
        self.acceptors = StaffPool(env, "acceptors", spec.acceptors, self.window)
        self.leaders = StaffPool(env, "shift_leaders", spec.shift_leaders, self.window)
        self.register_t = model.sampler("centre:register", spec.register_minutes)
        self.file_t = model.sampler("centre:file", spec.file_minutes)
        self.close_t = model.sampler("centre:close", spec.close_minutes)
        self.u = model.uniforms("checks")
        self.check_accuracy = model.spec.inspectors.check_accuracy
        self.limit = spec.step_limit_minutes
        self.always_open = self.window.always_open
        # no independent check (before 2004): the department's own feedback closes the case
        self.checks = model.inspectors.active and spec.independent_checks
        self._record = model.cases.record  # looked up once: called a dozen times a case
        # the decision points' built-in rules apply without a view object per case (the
        # model's `decisions` is compared each time, in case it is replaced)
        d = model.decisions
        self._plain_filing = d if d.builtin("file_report") else None
        self._plain_check = d if d.builtin("send_check", "check_passes", "after_check") else None

    def _due(self) -> float:
        """When the centre's next step is due: ``step_limit_minutes`` of opening hours."""
        now = self.m.env._now
        if self.always_open:
            return now + self.limit
        return self.window.next_open(now) + self.limit

    # -- collection to filing ----------------------------------------------------------------
    def receive(self, case: Case) -> None:
        """A report reaches the centre (step 1)."""
        if case.channel == _BY_INSPECTOR:
            self._record(case, _REPORT, _INSPECTOR, case.beat, self._due(), _BY_INSPECTOR)
        else:
            self._record(case, _REPORT, _CITIZEN, -1, self._due(), case.channel)
        self.acceptors.submit(case, self.register_t(), self._registered)

    def _registered(self, case: Case, acceptor: int) -> None:
        m = self.m
        if case.channel == _PUBLIC:
            open_case = m.cases.open_index.get((case.grid, case.subclass), -1)
            view = FilingView(case.id, case.subclass, case.grid, case.channel, None, open_case)
            choice = m.decisions.register_report(view, m.inspectors.active and not case.direct)
            if choice is DEFER:
                m.decisions.park("verify", case, view, partial(self.accept, case, acceptor))
                return
            self.accept(case, acceptor, choice, open_case)
            return
        self.leaders.submit(case, self.file_t(), self._decide_filing)

    def accept(self, case: Case, acceptor: int, choice: str, target: int = -1) -> None:
        """Carry out the acceptor's choice for a registered public report: ``merge`` into
        case ``target`` (-1: the open case of its grid and subclass), send to ``verify``,
        ``void`` it, or pass it to the shift leader to ``file``."""
        m = self.m
        if choice == "merge":
            if target < 0:
                target = m.cases.open_index.get((case.grid, case.subclass), -1)
            self._record(case, _MERGE, _ACCEPTOR, acceptor)
            self._attach(case, target)
        elif choice == "verify":
            limit = m.spec.inspectors.verify_limit_minutes
            self._record(case, _VERIFY_SEND, _ACCEPTOR, acceptor,
                           m.inspectors.task_deadline(case.grid, limit))
            m.inspectors.send(case.grid, case, self._verified)
        elif choice == "void":
            self._record(case, _VOID, _ACCEPTOR, acceptor)
            if case.calls and m.hotline is not None:
                m.hotline.case_ended(case)
        else:
            self.leaders.submit(case, self.file_t(), self._decide_filing)

    def _verified(self, case: Case, _server: int) -> None:
        m = self.m
        there = case.problem >= 0 and m.truth.fate[case.problem] == _OPEN
        case.verified = there
        self._record(case, _VERIFY, _INSPECTOR, case.beat, self._due(),
                     _CONFIRMED if there else _NOT_FOUND)
        self.leaders.submit(case, self.file_t(), self._decide_filing)

    def _decide_filing(self, case: Case, leader: int) -> None:
        m = self.m
        open_case = m.cases.open_index.get((case.grid, case.subclass), -1)
        if m.decisions is self._plain_filing:
            decision = filing_rule(open_case, case.verified)
        else:
            view = FilingView(case.id, case.subclass, case.grid, case.channel, case.verified,
                              open_case)
            decision = m.decisions.file_report(view)
            if decision is DEFER:
                m.decisions.park("file", case, view, partial(self.decide_filing, case, leader))
                return
        self.decide_filing(case, leader, decision, open_case)

    def decide_filing(self, case: Case, leader: int, decision: str, open_case: int = -1
                      ) -> None:
        """Carry out the shift leader's ``file``, ``void`` or ``merge`` (into case
        ``open_case``; -1: the open case of the report's grid and subclass)."""
        m = self.m
        key = (case.grid, case.subclass)
        if open_case < 0:
            open_case = m.cases.open_index.get(key, -1)
        if decision == "merge":
            self._record(case, _MERGE, _SHIFT_LEADER, leader)
            self._attach(case, open_case)
        elif decision == "void":
            self._record(case, _VOID, _SHIFT_LEADER, leader)
            if case.calls and m.hotline is not None:
                m.hotline.case_ended(case)
        else:
            self._record(case, _FILE, _SHIFT_LEADER, leader, self._due())
            m.cases.open_index[key] = case.id
            m.cases.live[case.id] = case
            pid = case.problem
            if pid >= 0:
                m.truth.case[pid] = case.id
                if m.truth.first_case[pid] < 0:
                    m.truth.first_case[pid] = case.id
            m.command.dispatch(case)

    def _attach(self, report: Case, target_id: int) -> None:
        """A merged report's problem rides on the open case: its work covers both, and its
        callers are answered when that case ends."""
        pid = report.problem
        m = self.m
        if report.calls:
            target = m.cases.live.get(target_id)
            if target is not None:
                target.calls = [*(target.calls or ()), *report.calls]
            elif m.hotline is not None:
                m.hotline.case_ended(report)
        if pid < 0 or m.truth.case[pid] >= 0 or m.truth.fate[pid] != _OPEN:
            return
        target = m.cases.live.get(target_id)
        if target is None or target.problem == pid:
            return
        m.truth.case[pid] = target_id
        if target.merged is None:
            target.merged = []
        target.merged.append(pid)

    # -- feedback to close -------------------------------------------------------------------
    def feedback(self, case: Case) -> None:
        """The department reports the work done (step 5); check it, or close if no checks."""
        if self.checks:
            self.acceptors.submit(case, self.register_t(), self._send_check)
        else:
            self.leaders.submit(case, self.close_t(), self._close)

    def _send_check(self, case: Case, acceptor: int) -> None:
        if self.m.decisions is self._plain_check:  # the built-in rule: always check
            self.decide_check(case, acceptor, True)
            return
        send = self.m.decisions.send_check(case.id)
        if send is DEFER:
            self.m.decisions.park("check", case, case.id,
                                  partial(self.decide_check, case, acceptor))
            return
        self.decide_check(case, acceptor, send)

    def decide_check(self, case: Case, acceptor: int, send: bool) -> None:
        """Send an inspector to check the department's work, or (``send`` false) pass the
        case to the shift leader to close on the department's word."""
        m = self.m
        if not send:
            self.leaders.submit(case, self.close_t(), self._close)
            return
        limit = m.spec.inspectors.check_limit_minutes
        self._record(case, _CHECK_SEND, _ACCEPTOR, acceptor,
                       m.inspectors.task_deadline(case.grid, limit))
        m.inspectors.send(case.grid, case, self._checked)

    def _checked(self, case: Case, _server: int) -> None:
        m = self.m
        there = case.problem >= 0 and m.truth.fate[case.problem] == _OPEN
        plain = m.decisions is self._plain_check
        if plain:
            ok = check_rule(there, self.check_accuracy, self.u())
        else:
            ok = m.decisions.check_passes(CheckView(case.id, there, self.check_accuracy),
                                          self.u())
        if ok:
            self._record(case, _CHECK, _INSPECTOR, case.beat, self._due(), _PASS)
        else:
            self._record(case, _CHECK, _INSPECTOR, case.beat, math.nan, _FAIL)
        if plain:  # the built-in rule: close what passed, rework what failed
            self.after_check(case, "close" if ok else "rework")
            return
        then = m.decisions.after_check(case.id, ok)
        if then is DEFER:
            m.decisions.park("close", case, ok, partial(self.after_check, case))
            return
        self.after_check(case, then)

    def after_check(self, case: Case, then: str) -> None:
        """After the check: ``close`` (the shift leader closes) or ``rework``."""
        if then == "close":
            self.leaders.submit(case, self.close_t(), self._close)
        else:
            self.m.departments[case.department].rework(case)

    def _close(self, case: Case, leader: int) -> None:
        m = self.m
        self._record(case, _CLOSE, _SHIFT_LEADER, leader,
                     outcome=_ON_TIME if case.on_time else _OVERDUE)
        key = (case.grid, case.subclass)
        if m.cases.open_index.get(key) == case.id:
            del m.cases.open_index[key]
        m.cases.live.pop(case.id, None)
        if case.calls and m.hotline is not None:
            m.hotline.case_ended(case)
        pids = [case.problem] if case.merged is None else [case.problem, *case.merged]
        for pid in pids:
            if pid >= 0 and m.truth.case[pid] == case.id:
                m.truth.case[pid] = -1
                if m.truth.fate[pid] == _OPEN:  # closed but not solved
                    m.discovery.unseen_again(pid, m.env.now)


class CommandCentre(mesa.Agent):
    """Dispatchers: send each filed case to a department; re-dispatch returned ones."""

    def __init__(self, model: CityModel) -> None:
        super().__init__(model)
        self.m = model
        spec = model.spec.centre
        self.window = DailyWindow.from_clock(spec.hours[0], spec.hours[1], model.calendar)
        self.dispatchers = StaffPool(model.env, "dispatchers", spec.dispatchers, self.window)
        self.dispatch_t = model.sampler("centre:dispatch", spec.dispatch_minutes)
        self._record = model.cases.record
        self.u = model.uniforms("dispatch-decisions")
        self.error = spec.dispatch_error
        self._plain = model.decisions if model.decisions.builtin("dispatch") else None

    def dispatch(self, case: Case) -> None:
        self.dispatchers.submit(case, self.dispatch_t(), self._dispatched)

    def _dispatched(self, case: Case, dispatcher: int) -> None:
        m = self.m
        u, v = self.u(), self.u()
        if m.decisions is self._plain:
            dept = dispatch_rule(m.sub_dept[case.subclass], len(m.departments),
                                 case.returned_from, self.error, u, v)
        else:
            view = DispatchView(case.id, case.subclass, case.grid, m.sub_dept[case.subclass],
                                len(m.departments), case.returned_from, self.error)
            dept = m.decisions.dispatch(view, u, v)
            if dept is DEFER:
                m.decisions.park("dispatch", case, view,
                                 partial(self.send_to, case, dispatcher))
                return
        self.send_to(case, dispatcher, dept)

    def send_to(self, case: Case, dispatcher: int, dept: int) -> None:
        """Dispatch ``case`` to department ``dept``; its handling clock starts now, on the
        handbook limit of the case's subclass."""
        m = self.m
        case.department = dept
        case.deadline = m.calendar.deadline(m.env._now, m.sub_limit[case.subclass],
                                            m.limit_scale)
        self._record(case, _DISPATCH, _DISPATCHER, dispatcher, case.deadline,
                     _WRONG if dept != m.sub_dept[case.true_subclass] else _NONE)
        m.departments[dept].receive(case)

    def returned(self, case: Case, department: int) -> None:
        """A department sent the case back: the dispatcher corrects the subclass and retries."""
        case.returned_from = department
        index = self.m.cases.open_index
        if index.get((case.grid, case.subclass)) == case.id:
            del index[(case.grid, case.subclass)]
        case.subclass = case.true_subclass
        index.setdefault((case.grid, case.subclass), case.id)
        self.dispatchers.submit(case, self.dispatch_t(), self._dispatched)
