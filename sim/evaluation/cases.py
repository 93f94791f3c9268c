"""Cases in the event log: each case's rows together, and one summary row per case.

Every indicator is a count over log rows or over cases. This module groups the rows by case once
(a stable sort, so each case keeps its logged order), works out for every row the deadline its
step is held to, and summarises each case. The evaluation tables read these arrays; nothing here
knows about live simulation objects, so a real city's exported log in the same schema works too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.engine.eventlog import EVENT_DTYPE, TERMINAL, Outcome, Step
from sim.errors import GridLoopError

__all__ = ["CASE_STATES", "CaseRows", "CaseStream", "group_cases", "as_case_rows", "case_table",
           "restrict_to_period", "check_units"]

# Where a case stands at the end of the log: its terminal step, or 'open'.
CASE_STATES: tuple[str, ...] = ("closed", "voided", "merged", "self_handled", "open")
_TERMINAL_OF_STATE = (Step.CLOSE, Step.VOID, Step.MERGE, Step.SELF_HANDLE)

# Time of the first occurrence of each step, per case.
_TIME_COLUMNS: tuple[tuple[str, Step], ...] = (
    ("t_report", Step.REPORT), ("t_verify_send", Step.VERIFY_SEND), ("t_verify", Step.VERIFY),
    ("t_file", Step.FILE), ("t_void", Step.VOID), ("t_merge", Step.MERGE),
    ("t_dispatch", Step.DISPATCH), ("t_handle_start", Step.HANDLE_START),
    ("t_handle", Step.HANDLE), ("t_check_send", Step.CHECK_SEND), ("t_check", Step.CHECK),
    ("t_close", Step.CLOSE), ("t_self_handle", Step.SELF_HANDLE),
)
_COUNT_COLUMNS: tuple[tuple[str, Step], ...] = (
    ("n_dispatches", Step.DISPATCH), ("n_returns", Step.RETURN), ("n_reworks", Step.REWORK),
    ("n_extensions", Step.EXTEND),
)
# Rows that set the handling deadline (HANDLE due). A RETURN clears it: the case waits for a
# new dispatch, and nobody is handling it meanwhile.
_SETS_HANDLING_DEADLINE = (Step.DISPATCH, Step.EXTEND, Step.REWORK, Step.RETURN)
_COLUMNS = ("case", "problem", "time", "step", "actor_kind", "actor", "department", "deadline",
            "outcome", "grid", "subclass")


@dataclass(frozen=True, slots=True, eq=False)
class CaseRows:
    """The event log grouped by case, with the per-row and per-case facts indicators need.

    Attributes:
        col: the log's columns (`EVENT_DTYPE` names), rows sorted by case id; the rows of a case
            keep their logged order, which is their time order.
        seg: per row, the position of its case in the per-case arrays.
        starts: per case, the index of its first row.
        held_to: per row, the deadline its step is held to, minutes (NaN: untimed): the
            deadline on the case's previous row, except for HANDLE, held to the handling
            deadline in force (the latest DISPATCH/EXTEND/REWORK deadline before it; a
            RETURN after it clears it).
        cases: per-case columns of `case_table` as numpy arrays, ascending case id;
            `handled_on_time` and `closed_on_time` are 1.0 / 0.0 / NaN (not assessed),
            `state` is an index into `CASE_STATES`, and `t_first` is the case's first row time.
        order: the permutation that sorted the input rows (None when they were sorted).
    """

    col: dict[str, np.ndarray]
    seg: np.ndarray
    starts: np.ndarray
    held_to: np.ndarray
    cases: dict[str, np.ndarray]
    order: np.ndarray | None

    @property
    def n_cases(self) -> int:
        return len(self.cases["case"])

    def restrict(self, period: tuple[float, float]) -> CaseRows:
        """The rows of the cases reported in [t0, t1) (report time: the case's first row)."""
        keep = self._row_mask(period)
        return _group({k: v[keep] for k, v in self.col.items()}, None)

    def _row_mask(self, period: tuple[float, float]) -> np.ndarray:
        t0, t1 = period
        first = self.cases["t_first"]
        reported: np.ndarray = (first >= t0) & (first < t1)
        rows: np.ndarray = reported[self.seg]
        return rows


def group_cases(events: np.ndarray) -> CaseRows:
    """Group an event log (`EVENT_DTYPE` rows, cases interleaved) by case.

    Raises:
        GridLoopError: `events` is not a record array with the event log's columns.
    """
    names = getattr(getattr(events, "dtype", None), "names", None) or ()
    missing = [n for n in EVENT_DTYPE.names or () if n not in names]
    if missing:
        raise GridLoopError(
            f"evaluation: 'events' must be a numpy record array with the event log columns "
            f"(sim.engine.eventlog.EVENT_DTYPE); got {type(events).__name__} missing {missing}. "
            f"Pass EventLog.to_array() or a log read back in that schema.")
    case = np.asarray(events["case"])
    order = None
    if len(case) > 1 and not bool((case[1:] >= case[:-1]).all()):
        order = np.argsort(case, kind="stable")
    rows = events if order is None else events[order]    # one gather of whole records
    col = {n: np.ascontiguousarray(rows[n]) for n in _COLUMNS}
    return _group(col, order)


class CaseStream:
    """The event log read as it is written, a chunk at a time, handed back as finished cases.

    A case is finished once it has a terminal step (CLOSE, VOID, MERGE, SELF_HANDLE: no step
    may follow one). `push` returns the finished cases among the rows so far, grouped; the
    rows of cases still open wait for their next rows. `finish` returns the cases open at the
    end. Every case comes out once, with all its rows in logged order, so per-case facts and
    any count over cases are the same as `group_cases` of the whole log gives; only the order
    of the cases differs (by when they finished). Memory: the rows of the open cases.
    """

    def __init__(self) -> None:
        self._open: dict[str, np.ndarray] = {n: np.zeros(0, dtype=EVENT_DTYPE[n])
                                             for n in _COLUMNS}

    @property
    def open_rows(self) -> int:
        """Rows held for cases not finished yet."""
        return len(self._open["case"])

    def push(self, chunk: np.ndarray) -> CaseRows:
        """Take the next rows of the log; return the cases they finish."""
        cols = {n: np.concatenate([self._open[n], chunk[n]]) for n in _COLUMNS}
        order = np.argsort(cols["case"], kind="stable")  # a case's rows keep logged order
        case = cols["case"][order]
        new = np.ones(len(case), dtype=bool)
        np.not_equal(case[1:], case[:-1], out=new[1:])
        seg = np.cumsum(new) - 1
        finished = np.zeros(int(seg[-1]) + 1 if len(seg) else 0, dtype=bool)
        terminal = np.isin(cols["step"][order], [int(s) for s in TERMINAL])
        finished[seg[terminal]] = True
        done = finished[seg]
        keep, take = order[~done], order[done]
        self._open = {n: c[keep] for n, c in cols.items()}
        return _group({n: c[take] for n, c in cols.items()}, None)

    def finish(self) -> CaseRows:
        """The cases still open at the end of the log."""
        cols, self._open = self._open, {n: v[:0] for n, v in self._open.items()}
        return _group(cols, None)


def _first_rows(mask: np.ndarray, seg: np.ndarray, n_cases: int, last: bool = False
                ) -> np.ndarray:
    """Per case, the index of its first (or last) row where `mask` holds; -1 when none."""
    rows = np.flatnonzero(mask)
    out = np.full(n_cases, -1, dtype=np.int64)
    if rows.size:
        s = seg[rows]
        keep = np.ones(rows.size, dtype=bool)
        if last:
            np.not_equal(s[:-1], s[1:], out=keep[:-1])
        else:
            np.not_equal(s[1:], s[:-1], out=keep[1:])
        out[s[keep]] = rows[keep]
    return out


def _take(values: np.ndarray, idx: np.ndarray, fill: float | int) -> np.ndarray:
    """values[idx] where idx >= 0, else `fill`."""
    out = np.full(len(idx), fill, dtype=np.float64 if isinstance(fill, float) else values.dtype)
    ok = idx >= 0
    out[ok] = values[idx[ok]]
    return out


def _group(col: dict[str, np.ndarray], order: np.ndarray | None) -> CaseRows:
    n = len(col["case"])
    new = np.ones(n, dtype=bool)
    np.not_equal(col["case"][1:], col["case"][:-1], out=new[1:])
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:] - 1, n - 1) if n else starts
    seg = np.cumsum(new, dtype=np.int64) - 1
    n_cases = len(starts)
    step, time, deadline = col["step"], col["time"], col["deadline"]

    # The handling deadline in force at each row: forward-fill within the case.
    sets = np.isin(step, [int(s) for s in _SETS_HANDLING_DEADLINE])
    src = np.where(sets, np.arange(n), -1)
    np.maximum.accumulate(src, out=src)
    src[src < starts[seg]] = -1                      # set by an earlier case: not ours
    value = np.where(step == Step.RETURN, np.nan, deadline)
    handling_due = _take(value, src, np.nan)

    held_to = np.empty(n, dtype=np.float64)
    held_to[1:] = deadline[:-1]
    held_to[starts] = np.nan
    is_handle = step == Step.HANDLE
    held_to[is_handle] = handling_due[is_handle]

    masks = {s: step == s for s in Step}
    first = {s: _first_rows(masks[s], seg, n_cases) for s in Step}
    cases: dict[str, np.ndarray] = {
        "case": col["case"][starts],
        "problem": col["problem"][ends],
        "grid": col["grid"][ends],
        "subclass": col["subclass"][ends],
        "channel": _take(col["outcome"], first[Step.REPORT], 0).astype(np.int8),
        "first_department": _take(col["department"], first[Step.DISPATCH], -1),
    }
    last_dispatch = _first_rows(masks[Step.DISPATCH], seg, n_cases, last=True)
    last_return = _first_rows(masks[Step.RETURN], seg, n_cases, last=True)
    final = _take(col["department"], last_dispatch, -1)
    final[last_return > last_dispatch] = -1          # returned, awaiting a new dispatch
    cases["final_department"] = final
    for name, s in _TIME_COLUMNS:
        cases[name] = _take(time, first[s], np.nan)
    for name, s in _COUNT_COLUMNS:
        cases[name] = np.bincount(seg[masks[s]], minlength=n_cases).astype(np.int64)
    cases["suspended"] = first[Step.SUSPEND] >= 0

    handled = first[Step.HANDLE] >= 0
    due = np.where(handled, _take(handling_due, first[Step.HANDLE], np.nan), handling_due[ends])
    cases["handle_deadline"] = due
    with np.errstate(invalid="ignore"):
        cases["handled_on_time"] = np.where(handled & ~np.isnan(due),
                                            (cases["t_handle"] <= due).astype(np.float64),
                                            np.nan)
    close_outcome = _take(col["outcome"], first[Step.CLOSE], -1)
    cases["closed_on_time"] = np.where(close_outcome < 0, np.nan,
                                       (close_outcome == Outcome.ON_TIME).astype(np.float64))
    state = np.full(n_cases, len(CASE_STATES) - 1, dtype=np.int8)
    for code in range(len(_TERMINAL_OF_STATE) - 1, -1, -1):   # CLOSE wins if a log has two
        state[first[_TERMINAL_OF_STATE[code]] >= 0] = code
    cases["state"] = state
    cases["t_first"] = time[starts]
    return CaseRows(col=col, seg=seg, starts=starts, held_to=held_to, cases=cases, order=order)


