"""Experiments: replications, sweeps and comparisons of scenarios, their statistics and report.

    from sim.experiment import run_compare, summarize, differences, write_report
    run = run_compare(["small-town", "my-town.yaml"], reps=10, days=30, out="runs/cmp")
    summarize(run.folder)            # t intervals of every KPI at every point
    differences(run.folder)          # paired intervals against the baseline (Bonferroni)
    write_report(run.folder)         # runs/cmp/report.html

Layout of an experiment folder and of its task files: docs/experiments.md.
"""

from __future__ import annotations

from sim.experiment.execute import DaskCluster, LocalPool
from sim.experiment.runner import ExperimentRun, run_compare, run_sweep
from sim.experiment.store import load_results, load_table, read_manifest
from sim.experiment.summary import differences, steady_state, summarize

__all__ = ["run_sweep", "run_compare", "ExperimentRun", "LocalPool", "DaskCluster",
           "load_results", "load_table", "read_manifest", "summarize", "differences",
           "steady_state", "write_report"]


def write_report(folder, out=None, **kwargs):  # type: ignore[no-untyped-def]
    """Write the experiment's self-contained HTML report (`sim.experiment.html`)."""
    from sim.experiment.html import write_report as _write

    return _write(folder, out, **kwargs)
