"""CityModel: a scenario assembled into a runnable city on one clock.

SimPy owns time (float minutes since the scenario start). The model builds the actors, binds
the decision points to the city, and starts the city's own happenings (`CityModel.start`,
the one start-up sequence runs and training sessions share). Nothing here reads the wall
clock except to report how long a run took.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from agents.caselife import CaseLife
from agents.centre import CommandCentre, SupervisionCentre
from agents.department import Department
from agents.discovery import Discovery
from agents.hotline import Hotline
from agents.inspector import InspectorCorps
from agents.loops import apply_loops
from agents.proactive import Proactive
from agents.stretch import Stretching
from agents.whistle import Whistle
from sim.data.citymap import load_city
from sim.data.distributions import Dist, Sampler, make_sampler
from sim.data.scenario import LoopsSpec, Scenario
from sim.data.taxonomy import Handbook, TimeLimit, load_handbook
from sim.engine.asking import Decisions
from sim.engine.behaviour import (
    NO_REACTION,
    Pressures,
    Reaction,
    UnitWeights,
    planning_pressure,
    pressures,
    react,
)
from sim.engine.calendar import WorkingCalendar
from sim.engine.casebook import CaseBook
from sim.engine.clock import Clock
from sim.engine.decisions import CityView, DecisionPoints
from sim.engine.eventlog import EventLog
from sim.engine.mistakes import mistakes_of
from sim.engine.problems import GroundTruth
from sim.engine.randomness import Streams, Uniforms
from sim.engine.workplan import StageTable

__all__ = ["CityModel"]


def _pressure_of(name: str) -> Pressures:
    from sim.rules import load_rules  # only needed when units are evaluated

    rules = load_rules(name)
    return pressures({kind: UnitWeights(
        [(i.name, i.formula.text, i.weight) for i in unit.indicators],
        unit.score.text if unit.score is not None else None)
        for kind, unit in rules.units.items()}, rules.parameters)


def behaviour_under(scenario: Scenario) -> Reaction:
    """How units behave under the scenario's rule set (`sim.engine.behaviour`); fixed when the
    behaviour model is off."""
    spec = scenario.evaluation.behaviour
    if not spec.enabled or not scenario.evaluation.enabled:  # nobody evaluated: no pressure
        return NO_REACTION
    return react(_pressure_of(scenario.evaluation.rules), _pressure_of("standard"), spec)


def planning_under(scenario: Scenario) -> float:
    """The evaluation pressure on timeliness departments plan their work under
    (`sim.engine.behaviour.planning_pressure`): the city's stakes times the on-time weight of
    the rule set in force (the standard one when the behaviour model is off); 0 when nobody
    is evaluated or no department uses its slack (then it changes nothing)."""
    ev = scenario.evaluation
    if not ev.enabled or not any(d.slack_use for d in scenario.departments.values()):
        return 0.0
    reacting = ev.behaviour.enabled
    baseline = _pressure_of("standard")
    active = _pressure_of(ev.rules) if reacting else baseline
    return planning_pressure(active, baseline, ev.stakes, reacting=reacting)


def case_limits(handbook: Handbook, working_minutes_per_day: float) -> list[TimeLimit]:
    """Each subclass's handling limit (`sim.data.taxonomy.Subclass.case_limit`)."""
    return [s.case_limit(working_minutes_per_day) for s in handbook.subclasses]


