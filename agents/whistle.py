"""Whistle-and-report (街乡吹哨、部门报到, docs/domain.md §8): subdistricts summon departments.

A subdistrict blows the whistle on a case that needs joint action (its subclass is listed in
``whistle.subclasses``), that departments keep sending back (returned more than
``whistle.returns`` times), or that is ``whistle.overdue_hours`` past its handling deadline
with no crew started. The summons is a SUMMON row (actor: the subdistrict of the case's grid;
deadline: when the department must be on site). The department responsible by the handbook,
whatever the dispatch said, is on site within ``arrive_minutes`` and stays until the work is
done: the case leaves the crews' queue and is worked at once, then feeds back as usual.
Summons are charged to the department in the evaluation (the ``summons`` count).

Cost when the whistle is off: none (the model holds no `Whistle`). When on: one event per
sweep, and a dict entry per case waiting for a crew.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from sim.data.governance import subclasses_named
from sim.engine.clock import at
from sim.engine.eventlog import ActorKind, Step

if TYPE_CHECKING:
    from agents.department import Department
    from sim.engine.casebook import Case
    from sim.model import CityModel

__all__ = ["Whistle"]


class Whistle:
    """The subdistricts' whistle: who gets summoned, and the summoned work."""

    def __init__(self, model: CityModel) -> None:
        self.m = model
        spec = model.spec.whistle
        self.spec = spec
        self.joint = frozenset(subclasses_named(model.handbook, spec.subclasses))
        self.max_returns = spec.returns
        self.overdue = math.inf if spec.overdue_hours is None else spec.overdue_hours * 60.0
        self.arrive = model.sampler("whistle:arrive", spec.arrive_minutes)
        self.limit = spec.arrive_limit_minutes
        self.returns: dict[int, int] = {}
        self.waiting: dict[int, tuple[Case, Department]] = {}  # dispatched, no crew started
        self.summoned: set[int] = set()
        self.count = 0
        self._record = model.cases.record

    def start(self) -> None:
        """Sweep for late cases every ``sweep_minutes`` (only when lateness summons)."""
        if self.overdue < math.inf:
            at(self.m.env, self.spec.sweep_minutes, None, self._sweep)

    # -- what departments tell the whistle ---------------------------------------------------
    def on_arrival(self, case: Case) -> bool:
        """A dispatched case reaches a department: summon it now if it needs joint action or
        has been returned too often. True when summoned (the department leaves it alone)."""
        if case.true_subclass in self.joint or \
                self.returns.get(case.id, 0) > self.max_returns:
            self.summon(case)
            return True
        return False

    def returned(self, case: Case) -> None:
        self.returns[case.id] = self.returns.get(case.id, 0) + 1

    def wait(self, case: Case, department: Department) -> None:
        self.waiting[case.id] = (case, department)

    def started(self, case: Case) -> None:
        self.waiting.pop(case.id, None)

    # -- the whistle -------------------------------------------------------------------------
    def _sweep(self, _ev: object) -> None:
        m = self.m
        now = m.env._now
        late = [case for case, _ in self.waiting.values()
                if not case.suspended and now > case.deadline + self.overdue]
        for case in late:
            self.summon(case)
        if now + self.spec.sweep_minutes < m.horizon:
            at(m.env, self.spec.sweep_minutes, None, self._sweep)

    def summon(self, case: Case) -> None:
        """The subdistrict summons the responsible department to the site."""
        m = self.m
        held = self.waiting.pop(case.id, None)
        if held is not None:  # out of the crews' queue (or the in-tray)
            held[1].crews.withdraw(case)
        self.summoned.add(case.id)
        self.count += 1
        case.department = m.sub_dept[case.true_subclass]
        now = m.env._now
        self._record(case, Step.SUMMON, ActorKind.SUBDISTRICT,
                     int(m.city.subdistrict[case.grid]), now + self.limit)
        at(m.env, self.arrive(), case, self._on_site)

    def _on_site(self, ev: object) -> None:
        case = ev._value  # type: ignore[attr-defined]
        dept = self.m.departments[case.department]
        self._record(case, Step.HANDLE_START, ActorKind.DEPARTMENT, -1)
        at(self.m.env, dept.handling[case.true_subclass](), case, self._done)

    def _done(self, ev: object) -> None:
        case = ev._value  # type: ignore[attr-defined]
        self.m.departments[case.department]._handled(case, -1)
