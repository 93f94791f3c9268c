"""Whistle-and-report (街乡吹哨、部门报到, docs/domain.md §8): subdistricts summon departments.

A subdistrict blows the whistle on a case that needs joint action (its subclass is listed in
``whistle.subclasses``), that departments keep sending back (returned more than
``whistle.returns`` times), or that is ``whistle.overdue_hours`` past its handling deadline
with no crew started. The summons is a SUMMON row (actor: the subdistrict of the case's grid;
deadline: when the department must be on site). The department responsible by the handbook,
whatever the dispatch said, is on site within ``arrive_minutes`` and stays until the work is
done (`Whistle.attend`): a waiting case leaves the in-tray or the crews' queue and its life
goes on there (it is resumed with `agents.department.SUMMONED`), then feeds back as usual.
With ``whistle.crews: own`` the department sends its next free crew, ahead of its queue, so a
summons delays the cases waiting for its crews; with ``extra`` the work is done by people
outside its crews (no one waits longer).
Summons are charged to the department in the evaluation (the ``summons`` count).

Cost when the whistle is off: none (the model holds no `Whistle`). When on: one event per
sweep, a dict entry per case waiting for a crew, and one per open case sent back.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from agents.department import SUMMONED
from sim.data.governance import subclasses_named
from sim.engine.clock import resume
from sim.engine.eventlog import ActorKind, Step

if TYPE_CHECKING:
    from agents.department import Department
    from sim.engine.casebook import Case
    from sim.model import CityModel

__all__ = ["Whistle"]

_HANDLE_START, _DEPARTMENT = int(Step.HANDLE_START), int(ActorKind.DEPARTMENT)


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
        self.own = spec.crews == "own"  # the department's own crews, not extra capacity
        # times each case was sent back, while it may still come to a department again: the
        # closed ones are let go once the dict has doubled since the last time (`returned`)
        self.returns: dict[int, int] = {}
        self._purge_at = 64
        self.waiting: dict[int, tuple[Case, Department]] = {}  # dispatched, no crew started
        self.count = 0

    def start(self) -> None:
        """Sweep for late cases every ``sweep_minutes`` (only when lateness summons)."""
        if self.overdue < math.inf:
            env = self.m.env
            env.call(env.now + self.spec.sweep_minutes, self._sweep, None)

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
        returns = self.returns
        returns[case.id] = returns.get(case.id, 0) + 1
        if len(returns) >= self._purge_at:  # cases sent back are filed: closed = no longer live
            live = self.m.cases.live
            self.returns = {cid: n for cid, n in returns.items() if live(cid) is not None}
            self._purge_at = max(64, 2 * len(self.returns))

    def wait(self, case: Case, department: Department) -> None:
        self.waiting[case.id] = (case, department)

    def started(self, case: Case) -> None:
        self.waiting.pop(case.id, None)

    # -- the whistle -------------------------------------------------------------------------
    def _sweep(self, _: None) -> None:
        m = self.m
        now = m.env._now
        late = [(case, dept) for case, dept in self.waiting.values()
                if not case.suspended and now > case.deadline + self.overdue]
        for case, dept in late:
            dept.withdraw(case)  # out of the crews' queue (or the in-tray)
            self.summon(case)
            resume(case, SUMMONED)
        if now + self.spec.sweep_minutes < m.horizon:
            m.env.call(now + self.spec.sweep_minutes, self._sweep, None)

    def summon(self, case: Case) -> None:
        """The subdistrict summons the responsible department to the site (SUMMON)."""
        m = self.m
        self.waiting.pop(case.id, None)
        self.count += 1
        m.cases.summon(case, int(m.city.subdistrict[case.grid]), m.sub_dept[case.true_subclass],
                       m.env._now + self.limit)

    def attend(self, case: Case) -> Generator[Any, Any, int]:
        """The summoned department arrives within ``arrive_minutes`` and works at once; with
        ``crews: own`` a crew of its own, the next one free ahead of its queue, held until
        the work is done. Returns the crew (`SUMMONED`: people outside its crews)."""
        env = self.m.env
        dept = self.m.departments[case.department]
        crew = SUMMONED
        if self.own:
            crew = yield dept.crews.seize_first(case)
        yield env.after(case, self.arrive())
        self.m.cases.record(case, _HANDLE_START, _DEPARTMENT, crew)
        yield env.after(case, dept.handling[case.true_subclass]())
        if self.own:
            dept.crews.release(crew)
        return crew
