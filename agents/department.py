"""Departments (专业部门/处置单位): crews that go out and handle dispatched cases.

A department acknowledges a case, returns it if it is not its duty (回退), may ask for an
extension (延期) or a suspension (挂账), then queues it for a crew (earliest deadline first or
first come first served, within the department's working hours). A crew's visit takes
travel plus the subclass's handling time; the work fixes the problem with the department's
quality, so a check can fail and send the case back for rework (返工).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import mesa

from sim.data.scenario import DepartmentSpec
from sim.engine.calendar import DailyWindow
from sim.engine.casebook import Case
from sim.engine.decisions import DEFER, ExtensionView
from sim.engine.eventlog import ActorKind, Outcome, Step
from sim.engine.pools import StaffPool
from sim.engine.problems import Fate

if TYPE_CHECKING:
    from sim.model import CityModel

__all__ = ["Department"]

AK = ActorKind
# plain ints for the hot path (see agents/centre.py)
_HANDLE_START, _HANDLE = int(Step.HANDLE_START), int(Step.HANDLE)
_DEPARTMENT = int(AK.DEPARTMENT)
_FIXED, _NOT_FIXED, _GONE = int(Outcome.FIXED), int(Outcome.NOT_FIXED), int(Outcome.GONE)
_OPEN = int(Fate.OPEN)


class Department(mesa.Agent):
    """One handling unit and its crews."""

    def __init__(self, model: CityModel, index: int, name: str, spec: DepartmentSpec) -> None:
        super().__init__(model)
        self.m = model
        self.index = index
        self.name = name
        self.spec = spec
        self.window = DailyWindow.from_clock(spec.hours[0], spec.hours[1], model.calendar,
                                             spec.days)
        self.crews = StaffPool(model.env, name, spec.crews, self.window, spec.priority,
                               on_start=self._start)
        self._record = model.cases.record
        key = f"department:{name}"
        self.u = model.uniforms(f"{key}:decisions")
        self.u_quality = model.uniforms(f"{key}:quality")
        self.travel = model.sampler(f"{key}:travel", spec.travel_minutes)
        self.ack = model.sampler(f"{key}:acknowledge", spec.acknowledge_minutes)
        self.suspend_for = model.sampler(f"{key}:suspension", spec.suspension_days, 1440.0)
        r = model.reaction  # how the unit reacts to the rule set (sim.engine.behaviour)
        self.handling = [model.sampler(f"{key}:handling:{s.code}", s.handling_hours,
                                       60.0 * r.handling_factor)
                         for s in model.handbook.subclasses]
        self.quality = min(1.0, max(0.0, spec.quality + r.quality_delta))
        self.extension_rate = min(1.0, spec.extension_rate + r.extension_delta)
        self.own_return_rate = r.own_return_rate
        self.u_pingpong = model.uniforms(f"{key}:ping-pong")
        self.whistle = model.whistle  # whistle-and-report (agents/whistle.py), or None
        self.intake = (None if spec.intake_hours is None else
                       model.sampler(f"{key}:intake", spec.intake_hours, 60.0))

    def receive(self, case: Case) -> None:
        """A dispatched case arrives (step 4 begins)."""
        m = self.m
        d = m.decisions
        w = self.whistle
        if w is not None and w.on_arrival(case):  # summoned: on site at once, not queued
            return
        not_ours = m.sub_dept[case.true_subclass] != self.index
        u = self.u
        if d.return_case(not_ours, self.spec.returns_wrong, u()) or (
                self.own_return_rate and self.u_pingpong() < self.own_return_rate):
            ev = m.env.timeout(self.ack(), case)
            ev.callbacks.append(self._return)
            return
        if d.request_suspension(self.spec.suspension_rate, u()):
            case.suspended = True
            self._record(case, Step.SUSPEND, AK.DEPARTMENT, -1)
            ev = m.env.timeout(self.suspend_for(), case)
            ev.callbacks.append(self._resume)
            return
        if d.request_extension(self.extension_rate, u()):
            view = ExtensionView(case.id, case.subclass, self.index, case.deadline)
            grant = d.grant_extension(view)
            if grant is DEFER:  # the work waits for the command centre's answer
                d.park("extension", case, view, partial(self.extension_answered, case))
                return
            self.extension_answered(case, grant)
            return
        self._take_in(case)

    def extension_answered(self, case: Case, grant: bool) -> None:
        """The command centre answered an extension request: a granted one adds one more
        full handling limit from the old deadline. Then the case is taken in."""
        if grant:
            m = self.m
            case.deadline = m.calendar.deadline(case.deadline, m.sub_limit[case.subclass],
                                                m.limit_scale)
            self._record(case, Step.EXTEND, AK.DEPARTMENT, -1, case.deadline)
        self._take_in(case)

    def _take_in(self, case: Case) -> None:
        """An accepted case joins the crews' queue, after the in-tray where there is one."""
        if self.intake is not None:  # waits in the in-tray first (before 2004)
            if self.whistle is not None:
                self.whistle.wait(case, self)
            ev = self.m.env.timeout(self.intake(), case)
            ev.callbacks.append(self._resume)
            return
        self._queue(case)

    def rework(self, case: Case) -> None:
        """A failed check sends the case back with a fresh handling limit (返工)."""
        m = self.m
        case.reworks += 1
        case.deadline = m.calendar.deadline(m.env.now, m.sub_limit[case.subclass], m.limit_scale)
        self._record(case, Step.REWORK, AK.SYSTEM, -1, case.deadline)
        self._queue(case)

    def _queue(self, case: Case) -> None:
        m = self.m
        minutes = self.travel() + self.handling[case.true_subclass]()
        key = m.decisions.queue_key(self.spec.priority, case.deadline, m.env._now)
        if self.whistle is not None:
            self.whistle.wait(case, self)
        self.crews.submit(case, minutes, self._handled, key)

    def _return(self, ev: object) -> None:
        case = ev._value  # type: ignore[attr-defined]
        self._record(case, Step.RETURN, AK.DEPARTMENT, -1)
        if self.whistle is not None:
            self.whistle.returned(case)
        self.m.command.returned(case, self.index)

    def _resume(self, ev: object) -> None:
        case = ev._value  # type: ignore[attr-defined]
        if self.whistle is not None and case.id in self.whistle.summoned:
            return  # summoned while it waited: the work is done or under way
        self._queue(case)

    def _start(self, case: Case, crew: int, waited: float) -> None:
        if self.whistle is not None:
            self.whistle.started(case)
        self._record(case, _HANDLE_START, _DEPARTMENT, crew)

    def _handled(self, case: Case, crew: int) -> None:
        m = self.m
        now = m.env._now
        pid = case.problem
        truth = m.truth
        if pid < 0 or truth.fate[pid] != _OPEN:
            outcome = _GONE
        else:
            quality = self.quality
            if m.sub_dept[case.true_subclass] != self.index:
                quality *= self.spec.wrong_trade_quality  # not its trade: often botched
            if self.u_quality() < quality:
                outcome = _FIXED
                truth.end(pid, now, Fate.FIXED)
                m.discovery.after_fix(pid, now)
            else:
                outcome = _NOT_FIXED
        if case.merged is not None and outcome != _NOT_FIXED:
            for other in case.merged:  # the same visit deals with what merged into the case
                if truth.fate[other] == _OPEN:
                    truth.end(other, now, Fate.FIXED)
                    m.discovery.after_fix(other, now)
        if outcome == _NOT_FIXED:  # still there: residents may call again meanwhile
            m.discovery.rearm(pid)
            for other in case.merged or ():
                m.discovery.rearm(other)
        case.on_time = now <= case.deadline
        self._record(case, _HANDLE, _DEPARTMENT, crew, m.supervision._due(), outcome)
        m.supervision.feedback(case)
