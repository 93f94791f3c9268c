"""The vocabulary of base counts a rule set's formulas read, per kind of assessed unit.

Each count is a number per unit (a department, an area, a beat, a centre staff member) worked
out from event-log rows by the shared counting functions of `sim.evaluation` (the standard
evaluation reads the very same counts), plus the 12345 hotline counts from an optional calls
table. `UnitRoster` says which units exist and how grids map to areas and beats; it comes from
a scenario's city or from the log alone (`sim.rules.runlog`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from sim.data.citymap import CityMap
from sim.errors import GridLoopError
from sim.evaluation.cases import CaseRows
from sim.evaluation.staff import (
    acceptor_counts,
    dispatcher_counts,
    inspector_counts,
    shift_leader_counts,
)
from sim.evaluation.units import area_counts, department_counts

__all__ = ["UNIT_KINDS", "CASE_UNIT_KINDS", "VOCABULARY", "HOTLINE_COUNTS", "BUILTINS",
           "UnitRoster", "base_counts", "hotline_counts"]

UNIT_KINDS: tuple[str, ...] = ("departments", "subdistricts", "communities", "grids",
                               "inspectors", "acceptors", "shift_leaders", "dispatchers")
# Kinds judged on the cases they answer for (the rest are people, judged on their actions).
CASE_UNIT_KINDS: tuple[str, ...] = UNIT_KINDS[:4]

_CASES: dict[str, str] = {
    "filed": "cases the unit answers for (a department: the filed cases it holds, by its last "
             "dispatch; an area: the filed cases in its grids), not excluded",
    "excluded": "cases left out by the rule set's `exclude` conditions",
    "suspended": "cases with a SUSPEND row (counted whether or not they are excluded)",
    "public_reports": "of filed, those first reported by the public (REPORT outcome public)",
    "closed": "of filed, those with a CLOSE row",
    "closed_on_time": "of filed, those closed with CLOSE outcome on_time",
    "open": "of filed, those not closed",
    "handled": "of filed, those with a HANDLE row",
    "due": "of filed, those due for handling by the horizon: handled with a handling "
           "deadline, or not handled and past it (应处置数)",
    "handled_on_time": "of filed, those whose first HANDLE met the handling deadline",
    "overdue": "of filed, those not handled and past their handling deadline (overdue backlog)",
    "reworked": "of filed, those sent back for rework at least once",
    "reworks": "REWORK rows of the filed cases (a case reworked twice counts 2)",
    "returned": "of filed, those returned (RETURN) at least once",
    "extended": "of filed, those granted an extension (EXTEND) at least once",
    "urgent": "of filed, those of an urgent subclass (0 without handbook urgency)",
    "urgent_due": "urgent cases due for handling (as `due`)",
    "urgent_handled_on_time": "urgent cases handled on time (as `handled_on_time`)",
}
HOTLINE_COUNTS: Mapping[str, str] = MappingProxyType({
    "contacts": "hotline work orders for the unit (0 without a calls table)",
    "contacts_closed": "of contacts, those whose feedback is in (closed)",
    "surveyed": "of contacts_closed, those the call-back survey reached",
    "responded": "of contacts_closed, those responded to within the deadline",
    "resolved": "of surveyed, those the requester called resolved",
    "satisfied": "of surveyed, those the requester was satisfied with",
})
_DEPARTMENT_ONLY = {
    "dispatches": "DISPATCH rows sending a case to the department (re-dispatches included)",
    "returns": "RETURN rows the department wrote (回退: not our duty)",
    "summons": "SUMMON rows naming the department (吹哨报到: a subdistrict summoned it on site)",
}
_ACTIONS = "log rows the person wrote (volume)"
VOCABULARY: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "departments": MappingProxyType({**_CASES, **_DEPARTMENT_ONLY, **HOTLINE_COUNTS}),
    "subdistricts": MappingProxyType({**_CASES, **HOTLINE_COUNTS}),
    "communities": MappingProxyType(dict(_CASES)),
    "grids": MappingProxyType(dict(_CASES)),
    "inspectors": MappingProxyType({
        "actions": _ACTIONS,
        "reports": "the beat's REPORT rows whose case was not fixed on the spot",
        "voided": "of reports, those whose case was voided",
        "self_handled": "the beat's REPORT rows whose case it fixed on the spot",
        "filed": "filed cases in the beat's grids (suspended ones too)",
        "missed_reports": "of filed, those first reported by the public (missed by the beat)",
        "verification_assessed": "VERIFY rows with a deadline, plus verifications still "
                                 "awaited past their deadline in the beat's grids",
        "verified_on_time": "of verification_assessed, VERIFY rows by their deadline",
        "check_assessed": "the same for CHECK rows after CHECK_SEND",
        "checked_on_time": "of check_assessed, CHECK rows by their deadline",
    }),
    "acceptors": MappingProxyType({
        "actions": _ACTIONS,
        "verify_send_assessed": "VERIFY_SEND rows with a deadline",
        "verify_sent_on_time": "of those, sent by the deadline",
        "check_send_assessed": "CHECK_SEND rows with a deadline",
        "check_sent_on_time": "of those, sent by the deadline",
    }),
    "shift_leaders": MappingProxyType({
        "actions": _ACTIONS,
        "filed": "FILE rows (filing decisions that filed)",
        "voided": "VOID rows (filing decisions that voided)",
        "filing_assessed": "FILE and VOID rows with a deadline",
        "filing_on_time": "of those, decided by the deadline",
        "closing_assessed": "CLOSE rows with a deadline",
        "closing_on_time": "of those, closed by the deadline",
    }),
    "dispatchers": MappingProxyType({
        "actions": _ACTIONS,
        "dispatches": "DISPATCH rows",
        "returned": "of dispatches, those followed by a RETURN before the next DISPATCH",
        "dispatch_assessed": "DISPATCH rows with a deadline",
        "dispatched_on_time": "of those, dispatched by the deadline",
    }),
})
# Names every formula may read besides counts and parameters.
BUILTINS: Mapping[str, str] = MappingProxyType({
    "period_days": "length of the evaluated period, days",
    "n_units": "number of units in the table",
})


def _codes_index(keys: Sequence[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Per item, the index of its key among the sorted distinct keys; and those keys."""
    distinct = tuple(sorted(set(keys)))
    index = {k: i for i, k in enumerate(distinct)}
    return np.array([index[k] for k in keys], dtype=np.int64), distinct


