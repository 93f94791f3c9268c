"""A department's work on one case, in stages from the handbook (docs/handbook.md, "Stages").

`Stages` holds, for one department, each subclass's plan as the department does it: the
handbook's stages (`sim.data.taxonomy.Subclass.plan`) drawn case by case
(`sim.engine.workplan.StageTable`) and grouped into what the case process waits for:

- a **visit**: consecutive crew stages done by the same crews in one journey (make safe and
  set the cover, when the cover is in stock), travel plus the stages' on-site minutes;
- a **wait** no crew controls (materials, a contractor's slot, a permit, the owner): clock
  minutes, or working minutes turned into clock time on the working calendar.

A subclass whose plan is one crew visit keeps the department's single handling sampler (the
fast path). Stage tables belong to the subclass, not the department (the work is the same
whoever does it), and are shared by all departments through the model
(``CityModel.stage_tables``): made the first time a case of the subclass reaches any
department (streams are named, so the order does not matter), so a city holds one set of
sampler buffers per staged subclass rather than one per department.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from sim.engine.workplan import StageTable, _step

if TYPE_CHECKING:
    from agents.department import Department

__all__ = ["Stages", "Visit", "Wait"]


class Visit(NamedTuple):
    """One journey of a crew: ``minutes`` on site (travel not included), by the crews of
    department ``crews`` (an index into the model's departments)."""

    minutes: float
    crews: int


class Wait(NamedTuple):
    """Time no crew controls: ``minutes`` long, working minutes when ``working``."""

    minutes: float
    working: bool
    waits_for: str | None


class Stages:
    """One department's plans, subclass by subclass."""

    def __init__(self, department: Department) -> None:
        self.d = department
        m = department.m
        self.index = {n: i for i, n in enumerate(m.department_names)}
        travel = department.spec.travel_minutes.expected() * department.travel_scale
        factor = 60.0 * m.reaction.handling_factor
        # per subclass: False = one visit (the department's `handling` sampler), None = stages
        # whose table is made on first use, else the table
        self.tables: list[StageTable | None | bool] = [
            False if len(s.plan) == 1 else None for s in m.handbook.subclasses]
        # what the department expects a case of each subclass to take (planning), in minutes
        self.needed = [
            (s.handling_hours.expected() * factor + travel) if len(s.plan) == 1 else
            StageTable(s.plan, [lambda: 0.0] * len(s.plan), lambda: 0.0).expected(travel)
            for s in m.handbook.subclasses]
        # and its mean crew visit (travel and on-site minutes), for the backlog (`agents.stretch`)
        self.needed_crew = [
            (s.handling_hours.expected() * factor + travel) if len(s.plan) == 1 else
            sum(60.0 * st.chance * st.hours.expected() for st in s.plan if not st.is_wait) /
            sum(st.chance for st in s.plan if not st.is_wait) + travel
            for s in m.handbook.subclasses]
        self._factor = factor
        self._facts: dict[int, list[tuple[float, tuple | None, int]]] = {}  # for `draw`

    def _table(self, sub: int) -> StageTable:
        m = self.d.m
        table = m.stage_tables.get(sub)
        if table is None:
            s = m.handbook.subclasses[sub]
            key = f"stage:{s.code}"
            durations = [m.sampler(f"{key}:{i}", st.hours,
                                   60.0 if st.is_wait else self._factor)
                         for i, st in enumerate(s.plan)]
            table = m.stage_tables[sub] = StageTable(s.plan, durations,
                                                     m.uniforms(f"{key}:chance"))
        self.tables[sub] = table
        return table

    def draw(self, sub: int) -> list[Visit | Wait]:
        """The visits and waits of one case of subclass ``sub``, in order: `StageTable.draw`
        (the same draws in the same order: each stage's chance, when below 1, then its
        length) grouped as `draw_plain` groups it, without a `Step` per stage."""
        table = self.tables[sub]
        if table is None:
            table = self._table(sub)
        assert isinstance(table, StageTable)
        facts = self._facts.get(sub)
        if facts is None:
            facts = self._facts[sub] = self._stage_facts(table)
        durations, chance = table.durations, table.chance
        out: list[Visit | Wait] = []
        last = -2  # the crews of the last item of ``out`` when it is a visit, else -2
        for i, (p, wait, crews) in enumerate(facts):
            if p < 1.0 and not chance() < p:
                continue
            minutes = durations[i]()
            if wait is not None:
                out.append(Wait(minutes, *wait))
                last = -2
            elif crews == last:
                out[-1] = Visit(out[-1].minutes + minutes, crews)
            else:
                out.append(Visit(minutes, crews))
                last = crews
        return out

    def _stage_facts(self, table: StageTable) -> list[tuple[float, tuple | None, int]]:
        """Per stage of ``table``: its chance, (working, waits for) for a wait (else None),
        and the department whose crews do a crew stage (what `draw` reads of each)."""
        own = self.d.index
        out = []
        for s in table.stages:
            step = _step(s, 0.0)
            wait = (step.working, step.waits_for) if step.wait else None
            crews = own if step.department is None else self.index[step.department]
            out.append((s.chance, wait, crews))
        return out

    def draw_plain(self, sub: int) -> list[Visit | Wait]:
        """`draw` through `StageTable.draw`, a `Step` per stage (the reference `draw` is
        pinned to in tests/test_fast_paths.py)."""
        table = self.tables[sub]
        if table is None:
            table = self._table(sub)
        assert isinstance(table, StageTable)
        own = self.d.index
        out: list[Visit | Wait] = []
        for step in table.draw():
            if step.wait:
                out.append(Wait(step.minutes, step.working, step.waits_for))
                continue
            crews = own if step.department is None else self.index[step.department]
            last = out[-1] if out else None
            if isinstance(last, Visit) and last.crews == crews:
                out[-1] = Visit(last.minutes + step.minutes, crews)
            else:
                out.append(Visit(step.minutes, crews))
        return out
