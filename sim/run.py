"""One simulation run, start to finish: build the city, run it, derive and write the results.

`simulate` returns a `RunResult` holding plain arrays (event log, ground truth) and the
names needed to read them; `write_run` writes the run folder. Both are what the CLI,
experiments and notebooks call.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.data.citymap import CityMap
from sim.data.scenario import Scenario
from sim.data.taxonomy import Handbook
from sim.engine.decisions import DecisionPoints
from sim.engine.eventlog import Step
from sim.evaluation import case_table, standard_evaluation
from sim.model import CityModel
from sim.outputs.files import events_frame, write_events, write_frame, write_json
from sim.outputs.kpis import hotline_summary, summarize, three_rates

__all__ = ["RunResult", "simulate", "write_run"]


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
        events_mask = np.array([s.kind == "event" for s in self.handbook.subclasses])
        out: dict[str, Any] = {
            "scenario": self.scenario.name, "seed": self.scenario.seed,
            "days": self.scenario.days, "scenario_digest": self.scenario.digest(),
            "start_date": self.scenario.start_date.isoformat(),
            "scenario_file": self.scenario.source,
        }
        out.update(summarize(self.cases, self.problems, event_subclasses=events_mask,
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
        sc = self.scenario
        if not sc.evaluation.enabled:
            return {}
        return standard_evaluation(
            self.events, department_names=self.departments,
            grid_to_subdistrict=self.city.subdistrict,
            subdistrict_names=self.city.subdistrict_names, n_beats=self.n_beats,
            grid_to_beat=self.grid_beat, n_acceptors=sc.centre.acceptors,
            n_shift_leaders=sc.centre.shift_leaders, n_dispatchers=sc.centre.dispatchers,
            horizon=sc.days * 1440.0)


def simulate(scenario: Scenario, *, decisions: DecisionPoints | None = None,
             strict: bool = False, progress: Callable[[int], None] | None = None) -> RunResult:
    """Build and run the city of ``scenario``."""
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


def write_run(result: RunResult, out: str | Path, *, figure: bool = True) -> dict[str, Path]:
    """Write the run folder; returns the paths written, by name."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    subclass_codes = [s.code for s in result.handbook.subclasses]
    paths: dict[str, Path] = {}
    table = events_frame(result.events, departments=result.departments,
                         grid_codes=result.city.codes, subclass_codes=subclass_codes)
    paths["events"] = write_events(out / "events.parquet", table)
    cases = result.cases.copy()
    cases["grid_code"] = np.asarray(result.city.codes)[cases["grid"].to_numpy()]
    cases["subclass_code"] = np.asarray(subclass_codes)[cases["subclass"].to_numpy()]
    names = np.asarray([*result.departments, ""])  # index -1: no department yet
    for col in ("first_department", "final_department"):
        if col in cases:
            cases[f"{col}_name"] = names[cases[col].to_numpy()]
    paths["cases"] = write_frame(out / "cases.parquet", cases)
    prob = pd.DataFrame(result.problems)
    prob["grid_code"] = np.asarray(result.city.codes)[prob["grid"].to_numpy()]
    prob["subclass_code"] = np.asarray(subclass_codes)[prob["subclass"].to_numpy()]
    prob["fate"] = pd.Categorical.from_codes(prob["fate"],
                                             ["open", "fixed", "fixed_on_spot", "vanished"])
    paths["problems"] = write_frame(out / "problems.parquet", prob)
    if result.calls is not None:
        paths["calls"] = write_frame(out / "calls.parquet", result.calls)
    summary = result.summary()
    summary["outputs"] = sorted(p.name for p in paths.values())
    if figure:
        from sim.i18n import _, use
        from sim.i18n.fonts import drawing_language
        from sim.outputs.figures import overview_figure
        shapes = None
        if result.city.geometry is not None:  # an imported map: draw its real outlines
            from sim.geo import city_shapes
            shapes = city_shapes(result.scenario.resolve(result.scenario.city.grids_file),
                                 result.city.codes)
        with use(drawing_language()):
            title = _("{name}: {days} days, seed {seed}").format(
                name=result.scenario.name, days=result.scenario.days, seed=result.scenario.seed)
        paths["overview"] = overview_figure(
            result.events, row=result.city.row, col=result.city.col,
            subdistrict=result.city.subdistrict, horizon=result.scenario.days * 1440.0,
            title=title, path=out / "overview.png", shapes=shapes)
        summary["outputs"] += ["overview.png", "overview.svg"]
    if result.calls is not None and figure:
        from sim.i18n import _, use
        from sim.i18n.fonts import drawing_language
        from sim.outputs.figures import hotline_figure
        with use(drawing_language()):
            title = _("{name} 12345 hotline: {days} days, seed {seed}").format(
                name=result.scenario.name, days=result.scenario.days, seed=result.scenario.seed)
        paths["hotline"] = hotline_figure(result.calls, days=result.scenario.days, title=title,
                                          path=out / "hotline.png")
        summary["outputs"] += ["hotline.png", "hotline.svg"]
    paths["summary"] = write_json(out / "summary.json", summary)
    return paths