@dataclass(frozen=True, eq=False)
class UnitRoster:
    """The units a log is evaluated over: their names, and how grids map to areas and beats.

    Attributes:
        department_names: one per department index of the log.
        grid_codes: one per grid index of the log (15-digit unit-grid codes).
        grid_to_subdistrict, grid_to_community: per grid, its area index.
        subdistrict_names, community_names: one per area index.
        grid_to_beat: per grid, its inspector beat (-1: in no beat); n_beats beats.
        n_acceptors, n_shift_leaders, n_dispatchers: centre staff counts.
        urgent_subclass: per handbook subclass index, whether it is urgent (None: unknown).
    """

    department_names: tuple[str, ...]
    grid_codes: tuple[str, ...]
    grid_to_subdistrict: np.ndarray
    subdistrict_names: tuple[str, ...]
    grid_to_community: np.ndarray
    community_names: tuple[str, ...]
    n_beats: int
    grid_to_beat: np.ndarray
    n_acceptors: int
    n_shift_leaders: int
    n_dispatchers: int
    urgent_subclass: np.ndarray | None = None

    @classmethod
    def from_grid_codes(cls, department_names: Sequence[str], grid_codes: Sequence[str], *,
                        grid_to_beat: np.ndarray | None = None, n_beats: int = 0,
                        n_acceptors: int = 0, n_shift_leaders: int = 0,
                        n_dispatchers: int = 0, urgent_subclass: np.ndarray | None = None
                        ) -> UnitRoster:
        """Areas from the 15-digit grid codes alone: subdistrict = digits 7-9, community =
        digits 7-12; both named by their digits and indexed in code order (the order a city
        file's subdistricts and communities have).

        Raises:
            GridLoopError: a grid code that is not 15 digits.
        """
        codes = [str(c) for c in grid_codes]
        bad = next((c for c in codes if len(c) != 15 or not c.isdigit()), None)
        if bad is not None:
            raise GridLoopError(f"evaluation: grid codes must be 15 digits (6 district + 3 "
                                f"subdistrict + 3 community + 3 sequence), got {bad!r}; pass "
                                f"a scenario whose city names the areas")
        sub, sub_names = _codes_index([c[6:9] for c in codes])
        com, com_names = _codes_index([c[6:12] for c in codes])
        beats = (np.full(len(codes), -1, dtype=np.int64) if grid_to_beat is None
                 else np.asarray(grid_to_beat, dtype=np.int64))
        return cls(tuple(department_names), tuple(codes), sub, sub_names, com, com_names,
                   n_beats, beats, n_acceptors, n_shift_leaders, n_dispatchers,
                   urgent_subclass)

    @classmethod
    def from_city(cls, city: CityMap, department_names: Sequence[str], *,
                  grid_to_beat: np.ndarray, n_beats: int, n_acceptors: int,
                  n_shift_leaders: int, n_dispatchers: int,
                  urgent_subclass: np.ndarray | None = None) -> UnitRoster:
        """Areas and their names from a city map (`sim.data.citymap.CityMap`)."""
        return cls(tuple(department_names), tuple(city.codes),
                   np.asarray(city.subdistrict, dtype=np.int64), tuple(city.subdistrict_names),
                   np.asarray(city.community, dtype=np.int64), tuple(city.community_names),
                   n_beats, np.asarray(grid_to_beat, dtype=np.int64), n_acceptors,
                   n_shift_leaders, n_dispatchers, urgent_subclass)

    def size(self, kind: str) -> int:
        """Number of units of a kind."""
        return {"departments": len(self.department_names),
                "subdistricts": len(self.subdistrict_names),
                "communities": len(self.community_names), "grids": len(self.grid_codes),
                "inspectors": self.n_beats, "acceptors": self.n_acceptors,
                "shift_leaders": self.n_shift_leaders,
                "dispatchers": self.n_dispatchers}[kind]

    def names(self, kind: str) -> list[str]:
        """The unit names of a kind, by unit index (people: "beat 3", "acceptor 0"...)."""
        named = {"departments": self.department_names, "subdistricts": self.subdistrict_names,
                 "communities": self.community_names, "grids": self.grid_codes}
        if kind in named:
            return list(named[kind])
        label = {"inspectors": "beat", "acceptors": "acceptor", "shift_leaders": "shift leader",
                 "dispatchers": "dispatcher"}[kind]
        return [f"{label} {i}" for i in range(self.size(kind))]


