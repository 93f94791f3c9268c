"""Evaluation of the units that own problems: departments and areas (docs/domain.md §6).

A department is judged on the cases it ends up holding (the department of the case's last
dispatch); an area (subdistrict, community or grid) on the filed cases in its grids. Suspended
cases (挂账/缓办) leave every count and rate here (docs/domain.md §3); `n_suspended` shows them.

`case_counts` is the one place the per-unit case counts are made; the standard tables here and
the rule sets of `sim.rules` both read it, under the names of its vocabulary.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
import pandas as pd

from sim.engine.eventlog import Channel, Step
from sim.errors import GridLoopError
from sim.evaluation.cases import CASE_STATES, CaseRows, as_case_rows, check_units
from sim.evaluation.scoring import STANDARD_RULES, finish_table, ratio

__all__ = ["evaluate_departments", "evaluate_areas", "case_counts", "department_counts",
           "area_counts", "case_flags", "department_table", "area_table", "CASE_FLAGS",
           "CASE_COUNTS"]

_CLOSED = CASE_STATES.index("closed")

# Conditions of a case a rule set may take out of the denominators (docs/domain.md §3: suspended).
CASE_FLAGS: tuple[str, ...] = ("suspended", "extended", "returned", "reworked", "urgent")

# The counts `case_counts` returns, per unit, in this order.
CASE_COUNTS: tuple[str, ...] = (
    "filed", "excluded", "suspended", "public_reports", "closed", "closed_on_time", "open",
    "handled", "due", "handled_on_time", "overdue", "reworked", "reworks", "returned",
    "extended", "urgent", "urgent_due", "urgent_handled_on_time")


def case_flags(cr: CaseRows, urgent_subclass: np.ndarray | None = None
               ) -> dict[str, np.ndarray]:
    """Per case, each condition of `CASE_FLAGS` (bool arrays, ascending case id).

    Args:
        urgent_subclass: per handbook subclass index, whether it is urgent (紧急); None: no
            case is urgent. A case's subclass is the one last recorded.
    """
    c = cr.cases
    urgent = np.zeros(cr.n_cases, dtype=bool)
    if urgent_subclass is not None:
        table = np.asarray(urgent_subclass, dtype=bool)
        sub = c["subclass"].astype(np.int64)
        known = (sub >= 0) & (sub < len(table))
        urgent[known] = table[sub[known]]
    return {"suspended": c["suspended"], "extended": c["n_extensions"] > 0,
            "returned": c["n_returns"] > 0, "reworked": c["n_reworks"] > 0, "urgent": urgent}


def _excluded(flags: dict[str, np.ndarray], exclude: Collection[str], n: int) -> np.ndarray:
    """Per case, whether any of the `exclude` conditions holds."""
    unknown = sorted(set(exclude) - set(CASE_FLAGS))
    if unknown:
        raise GridLoopError(f"evaluation: 'exclude' must name case conditions among "
                            f"{', '.join(CASE_FLAGS)} (got {unknown[0]!r})")
    out = np.zeros(n, dtype=bool)
    for name in exclude:
        out |= flags[name]
    return out


def case_counts(cr: CaseRows, unit: np.ndarray, k: int, horizon: float, *,
                exclude: Collection[str] = ("suspended",),
                urgent_subclass: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Counts of the cases each unit answers for (`CASE_COUNTS`, int64 arrays of length k).

    Args:
        cr: the log grouped by case.
        unit: per case, the index of the unit answering for it (0..k-1), or -1 for none.
        k: number of units.
        horizon: the time the evaluation is taken, minutes (for `due` and `overdue`).
        exclude: `CASE_FLAGS` whose cases leave every count but `excluded` and `suspended`.
        urgent_subclass: see `case_flags`.

    Counts (cases of the unit, not excluded, unless said otherwise): filed; excluded (cases
    left out); suspended (cases with a SUSPEND row, excluded or not); public_reports (REPORT
    outcome PUBLIC); closed; closed_on_time (CLOSE outcome ON_TIME); open (not closed);
    handled (a HANDLE row); due (handled with a handling deadline, or not handled and past
    it at the horizon); handled_on_time (first HANDLE by its deadline); overdue (not handled,
    past the handling deadline); reworked (at least one REWORK); reworks (REWORK rows);
    returned (at least one RETURN); extended (at least one EXTEND); urgent, urgent_due,
    urgent_handled_on_time (the same three for urgent cases).
    """
    c = cr.cases
    flags = case_flags(cr, urgent_subclass)
    out_mask = _excluded(flags, exclude, cr.n_cases)
    unit = np.asarray(unit, dtype=np.int64)
    base = unit >= 0
    kept = base & ~out_mask
    u = unit[kept]

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(u[mask[kept]], minlength=k).astype(np.int64)

    handled = ~np.isnan(c["t_handle"])
    deadline = c["handle_deadline"]
    with np.errstate(invalid="ignore"):
        overdue = ~handled & (deadline < horizon)
    due = (handled & ~np.isnan(deadline)) | overdue
    on_time = c["handled_on_time"] == 1.0
    closed = c["state"] == _CLOSED
    urgent = flags["urgent"]
    everything = np.ones(cr.n_cases, dtype=bool)
    return {
        "filed": count(everything),
        "excluded": np.bincount(unit[base & out_mask], minlength=k).astype(np.int64),
        "suspended": np.bincount(unit[base & flags["suspended"]], minlength=k).astype(np.int64),
        "public_reports": count(c["channel"] == Channel.PUBLIC),
        "closed": count(closed),
        "closed_on_time": count(c["closed_on_time"] == 1.0),
        "open": count(~closed),
        "handled": count(handled),
        "due": count(due),
        "handled_on_time": count(on_time),
        "overdue": count(overdue),
        "reworked": count(flags["reworked"]),
        "reworks": np.bincount(u, weights=c["n_reworks"][kept], minlength=k).astype(np.int64),
        "returned": count(flags["returned"]),
        "extended": count(flags["extended"]),
        "urgent": count(urgent),
        "urgent_due": count(urgent & due),
        "urgent_handled_on_time": count(urgent & on_time),
    }


