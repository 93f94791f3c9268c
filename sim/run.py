"""One simulation run, start to finish: build the city, run it, derive and write the results.

Two ways, one set of outputs. `simulate` keeps everything in memory and returns a
`RunResult` holding plain arrays (event log, ground truth) and the names needed to read them
(experiments, notebooks, tests); `write_run` writes its run folder. `record_run` is what
`gridloop run` does: the event log streams to the run folder as the run goes
(`sim.outputs.recorder`), so memory is bounded by the open work, not the horizon. Both write
through `sim.outputs.runfolder.RunFolder` (a temporary folder swapped in whole) and give the
same files for the same seed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.data.citymap import CityMap
from sim.data.resources import expected_problems, lets_problems_go
from sim.data.scenario import Scenario
from sim.data.taxonomy import Handbook
from sim.engine.decisions import DecisionPoints
from sim.engine.eventlog import Step
from sim.errors import GridLoopError
from sim.evaluation import case_table, standard_evaluation
from sim.evaluation.standard import Roster
from sim.model import CityModel
from sim.outputs.files import Names, write_json
from sim.outputs.kpis import hotline_summary, summarize, three_rates
from sim.outputs.provenance import provenance
from sim.outputs.recorder import FigureSpec, RunRecorder
from sim.outputs.runfolder import RunFolder, checkpoint
from sim.outputs.writer import RecorderProcess

__all__ = ["RunResult", "RecordedRun", "simulate", "record_run", "write_run",
           "estimate_bytes"]

Stage = Callable[[str], None]
Recorder = RunRecorder | RecorderProcess
_CHUNK = 200_000  # event rows per batch written from memory (the log's own chunk size)
# A problem's ground-truth row is final once it has ended and no case in the loop names it
# (`GroundTruth.refs`); it is handed to the recorder the day after it ended, or when its
# last case ends if that is later (tests/test_letting_go.py: the log is the same either way).
# A day rather than a week: the dict columns then hold ~4,500 problems of dongcheng instead
# of ~14,500, and 120 days letting go took 1-7 % less CPU in three pairs (docs/speed.md).
RETIRE_AFTER_DAYS = 1


def _event_subclasses(handbook: Handbook) -> np.ndarray:
    return np.array([s.kind == "event" for s in handbook.subclasses], dtype=bool)


def _roster(scenario: Scenario, city: CityMap, departments: list[str], grid_beat: np.ndarray,
            n_beats: int) -> Roster | None:
    """The units the scenario's standard evaluation judges (None: it evaluates nobody)."""
    if not scenario.evaluation.enabled:
        return None
    c = scenario.centre
    return Roster(departments, city.subdistrict, city.subdistrict_names, n_beats, grid_beat,
                  c.acceptors, c.shift_leaders, c.dispatchers)


def _meta(scenario: Scenario) -> dict[str, Any]:
    return {"scenario": scenario.name, "seed": scenario.seed, "days": scenario.days,
            "scenario_digest": scenario.digest(),
            "start_date": scenario.start_date.isoformat(), "scenario_file": scenario.source}


@dataclass
class RunResult:
    """What a run leaves behind: the log, the ground truth and how to read them."""

    scenario: Scenario
    events: np.ndarray
    problems: np.ndarray
    city: CityMap
    handbook: Handbook
    departments: list[str]
    grid_beat: np.ndarray
    n_beats: int
    sim_events: int
    wall_seconds: float
    pools: dict[str, dict[str, float]] = field(default_factory=dict)
    calls: pd.DataFrame | None = None
    stretch: dict[str, float] | None = None
    _cases: pd.DataFrame | None = None

    @property
    def cases(self) -> pd.DataFrame:
        """One row a case (`sim.evaluation.case_table`), computed once."""
        if self._cases is None:
            self._cases = case_table(self.events)
        return self._cases

    def summary(self) -> dict[str, Any]:
        """The numbers of ``summary.json``."""
        out = _meta(self.scenario)
        out.update(summarize(self.cases, self.problems,
                             event_subclasses=_event_subclasses(self.handbook),
                             days=self.scenario.days))
        if self.scenario.whistle.enabled:  # whistle-and-report: how often it was blown
            out["summons"] = int((self.events["step"] == Step.SUMMON).sum())
        if self.stretch is not None:  # departments that may stretch: how much they did
            out["stretch"] = self.stretch
        if self.calls is not None:
            out["hotline"] = hotline_summary(self.calls)
            out["three_rates"] = three_rates(self.calls)
        out["sim_events"] = self.sim_events
        out["wall_seconds"] = round(self.wall_seconds, 3)
        return out

    def evaluation(self) -> dict[str, pd.DataFrame]:
        """The standard evaluation (docs/domain.md §6) of every unit, from the event log (none when
        the scenario evaluates nobody, ``evaluation.enabled: false``)."""
        roster = _roster(self.scenario, self.city, self.departments, self.grid_beat,
                         self.n_beats)
        if roster is None:
            return {}
        return standard_evaluation(
            self.events, department_names=roster.department_names,
            grid_to_subdistrict=roster.grid_to_subdistrict,
            subdistrict_names=roster.subdistrict_names, n_beats=roster.n_beats,
            grid_to_beat=roster.grid_to_beat, n_acceptors=roster.n_acceptors,
            n_shift_leaders=roster.n_shift_leaders, n_dispatchers=roster.n_dispatchers,
            horizon=self.scenario.days * 1440.0)