class CityModel:
    """The simulated city: ground truth, the platform's cases and all actors.

    Args:
        scenario: a validated scenario.
        decisions: the decision points (built-in handbook rules by default).
        strict: check every case transition against the state machine as it happens.
        progress: called with the day number at the start of each simulated day.
        retiring: ended problems may be let go as the run goes (`GroundTruth.retire`, a
            streamed run's choice: `sim.run.record_run`).
    """

    def __init__(self, scenario: Scenario, *, decisions: DecisionPoints | None = None,
                 strict: bool = False, progress: Callable[[int], None] | None = None,
                 retiring: bool = False) -> None:
        self.spec = scenario
        self.days = scenario.days
        self.horizon = scenario.days * 1440.0
        self.env = Clock()
        self.calendar = WorkingCalendar(scenario.calendar, scenario.start_date, scenario.days)
        self.handbook = load_handbook(scenario.resolve(scenario.handbook.file))
        self.city = load_city(scenario.resolve(scenario.city.grids_file),
                              scenario.city.district_code)
        self.streams = Streams(scenario.seed)
        self.log = EventLog()
        self.truth = GroundTruth(retiring)
        self.cases = CaseBook(self.env, self.log, self.truth, strict)
        self.department_names = list(scenario.departments)
        index = {n: i for i, n in enumerate(self.department_names)}
        subs = self.handbook.subclasses
        self.sub_dept = [index[s.department] for s in subs]
        self.sub_limit = case_limits(self.handbook, self.calendar.working_minutes_per_day)
        self.limit_scale = scenario.handbook.time_limit_scale
        self.misclassification = scenario.inspectors.misclassification
        self.mistakes = mistakes_of(self.handbook, self.department_names)  # where they go
        self._progress = progress
        self.reaction = behaviour_under(scenario)
        self.planning_pressure = planning_under(scenario)
        self.inspectors = InspectorCorps(self)
        self.discovery = Discovery(self)
        if scenario.loops != LoopsSpec():  # big/small/micro loops (agents/loops.py)
            apply_loops(self)
        self.decisions = decisions or DecisionPoints()  # the policy, bound once to the city:
        self.decide = Decisions(self.decisions, CityView(  # asked, and its answers checked
            self.env, self.cases, self.city, self.handbook, self.department_names,
            self.sub_dept), self.cases, scenario.centre.dispatch_error, self.mistakes)
        self.supervision = SupervisionCentre(self)
        self.command = CommandCentre(self)
        self.whistle = Whistle(self) if scenario.whistle.enabled else None
        self.stage_tables: dict[int, StageTable] = {}  # by subclass, shared (agents/stages.py)
        self.departments = [Department(self, i, n, scenario.departments[n])
                            for i, n in enumerate(self.department_names)]
        self.stretching = Stretching(self)  # departments under a backlog (agents/stretch.py)
        self.hotline = Hotline(self) if scenario.hotline.enabled else None
        self.proactive = Proactive(self) if scenario.proactive.enabled else None
        self.caselife = CaseLife(self)
        if self.hotline is not None:  # callers are surveyed when their case ends
            self.cases.ended = self.hotline.case_ended
        self._started = False
        self.calls: pd.DataFrame | None = None
        self.wall_seconds = 0.0
        self.sim_events = 0

    def sampler(self, stream: str, dist: Dist, scale: float = 1.0) -> Sampler:
        """Draws from ``dist`` (times ``scale``) on its own named random stream, so how
        often one quantity is drawn never shifts another's values."""
        return make_sampler(dist, self.streams[stream], scale)

    def uniforms(self, stream: str) -> Uniforms:
        """Uniform draws on their own named stream (for one kind of decision)."""
        return Uniforms(self.streams[stream])

    def progress(self, day: int) -> None:
        if self._progress is not None:
            self._progress(day)

    def start(self) -> CityModel:
        """Schedule the city's own happenings from time 0: each day's new problems, the
        hotline's days, every patrol shift and the whistle's sweeps. `run` starts the city
        this way, and so does a training session before its injects. Returns self."""
        if self._started:
            raise RuntimeError("the city has already been started")
        self._started = True
        self.discovery.start()
        if self.hotline is not None:
            self.hotline.start()
        self.inspectors.start()
        self.stretching.start()
        if self.whistle is not None:
            self.whistle.start()
        return self

    def run(self) -> CityModel:
        """Start the city and run it to the horizon. Returns self."""
        t0 = time.perf_counter()
        scheduled0 = self.env.scheduled()
        self.start()
        gc_was = gc.isenabled()
        gc.disable()  # millions of short-lived acyclic objects: the collector only costs time
        try:
            self.env.run(until=self.horizon)
        finally:
            if gc_was:
                gc.enable()
        scheduled = self.env.scheduled() - scheduled0 - 1
        self.sim_events = scheduled - self.env.pending()
        for pool in self.pools().values():
            pool.settle(self.horizon)
        if self.hotline is not None:
            self.calls = self.hotline.finish()
        self.wall_seconds = time.perf_counter() - t0
        return self

    def events(self) -> np.ndarray:
        """The event log as a record array (see `sim.engine.eventlog`)."""
        return self.log.to_array()

    def problems(self) -> np.ndarray:
        """Ground truth, one row per problem."""
        return self.truth.to_array()

    def pools(self) -> dict[str, object]:
        """Every staff pool by name (for utilisation and Little's law checks)."""
        out: dict[str, object] = {
            "acceptors": self.supervision.acceptors,
            "shift_leaders": self.supervision.leaders,
            "dispatchers": self.command.dispatchers,
        }
        for d in self.departments:
            out[f"department:{d.name}"] = d.crews
        return out