def department_counts(events: np.ndarray | CaseRows, k: int, horizon: float, *,
                      exclude: Collection[str] = ("suspended",),
                      urgent_subclass: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """`case_counts` of departments (each case charged to its final department), plus
    dispatches (DISPATCH rows naming the department) and returns (RETURN rows it wrote), both
    over cases not excluded.

    Raises:
        GridLoopError: a department index outside 0..k-1.
    """
    cr = as_case_rows(events)
    dept = cr.cases["final_department"].astype(np.int64)
    held = dept >= 0
    check_units(dept[held], k, "the department of a DISPATCH row",
                "pass one name per department of the scenario that wrote the log")
    counts = case_counts(cr, dept, k, horizon, exclude=exclude, urgent_subclass=urgent_subclass)
    out_mask = _excluded(case_flags(cr, urgent_subclass), exclude, cr.n_cases)
    row_kept = ~out_mask[cr.seg]
    step, row_dept = cr.col["step"], cr.col["department"].astype(np.int64)
    for name, s in (("dispatches", Step.DISPATCH), ("returns", Step.RETURN),
                    ("summons", Step.SUMMON)):
        rows = row_kept & (step == s) & (row_dept >= 0)
        d = check_units(row_dept[rows], k, f"the department of a {s.name} row",
                        "pass one name per department of the scenario that wrote the log")
        counts[name] = np.bincount(d, minlength=k).astype(np.int64)
    return counts


def area_counts(events: np.ndarray | CaseRows, grid_to_area: np.ndarray, k: int,
                horizon: float, *, exclude: Collection[str] = ("suspended",),
                urgent_subclass: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """`case_counts` of areas: each filed case (FILE row) charged to the area of its grid.

    Raises:
        GridLoopError: a grid outside `grid_to_area`, or an area index outside 0..k-1.
    """
    cr = as_case_rows(events)
    c = cr.cases
    mapping = np.asarray(grid_to_area, dtype=np.int64)
    filed = ~np.isnan(c["t_file"])
    grid = check_units(c["grid"][filed], len(mapping), "the grid of a filed case",
                       "pass a grid_to_area array covering every grid of the city")
    area_of = check_units(mapping[grid], k, "grid_to_area[grid]",
                          "pass one area name per area index used in grid_to_area")
    area = np.full(cr.n_cases, -1, dtype=np.int64)
    area[filed] = area_of
    return case_counts(cr, area, k, horizon, exclude=exclude, urgent_subclass=urgent_subclass)


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
    return department_table(department_counts(events, len(department_names), horizon),
                            department_names)


def department_table(n: dict[str, np.ndarray], department_names: Sequence[str]
                     ) -> pd.DataFrame:
    """`evaluate_departments`' table from its `department_counts` (which add up over any
    split of the cases, so a long log can be counted a batch of cases at a time)."""
    k = len(department_names)
    n_cases = n["filed"]
    table = pd.DataFrame({
        "department": np.arange(k, dtype=np.int64),
        "name": list(department_names),
        "n_cases": n_cases,
        "n_suspended": n["suspended"],
        "n_closed": n["closed"],
        "n_handled": n["handled"],
        "n_handling_assessed": n["due"],
        "n_handled_on_time": n["handled_on_time"],
        "n_reworked": n["reworked"],
        "case_count_score": 1.0 - ratio(n_cases, float(n_cases.max(initial=0)), 0.0),
        "closure_rate": ratio(n["closed"], n_cases, 1.0),
        "on_time_handling_rate": ratio(n["handled_on_time"], n["due"], 1.0),
        "rework_rate": ratio(n["reworked"], n["handled"], 0.0),
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
    return area_table(area_counts(events, grid_to_area, len(area_names), horizon), area_names)


def area_table(n: dict[str, np.ndarray], area_names: Sequence[str]) -> pd.DataFrame:
    """`evaluate_areas`' table from its `area_counts` (see `department_table`)."""
    k = len(area_names)
    n_filed = n["filed"]
    table = pd.DataFrame({
        "area": np.arange(k, dtype=np.int64),
        "name": list(area_names),
        "n_filed": n_filed,
        "n_suspended": n["suspended"],
        "n_public": n["public_reports"],
        "n_closed": n["closed"],
        "n_closed_on_time": n["closed_on_time"],
        "public_report_rate": ratio(n["public_reports"], n_filed, 0.0),
        "filed_count_score": ratio(n_filed, float(n_filed.max(initial=0)), 1.0),
        "closure_rate": ratio(n["closed"], n_filed, 1.0),
        "on_time_closure_rate": ratio(n["closed_on_time"], n["closed"], 1.0),
    })
    return finish_table(table, STANDARD_RULES["areas"])
