"""Capacity that bends before it breaks: departments stretch under a backlog (docs/domain.md §4).

Once a day, at midnight, each department that may stretch (overtime, borrowing or triage in
its `DepartmentSpec`) looks at the work waiting for its crews: cases in the queue times the
mean visit of its subclasses (`sim.engine.workplan.backlog_hours`), per crew. The answer
(`sim.engine.workplan.stretch`) is graded by that backlog and capped by the scenario:

- **overtime**: today's duty window stays open ``overtime_hours`` longer
  (`StaffPool.extend_window`), so queued work still starts after the usual close; what is
  left of the day's ``overtime.max_hours`` lets a crew finish a visit that runs past the
  close (`Department.visit`, counted here by `stayed_on`);
- **borrowing**: crews come for the day from the named lenders, only from a lender that is
  not stretched itself (its own backlog under its overtime threshold) and at most its
  ``lend_share`` of its crews (`StaffPool.resize`); they go back the next midnight;
- **triage**: today the crews take cases already past their deadline last
  (`sim.engine.workplan.queue_key`), since those count late whatever is done.

Nothing here draws a random number. `totals` is what the run reports (``stretch`` in
summary.json): crew-hours of overtime (windows kept open, visits finished late), crew-days
borrowed and department-days under triage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.data.scenario import DepartmentSpec
from sim.engine.calendar import DAY_MINUTES
from sim.engine.workplan import backlog_hours, stretch

if TYPE_CHECKING:
    from agents.department import Department
    from sim.model import CityModel

__all__ = ["Stretching", "stretches"]


def stretches(spec: DepartmentSpec) -> bool:
    """Whether a department may stretch at all (else it is left alone, at no cost)."""
    return spec.overtime.max_hours > 0 or (spec.borrowing.max_crews > 0 and
                                           bool(spec.borrowing.lenders)) or \
        spec.triage.backlog_hours is not None


class Stretching:
    """The daily look at every department's backlog, and the answers."""

    def __init__(self, model: CityModel) -> None:
        self.m = model
        self.env = model.env
        self.by_name = {d.name: d for d in model.departments}
        self.depts = [d for d in model.departments if stretches(d.spec)]
        self.loans: list[tuple[Department, Department, int]] = []
        self.overtime_hours = 0.0   # crew-hours
        self.borrowed_crew_days = 0
        self.triage_days = 0
        # the mean visit of each department's own subclasses (share-weighted), in minutes
        subs = model.handbook.subclasses
        self.visit: dict[str, float] = {}
        for d in model.departments:
            mine = [i for i, s in enumerate(subs) if model.sub_dept[i] == d.index]
            total = sum(subs[i].share for i in mine)
            self.visit[d.name] = sum(
                subs[i].share * d.stages.needed_crew[i] for i in mine) / total if total else 60.0

    def start(self) -> None:
        if self.depts:
            self.env.call(0.0, self._day, None)

    def _day(self, _: None) -> None:
        now = self.env._now
        for lender, borrower, k in self.loans:  # yesterday's borrowed crews go back
            borrower.crews.resize(borrower.crews.servers - k)
            lender.crews.resize(lender.crews.servers + k)
        self.loans = []
        for d in self.depts:
            spec = d.spec
            backlog = backlog_hours(len(d.crews) * self.visit[d.name], spec.crews)
            w = d.crews.window
            duty = 24.0 if w is None else w.length / 60.0
            s = stretch(backlog, spec, duty)
            d.triage = s.triage
            d.overtime_left = 60.0 * (spec.overtime.max_hours - s.overtime_hours)
            self.triage_days += s.triage
            if s.overtime_hours > 0 and w is not None:
                close = w.closes_at(now)
                d.crews.extend_window(close, close + 60.0 * s.overtime_hours)
                self.overtime_hours += s.overtime_hours * spec.crews
            if s.borrowed_crews:
                self._borrow(d, s.borrowed_crews)
        if now + DAY_MINUTES < self.m.horizon:
            self.env.call(now + DAY_MINUTES, self._day, None)

    def _borrow(self, d: Department, wanted: int) -> None:
        for name in d.spec.borrowing.lenders:
            lender = self.by_name[name]
            pool = lender.crews
            if wanted <= 0:
                break
            own = backlog_hours(len(pool) * self.visit[name], lender.spec.crews)
            keeps = lender.spec.crews - int(lender.spec.lend_share * lender.spec.crews)
            spare = pool.servers - keeps
            if own >= lender.spec.overtime.backlog_hours or spare <= 0:
                continue  # stretched itself, or already lent what it can
            k = min(wanted, spare)
            pool.resize(pool.servers - k)
            d.crews.resize(d.crews.servers + k)
            self.loans.append((lender, d, k))
            self.borrowed_crew_days += k
            wanted -= k

    def stayed_on(self, minutes: float) -> None:
        """A crew finished a visit ``minutes`` past its duty hours (`Department.visit`)."""
        self.overtime_hours += minutes / 60.0

    def totals(self) -> dict[str, float]:
        """What the run reports: crew-hours of overtime, crew-days borrowed, days of triage."""
        return {"overtime_crew_hours": round(self.overtime_hours, 1),
                "borrowed_crew_days": self.borrowed_crew_days,
                "triage_department_days": self.triage_days}
