"""Departments (专业部门/处置单位): crews that go out and handle dispatched cases.

A department receives a dispatched case (`Department.handle`, the part of a case's life
spent here): it returns it if it is not its duty (回退). It draws the case's stages from the
handbook (`agents.stages`: crew visits and waits no crew controls); a long wait suspends the
case (挂账) or asks the command centre for an extension (延期)
(`sim.engine.workplan.wait_request`). It lets the case wait in the in-tray where there is
one, and holds it back while it has slack to spare (`release_delay`: departments use the
slack they are given, less under evaluation pressure). Then each visit joins the crews'
queue (urgent first, then earliest deadline, or first come first served; under triage late
cases go last), within the crews' duty hours (stretched by overtime, `agents.stretch`); a
visit takes travel plus its stages' on-site time, and waits hold no crew. A visit that would
run past the end of duty is finished as overtime when the excess fits in what is left of the
day's overtime limit (``overtime.max_hours``), else the crew stops at the end of duty and the
next crew on duty finishes it first thing in the next duty period. The last visit
fixes the problem with the department's quality, lower when the work was hurried
(``quality_slip``), so a check can fail and send the case back to the crews (返工: the last
visit again). A subdistrict's whistle can summon the department to the site at any point
before a crew starts (`agents.whistle`).
"""

from __future__ import annotations

from collections.abc import Generator
from heapq import heappush
from typing import TYPE_CHECKING, Any