@dataclass
class RecordedRun:
    """A run written to its folder: where, what it says, and its league tables."""

    folder: Path
    summary: dict[str, Any]
    evaluation: dict[str, pd.DataFrame]
    paths: dict[str, Path]
    sim_events: int
    wall_seconds: float


def simulate(scenario: Scenario, *, decisions: DecisionPoints | None = None,
             strict: bool = False, progress: Callable[[int], None] | None = None) -> RunResult:
    """Build and run the city of ``scenario``, keeping its rows in memory."""
    t0 = time.perf_counter()
    model = CityModel(scenario, decisions=decisions, strict=strict, progress=progress)
    model.run()
    return RunResult(
        scenario=scenario, events=model.events(), problems=model.problems(), city=model.city,
        handbook=model.handbook, departments=model.department_names,
        grid_beat=model.inspectors.grid_beat, n_beats=len(model.inspectors.beats),
        sim_events=model.sim_events, wall_seconds=time.perf_counter() - t0,
        pools={k: p.stats.as_dict(model.horizon) for k, p in model.pools().items()},
        calls=model.calls,
        stretch=model.stretching.totals() if model.stretching.depts else None)


# Bytes a run folder takes, per problem and per hotline call (measured on dongcheng: a year
# is ~160 MB: ~250 bytes a problem, ~25 a call), doubled to leave room; the figures take a
# few MB.
# A run expecting fewer problems than this writes its outputs on a thread: its simulation
# takes a few seconds, less than a recorder process needs to start and import (~1 s of CPU
# on the other core) and to hand back at the end (judgement; 20,000 is ~12 days of dongcheng).
PROCESS_ABOVE_PROBLEMS = 20_000
_BYTES_PER_PROBLEM = 2 * 250
_BYTES_PER_CALL = 2 * 25
_BYTES_FIXED = 8_000_000


def estimate_bytes(scenario: Scenario) -> int:
    """A generous estimate of the size of ``scenario``'s run folder, to check the disk."""
    p, h = scenario.problems, scenario.hotline
    per_day = p.per_day * p.rate_scale * _BYTES_PER_PROBLEM
    if h.enabled:
        per_day += h.background_per_day * h.rate_scale * _BYTES_PER_CALL
    return int(scenario.days * per_day) + _BYTES_FIXED


def record_run(scenario: Scenario, folder: RunFolder, *,
               decisions: DecisionPoints | None = None, strict: bool = False,
               progress: Callable[[int], None] | None = None, writing: Stage | None = None,
               figure: bool = True, command: Sequence[str] | None = None,
               overrides: dict[str, Any] | None = None,
               recorder_process: bool | None = None) -> RecordedRun:
    """Run ``scenario`` and stream it into ``folder`` (from `RunFolder.prepare`), then put
    the folder in place. Rows leave memory as their story is told: the event log a chunk at
    a time, finished cases with it, hotline calls a day at a time, and in a long or large run
    ended problems a day later (`lets_problems_go`); what is held is the open work and
    fixed-size counts (docs/speed.md).

    Args:
        progress: called with the day number at the start of each simulated day.
        writing: called with what is being written, for each step after the simulation.
        command, overrides: recorded in ``summary.json`` (`sim.outputs.provenance`).
        recorder_process: write the outputs in a second process (`sim.outputs.writer`),
            else on a thread of this one; the files are the same. None: the process when
            the run expects more than `PROCESS_ABOVE_PROBLEMS` problems.
    """
    retiring = lets_problems_go(scenario)
    if recorder_process is None:
        recorder_process = expected_problems(scenario) > PROCESS_ABOVE_PROBLEMS

    def new_day(day: int) -> None:  # ended problems leave memory, as rows for the recorder
        if retiring:
            rows = model.truth.retire(before=(day - RETIRE_AFTER_DAYS) * 1440.0)
            if len(rows):
                model.discovery.forget(model.truth.retired)
                recorder.problems(rows)
        if progress is not None:
            progress(day)

    with folder:
        t0 = time.perf_counter()
        model = CityModel(scenario, decisions=decisions, strict=strict, progress=new_day,
                          retiring=retiring)
        extra = {"drawer": figure and model.hotline is not None} if recorder_process else {}
        recorder = (RecorderProcess if recorder_process else RunRecorder)(
            folder.path, **extra, names=Names(model.department_names, model.city.codes,
                                     [s.code for s in model.handbook.subclasses]),
            event_subclasses=_event_subclasses(model.handbook),
            roster=_roster(scenario, model.city, model.department_names,
                           model.inspectors.grid_beat, len(model.inspectors.beats)),
            horizon=model.horizon, hotline=model.hotline is not None)
        try:
            model.log.sink = recorder.events
            if model.hotline is not None:  # finished calls go a day at a time
                calls = model.hotline.log
                calls.sink = lambda rows: recorder.calls(rows, list(calls.units))
            model.run()
            spec = _figures(scenario, model.city) if figure else None
            recorder.calls_done(spec)  # the hotline figure may be drawn from now on
            model.log.flush()
            wall = time.perf_counter() - t0
            checkpoint("streaming")
            say = writing or (lambda _: None)
            say("problems.parquet")
            recorder.problems(model.problems())
            return _finish(recorder, folder, scenario, wall, model.sim_events,
                           say, spec, command, overrides)
        except OSError as e:  # a full disk, a folder removed under the run...
            raise GridLoopError(f"{folder.target}: could not write the run ({e.strerror or e})"
                                f"; the folder is as it was") from None
        finally:
            recorder.stop()


