"""One task of an experiment: one design point, one replication, one Parquet file.

A task loads its point's scenario, sets the replication's seed, simulates, and keeps what
statistics and the report need as one long table (layout in docs/experiments.md): the KPIs of
``summary.json``, daily series (backlog, filed, closed...), per-grid counts (problems, filed,
overdue cases) and the standard league tables. The file is written under a temporary name and
renamed, so a task killed half-way leaves nothing, and a task whose file exists is not redone.

Seeds: replication k of an experiment with root entropy E runs with seed
``SeedSequence(E, spawn_key=(k,))`` folded to a 63-bit integer, the same for every design
point (common random numbers); inside the run each stochastic process draws from its own
named stream of that seed (`sim.engine.randomness`).
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim.outputs.files import atomic_write

__all__ = ["Task", "TaskDone", "replication_seed", "run_task", "task_path", "flat_kpis",
           "TASK_SCHEMA", "META_KEYS"]

MINUTES_PER_DAY = 1440.0
# summary.json entries that describe the run rather than measure the city
META_KEYS = frozenset({"scenario", "seed", "days", "scenario_digest", "start_date",
                       "scenario_file", "outputs", "sim_events", "wall_seconds"})

TASK_SCHEMA = pa.schema([
    ("point", pa.int32()), ("label", pa.string()), ("rep", pa.int32()), ("seed", pa.int64()),
    ("table", pa.string()), ("name", pa.string()), ("key", pa.string()), ("day", pa.int32()),
    ("value", pa.float64()),
])


def replication_seed(entropy: int, rep: int) -> int:
    """The scenario seed of replication ``rep``: child ``rep`` of the root SeedSequence."""
    child = np.random.SeedSequence(entropy, spawn_key=(rep,))
    return int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


@dataclass(frozen=True)
class Task:
    """What a worker needs to run one replication of one design point (plain, picklable)."""

    point: int
    label: str
    rep: int
    seed: int
    scenario: str
    settings: tuple[str, ...]
    days: int | None
    digest: str = ""

    @property
    def name(self) -> str:
        return f"p{self.point:03d}-r{self.rep:04d}"


@dataclass(frozen=True)
class TaskDone:
    """A finished task: where its file is and what it cost (seconds, in the worker)."""

    name: str
    point: int
    rep: int
    path: str
    sim_seconds: float
    task_seconds: float
    skipped: bool = False


def task_path(folder: str | Path, name: str) -> Path:
    return Path(folder) / "tasks" / f"{name}.parquet"


@functools.lru_cache(maxsize=32)
def _base_scenario(scenario: str, settings: tuple[str, ...], days: int | None,
                   digest: str) -> Any:
    """The point's scenario, read once per worker; ``digest`` (the manifest's) is part of
    the cache key, so a scenario file edited between experiments is read again."""
    from sim.data.scenario import load_scenario
    from sim.errors import GridLoopError

    sc = load_scenario(scenario, list(settings), days=days)
    if digest and sc.model_copy(update={"seed": 0}).digest() != digest:
        raise GridLoopError(f"{scenario}: the scenario file changed while the experiment "
                            "ran; rerun it")
    return sc


def run_task(task: Task, folder: str) -> TaskDone:
    """Simulate one replication and write its table; a task already on disk is skipped."""
    t0 = time.perf_counter()
    path = task_path(folder, task.name)
    if path.exists():
        return TaskDone(task.name, task.point, task.rep, str(path), 0.0, 0.0, skipped=True)
    from sim.run import simulate

    scenario = _base_scenario(task.scenario, task.settings, task.days, task.digest).model_copy(
        update={"seed": task.seed})
    result = simulate(scenario)
    sim_seconds = result.wall_seconds
    table = task_table(task, result)
    atomic_write(path, lambda p: pq.write_table(table, p, compression="zstd"))
    return TaskDone(task.name, task.point, task.rep, str(path), sim_seconds,
                    time.perf_counter() - t0)


def flat_kpis(summary: dict[str, Any]) -> dict[str, float]:
    """The numeric KPIs of a summary, nested sections joined by dots
    (``hours_to_close.mean``, ``three_rates.satisfaction``); None becomes NaN."""
    out: dict[str, float] = {}

    def walk(prefix: str, d: dict[str, Any]) -> None:
        for k, v in d.items():
            if prefix == "" and k in META_KEYS:
                continue
            name = f"{prefix}{k}"
            if isinstance(v, dict):
                walk(name + ".", v)
            elif v is None:
                out[name] = float("nan")
            elif isinstance(v, bool | int | float):
                out[name] = float(v)
    walk("", summary)
    return out


def daily_series(result: Any) -> dict[str, np.ndarray]:
    """Per simulated day 1..days: open filed cases at the day's end (``backlog``), cases
    filed and closed that day, problems that appeared, and the mean hours from report to
    close of the cases closed that day (NaN on a day nothing closed)."""
    from sim.engine.eventlog import Step

    days = result.scenario.days
    edges = MINUTES_PER_DAY * np.arange(days + 1, dtype=np.float64)
    steps, when = result.events["step"], result.events["time"]
    # open at the end of day d: filed at or before its last instant, not closed by then
    # (the same count as sim.outputs.figures.backlog_series, without importing matplotlib)
    ends = edges[1:]
    backlog = (np.searchsorted(np.sort(when[steps == Step.FILE]), ends, side="right")
               - np.searchsorted(np.sort(when[steps == Step.CLOSE]), ends, side="right"))

    def per_day(times: np.ndarray) -> np.ndarray:
        return np.histogram(times, bins=edges)[0].astype(np.float64)

    cases = result.cases
    closed = cases[cases["t_close"].notna()]
    day = np.clip((closed["t_close"].to_numpy() // MINUTES_PER_DAY).astype(np.int64), 0,
                  days - 1)
    hours = (closed["t_close"] - closed["t_report"]).to_numpy(np.float64) / 60.0
    n = np.bincount(day, minlength=days).astype(np.float64)
    total = np.bincount(day, weights=hours, minlength=days)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_close = np.where(n > 0, total / np.where(n > 0, n, 1), np.nan)
    return {
        "backlog": backlog.astype(np.float64),
        "filed": per_day(when[steps == Step.FILE]),
        "closed": per_day(when[steps == Step.CLOSE]),
        "problems": per_day(result.problems["created"]),
        "hours_to_close": mean_close,
    }


def grid_counts(result: Any) -> dict[str, np.ndarray]:
    """Per unit grid: problems that appeared, filed cases, and overdue cases (filed cases
    whose handling missed its deadline, or that were still unhandled past it at the end)."""
    n = result.city.n_grids
    cases = result.cases
    filed = cases[cases["t_file"].notna()]
    late = filed["handled_on_time"].eq(False).fillna(False).to_numpy(bool)
    return {
        "problems": np.bincount(result.problems["grid"], minlength=n).astype(np.float64),
        "filed": np.bincount(filed["grid"].to_numpy(np.int64), minlength=n).astype(np.float64),
        "overdue": np.bincount(filed["grid"].to_numpy(np.int64)[late],
                               minlength=n).astype(np.float64),
    }


def department_kpis(result: Any) -> dict[str, float]:
    """Each department's own figures, for a lever on one department (its crews): over the
    cases it handled last, ``departments.NAME.hours_to_close`` (mean hours from report to
    close of those closed and not suspended) and ``departments.NAME.on_time`` (share
    handled on time); NaN when it handled none."""
    c = result.cases
    closed = c[(c["state"] == "closed") & ~c["suspended"].astype(bool)]
    hours = (closed["t_close"] - closed["t_report"]) / 60.0
    handled = c[c["t_handle"].notna()]
    out: dict[str, float] = {}
    for i, name in enumerate(result.departments):
        h = hours[closed["final_department"] == i]
        on = handled["handled_on_time"][handled["final_department"] == i]
        out[f"departments.{name}.hours_to_close"] = float(h.mean()) if len(h) else math.nan
        out[f"departments.{name}.on_time"] = float(on.mean()) if len(on) else math.nan
    return out


def task_table(task: Task, result: Any) -> pa.Table:
    """The long table of one task (columns `TASK_SCHEMA`)."""
    t0 = time.perf_counter()
    table: list[str] = []
    name: list[str] = []
    key: list[str | None] = []
    day: list[int | None] = []
    value: list[float] = []

    def add(tab: str, nm: str, keys: list[str | None], days: list[int | None],
            vals: Any) -> None:
        vals = [float(v) for v in vals]
        table.extend([tab] * len(vals))
        name.extend([nm] * len(vals))
        key.extend(keys)
        day.extend(days)
        value.extend(vals)

    from sim.evaluation import case_table
    from sim.evaluation.cases import group_cases
    from sim.evaluation.standard import standard_evaluation

    grouped = group_cases(result.events)  # once, for the KPIs and the league tables
    result._cases = case_table(grouped)
    for k, v in flat_kpis(result.summary()).items():
        add("kpi", k, [None], [None], [v])
    for k, v in department_kpis(result).items():
        add("kpi", k, [None], [None], [v])
    for k, series in daily_series(result).items():
        add("daily", k, [None] * len(series), list(range(1, len(series) + 1)), series)
    codes = [str(c) for c in result.city.codes]
    for k, counts in grid_counts(result).items():
        add("grid", k, codes, [None] * len(codes), counts)
    sc = result.scenario
    league = standard_evaluation(  # as RunResult.evaluation, on the grouped log
        grouped, department_names=result.departments,
        grid_to_subdistrict=result.city.subdistrict,
        subdistrict_names=result.city.subdistrict_names, n_beats=result.n_beats,
        grid_to_beat=result.grid_beat, n_acceptors=sc.centre.acceptors,
        n_shift_leaders=sc.centre.shift_leaders, n_dispatchers=sc.centre.dispatchers,
        horizon=sc.days * MINUTES_PER_DAY)
    for kind, unit in (("departments", "name"), ("subdistricts", "name")):
        frame = league[kind]
        for column in ("score", "rank"):
            add("league", f"{kind}.{column}", [str(u) for u in frame[unit]],
                [None] * len(frame), frame[column].to_numpy(np.float64))
    add("run", "sim_seconds", [None], [None], [result.wall_seconds])
    add("run", "sim_events", [None], [None], [result.sim_events])
    add("run", "derive_seconds", [None], [None], [time.perf_counter() - t0])
    n = len(value)
    return pa.table({
        "point": pa.array(np.full(n, task.point, np.int32)),
        "label": pa.array([task.label] * n, pa.string()),
        "rep": pa.array(np.full(n, task.rep, np.int32)),
        "seed": pa.array(np.full(n, task.seed, np.int64)),
        "table": pa.array(table, pa.string()),
        "name": pa.array(name, pa.string()),
        "key": pa.array(key, pa.string()),
        "day": pa.array(day, pa.int32()),
        "value": pa.array(value, pa.float64()),
    }, schema=TASK_SCHEMA)