from agents.stages import Stages, Visit
from sim.data.scenario import DepartmentSpec
from sim.engine.calendar import DailyWindow
from sim.engine.casebook import Case
from sim.engine.clock import NORMAL, PENDING, SLOT_MINUTES, Pending
from sim.engine.eventlog import ActorKind, Outcome, Step
from sim.engine.pools import StaffPool
from sim.engine.problems import Fate
from sim.engine.workplan import (
    quality_under_pressure,
    release_delay,
    slack_share,
    time_pressure,
    wait_request,
)
from sim.engine.workplan import queue_key as planned_key

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
        # more crews spread over the district are nearer the site (`travel_crews`)
        self.travel_scale = (spec.travel_crews / spec.crews) ** 0.5 \
            if spec.travel_crews and spec.crews else 1.0
        self.travel = model.sampler(f"{key}:travel", spec.travel_minutes, self.travel_scale)
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
        # the clock's queue, entry ids and later slots: `in_tray` pushes its entry itself
        self._queue, self._eid = model.env._queue, model.env._eid  # type: ignore[attr-defined]
        self._ahead = model.env._ahead  # type: ignore[attr-defined]
        self._out_cb = self._out_of_tray
        self.stages = Stages(self)
        self.urgent = [s.urgency == "urgent" for s in model.handbook.subclasses]
        # the share of its slack the department lets pass, under the city's evaluation pressure
        self.slack = slack_share(spec.slack_use, spec.slack_pressure, model.planning_pressure)
        self.deadline_rule = spec.priority == "deadline"
        self.triage = False  # late cases go last today (`agents.stretch`)
        self.overdue_last = spec.triage.overdue_last
        self.slip = spec.quality_slip
        # the receipt decisions (return, suspend, extend) follow the built-in rules: applied
        # here without a call each (tests/test_plain_rules.py pins them to the views)
        self.plain_receipt = not {"return_case", "request_suspension",
                                  "request_extension"} & model.decide.viewed
        self.plain_key = "queue_key" not in model.decide.viewed
        # minutes a crew may stay on past today's close to finish a visit (`agents.stretch`
        # takes off the overtime it grants the whole department)
        self.overtime_left = 60.0 * spec.overtime.max_hours

    # -- a case's time in the department ---------------------------------------------------
    def handle(self, case: Case, rework: bool = False) -> Steps:
        """A case dispatched here, from its arrival (step 4) to the feedback (5: a HANDLE
        row); returns False if the department sends it back instead (RETURN). ``rework``: the
        case is back after a failed check, straight to the crews' queue for its last visit."""
        w = self.whistle
        sub = case.true_subclass
        plan = self.stages.draw(sub) if self.stages.tables[sub] is not False else None
        if not rework:
            if w is not None and w.on_arrival(case):  # summoned: on site at once, not queued
                return (yield from self.summoned(case))
            decide, book = self.decide, self.book
            ours = self.m.sub_dept[sub] == self.index
            u, rates = self.u, self.rates
            if self.plain_receipt:  # the built-in receipt rules (`Decisions`), inline
                x = u()
                back = not ours and x < rates[0]
            else:
                back = decide.return_case(case, self.index, ours, rates, u())
            if back or (self.own_return_rate and self.u_pingpong() < self.own_return_rate):
                yield self.env.after(case, self.ack())
                book.returned(case, self.index)
                if w is not None:
                    w.returned(case)
                return False
            if (u() < rates[1]) if self.plain_receipt else \
                    decide.request_suspension(case, self.index, ours, rates, u()):
                book.suspend(case)
                yield self.env.after(case, self.suspend_for())
            else:
                if ((u() < rates[2]) if self.plain_receipt else
                        decide.request_extension(case, self.index, ours, rates, u())) and \
                        (yield decide.extension(case, self.index)):  # the command centre
                    self.extend(case)
                if plan is not None and len(plan) > 1:  # waits ahead: extend or suspend?
                    yield from self.plan_waits(case, plan)
                if self.intake is not None:  # waits in the in-tray first (before 2004)
                    if w is not None:
                        w.wait(case, self)
                    if (yield self.in_tray(case, self.intake())) == SUMMONED:
                        return (yield from self.summoned(case))
            if self.slack and not self.urgent[sub] and not case.suspended:
                delay = self.release_delay(case, sub)
                if delay > 0.0:  # the slack it lets pass before starting (Parkinson's law)
                    if w is not None:
                        w.wait(case, self)
                    if (yield self.in_tray(case, delay)) == SUMMONED:
                        return (yield from self.summoned(case))
        elif plan is not None:  # rework: the last visit again
            plan = [next(p for p in reversed(plan) if isinstance(p, Visit))]
        if plan is None:  # one crew visit (most events): the fast path
            yield from self.visit(case, self.handling[sub](), self, True, True)
            return True
        first = True
        for i, step in enumerate(plan):
            if isinstance(step, Visit):
                crews = self if step.crews == self.index else self.m.departments[step.crews]
                if not (yield from self.visit(case, step.minutes, crews, first,
                                              i == len(plan) - 1)):
                    return True  # summoned before a crew started: the whistle did the work
                first = False
            else:
                env = self.env
                minutes = step.minutes
                if step.working:
                    now = env._now
                    minutes = self.m.calendar.add_working(now, minutes) - now
                yield env.after(case, minutes)
        return True

    def visit(self, case: Case, minutes: float, crews: Department, first: bool, last: bool
              ) -> Steps:
        """One journey of a crew of ``crews`` (this department or another): queue, travel,
        ``minutes`` on site, within duty hours. The first visit writes HANDLE_START (and may
        be pre-empted by a summons), the last the feedback. Returns False if a summons took
        the case out of the queue (handled there)."""
        pool = crews.crews
        w = self.whistle if first else None
        if w is not None and crews is not self:  # another department's crews start:
            w.started(case)                      # no summons for this one any more
            w = None
        env = self.env
        if self.plain_key:  # the built-in `queue_key`, inline
            key = case.deadline if self.deadline_rule else env._now
        else:
            key = self.decide.queue_key(case, self.index, self.spec.priority, env._now)
        if self.deadline_rule:
            key = planned_key(key, self.urgent[case.true_subclass], env._now > case.deadline,
                              self.triage, self.overdue_last)
        if w is not None:
            w.wait(case, self)
        crew = pool.seize(case, key)
        if crew is PENDING:  # none free and on duty: wait for one (or a summons)
            crew = yield crew
        if crew == SUMMONED:
            yield from self.summoned(case)
            return False
        if first:
            if w is not None:
                w.started(case)
            self.book.record(case, _HANDLE_START, _DEPARTMENT, crew)
        minutes += self.travel()
        pressure = time_pressure(case.deadline - env._now, minutes) if last and self.slip \
            else 0.0
        end = env._now + minutes
        while end > pool.off_duty_at():  # past the end of duty (today's overtime included)
            close = pool.off_duty_at()
            if end - close <= crews.overtime_left:  # finished as overtime
                self.m.stretching.stayed_on(end - close)
                break
            yield env.after(case, close - env._now)  # stops; resumed first next duty period
            pool.release(crew)
            crew = yield pool.seize_first(case)
            end += env._now - close
        yield pool.work(case, crew, end - env._now)  # `env.after`, then `pool.release`
        if last:
            self.feedback(case, crew, pressure)
        return True

    # -- planning against the deadline -----------------------------------------------------
    def extend(self, case: Case) -> None:
        """The command centre granted more time: one more handling limit."""
        m = self.m
        self.book.extend(case, m.calendar.deadline(case.deadline, m.sub_limit[case.subclass],
                                                   m.limit_scale))

    def plan_waits(self, case: Case, plan: list) -> Steps:
        """The department looks at the case's stages on receipt: a wait no crew controls
        that will not fit before the deadline asks for an extension (the command centre
        answers, `decide.extension`); a long one, or one for the season or funds, suspends
        the case (`sim.engine.workplan.wait_request`)."""
        cal = self.m.calendar
        travel = self.spec.travel_minutes.expected() * self.travel_scale
        extensions = 0
        for i, step in enumerate(plan):
            if isinstance(step, Visit):
                continue
            work_left = sum(p.minutes + travel for p in plan[i + 1:] if isinstance(p, Visit))
            left = cal.working_between(self.env._now, case.deadline)
            answer = wait_request(step.minutes, left, work_left, extensions, self.spec,
                                  step.waits_for)
            if answer == "suspend":
                if not case.suspended:
                    self.book.suspend(case)
                return
            if answer == "extend":
                extensions += 1
                if (yield self.decide.extension(case, self.index)):
                    self.extend(case)

    def release_delay(self, case: Case, sub: int) -> float:
        """Minutes the case waits before its first visit joins the crews' queue: the share
        ``self.slack`` of the time it has to spare before its deadline (on the clock, which
        is what the crews see: a case that comes in at 18:00 with its limit running out at
        09:30 next morning has the evening and the night to spare)."""
        return release_delay(case.deadline - self.env._now, self.stages.needed[sub],
                             self.slack, False)

    def summoned(self, case: Case) -> Steps:
        """Summoned by the subdistrict: the responsible department comes and does the work
        (`Whistle.attend`), then reports back."""
        assert self.whistle is not None
        crew = yield from self.whistle.attend(case)
        self.m.departments[case.department].feedback(case, crew)
        return True

    def feedback(self, case: Case, crew: int, pressure: float = 0.0) -> None:
        """The visit is over: did it fix the problem? The department reports back (HANDLE).
        Work started under time ``pressure`` (0-1) fixes less (``quality_slip``)."""
        m = self.m
        now = self.env._now
        pid = case.problem
        truth = m.truth
        if pid < 0 or truth.fate[pid]:
            outcome = _GONE
        else:
            quality = self.quality
            if pressure:
                quality = quality_under_pressure(quality, self.slip, pressure)
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
        env = self.env
        t = env._now + minutes
        entry = (t, NORMAL, next(self._eid), self._out_cb, case)  # `Clock.call`, inlined
        if t < env.later_from:
            heappush(self._queue, entry)
        else:  # `Clock.hold`, inlined
            self._ahead[t // SLOT_MINUTES].append(entry)
        return PENDING

    def _out_of_tray(self, case: Case) -> None:
        if self.tray.pop(case.id, None) is not None:
            try:  # `resume(case)`, inlined
                life = case.life
                value = life.send(None)  # type: ignore[union-attr]
                while value is not PENDING:
                    value = life.send(value)  # type: ignore[union-attr]
            except StopIteration:
                case.life = None

    def withdraw(self, case: Case) -> bool:
        """Take a waiting case out of the in-tray or the crews' queue (a summons). False if
        it waits in neither."""
        return self.tray.pop(case.id, None) is not None or self.crews.withdraw(case)
