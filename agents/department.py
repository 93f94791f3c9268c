"""Departments (专业部门/处置单位): crews that go out and handle dispatched cases.

A department receives a dispatched case (`Department.handle`, the part of a case's life
spent here): it returns it if it is not its duty (回退), may suspend it (挂账) or ask the
command centre for an extension (延期), lets it wait in the in-tray where there is one, then
puts it in the crews' queue (earliest deadline first or first come first served, within the
department's working hours). A crew's visit takes travel plus the subclass's handling time;
the work fixes the problem with the department's quality, so a check can fail and send the
case back to the crews (返工). A subdistrict's whistle can summon the department
to the site at any point before a crew starts (`agents.whistle`).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from sim.data.scenario import DepartmentSpec
from sim.engine.calendar import DailyWindow
from sim.engine.casebook import Case
from sim.engine.clock import PENDING, Pending, resume
from sim.engine.eventlog import ActorKind, Outcome, Step
from sim.engine.pools import StaffPool
from sim.engine.problems import Fate

if TYPE_CHECKING:
    from sim.model import CityModel

__all__ = ["Department", "SUMMONED"]

Steps = Generator[Any, Any, bool]
SUMMONED = -1
"""What a waiting case's life is resumed with when a subdistrict summons the department: the
summoned department's people, not one of its crews, do the work (crew -1 on the rows)."""

_HANDLE_START = int(Step.HANDLE_START)
_DEPARTMENT = int(ActorKind.DEPARTMENT)
_FIXED, _NOT_FIXED, _GONE = int(Outcome.FIXED), int(Outcome.NOT_FIXED), int(Outcome.GONE)


class Department:
    """One handling unit and its crews."""

    def __init__(self, model: CityModel, index: int, name: str, spec: DepartmentSpec) -> None:
        self.m = model
        self.index = index
        self.name = name
        self.spec = spec
        self.window = DailyWindow.from_clock(spec.hours[0], spec.hours[1], model.calendar,
                                             spec.days)
        self.crews = StaffPool(model.env, name, spec.crews, self.window, spec.priority)
        self.env = model.env
        self.book = model.cases
        self.decide = model.decide
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
        self.rates = (spec.returns_wrong, spec.suspension_rate,
                      min(1.0, spec.extension_rate + r.extension_delta))
        self.own_return_rate = r.own_return_rate
        self.u_pingpong = model.uniforms(f"{key}:ping-pong")
        self.whistle = model.whistle  # whistle-and-report (agents/whistle.py), or None
        self.intake = (None if spec.intake_hours is None else
                       model.sampler(f"{key}:intake", spec.intake_hours, 60.0))
        self.tray: dict[int, Case] = {}  # cases in the in-tray, by id

    # -- a case's time in the department ---------------------------------------------------
    def handle(self, case: Case, rework: bool = False) -> Steps:
        """A case dispatched here, from its arrival (step 4) to the feedback (5: a HANDLE
        row); returns False if the department sends it back instead (RETURN). ``rework``: the
        case is back after a failed check, straight to the crews' queue."""
        w = self.whistle
        if not rework:
            if w is not None and w.on_arrival(case):  # summoned: on site at once, not queued
                return (yield from self.summoned(case))
            decide, book = self.decide, self.book
            ours = self.m.sub_dept[case.true_subclass] == self.index
            u = self.u
            if decide.return_case(case, self.index, ours, self.rates, u()) or (
                    self.own_return_rate and self.u_pingpong() < self.own_return_rate):
                yield self.env.after(case, self.ack())
                book.returned(case, self.index)
                if w is not None:
                    w.returned(case)
                return False
            if decide.request_suspension(case, self.index, ours, self.rates, u()):
                book.suspend(case)
                yield self.env.after(case, self.suspend_for())
            else:
                if decide.request_extension(case, self.index, ours, self.rates, u()) and \
                        (yield decide.extension(case, self.index)):  # the command centre
                    m = self.m
                    book.extend(case, m.calendar.deadline(
                        case.deadline, m.sub_limit[case.subclass], m.limit_scale))
                if self.intake is not None:  # waits in the in-tray first (before 2004)
                    if w is not None:
                        w.wait(case, self)
                    if (yield self.in_tray(case, self.intake())) == SUMMONED:
                        return (yield from self.summoned(case))
        # the crews' queue, then a crew's visit
        minutes = self.travel() + self.handling[case.true_subclass]()
        key = self.decide.queue_key(case, self.index, self.spec.priority, self.env._now)
        if w is not None:
            w.wait(case, self)
        crew = yield self.crews.seize(case, key)
        if crew == SUMMONED:
            return (yield from self.summoned(case))
        if w is not None:
            w.started(case)
        self.book.record(case, _HANDLE_START, _DEPARTMENT, crew)
        yield self.env.after(case, minutes)
        self.crews.release(crew)
        self.feedback(case, crew)
        return True

    def summoned(self, case: Case) -> Steps:
        """Summoned by the subdistrict: the responsible department comes and does the work
        (`Whistle.attend`), then reports back."""
        assert self.whistle is not None
        crew = yield from self.whistle.attend(case)
        self.m.departments[case.department].feedback(case, crew)
        return True

    def feedback(self, case: Case, crew: int) -> None:
        """The visit is over: did it fix the problem? The department reports back (HANDLE)."""
        m = self.m
        now = self.env._now
        pid = case.problem
        truth = m.truth
        if pid < 0 or truth.fate[pid]:
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
                if not truth.fate[other]:
                    truth.end(other, now, Fate.FIXED)
                    m.discovery.after_fix(other, now)
        if outcome == _NOT_FIXED:  # still there: residents may call again meanwhile
            m.discovery.rearm(pid)
            for other in case.merged or ():
                m.discovery.rearm(other)
        self.book.handled(case, crew, outcome, m.supervision.due())

    # -- the in-tray -----------------------------------------------------------------------
    def in_tray(self, case: Case, minutes: float) -> Pending:
        """``yield dept.in_tray(case, minutes)``: the case waits that long in the in-tray,
        unless a summons takes it out first (it is then resumed with `SUMMONED`)."""
        self.tray[case.id] = case
        self.env.call(self.env._now + minutes, self._out_of_tray, case)
        return PENDING

    def _out_of_tray(self, case: Case) -> None:
        if self.tray.pop(case.id, None) is not None:
            resume(case)

    def withdraw(self, case: Case) -> bool:
        """Take a waiting case out of the in-tray or the crews' queue (a summons). False if
        it waits in neither."""
        return self.tray.pop(case.id, None) is not None or self.crews.withdraw(case)
