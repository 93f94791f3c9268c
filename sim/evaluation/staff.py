"""Evaluation of people: inspectors (by beat) and the centres' acceptors, shift leaders and
dispatchers (docs/domain.md §6).

People are judged on their own actions, the log rows they wrote (`actor_kind`, `actor`). A
timed action is on time when its time is at most the deadline it is held to (`CaseRows.held_to`);
an action with no deadline (NaN) is not assessed. Rows with actor -1 (the system) judge nobody.
Suspension pauses handling only, so it does not remove anyone's actions from these tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.engine.eventlog import ActorKind, Channel, Step
from sim.evaluation.cases import CASE_STATES, CaseRows, as_case_rows, check_units
from sim.evaluation.scoring import STANDARD_RULES, finish_table, ratio, volume_score

__all__ = ["evaluate_inspectors", "evaluate_acceptors", "evaluate_shift_leaders",
           "evaluate_dispatchers", "inspector_counts", "acceptor_counts", "shift_leader_counts",
           "dispatcher_counts", "inspector_table", "acceptor_table", "shift_leader_table",
           "dispatcher_table"]

_VOIDED = CASE_STATES.index("voided")
_SELF_HANDLED = CASE_STATES.index("self_handled")


class _Actions:
    """The rows written by one kind of actor, with per-person counting helpers."""

    def __init__(self, cr: CaseRows, kind: ActorKind, n: int, table: str) -> None:
        col = cr.col
        self.cr, self.n = cr, n
        self.mine = (col["actor_kind"] == kind) & (col["actor"] >= 0)
        self.actor = np.where(self.mine, col["actor"], 0).astype(np.int64)
        check_units(self.actor[self.mine], n, f"'actor' of {kind.name} rows",
                    f"pass the number of {table} of the scenario that wrote the log")

    def count(self, mask: np.ndarray) -> np.ndarray:
        return np.bincount(self.actor[mask & self.mine], minlength=self.n)

    def timed(self, *steps: Step) -> tuple[np.ndarray, np.ndarray]:
        """Per person: (actions of these steps with a deadline, of which on time)."""
        col, held_to = self.cr.col, self.cr.held_to
        of_step = np.isin(col["step"], [int(s) for s in steps])
        with np.errstate(invalid="ignore"):
            on_time = col["time"] <= held_to
        return self.count(of_step & ~np.isnan(held_to)), self.count(of_step & on_time)


def _pending_late(cr: CaseRows, waiting_after: Step, horizon: float) -> np.ndarray:
    """Rows `waiting_after` that are the last of their case and whose deadline has passed."""
    col = cr.col
    last = np.ones(len(cr.seg), dtype=bool)
    np.not_equal(cr.seg[:-1], cr.seg[1:], out=last[:-1])
    with np.errstate(invalid="ignore"):
        late: np.ndarray = last & (col["step"] == waiting_after) & (col["deadline"] < horizon)
    return late


def _actions(who: _Actions) -> np.ndarray:
    """Per person, the rows they wrote (any step): their volume."""
    return who.count(np.ones(len(who.mine), dtype=bool))


def inspector_counts(events: np.ndarray | CaseRows, n_beats: int, grid_to_beat: np.ndarray,
                     horizon: float) -> dict[str, np.ndarray]:
    """Per beat: actions (rows written), reports (REPORT rows, not self-handled), voided (of
    those, the voided ones), self_handled, filed (filed cases in the beat's grids),
    missed_reports (of those, first reported by the public), verification_assessed,
    verified_on_time, check_assessed, checked_on_time (see `evaluate_inspectors`).

    A grid whose `grid_to_beat` entry is -1 is in no beat: its cases charge nobody.
    """
    cr = as_case_rows(events)
    col, c = cr.col, cr.cases
    who = _Actions(cr, ActorKind.INSPECTOR, n_beats, "beats")
    mapping = np.asarray(grid_to_beat, dtype=np.int64)
    fix = "pass a grid_to_beat array covering every grid, with beat indices below n_beats"

    def beats_of(grid: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
        """(beat of each grid's case, mask of the grids that are in a beat)."""
        g = check_units(grid, len(mapping), what, fix)
        beat = mapping[g]
        in_beat = beat >= 0
        return check_units(beat[in_beat], n_beats, "grid_to_beat[grid]", fix), in_beat

    reports = col["step"] == Step.REPORT
    state = c["state"][cr.seg]
    filed = ~np.isnan(c["t_file"])
    beat, in_beat = beats_of(c["grid"][filed], "the grid of a filed case")
    public = (c["channel"][filed] == Channel.PUBLIC)[in_beat]

    def site_visits(visit: Step, send: Step) -> tuple[np.ndarray, np.ndarray]:
        assessed, on_time = who.timed(visit)
        late = _pending_late(cr, send, horizon)
        overdue, _ = beats_of(col["grid"][late], f"the grid of a pending {visit.name}")
        return assessed + np.bincount(overdue, minlength=n_beats), on_time

    n_verif, n_verif_on_time = site_visits(Step.VERIFY, Step.VERIFY_SEND)
    n_check, n_check_on_time = site_visits(Step.CHECK, Step.CHECK_SEND)
    return {
        "actions": _actions(who),
        "reports": who.count(reports & (state != _SELF_HANDLED)),
        "voided": who.count(reports & (state == _VOIDED)),
        "self_handled": who.count(reports & (state == _SELF_HANDLED)),
        "filed": np.bincount(beat, minlength=n_beats),
        "missed_reports": np.bincount(beat[public], minlength=n_beats),
        "verification_assessed": n_verif,
        "verified_on_time": n_verif_on_time,
        "check_assessed": n_check,
        "checked_on_time": n_check_on_time,
    }


def evaluate_inspectors(events: np.ndarray | CaseRows, n_beats: int, grid_to_beat: np.ndarray,
                        horizon: float) -> pd.DataFrame:
    """League table of inspectors, one row per beat (the unit of evaluation).

    Args:
        events: the event log (or the log already grouped by `group_cases`).
        n_beats: number of beats; inspector rows carry the beat index in `actor`.
        grid_to_beat: per unit grid index, its beat (-1: none); filed cases and overdue site
            visits are charged to the beat of the case's grid.
        horizon: the time the log ends, minutes; a verification or check still awaited after
            its deadline counts as late for the beat of the case's grid.

    Returns:
        One row per beat: beat, n_reports (inspector reports not fixed on the spot),
        n_voided, n_self_handled, n_filed, n_missed, n_verification_assessed,
        n_verified_on_time, n_check_assessed, n_checked_on_time, valid_report_rate,
        missed_report_rate, on_time_verification_rate, on_time_check_rate, score, grade, rank.
    """
    return inspector_table(inspector_counts(events, n_beats, grid_to_beat, horizon))


def inspector_table(n: dict[str, np.ndarray]) -> pd.DataFrame:
    """`evaluate_inspectors`' table from its `inspector_counts` (which add up over any split
    of the cases, so a long log can be counted a batch of cases at a time)."""
    table = pd.DataFrame({
        "beat": np.arange(len(n["actions"]), dtype=np.int64),
        "n_reports": n["reports"],
        "n_voided": n["voided"],
        "n_self_handled": n["self_handled"],
        "n_filed": n["filed"],
        "n_missed": n["missed_reports"],
        "n_verification_assessed": n["verification_assessed"],
        "n_verified_on_time": n["verified_on_time"],
        "n_check_assessed": n["check_assessed"],
        "n_checked_on_time": n["checked_on_time"],
        "valid_report_rate": ratio(n["reports"] - n["voided"], n["reports"], 1.0),
        "missed_report_rate": np.minimum(ratio(n["missed_reports"], n["filed"], 0.0), 1.0),
        "on_time_verification_rate": ratio(n["verified_on_time"],
                                           n["verification_assessed"], 1.0),
        "on_time_check_rate": ratio(n["checked_on_time"], n["check_assessed"], 1.0),
    })
    return finish_table(table, STANDARD_RULES["inspectors"])


def _volume_columns(n_actions: np.ndarray) -> dict[str, np.ndarray]:
    share, score = volume_score(n_actions)
    return {"n_actions": n_actions, "volume_share": share, "volume_score": score}


def acceptor_counts(events: np.ndarray | CaseRows, n: int) -> dict[str, np.ndarray]:
    """Per acceptor: actions, verify_send_assessed, verify_sent_on_time,
    check_send_assessed, check_sent_on_time (see `evaluate_acceptors`)."""
    who = _Actions(as_case_rows(events), ActorKind.ACCEPTOR, n, "acceptors")
    n_verify, n_verify_on_time = who.timed(Step.VERIFY_SEND)
    n_check, n_check_on_time = who.timed(Step.CHECK_SEND)
    return {"actions": _actions(who), "verify_send_assessed": n_verify,
            "verify_sent_on_time": n_verify_on_time, "check_send_assessed": n_check,
            "check_sent_on_time": n_check_on_time}


def evaluate_acceptors(events: np.ndarray | CaseRows, n: int, horizon: float) -> pd.DataFrame:
    """League table of acceptors (受理员) under the standard rules.

    Volume is the number of log rows the acceptor wrote. A send awaited past its deadline has
    no acceptor yet, so `horizon` charges nobody; it is kept for a uniform signature.

    Returns:
        One row per acceptor: acceptor, n_actions, volume_share, volume_score,
        n_verify_send_assessed, n_verify_sent_on_time, n_check_send_assessed,
        n_check_sent_on_time, on_time_verify_send_rate, on_time_check_send_rate, score,
        grade, rank.
    """
    del horizon
    return acceptor_table(acceptor_counts(events, n))


def acceptor_table(c: dict[str, np.ndarray]) -> pd.DataFrame:
    """`evaluate_acceptors`' table from its `acceptor_counts` (see `inspector_table`)."""
    table = pd.DataFrame({
        "acceptor": np.arange(len(c["actions"]), dtype=np.int64),
        **_volume_columns(c["actions"]),
        "n_verify_send_assessed": c["verify_send_assessed"],
        "n_verify_sent_on_time": c["verify_sent_on_time"],
        "n_check_send_assessed": c["check_send_assessed"],
        "n_check_sent_on_time": c["check_sent_on_time"],
        "on_time_verify_send_rate": ratio(c["verify_sent_on_time"], c["verify_send_assessed"],
                                          1.0),
        "on_time_check_send_rate": ratio(c["check_sent_on_time"], c["check_send_assessed"],
                                         1.0),
    })
    return finish_table(table, STANDARD_RULES["acceptors"])


def shift_leader_counts(events: np.ndarray | CaseRows, n: int) -> dict[str, np.ndarray]:
    """Per shift leader: actions, filed, voided, filing_assessed, filing_on_time,
    closing_assessed, closing_on_time (see `evaluate_shift_leaders`)."""
    cr = as_case_rows(events)
    who = _Actions(cr, ActorKind.SHIFT_LEADER, n, "shift leaders")
    step = cr.col["step"]
    n_filing, n_filing_on_time = who.timed(Step.FILE, Step.VOID)
    n_closing, n_closing_on_time = who.timed(Step.CLOSE)
    return {"actions": _actions(who), "filed": who.count(step == Step.FILE),
            "voided": who.count(step == Step.VOID), "filing_assessed": n_filing,
            "filing_on_time": n_filing_on_time, "closing_assessed": n_closing,
            "closing_on_time": n_closing_on_time}


def evaluate_shift_leaders(events: np.ndarray | CaseRows, n: int, horizon: float
                           ) -> pd.DataFrame:
    """League table of shift leaders (值班长) under the standard rules.

    A filing decision is a FILE or VOID row; accuracy = (decisions - voids) / decisions.
    `horizon` charges nobody (a pending decision has no leader yet).

    Returns:
        One row per shift leader: shift_leader, n_filed, n_voided, n_filing_assessed,
        n_filing_on_time, n_closing_assessed, n_closing_on_time, on_time_filing_rate,
        filing_accuracy, on_time_closing_rate, score, grade, rank.
    """
    del horizon
    return shift_leader_table(shift_leader_counts(events, n))


def shift_leader_table(c: dict[str, np.ndarray]) -> pd.DataFrame:
    """`evaluate_shift_leaders`' table from its `shift_leader_counts` (see
    `inspector_table`)."""
    table = pd.DataFrame({
        "shift_leader": np.arange(len(c["actions"]), dtype=np.int64),
        "n_filed": c["filed"],
        "n_voided": c["voided"],
        "n_filing_assessed": c["filing_assessed"],
        "n_filing_on_time": c["filing_on_time"],
        "n_closing_assessed": c["closing_assessed"],
        "n_closing_on_time": c["closing_on_time"],
        "on_time_filing_rate": ratio(c["filing_on_time"], c["filing_assessed"], 1.0),
        "filing_accuracy": ratio(c["filed"], c["filed"] + c["voided"], 1.0),
        "on_time_closing_rate": ratio(c["closing_on_time"], c["closing_assessed"], 1.0),
    })
    return finish_table(table, STANDARD_RULES["shift_leaders"])


def dispatcher_counts(events: np.ndarray | CaseRows, n: int) -> dict[str, np.ndarray]:
    """Per dispatcher: actions, dispatches, returned (dispatches followed by a RETURN before
    the case's next DISPATCH), dispatch_assessed, dispatched_on_time."""
    cr = as_case_rows(events)
    who = _Actions(cr, ActorKind.DISPATCHER, n, "dispatchers")
    step = cr.col["step"]
    dispatch = step == Step.DISPATCH
    # The dispatch each row follows (forward fill within the case).
    src = np.where(dispatch, np.arange(len(step)), -1)
    np.maximum.accumulate(src, out=src)
    src[src < cr.starts[cr.seg]] = -1
    returned = np.zeros(len(step), dtype=bool)
    hit = src[(step == Step.RETURN) & (src >= 0)]
    returned[hit] = True
    n_timed, n_on_time = who.timed(Step.DISPATCH)
    return {"actions": _actions(who), "dispatches": who.count(dispatch),
            "returned": who.count(dispatch & returned), "dispatch_assessed": n_timed,
            "dispatched_on_time": n_on_time}


def evaluate_dispatchers(events: np.ndarray | CaseRows, n: int, horizon: float
                         ) -> pd.DataFrame:
    """League table of dispatchers (派遣员) under the standard rules.

    A dispatch is returned when a RETURN follows it before the case's next DISPATCH.
    `horizon` charges nobody (a pending dispatch has no dispatcher yet).

    Returns:
        One row per dispatcher: dispatcher, n_actions, volume_share, volume_score,
        n_dispatches, n_returned, n_dispatch_assessed, n_dispatched_on_time,
        on_time_dispatch_rate, dispatch_accuracy, score, grade, rank.
    """
    del horizon
    return dispatcher_table(dispatcher_counts(events, n))


def dispatcher_table(c: dict[str, np.ndarray]) -> pd.DataFrame:
    """`evaluate_dispatchers`' table from its `dispatcher_counts` (see `inspector_table`)."""
    table = pd.DataFrame({
        "dispatcher": np.arange(len(c["actions"]), dtype=np.int64),
        **_volume_columns(c["actions"]),
        "n_dispatches": c["dispatches"],
        "n_returned": c["returned"],
        "n_dispatch_assessed": c["dispatch_assessed"],
        "n_dispatched_on_time": c["dispatched_on_time"],
        "on_time_dispatch_rate": ratio(c["dispatched_on_time"], c["dispatch_assessed"], 1.0),
        "dispatch_accuracy": ratio(c["dispatches"] - c["returned"], c["dispatches"], 1.0),
    })
    return finish_table(table, STANDARD_RULES["dispatchers"])
