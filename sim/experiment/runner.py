"""Running an experiment: design points x replications, on an executor, into a folder.

`run_sweep` and `run_compare` build the design points, pin them in the folder's manifest
(or check them against the one there), run every task not yet on disk, and with a precision
target add replications until every chosen KPI's relative half-width reaches it (or the cap).
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import GridLoopError
from sim.experiment.checks import check_alike, check_out
from sim.experiment.design import (
    Point,
    compare_points,
    factorial_points,
    lhs_points,
    parse_vary,
)
from sim.experiment.execute import Executor, make_executor
from sim.experiment.store import (
    MANIFEST,
    check_same_experiment,
    finished_tasks,
    git_commit,
    package_versions,
    read_manifest,
    remove_partial_writes,
    write_manifest,
)
from sim.experiment.tasks import Task, TaskDone, replication_seed
from sim.i18n import _

__all__ = ["ExperimentRun", "run_sweep", "run_compare", "Progress"]

# called with (tasks finished, tasks to run) after each task, and (0, n) at the start
Progress = Callable[[int, int], None]
# Smoke-test size (docs/writing-docs.md): every experiment runs at most this many replications.
MAX_REPS_ENV = "GRIDLOOP_MAX_REPS"


@dataclass(frozen=True)
class ExperimentRun:
    """What a call to `run_sweep` / `run_compare` did.

    Attributes:
        folder: the experiment folder (read it with `load_results`, `summarize`...).
        reps: replications per design point now on disk.
        tasks_run: tasks simulated by this call (finished ones found on disk are not).
        tasks_total: design points x replications.
        precision_met: with a precision target, whether every chosen KPI reached it (None
            without a target).
        precision_short: when it did not, the KPIs that held it back, worst first:
            (KPI, point label, relative half-width).
    """

    folder: Path
    reps: int
    tasks_run: int
    tasks_total: int
    precision_met: bool | None = None
    precision_short: tuple[tuple[str, str, float], ...] = ()


def run_sweep(scenario: str, vary: Sequence[str], *, reps: int, out: str | Path,
              design: str = "factorial", samples: int | None = None, days: int | None = None,
              overrides: Sequence[str] = (), seed: int | None = None,
              workers: int | None = None, scheduler: str | None = None,
              executor: Executor | None = None, precision: float | None = None,
              precision_kpis: Sequence[str] = (), max_reps: int = 100,
              progress: Progress | None = None,
              on_task: Callable[[TaskDone], None] | None = None) -> ExperimentRun:
    """Sweep scenario keys: ``vary=["inspectors.count=10,20,30"]`` (factorial) or, with
    ``design="lhs"`` and ``samples=M``, ``vary=["inspectors.count=10:40"]`` (Latin hypercube).

    Args:
        scenario: scenario file or bundled name.
        vary: ``key=v1,v2,...`` or ``key=lo:hi`` strings over dotted scenario keys.
        reps: replications per design point (the minimum, with a precision target).
        out: experiment folder.
        days, overrides: as ``gridloop run --days/--set``, applied to every point.
        seed: root seed (entropy); default: a fresh one, or the one in out's manifest.
        workers / scheduler / executor: local processes, a Dask scheduler address, or an
            executor to reuse (`LocalPool`, `DaskCluster`).
        precision: target relative half-width (0.05: +-5% of the mean) of the chosen KPIs
            (``precision_kpis``; default all) at every point; replications are added up to
            ``max_reps``.
        progress: called with (finished, total) tasks.
        on_task: called with each finished task.
    """
    check_out(out)
    if design not in ("factorial", "lhs"):
        raise GridLoopError("--design: " + _("expected factorial or lhs, got {got}").format(
            got=repr(design)))
    factors = parse_vary(list(vary))
    if not factors:
        raise GridLoopError("--vary: " + _("expected at least one key to vary, got none"))
    entropy = _entropy(out, seed)
    if design == "lhs":
        if samples is None:
            raise GridLoopError("--samples: " + _("expected a number of samples for --design "
                                                  "lhs"))
        points = lhs_points(scenario, factors, samples, entropy, tuple(overrides))
    else:
        if samples is not None:
            raise GridLoopError("--samples: " + _("only with --design lhs (a factorial design "
                                                  "runs every combination)"))
        points = factorial_points(scenario, factors, tuple(overrides))
    factor_json = [{"key": f.key, "levels": list(f.levels)} if not f.is_range else
                   {"key": f.key, "low": f.low, "high": f.high, "integer": f.integer}
                   for f in factors]
    return _run("sweep", design, points, factor_json, samples, entropy, reps=reps, out=out,
                days=days, overrides=overrides, workers=workers, scheduler=scheduler,
                executor=executor, precision=precision, precision_kpis=precision_kpis,
                max_reps=max_reps, progress=progress, on_task=on_task)


def run_compare(scenarios: Sequence[str], *, reps: int, out: str | Path,
                days: int | None = None, overrides: Sequence[str] = (), seed: int | None = None,
                workers: int | None = None, scheduler: str | None = None,
                executor: Executor | None = None, precision: float | None = None,
                precision_kpis: Sequence[str] = (), max_reps: int = 100,
                progress: Progress | None = None,
                on_task: Callable[[TaskDone], None] | None = None) -> ExperimentRun:
    """Compare scenarios on common random numbers; the first is the baseline. Arguments as
    `run_sweep`."""
    check_out(out)
    if len(scenarios) < 2:
        raise GridLoopError("compare: " + _("expected at least two scenarios (a baseline and "
                                            "one more), got {n}").format(n=len(scenarios)))
    entropy = _entropy(out, seed)
    points = compare_points(list(scenarios), tuple(overrides))
    return _run("compare", "compare", points, [], None, entropy, reps=reps, out=out, days=days,
                overrides=overrides, workers=workers, scheduler=scheduler, executor=executor,
                precision=precision, precision_kpis=precision_kpis, max_reps=max_reps,
                progress=progress, on_task=on_task)


def _entropy(out: str | Path, seed: int | None) -> int:
    """The root seed: given, or the one of the experiment already in ``out``, or fresh."""
    if seed is not None:
        if seed < 0:
            raise GridLoopError("--seed: " + _("expected a number >= 0, got {seed}").format(
                seed=seed))
        return int(seed)
    if (Path(out) / MANIFEST).is_file():
        return int(read_manifest(out)["entropy"])
    return int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]


def reps_cap() -> int | None:
    """The cap ``GRIDLOOP_MAX_REPS`` puts on replications per point (None when unset)."""
    raw = os.environ.get(MAX_REPS_ENV, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 2:
        raise GridLoopError(f"{MAX_REPS_ENV}: expected a whole number of replications >= 2, "
                            f"got {raw!r}")
    return int(raw)


def _describe(points: list[Point], days: int | None
              ) -> tuple[list[dict[str, Any]], list[int], list[dt.date]]:
    """Load every point's scenario (bad input fails here, before anything runs); also returns
    each point's horizon before any ``GRIDLOOP_MAX_DAYS`` cap (what the scenarios ask for)
    and its start date."""
    from sim.data.scenario import days_cap, load_scenario

    cap = days_cap()
    out, asked, starts = [], [], []
    for i, p in enumerate(points):
        sc = load_scenario(p.scenario, list(p.settings()), days=days, cap_days=False,
                           flags=dict.fromkeys(p.factors, "--vary"))
        asked.append(sc.days)
        starts.append(sc.start_date)
        if cap is not None and sc.days > cap:
            sc = sc.model_copy(update={"days": cap})
        out.append({"point": i, "label": p.label, "scenario": p.scenario,
                    "scenario_name": sc.name, "scenario_file": sc.source,
                    "factors": p.factors, "settings": list(p.settings()),
                    "days": sc.days, "digest": sc.model_copy(update={"seed": 0}).digest()})
    return out, asked, starts


def _run(kind: str, design: str, points: list[Point], factors: list[dict[str, Any]],
         samples: int | None, entropy: int, *, reps: int, out: str | Path, days: int | None,
         overrides: Sequence[str], workers: int | None, scheduler: str | None,
         executor: Executor | None, precision: float | None, precision_kpis: Sequence[str],
         max_reps: int, progress: Progress | None,
         on_task: Callable[[TaskDone], None] | None) -> ExperimentRun:
    if reps < 2:
        raise GridLoopError("--reps: " + _("expected at least 2 replications (an interval "
                                           "needs two), got {reps}").format(reps=reps))
    if precision is not None and not 0 < precision < 1:
        raise GridLoopError("--precision: " + _("expected a relative half-width in (0, 1), "
                                                "got {precision}").format(precision=precision))
    if (cap := reps_cap()) is not None:
        reps, max_reps = min(reps, cap), min(max_reps, cap)
    folder = Path(out)
    described, asked, starts = _describe(points, days)
    if kind == "compare":
        check_alike([p["label"] for p in described], asked, starts, days is not None)
    manifest: dict[str, Any] = {
        "kind": kind, "design": design, "factors": factors, "samples": samples,
        "entropy": entropy, "days": days, "overrides": list(overrides), "points": described,
    }
    if (folder / MANIFEST).is_file():
        old = read_manifest(folder)
        check_same_experiment(folder, old, manifest)
        reps = max(reps, int(old.get("reps", 0)))
        created = old.get("created")
    else:
        created = None
    manifest.update(
        reps=reps, versions=package_versions(), git_commit=git_commit(),
        created=created or dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        precision={"target": precision, "kpis": list(precision_kpis), "max_reps": max_reps}
        if precision is not None else None)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise GridLoopError(f"--out {out}: " + _("cannot make the folder ({reason})").format(
            reason=e.strerror)) from None
    write_manifest(folder, manifest)

    own = executor is None
    ex = executor or make_executor(workers, scheduler)
    ran = 0
    met: bool | None = None
    short: list[tuple[str, str, float]] = []
    try:
        while True:
            ran += _run_missing(ex, folder, described, entropy, reps, progress, on_task)
            if precision is None:
                break
            met, wanted, short = _precision_check(folder, precision, precision_kpis, reps)
            if met or reps >= max_reps:
                break
            reps = min(max_reps, wanted)
            manifest["reps"] = reps
            write_manifest(folder, manifest)
        remove_partial_writes(folder)  # every task is in place: no writer is left
    finally:
        if own:
            ex.close()
    if precision is not None:
        manifest["precision"]["met"] = met
        write_manifest(folder, manifest)
    return ExperimentRun(folder, reps, ran, reps * len(described), met,
                         tuple(short) if not met else ())


def _run_missing(ex: Executor, folder: Path, points: list[dict[str, Any]], entropy: int,
                 reps: int, progress: Progress | None,
                 on_task: Callable[[TaskDone], None] | None) -> int:
    done = finished_tasks(folder)
    tasks = [Task(p["point"], p["label"], k, replication_seed(entropy, k), p["scenario_file"],
                  tuple(p["settings"]), p["days"], p["digest"])
             for k in range(reps) for p in points]
    todo = [t for t in tasks if t.name not in done]
    count = 0
    if progress:
        progress(0, len(todo))

    def finished(task: TaskDone) -> None:
        nonlocal count
        count += 1
        if on_task:
            on_task(task)
        if progress:
            progress(count, len(todo))

    if todo:
        ex.run(todo, str(folder), finished)
    return len(todo)


def _precision_check(folder: Path, target: float, kpis: Sequence[str],
                     reps: int) -> tuple[bool, int, list[tuple[str, str, float]]]:
    """Whether every chosen KPI at every point is within ``target``; the replications
    expected to get there (the most any KPI needs); and the (KPI, point, relative
    half-width) still above it, worst first."""
    from sim.experiment.stats import replications_needed
    from sim.experiment.summary import summarize

    table = summarize(folder)
    if kpis:
        unknown = sorted(set(kpis) - set(table["kpi"]))
        if unknown:
            raise GridLoopError(f"--precision-kpi: expected KPIs of summary.json "
                                f"({', '.join(sorted(set(table['kpi']))[:8])}...), got "
                                f"{', '.join(unknown)}")
        table = table[table["kpi"].isin(kpis)]
    else:  # summary.json's KPIs; a department's own (`tasks.department_kpis`) when named
        table = table[~table["kpi"].str.startswith("departments.")]
    wanted = reps
    short = []
    for row in table.itertuples():
        if math.isnan(row.mean):
            continue  # a KPI with no value in any replication (e.g. no case closed)
        wanted = max(wanted, replications_needed(reps, row.rel_half_width, target))
        if not row.rel_half_width <= target:
            short.append((str(row.kpi), str(row.label), float(row.rel_half_width)))
    short.sort(key=lambda s: -s[2])
    return wanted <= reps, wanted, short
