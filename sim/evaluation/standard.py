"""The monthly evaluation (综合评价): every league table under the standard rules at once.

Every table is made from per-unit counts that add up over any split of the cases
(`standard_counts`, `add_counts`), so a run too long to hold in memory is evaluated a batch
of finished cases at a time and gives the same tables (`standard_tables`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.evaluation.cases import CaseRows, as_case_rows
from sim.evaluation.staff import (
    acceptor_counts,
    acceptor_table,
    dispatcher_counts,
    dispatcher_table,
    inspector_counts,
    inspector_table,
    shift_leader_counts,
    shift_leader_table,
)
from sim.evaluation.units import area_counts, area_table, department_counts, department_table

__all__ = ["Roster", "standard_evaluation", "standard_counts", "standard_tables", "add_counts"]

Counts = dict[str, dict[str, np.ndarray]]


@dataclass(frozen=True)
class Roster:
    """The units a run's standard evaluation judges, and how grids map to them."""

    department_names: Sequence[str]
    grid_to_subdistrict: np.ndarray
    subdistrict_names: Sequence[str]
    n_beats: int
    grid_to_beat: np.ndarray
    n_acceptors: int
    n_shift_leaders: int
    n_dispatchers: int


def standard_evaluation(
    events: np.ndarray | CaseRows, *, department_names: Sequence[str],
    grid_to_subdistrict: np.ndarray, subdistrict_names: Sequence[str], n_beats: int,
    grid_to_beat: np.ndarray, n_acceptors: int, n_shift_leaders: int, n_dispatchers: int,
    horizon: float, period: tuple[float, float] | None = None,
) -> dict[str, pd.DataFrame]:
    """All league tables of one evaluation, grouping the log by case only once.

    Args:
        events: the event log (or the log already grouped by `group_cases`).
        period: (t0, t1) in minutes: evaluate only the cases reported in [t0, t1), each
            followed to the end of the log; None evaluates every case.
        horizon: the time the log ends (or the evaluation is taken), minutes.
        The other arguments size the tables and map grids to subdistricts and beats.

    Returns:
        Tables keyed departments, subdistricts, inspectors, acceptors, shift_leaders,
        dispatchers (see the evaluate_* functions for their columns).
    """
    cr = as_case_rows(events)
    if period is not None:
        cr = cr.restrict(period)
    roster = Roster(department_names, grid_to_subdistrict, subdistrict_names, n_beats,
                    grid_to_beat, n_acceptors, n_shift_leaders, n_dispatchers)
    return standard_tables(standard_counts(cr, roster, horizon), roster)


def standard_counts(events: np.ndarray | CaseRows, roster: Roster, horizon: float) -> Counts:
    """The per-unit counts of every standard table, for the cases in ``events``."""
    cr = as_case_rows(events)
    return {
        "departments": department_counts(cr, len(roster.department_names), horizon),
        "subdistricts": area_counts(cr, roster.grid_to_subdistrict,
                                    len(roster.subdistrict_names), horizon),
        "inspectors": inspector_counts(cr, roster.n_beats, roster.grid_to_beat, horizon),
        "acceptors": acceptor_counts(cr, roster.n_acceptors),
        "shift_leaders": shift_leader_counts(cr, roster.n_shift_leaders),
        "dispatchers": dispatcher_counts(cr, roster.n_dispatchers),
    }


def add_counts(total: Counts | None, more: Counts) -> Counts:
    """``total`` plus ``more``, table by table and count by count (``total`` is updated)."""
    if total is None:
        return {kind: {k: v.astype(np.int64, copy=True) for k, v in counts.items()}
                for kind, counts in more.items()}
    for kind, counts in more.items():
        for k, v in counts.items():
            total[kind][k] += v.astype(np.int64, copy=False)
    return total


def standard_tables(counts: Counts, roster: Roster) -> dict[str, pd.DataFrame]:
    """The league tables from their counts."""
    return {
        "departments": department_table(counts["departments"], roster.department_names),
        "subdistricts": area_table(counts["subdistricts"], roster.subdistrict_names),
        "inspectors": inspector_table(counts["inspectors"]),
        "acceptors": acceptor_table(counts["acceptors"]),
        "shift_leaders": shift_leader_table(counts["shift_leaders"]),
        "dispatchers": dispatcher_table(counts["dispatchers"]),
    }
