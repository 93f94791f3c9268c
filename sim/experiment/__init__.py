"""Experiments: replications, sweeps and comparisons of scenarios, their statistics and report.

    from sim.experiment import run_compare, summarize, differences, write_report
    run = run_compare(["small-town", "my-town.yaml"], reps=10, days=30, out="runs/cmp")
    summarize(run.folder)            # t intervals of every KPI at every point
    differences(run.folder)          # paired intervals against the baseline (Bonferroni)
    write_report(run.folder)         # runs/cmp/report.html

Layout of an experiment folder and of its task files: docs/experiments.md. The names load on
first use, so `gridloop --help` (which imports the CLI module here) stays quick.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["run_sweep", "run_compare", "ExperimentRun", "LocalPool", "DaskCluster",
           "load_results", "load_table", "read_manifest", "summarize", "differences",
           "steady_state", "write_report"]

_HOME = {"run_sweep": "runner", "run_compare": "runner", "ExperimentRun": "runner",
         "LocalPool": "execute", "DaskCluster": "execute", "load_results": "store",
         "load_table": "store", "read_manifest": "store", "summarize": "summary",
         "differences": "summary", "steady_state": "summary", "write_report": "html"}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(f"sim.experiment.{_HOME[name]}"), name)
    raise AttributeError(f"module 'sim.experiment' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