def base_counts(kind: str, cr: CaseRows, roster: UnitRoster, horizon: float, *,
                exclude: Collection[str] = ("suspended",),
                calls: pd.DataFrame | None = None) -> dict[str, np.ndarray]:
    """Every count of `VOCABULARY[kind]`, per unit (int64 arrays of `roster.size(kind)`).

    Args:
        cr: the log grouped by case (already restricted to a period, if any).
        horizon: the time the evaluation is taken, minutes.
        exclude: case conditions (`sim.evaluation.units.CASE_FLAGS`) whose cases leave the
            counts of departments and areas; people are judged on all their actions.
        calls: hotline calls of the period (`hotline_counts`), or None.
    """
    k = roster.size(kind)
    urgent = roster.urgent_subclass
    if kind == "departments":
        counts = department_counts(cr, k, horizon, exclude=exclude, urgent_subclass=urgent)
    elif kind in CASE_UNIT_KINDS:
        mapping = {"subdistricts": roster.grid_to_subdistrict,
                   "communities": roster.grid_to_community,
                   "grids": np.arange(len(roster.grid_codes))}[kind]
        counts = area_counts(cr, mapping, k, horizon, exclude=exclude, urgent_subclass=urgent)
    elif kind == "inspectors":
        counts = inspector_counts(cr, k, roster.grid_to_beat, horizon)
    elif kind == "acceptors":
        counts = acceptor_counts(cr, k)
    elif kind == "shift_leaders":
        counts = shift_leader_counts(cr, k)
    elif kind == "dispatchers":
        counts = dispatcher_counts(cr, k)
    else:
        raise GridLoopError(f"evaluation: unit kind must be one of {', '.join(UNIT_KINDS)} "
                            f"(got {kind!r})")
    if "contacts" in VOCABULARY[kind]:
        counts.update(hotline_counts(calls, kind, roster))
    return {name: np.asarray(counts[name], dtype=np.int64) for name in VOCABULARY[kind]}