def write_run(result: RunResult, out: str | Path, *, figure: bool = True, force: bool = False,
              command: Sequence[str] | None = None,
              overrides: dict[str, Any] | None = None) -> dict[str, Path]:
    """Write the run folder of an in-memory run; returns the paths written, by name.

    Raises:
        GridLoopError: ``out`` cannot be written, or is a non-empty folder and not ``force``
            (see `RunFolder.prepare`).
    """
    sc = result.scenario
    folder = RunFolder.prepare(out, force=force, flag="out")
    with folder:
        recorder = RunRecorder(
            folder.path, names=Names(result.departments, result.city.codes,
                                     [s.code for s in result.handbook.subclasses]),
            event_subclasses=_event_subclasses(result.handbook),
            roster=_roster(sc, result.city, result.departments, result.grid_beat,
                           result.n_beats),
            horizon=sc.days * 1440.0, hotline=result.calls is not None)
        for start in range(0, len(result.events), _CHUNK):
            recorder.events(result.events[start:start + _CHUNK])
        recorder.problems(result.problems)
        if result.calls is not None:
            recorder.calls(result.calls)
        return _finish(recorder, folder, sc, result.wall_seconds, result.sim_events,
                       lambda _: None, _figures(sc, result.city) if figure else None, command,
                       overrides).paths


def _figures(sc: Scenario, city: CityMap) -> FigureSpec:
    from sim.i18n import _, current, use
    from sim.i18n.fonts import drawing_language

    with use(drawing_language()):
        titles = (_("{name}: {days} days, seed {seed}"),
                  _("{name} 12345 hotline: {days} days, seed {seed}"))
    shapes = None
    if city.geometry is not None:  # an imported map: draw its real outlines
        from sim.geo import city_shapes
        shapes = city_shapes(sc.resolve(sc.city.grids_file), city.codes)
    overview, hotline = (t.format(name=sc.name, days=sc.days, seed=sc.seed) for t in titles)
    return FigureSpec(
        (overview, hotline), row=city.row, col=city.col, subdistrict=city.subdistrict, days=sc.days,
        hotline=sc.hotline.enabled, language=current(), shapes=shapes)


def _finish(recorder: Recorder, folder: RunFolder, sc: Scenario, wall_seconds: float,
            sim_events: int, say: Stage, figures: FigureSpec | None,
            command: Sequence[str] | None, overrides: dict[str, Any] | None) -> RecordedRun:
    """Close the tables, add the summary, the figures (when ``figures`` says how) and the
    scenario, and commit the folder."""
    # first what needs no recorder (a recorder process meanwhile writes its last batches)
    write_json(folder.path / "scenario.json", sc.model_dump(mode="json"))
    made = provenance(command, overrides)
    out = recorder.conclude(sc.days, figures, say)
    summary = _meta(sc)
    summary.update(out.kpis)
    if sc.whistle.enabled:  # whistle-and-report: how often it was blown
        summary["summons"] = out.summons
    if sc.hotline.enabled:
        summary["hotline"] = out.hotline
        summary["three_rates"] = out.three_rates
    summary["sim_events"] = sim_events
    summary["wall_seconds"] = round(wall_seconds, 3)
    summary["outputs"] = sorted(p.name for p in out.written)
    names = {p.stem: p.name for p in out.written}
    for stem, png in out.figures.items():
        summary["outputs"] += [png.name, png.with_suffix(".svg").name]
        names[stem] = png.name
    summary.update(made)
    say("checking and putting the folder in place")
    target = folder.commit(summary, progress=say, digests=out.digests)
    paths = {k: target / v for k, v in names.items()}
    paths["summary"] = target / "summary.json"
    paths["scenario"] = target / "scenario.json"
    return RecordedRun(target, summary, out.evaluation, paths, sim_events, wall_seconds)
