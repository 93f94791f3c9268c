"""Evaluation of the units that own problems: departments and areas (DOMAIN §6).

A department is judged on the cases it ends up holding (the department of the case's last
dispatch); an area (subdistrict, community or grid) on the filed cases in its grids. Suspended
cases (挂账/缓办) leave every count and rate here (DOMAIN §3); they are shown in `n_suspended`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.evaluation.cases import CASE_STATES, CaseRows, as_case_rows, check_units
from sim.evaluation.scoring import STANDARD_RULES, finish_table, ratio
from sim.eventlog import Channel

__all__ = ["evaluate_departments", "evaluate_areas"]

_CLOSED = CASE_STATES.index("closed")


def evaluate_departments(events: np.ndarray | CaseRows, department_names: Sequence[str],
                         horizon: float) -> pd.DataFrame:
    """League table of departments under the standard rules.

    Args:
        events: the event log (or the log already grouped by `group_cases`).
        department_names: one name per department index.
        horizon: the time the log ends, minutes; an unhandled case whose handling deadline
            is before it counts as handled late, one whose deadline is still ahead is not
            assessed yet.

    Returns:
        One row per department: department, name, n_cases (cases it holds, not suspended),
        n_suspended, n_closed, n_handled, n_handling_assessed, n_handled_on_time,
        n_reworked, case_count_score, closure_rate, on_time_handling_rate, rework_rate,
        score, grade, rank.
    """
    c = as_case_rows(events).cases
    k = len(department_names)
    dept = c["final_department"]
    held = dept >= 0
    check_units(dept[held], k, "the department of a DISPATCH row",
                "pass one name per department of the scenario that wrote the log")
    due = held & ~c["suspended"]
    d = dept[due].astype(np.int64)

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(d[mask], minlength=k)

    handled = ~np.isnan(c["t_handle"][due])
    deadline = c["handle_deadline"][due]
    with np.errstate(invalid="ignore"):
        assessed = (handled & ~np.isnan(deadline)) | (~handled & (deadline < horizon))
    n_cases = np.bincount(d, minlength=k)
    n_handled = count(handled)
    n_assessed = count(assessed)
    n_on_time = count(c["handled_on_time"][due] == 1.0)
    n_reworked = count(c["n_reworks"][due] > 0)
    n_closed = count(c["state"][due] == _CLOSED)
    table = pd.DataFrame({
        "department": np.arange(k, dtype=np.int64),
        "name": list(department_names),
        "n_cases": n_cases,
        "n_suspended": np.bincount(dept[held & c["suspended"]].astype(np.int64), minlength=k),
        "n_closed": n_closed,
        "n_handled": n_handled,
        "n_handling_assessed": n_assessed,
        "n_handled_on_time": n_on_time,
        "n_reworked": n_reworked,
        "case_count_score": 1.0 - ratio(n_cases, float(n_cases.max(initial=0)), 0.0),
        "closure_rate": ratio(n_closed, n_cases, 1.0),
        "on_time_handling_rate": ratio(n_on_time, n_assessed, 1.0),
        "rework_rate": ratio(n_reworked, n_handled, 0.0),
    })
    return finish_table(table, STANDARD_RULES["departments"])


def evaluate_areas(events: np.ndarray | CaseRows, grid_to_area: np.ndarray,
                   area_names: Sequence[str], horizon: float) -> pd.DataFrame:
    """League table of areas (subdistricts, communities or grids) under the standard rules.

    Args:
        events: the event log (or the log already grouped by `group_cases`).
        grid_to_area: per unit grid index, the index of its area.
        area_names: one name per area index.
        horizon: the time the log ends, minutes (the standard area indicators do not need it;
            kept so that every table takes the same arguments).

    Returns:
        One row per area: area, name, n_filed (filed cases in its grids, not suspended),
        n_suspended, n_public, n_closed, n_closed_on_time, public_report_rate,
        filed_count_score, closure_rate, on_time_closure_rate, score, grade, rank.
    """
    del horizon
    c = as_case_rows(events).cases
    k = len(area_names)
    mapping = np.asarray(grid_to_area, dtype=np.int64)
    filed = ~np.isnan(c["t_file"])
    grid = check_units(c["grid"][filed], len(mapping), "the grid of a filed case",
                       "pass a grid_to_area array covering every grid of the city")
    area_of = check_units(mapping[grid], k, "grid_to_area[grid]",
                          "pass one area name per area index used in grid_to_area")
    area = np.full(len(filed), -1, dtype=np.int64)
    area[filed] = area_of
    due = filed & ~c["suspended"]
    a = area[due]

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(a[mask], minlength=k)

    n_filed = np.bincount(a, minlength=k)
    n_public = count(c["channel"][due] == Channel.PUBLIC)
    n_closed = count(c["state"][due] == _CLOSED)
    n_closed_on_time = count(c["closed_on_time"][due] == 1.0)
    table = pd.DataFrame({
        "area": np.arange(k, dtype=np.int64),
        "name": list(area_names),
        "n_filed": n_filed,
        "n_suspended": np.bincount(area[filed & c["suspended"]], minlength=k),
        "n_public": n_public,
        "n_closed": n_closed,
        "n_closed_on_time": n_closed_on_time,
        "public_report_rate": ratio(n_public, n_filed, 0.0),
        "filed_count_score": ratio(n_filed, float(n_filed.max(initial=0)), 1.0),
        "closure_rate": ratio(n_closed, n_filed, 1.0),
        "on_time_closure_rate": ratio(n_closed_on_time, n_closed, 1.0),
    })
    return finish_table(table, STANDARD_RULES["areas"])