def as_case_rows(events: np.ndarray | CaseRows) -> CaseRows:
    """`events` grouped by case (grouped once; a `CaseRows` passes through)."""
    return events if isinstance(events, CaseRows) else group_cases(events)


def check_units(unit: np.ndarray, n: int, what: str, fix: str) -> np.ndarray:
    """`unit` as int64 indices, checked to lie in 0..n-1 so that per-unit counts are complete.

    Raises:
        GridLoopError: an index is out of range; the message says which and what to pass.
    """
    unit = np.asarray(unit, dtype=np.int64)
    bad = (unit < 0) | (unit >= n)
    if bad.any():
        raise GridLoopError(f"evaluation: {what} must be in 0..{n - 1} "
                            f"(got {int(unit[bad][0])}); {fix}")
    return unit


def case_table(events: np.ndarray | CaseRows) -> pd.DataFrame:
    """One row per case (ascending case id): what happened to it and when.

    Columns: case, problem, grid, subclass (as last recorded), channel (the REPORT outcome,
    `Channel` value; 0 if no REPORT row), first_department and final_department (of the first
    and last DISPATCH; final is -1 while a returned case awaits a new dispatch), t_report ...
    t_self_handle (minutes of each step's first occurrence, NaN: never), n_dispatches,
    n_returns, n_reworks, n_extensions, suspended, handle_deadline (the handling deadline in
    force at the first HANDLE, or now if not yet handled), handled_on_time and closed_on_time
    (nullable booleans, NA when not assessed), state (one of `CASE_STATES`).
    """
    cr = as_case_rows(events)
    data = {k: v for k, v in cr.cases.items() if k not in ("t_first", "state",
                                                            "handled_on_time", "closed_on_time")}
    for name in ("handled_on_time", "closed_on_time"):
        v = cr.cases[name]
        data[name] = pd.arrays.BooleanArray(v == 1.0, np.isnan(v))
    data["state"] = pd.Categorical.from_codes(cr.cases["state"], categories=list(CASE_STATES))
    order = ["case", "problem", "grid", "subclass", "channel", "first_department",
             "final_department", *(n for n, _ in _TIME_COLUMNS), *(n for n, _ in _COUNT_COLUMNS),
             "suspended", "handle_deadline", "handled_on_time", "closed_on_time", "state"]
    return pd.DataFrame({k: data[k] for k in order})


def restrict_to_period(events: np.ndarray, period: tuple[float, float]) -> np.ndarray:
    """The log rows of the cases reported in [t0, t1), in their original order.

    A case's report time is the time of its first row (its REPORT); all of its rows are kept,
    whenever they happened, so a case reported in the period is followed to the log's end.
    """
    cr = group_cases(events)
    keep = cr._row_mask(period)
    if cr.order is not None:                 # back to the caller's row order
        unsorted = np.empty_like(keep)
        unsorted[cr.order] = keep
        keep = unsorted
    kept: np.ndarray = events[keep]
    return kept
