"""A case log turned into the event log of docs/event-log.md, so the evaluation runs on it.

Each case becomes the rows its lifecycle times allow, in the documented step order:

    report → file → dispatch → handle_start, handle → check_send, check(pass) → close
    report → void                                       (status voided)

Where a lifecycle time is missing, the step takes the time of the step before it (a log
without ``filed_datetime`` files at the report, one without ``dispatched_datetime``
dispatches at filing). Open cases are filed and dispatched like closed ones (a case with a
department was sent to it), so they count as filed and as open at the end, never closed.
``handle`` falls at ``handled_datetime``, else at the check, else at the close; a case
without ``checked_datetime`` closes straight after handling, as a city without independent
checks does. Open cases stop after dispatch or their last known step. The handling
deadline on ``dispatch`` comes from the handbook's limit counted on the working calendar,
and ``close`` is ``on_time`` when ``handle`` met it. Real logs name no persons: ``actor`` is
-1 throughout and ``problem`` is -1. Time 0 is 00:00 of the log's first day.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.data.scenario import CalendarSpec
from sim.data.taxonomy import Handbook
from sim.engine.calendar import WorkingCalendar
from sim.engine.eventlog import EVENT_DTYPE, ActorKind, Outcome, Step
from sim.ingest.caselog import CaseLog
from sim.outputs.csvcells import safe_frame
from sim.outputs.files import atomic_write, events_frame, write_events, write_json

__all__ = ["ImportedLog", "caselog_events", "write_event_log"]


@dataclass(frozen=True)
class ImportedLog:
    """An imported case log as event rows, with the names its codes index."""

    events: np.ndarray
    departments: list[str]
    grid_codes: list[str]
    subclass_codes: list[str]
    start_date: dt.date
    days: int
    case_ids: list[str]


def _minutes(times: pd.Series, origin: pd.Timestamp) -> np.ndarray:
    return ((times - origin) / pd.Timedelta(minutes=1)).to_numpy(dtype=float)


def caselog_events(log: CaseLog, handbook: Handbook, *,
                   calendar: CalendarSpec | None = None,
                   departments: list[str] | None = None,
                   grid_codes: list[str] | None = None) -> ImportedLog:
    """The event rows of every case of ``log``, in time order (a case's rows in causal order).

    Args:
        handbook: gives each subclass's handling limit (and so the dispatch deadline).
        calendar: the working calendar limits count on (default: Mon-Fri, 8 h from 08:30).
        departments, grid_codes: the full lists of the city's units, when known (else the
            ones the log names, sorted); the log's must be among them.
    """
    c = log.cases
    start = log.start_date
    origin = pd.Timestamp(start)
    days = log.days
    last = max(c[col].max() for col in ("requested_datetime", "closed_datetime")
               if c[col].notna().any())
    horizon_days = (last.date() - start).days + 60
    cal = WorkingCalendar(calendar or CalendarSpec(), start, horizon_days)
    deps = departments or sorted({d for d in c["department"] if d})
    grids = grid_codes or sorted(set(c["grid"]))
    subs = [s.code for s in handbook.subclasses]
    dep_i = {d: i for i, d in enumerate(deps)}
    grid_i = {g: i for i, g in enumerate(grids)}
    sub_i = {s: i for i, s in enumerate(subs)}
    limit = {s.code: s.time_limit for s in handbook.subclasses}
    t = {col: _minutes(c[col], origin) for col in
         ("requested_datetime", "filed_datetime", "dispatched_datetime", "handled_datetime",
          "checked_datetime", "closed_datetime")}
    rows: list[tuple] = []
    grid_col = [grid_i[g] for g in c["grid"]]
    sub_col = c["subclass"].tolist()
    dep_col = [dep_i[d] if d else -1 for d in c["department"]]
    status_col = c["status"].tolist()
    public_col = (c["channel"] == "public").tolist()
    times = [t[col].tolist() for col in ("requested_datetime", "filed_datetime",
                                         "dispatched_datetime", "handled_datetime",
                                         "checked_datetime", "closed_datetime")]
    add = rows.append
    nan = math.nan
    R, F, V, D = Step.REPORT, Step.FILE, Step.VOID, Step.DISPATCH
    DEP = ActorKind.DEPARTMENT
    for k in range(len(c)):
        g, s, d = grid_col[k], sub_i[sub_col[k]], dep_col[k]
        tr, tf, td, th, tc, tx = (col[k] for col in times)
        public = public_col[k]
        add((k, -1, tr, R, ActorKind.CITIZEN if public else ActorKind.INSPECTOR, -1, -1, nan,
             Outcome.PUBLIC if public else Outcome.INSPECTOR, g, s))
        if status_col[k] == "voided":
            add((k, -1, _first(tf, tx, tr), V, ActorKind.SHIFT_LEADER, -1, -1, nan,
                 Outcome.NONE, g, s))
            continue
        handle_t = _first(th, tc, tx)
        tf = _first(tf, tr)  # a case in the log was filed, open or not
        add((k, -1, tf, F, ActorKind.SHIFT_LEADER, -1, -1, nan, Outcome.NONE, g, s))
        if d < 0:
            continue  # no department named: not dispatched yet
        td = _first(td, tf)
        due = cal.deadline(td, limit[sub_col[k]])
        add((k, -1, td, D, ActorKind.DISPATCHER, -1, d, due, Outcome.NONE, g, s))
        if math.isnan(handle_t):
            continue
        add((k, -1, handle_t, Step.HANDLE_START, DEP, -1, d, nan, Outcome.NONE, g, s))
        add((k, -1, handle_t, Step.HANDLE, DEP, -1, d, nan, Outcome.FIXED, g, s))
        if not math.isnan(tc):
            add((k, -1, tc, Step.CHECK_SEND, ActorKind.ACCEPTOR, -1, d, nan, Outcome.NONE, g, s))
            add((k, -1, tc, Step.CHECK, ActorKind.INSPECTOR, -1, d, nan, Outcome.PASS, g, s))
        if not math.isnan(tx):
            add((k, -1, tx, Step.CLOSE, ActorKind.SHIFT_LEADER, -1, d, nan,
                 Outcome.ON_TIME if handle_t <= due else Outcome.OVERDUE, g, s))
    events = np.array(rows, dtype=EVENT_DTYPE)
    events = events[np.argsort(events["time"], kind="stable")]
    return ImportedLog(events, deps, grids, subs, start, days, list(c["id"]))


def _first(*times: float) -> float:
    """The first of ``times`` that is known (NaN if none is)."""
    for x in times:
        if x == x:  # not NaN
            return float(x)
    return float("nan")


def write_event_log(imported: ImportedLog, folder: str | Path, *, source: str = "",
                    scenario_file: str = "", timezone: str = "") -> dict[str, Path]:
    """Write ``events.parquet`` and ``summary.json`` (days, start date) for `gridloop evaluate`,
    and ``case_ids.csv`` mapping each case number to the city's own id."""
    out = Path(folder)
    table = events_frame(imported.events, departments=imported.departments,
                         grid_codes=imported.grid_codes, subclass_codes=imported.subclass_codes)
    paths = {"events": write_events(out / "events.parquet", table)}
    ids = pd.DataFrame({"case": np.arange(len(imported.case_ids)),
                        "service_request_id": imported.case_ids})
    paths["case_ids"] = atomic_write(out / "case_ids.csv",
                                     lambda p: safe_frame(ids).to_csv(p, index=False))
    summary = {"source": source, "days": imported.days,
               "start_date": imported.start_date.isoformat(),
               "cases": len(imported.case_ids), "rows": len(imported.events)}
    if scenario_file:
        summary["scenario_file"] = scenario_file
    if timezone:
        summary["timezone"] = timezone
    paths["summary"] = write_json(out / "summary.json", summary)
    return paths