_CALL_COLUMNS = ("unit", "responded", "resolved", "satisfied", "closed")


def hotline_counts(calls: pd.DataFrame | None, kind: str, roster: UnitRoster
                   ) -> dict[str, np.ndarray]:
    """`HOTLINE_COUNTS` per unit of a kind from a calls table (zeros when there is none).

    The table has one row per contact with columns unit (the handling unit's name),
    responded, resolved, satisfied, closed (bools), and optionally work_order (only work
    orders count; consultations and abandoned calls do not), reached (the call-back survey
    reached the requester; without it every closed order counts as surveyed) and subdistrict
    (the caller's subdistrict index). Departments count the rows whose unit is their name;
    subdistricts the rows of callers in them (by `subdistrict`, or else the rows whose unit
    is the subdistrict's name or "subdistrict:<name>"). Other kinds have no hotline counts.

    Raises:
        GridLoopError: a required column is missing.
    """
    k = roster.size(kind)
    zero = {name: np.zeros(k, dtype=np.int64) for name in HOTLINE_COUNTS}
    if calls is None or kind not in ("departments", "subdistricts") or not len(calls):
        return zero
    missing = [c for c in _CALL_COLUMNS if c not in calls.columns]
    if missing:
        raise GridLoopError(f"evaluation: the calls table must have columns "
                            f"{', '.join(_CALL_COLUMNS)} (missing {', '.join(missing)})")

    def flag(column: str, default: bool) -> np.ndarray:
        if column not in calls.columns:
            return np.full(len(calls), default)
        return calls[column].fillna(False).to_numpy(dtype=bool)

    if kind == "subdistricts" and "subdistrict" in calls.columns:
        unit = calls["subdistrict"].fillna(-1).to_numpy(dtype=np.int64)
        unit = np.where((unit >= 0) & (unit < k), unit, -1)
    else:
        names = roster.names(kind)
        index = {n: i for i, n in enumerate(names)}
        if kind == "subdistricts":
            index |= {f"subdistrict:{n}": i for i, n in enumerate(names)}
        unit = np.array([index.get(u, -1) for u in calls["unit"].astype(object)],
                        dtype=np.int64)
    order = flag("work_order", True) & (unit >= 0)
    closed = order & flag("closed", False)
    surveyed = closed & flag("reached", True)

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(unit[mask], minlength=k).astype(np.int64)

    return {"contacts": count(order), "contacts_closed": count(closed),
            "surveyed": count(surveyed), "responded": count(closed & flag("responded", False)),
            "resolved": count(surveyed & flag("resolved", False)),
            "satisfied": count(surveyed & flag("satisfied", False))}
