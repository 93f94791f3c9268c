"""The monthly evaluation (综合评价): every league table under the standard rules at once."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.evaluation.cases import CaseRows, as_case_rows
from sim.evaluation.staff import (
    evaluate_acceptors,
    evaluate_dispatchers,
    evaluate_inspectors,
    evaluate_shift_leaders,
)
from sim.evaluation.units import evaluate_areas, evaluate_departments

__all__ = ["standard_evaluation"]


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
    return {
        "departments": evaluate_departments(cr, department_names, horizon),
        "subdistricts": evaluate_areas(cr, grid_to_subdistrict, subdistrict_names, horizon),
        "inspectors": evaluate_inspectors(cr, n_beats, grid_to_beat, horizon),
        "acceptors": evaluate_acceptors(cr, n_acceptors, horizon),
        "shift_leaders": evaluate_shift_leaders(cr, n_shift_leaders, horizon),
        "dispatchers": evaluate_dispatchers(cr, n_dispatchers, horizon),
    }
