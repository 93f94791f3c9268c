"""Tests of sim.evaluation: every indicator on tiny hand-made logs, plus invariants."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import DEFAULT_KIND
from strategies import event_logs as _event_logs

import sim.evaluation as ev
from sim.engine.eventlog import EVENT_DTYPE, ActorKind, Outcome, Step
from sim.errors import GridLoopError

NAN = math.nan
S, K, Out = Step, ActorKind, Outcome

# Who writes each step unless a test says otherwise.


class Log:
    """Builds an event log by cases; `array()` interleaves the cases by time, as a run does."""

    def __init__(self) -> None:
        self.rows: list[tuple] = []

    def case(self, case: int, *steps: tuple, grid: int = 0, problem: int = 0) -> Log:
        """Append a case: each step is (Step, time[, deadline[, {field: value}]]).

        Fields: kind, actor, dept, outcome. The department carries over from the last DISPATCH;
        a REPORT with outcome PUBLIC is written by a citizen.
        """
        dept = -1
        for spec in steps:
            step, time = spec[0], spec[1]
            deadline = spec[2] if len(spec) > 2 else NAN
            extra = spec[3] if len(spec) > 3 else {}
            if step == S.DISPATCH:
                dept = extra.get("dept", dept)
            outcome = extra.get("outcome", Out.INSPECTOR if step == S.REPORT else Out.NONE)
            kind = extra.get("kind", K.CITIZEN if outcome == Out.PUBLIC else DEFAULT_KIND[step])
            self.rows.append((case, problem, time, step, kind, extra.get("actor", 0),
                              extra.get("dept", dept), deadline, outcome, grid, 0))
        return self

    def array(self) -> np.ndarray:
        arr = np.array(self.rows, dtype=EVENT_DTYPE)
        return arr[np.argsort(arr["time"], kind="stable")]


def handled(case: int, dept: int, *, handle_at: float, due: float, t: float = 0.0,
            grid: int = 0, public: bool = False, rework_at: float | None = None,
            close: Outcome | None = Out.ON_TIME, extend_to: float | None = None) -> list[tuple]:
    """Steps of a case filed, dispatched at t+2 to `dept` (handling due `due`) and handled."""
    channel = Out.PUBLIC if public else Out.INSPECTOR
    steps: list[tuple] = [(S.REPORT, t, t + 1, {"outcome": channel})]
    steps += [(S.FILE, t + 1, t + 2), (S.DISPATCH, t + 2, due, {"dept": dept})]
    if extend_to is not None:
        steps.append((S.EXTEND, t + 3, extend_to))
    steps += [(S.HANDLE_START, handle_at - 1), (S.HANDLE, handle_at, handle_at + 1),
              (S.CHECK_SEND, handle_at + 1, handle_at + 2)]
    if rework_at is not None:
        steps += [(S.CHECK, handle_at + 2, rework_at, {"outcome": Out.FAIL}),
                  (S.REWORK, handle_at + 3, rework_at), (S.HANDLE_START, handle_at + 4),
                  (S.HANDLE, rework_at + 50, rework_at + 51),
                  (S.CHECK_SEND, rework_at + 51, rework_at + 52)]
        handle_at = rework_at + 50
    if close is not None:
        steps += [(S.CHECK, handle_at + 2, handle_at + 3, {"outcome": Out.PASS}),
                  (S.CLOSE, handle_at + 3, NAN, {"outcome": close})]
    return steps


def row_of(table: pd.DataFrame, key: str, value: int) -> dict:
    return table.loc[table[key] == value].iloc[0].to_dict()


def assert_row(table: pd.DataFrame, key: str, value: int, expected: dict) -> None:
    got = row_of(table, key, value)
    for col, want in expected.items():
        if isinstance(want, float):
            assert got[col] == pytest.approx(want, abs=1e-12), (value, col)
        else:
            assert got[col] == want, (value, col, got[col])


# --- public surface --------------------------------------------------------------------------

def test_public_names_are_pinned():
    assert sorted(ev.__all__) == sorted([
        "CASE_STATES", "GRADE_BANDS", "STANDARD_RULES", "VOLUME_TIERS", "CaseRows", "Indicator",
        "case_table", "evaluate_acceptors", "evaluate_areas", "evaluate_departments",
        "evaluate_dispatchers", "evaluate_inspectors", "evaluate_shift_leaders", "grade",
        "group_cases", "restrict_to_period", "standard_evaluation", "volume_score"])
    for name in ev.__all__:
        assert hasattr(ev, name)


def test_standard_weights_sum_to_one():
    for table, rules in ev.STANDARD_RULES.items():
        assert sum(i.weight for i in rules) == pytest.approx(1.0), table


# --- grades and volume -----------------------------------------------------------------------

@pytest.mark.parametrize("score, letter", [
    (100, "A"), (90, "A"), (89.999, "B"), (75, "B"), (74.9, "C"), (60, "C"), (59.99, "D"),
    (40, "D"), (39.99, "E"), (0, "E"), (-1, "E"), (150, "A"),
])
def test_grade_bands(score, letter):
    assert ev.grade(score) == letter


def test_grade_of_nan_is_an_error():
    with pytest.raises(GridLoopError, match="score"):
        ev.grade(NAN)


@given(st.floats(-10, 110), st.floats(-10, 110))
def test_grade_is_monotone_in_score(a, b):
    lo, hi = min(a, b), max(a, b)
    assert "ABCDE".index(ev.grade(hi)) <= "ABCDE".index(ev.grade(lo))


def test_volume_score_tiers():
    share, score = ev.volume_score(np.array([10, 8, 7, 6, 4, 3, 0]))
    assert share.tolist() == pytest.approx([1.0, 0.8, 0.7, 0.6, 0.4, 0.3, 0.0])
    assert score.tolist() == [1.0, 1.0, 0.8, 0.8, 0.6, 0.4, 0.4]
    share, score = ev.volume_score(np.array([0, 0]))
    assert share.tolist() == [1.0, 1.0] and score.tolist() == [1.0, 1.0]


# --- case table ------------------------------------------------------------------------------

def test_case_table_summarises_each_case():
    log = Log()
    log.case(1, *handled(1, 2, handle_at=30, due=20, extend_to=40, rework_at=100,
                         close=Out.OVERDUE), grid=5)
    log.case(2, (S.REPORT, 1, 5, {"outcome": Out.PUBLIC}), (S.VERIFY_SEND, 2, 6),
             (S.VERIFY, 3, 7, {"outcome": Out.CONFIRMED}), (S.FILE, 4, 8),
             (S.DISPATCH, 5, 50, {"dept": 0}), (S.RETURN, 6, 9),
             (S.DISPATCH, 7, 60, {"dept": 1}), (S.RETURN, 8, 12), grid=3)
    log.case(3, (S.REPORT, 2, 3), (S.SELF_HANDLE, 2.5))
    log.case(4, (S.REPORT, 2, 3), (S.VOID, 2.5))
    log.case(5, (S.REPORT, 2, 3), (S.MERGE, 2.5))
    log.case(6, (S.REPORT, 2, 3), (S.FILE, 4, 5), (S.DISPATCH, 6, 70, {"dept": 1}),
             (S.SUSPEND, 7))
    table = ev.case_table(log.array())
    assert table["case"].tolist() == [1, 2, 3, 4, 5, 6]
    assert table["state"].tolist() == ["closed", "open", "self_handled", "voided", "merged",
                                       "open"]
    assert_row(table, "case", 1, {
        "grid": 5, "channel": int(Out.INSPECTOR), "first_department": 2, "final_department": 2,
        "t_report": 0.0, "t_file": 1.0, "t_dispatch": 2.0, "t_handle_start": 29.0,
        "t_handle": 30.0, "t_check_send": 31.0, "t_check": 32.0, "t_close": 153.0,
        "n_dispatches": 1, "n_returns": 0, "n_reworks": 1, "n_extensions": 1,
        "suspended": False, "handle_deadline": 40.0, "handled_on_time": True,
        "closed_on_time": False})
    assert math.isnan(row_of(table, "case", 1)["t_verify"])
    # Returned twice: held by nobody until re-dispatched, so no handling deadline in force.
    assert_row(table, "case", 2, {
        "channel": int(Out.PUBLIC), "first_department": 0, "final_department": -1,
        "t_verify_send": 2.0, "t_verify": 3.0, "n_dispatches": 2, "n_returns": 2})
    c2 = row_of(table, "case", 2)
    assert math.isnan(c2["handle_deadline"])
    assert table["handled_on_time"].isna().tolist() == [False, True, True, True, True, True]
    assert table["closed_on_time"].isna().tolist() == [False, True, True, True, True, True]
    assert row_of(table, "case", 3)["t_self_handle"] == 2.5
    assert row_of(table, "case", 4)["t_void"] == 2.5
    assert row_of(table, "case", 5)["t_merge"] == 2.5
    assert_row(table, "case", 6, {"suspended": True, "final_department": 1,
                                  "handle_deadline": 70.0})


def test_case_table_does_not_depend_on_how_cases_interleave():
    log = Log()
    for c in range(5):
        log.case(c, *handled(c, c % 2, handle_at=10 + c, due=12, t=c))
    interleaved = log.array()
    by_case = np.array(log.rows, dtype=EVENT_DTYPE)
    pd.testing.assert_frame_equal(ev.case_table(interleaved), ev.case_table(by_case))


def test_empty_log_gives_empty_case_table():
    table = ev.case_table(np.zeros(0, dtype=EVENT_DTYPE))
    assert len(table) == 0 and "handled_on_time" in table.columns


def test_a_log_without_the_schema_is_refused():
    with pytest.raises(GridLoopError, match="EVENT_DTYPE"):
        ev.case_table(np.zeros(3))


# --- departments -----------------------------------------------------------------------------

def department_log() -> np.ndarray:
    log = Log()
    # Department 0 holds four cases: 3 closed, 1 reworked, 1 handled late, 1 unhandled and
    # already past its deadline at the horizon (100).
    log.case(1, *handled(1, 0, handle_at=10, due=20))
    log.case(2, *handled(2, 0, handle_at=10, due=20, rework_at=30))   # re-handling late: ignored
    log.case(3, *handled(3, 0, handle_at=30, due=20))
    log.case(4, (S.REPORT, 0, 1), (S.FILE, 1, 2), (S.DISPATCH, 2, 40, {"dept": 1}),
             (S.RETURN, 3, 4), (S.DISPATCH, 4, 50, {"dept": 0}), (S.HANDLE_START, 60))
    # Department 1: one case on time thanks to an extension; one not due yet; one suspended.
    log.case(5, *handled(5, 1, handle_at=30, due=20, extend_to=40))
    log.case(6, (S.REPORT, 0, 1), (S.FILE, 1, 2), (S.DISPATCH, 2, 200, {"dept": 1}))
    log.case(7, (S.REPORT, 0, 1), (S.FILE, 1, 2), (S.DISPATCH, 2, 20, {"dept": 1}),
             (S.SUSPEND, 3))
    # Not filed: leaves the department tables alone.
    log.case(8, (S.REPORT, 0, 1), (S.VOID, 1))
    return log.array()


def test_department_indicators():
    table = ev.evaluate_departments(department_log(), ["roads", "parks", "water"], horizon=100)
    assert table["name"].tolist() == ["roads", "parks", "water"]
    assert_row(table, "department", 0, {
        "n_cases": 4, "n_suspended": 0, "n_closed": 3, "n_handled": 3,
        "n_handling_assessed": 4, "n_handled_on_time": 2, "n_reworked": 1,
        "case_count_score": 0.0, "closure_rate": 0.75, "on_time_handling_rate": 0.5,
        "rework_rate": 1 / 3,
        "score": 100 * (0.1 * 0 + 0.3 * 0.75 + 0.3 * 0.5 + 0.3 * (1 - 1 / 3)),
        "grade": "D", "rank": 3})
    assert_row(table, "department", 1, {
        "n_cases": 2, "n_suspended": 1, "n_closed": 1, "n_handled": 1,
        "n_handling_assessed": 1, "n_handled_on_time": 1, "n_reworked": 0,
        "case_count_score": 0.5, "closure_rate": 0.5, "on_time_handling_rate": 1.0,
        "rework_rate": 0.0, "score": 80.0, "grade": "B", "rank": 2})
    assert_row(table, "department", 2, {
        "n_cases": 0, "case_count_score": 1.0, "closure_rate": 1.0,
        "on_time_handling_rate": 1.0, "rework_rate": 0.0, "score": 100.0, "grade": "A",
        "rank": 1})


def test_an_unhandled_case_becomes_late_when_the_horizon_passes_its_deadline():
    events = department_log()
    early = ev.evaluate_departments(events, ["a", "b", "c"], horizon=45)   # case 4 due at 50
    assert row_of(early, "department", 0)["n_handling_assessed"] == 3
    assert row_of(early, "department", 0)["on_time_handling_rate"] == pytest.approx(2 / 3)


def test_department_out_of_range_is_reported():
    with pytest.raises(GridLoopError, match="department"):
        ev.evaluate_departments(department_log(), ["only one"], horizon=100)


# --- areas -----------------------------------------------------------------------------------

GRID_TO_AREA = np.array([0, 0, 1, 2])


def test_area_indicators():
    log = Log()
    # Area 0 (grids 0, 1): 4 filed (1 public), 3 closed of which 2 on time; 1 suspended.
    log.case(1, *handled(1, 0, handle_at=5, due=9), grid=0)
    log.case(2, *handled(2, 0, handle_at=5, due=9, public=True), grid=1)
    log.case(3, *handled(3, 0, handle_at=5, due=9, close=Out.OVERDUE), grid=1)
    log.case(4, *handled(4, 0, handle_at=5, due=9, close=None), grid=0)
    log.case(5, (S.REPORT, 0, 1), (S.FILE, 1, 2), (S.DISPATCH, 2, 9, {"dept": 0}),
             (S.SUSPEND, 3), grid=0)
    # Area 1 (grid 2): 2 filed, both public, 1 closed on time; a voided report is not filed.
    log.case(6, *handled(6, 0, handle_at=5, due=9, public=True), grid=2)
    log.case(7, *handled(7, 0, handle_at=5, due=9, public=True, close=None), grid=2)
    log.case(8, (S.REPORT, 0, 1, {"outcome": Out.PUBLIC}), (S.VOID, 1), grid=2)
    table = ev.evaluate_areas(log.array(), GRID_TO_AREA, ["east", "west", "north"], horizon=50)
    assert_row(table, "area", 0, {
        "name": "east", "n_filed": 4, "n_suspended": 1, "n_public": 1, "n_closed": 3,
        "n_closed_on_time": 2, "public_report_rate": 0.25, "filed_count_score": 1.0,
        "closure_rate": 0.75, "on_time_closure_rate": 2 / 3,
        "score": 100 * (0.1 * 0.75 + 0.2 * 1 + 0.3 * 0.75 + 0.4 * 2 / 3), "grade": "B",
        "rank": 2})
    assert_row(table, "area", 1, {
        "n_filed": 2, "n_public": 2, "n_closed": 1, "n_closed_on_time": 1,
        "public_report_rate": 1.0, "filed_count_score": 0.5, "closure_rate": 0.5,
        "on_time_closure_rate": 1.0, "score": 65.0, "grade": "C", "rank": 3})
    assert_row(table, "area", 2, {
        "n_filed": 0, "public_report_rate": 0.0, "filed_count_score": 0.0,
        "closure_rate": 1.0, "on_time_closure_rate": 1.0, "score": 80.0, "rank": 1})


def test_area_mapping_must_cover_the_grids():
    log = Log().case(1, *handled(1, 0, handle_at=5, due=9), grid=7)
    with pytest.raises(GridLoopError, match="grid_to_area"):
        ev.evaluate_areas(log.array(), GRID_TO_AREA, ["a", "b", "c"], horizon=50)


# --- inspectors ------------------------------------------------------------------------------

def test_inspector_indicators():
    grid_to_beat = np.array([0, 1])
    log = Log()
    # Beat 0 reports 5 items: one fixed on the spot (not counted), one voided, three filed
    # (cases 3, 4 and 7).
    log.case(1, (S.REPORT, 0, 1), (S.SELF_HANDLE, 0))
    log.case(2, (S.REPORT, 0, 1), (S.VOID, 1))
    log.case(3, *handled(3, 0, handle_at=5, due=9))                  # check on time
    log.case(4, (S.REPORT, 0, 1), (S.FILE, 1, 2), (S.DISPATCH, 2, 9, {"dept": 0}),
             (S.HANDLE_START, 3), (S.HANDLE, 4, 5), (S.CHECK_SEND, 5, 6),
             (S.CHECK, 7, 8, {"outcome": Out.PASS}))                    # check late (7 > 6)
    # A public report in beat 0, verified on time by beat 0: a missed report.
    log.case(5, (S.REPORT, 0, 1, {"outcome": Out.PUBLIC}), (S.VERIFY_SEND, 1, 3),
             (S.VERIFY, 2, 4, {"outcome": Out.CONFIRMED}), (S.FILE, 3, 5),
             (S.DISPATCH, 4, 9, {"dept": 0}))
    # A verification awaited past its deadline (20 < horizon 50): late for the grid's beat.
    log.case(6, (S.REPORT, 0, 1, {"outcome": Out.PUBLIC}), (S.VERIFY_SEND, 1, 20))
    # Beat 1 checks a case in grid 0 on time, and one with no deadline (not assessed).
    log.case(7, *handled(7, 0, handle_at=5, due=9)[:-2],
             (S.CHECK, 7, 9, {"outcome": Out.PASS, "actor": 1}), (S.CLOSE, 8, NAN))
    log.case(8, (S.REPORT, 0, 1, {"actor": 1}), (S.FILE, 1, 2), (S.DISPATCH, 2, 9),
             (S.HANDLE_START, 3), (S.HANDLE, 4), (S.CHECK_SEND, 5, NAN),
             (S.CHECK, 99, NAN, {"outcome": Out.PASS, "actor": 1}), grid=1)
    table = ev.evaluate_inspectors(log.array(), 2, grid_to_beat, horizon=50)
    assert_row(table, "beat", 0, {
        "n_reports": 4, "n_voided": 1, "n_self_handled": 1, "n_filed": 4, "n_missed": 1,
        "n_verification_assessed": 2, "n_verified_on_time": 1, "n_check_assessed": 2,
        "n_checked_on_time": 1, "valid_report_rate": 0.75, "missed_report_rate": 0.25,
        "on_time_verification_rate": 0.5, "on_time_check_rate": 0.5,
        "score": 100 * (0.4 * 0.75 + 0.2 * 0.75 + 0.2 * 0.5 + 0.2 * 0.5), "grade": "C",
        "rank": 2})
    assert_row(table, "beat", 1, {
        "n_reports": 1, "n_voided": 0, "n_filed": 1, "n_missed": 0, "n_check_assessed": 1,
        "n_checked_on_time": 1, "valid_report_rate": 1.0, "missed_report_rate": 0.0,
        "on_time_verification_rate": 1.0, "score": 100.0, "rank": 1})


def test_inspector_actor_beyond_the_beats_is_reported():
    log = Log().case(1, (S.REPORT, 0, 1, {"actor": 5}), (S.VOID, 1))
    with pytest.raises(GridLoopError, match="beats"):
        ev.evaluate_inspectors(log.array(), 2, np.array([0]), horizon=10)


# --- centre staff ----------------------------------------------------------------------------

def test_acceptor_indicators():
    log = Log()
    a = {"actor": 0}
    # Acceptor 0: verify sends 2 on time + 1 late; check sends 1 on time, 1 late, 1 untimed.
    log.case(1, (S.REPORT, 0, 5, {"outcome": Out.PUBLIC}), (S.VERIFY_SEND, 5, 9, a))
    log.case(2, (S.REPORT, 0, 5, {"outcome": Out.PUBLIC}), (S.VERIFY_SEND, 4, 9, a))
    log.case(3, (S.REPORT, 0, 5, {"outcome": Out.PUBLIC}), (S.VERIFY_SEND, 6, 9, a))
    tail = [(S.FILE, 1, 2), (S.DISPATCH, 2, 9, {"dept": 0}), (S.HANDLE_START, 3)]
    log.case(4, (S.REPORT, 0, 1), *tail, (S.HANDLE, 4, 6), (S.CHECK_SEND, 6, 9, a))
    log.case(5, (S.REPORT, 0, 1), *tail, (S.HANDLE, 4, 6), (S.CHECK_SEND, 7, 9, a))
    log.case(6, (S.REPORT, 0, 1), *tail, (S.HANDLE, 4), (S.CHECK_SEND, 9, 9, a))
    # Acceptor 1: 3 actions, all on time (share 0.5 -> volume score 0.6).
    b = {"actor": 1}
    for c in (7, 8, 9):
        log.case(c, (S.REPORT, 0, 5, {"outcome": Out.PUBLIC}), (S.VERIFY_SEND, 1, 9, b))
    table = ev.evaluate_acceptors(log.array(), 3, horizon=50)
    assert_row(table, "acceptor", 0, {
        "n_actions": 6, "volume_share": 1.0, "volume_score": 1.0,
        "n_verify_send_assessed": 3, "n_verify_sent_on_time": 2, "n_check_send_assessed": 2,
        "n_check_sent_on_time": 1, "on_time_verify_send_rate": 2 / 3,
        "on_time_check_send_rate": 0.5,
        "score": 100 * (0.25 + 0.4 * 2 / 3 + 0.35 * 0.5), "grade": "C", "rank": 3})
    assert_row(table, "acceptor", 1, {
        "n_actions": 3, "volume_share": 0.5, "volume_score": 0.6,
        "on_time_verify_send_rate": 1.0, "on_time_check_send_rate": 1.0,
        "score": 100 * (0.25 * 0.6 + 0.4 + 0.35), "grade": "A", "rank": 1})
    assert_row(table, "acceptor", 2, {"n_actions": 0, "volume_score": 0.4,
                                      "score": 100 * (0.25 * 0.4 + 0.75), "rank": 2})


def test_shift_leader_indicators():
    log = Log()
    lead = {"actor": 0}
    log.case(1, (S.REPORT, 0, 5), (S.FILE, 4, 9, lead))
    log.case(2, (S.REPORT, 0, 5), (S.FILE, 5, 9, lead))
    log.case(3, (S.REPORT, 0, 5), (S.FILE, 6, 9, lead))                 # late
    log.case(4, (S.REPORT, 0, 5), (S.VOID, 1, NAN, lead))
    close_tail = [(S.DISPATCH, 10, 20, {"dept": 0}), (S.HANDLE_START, 11), (S.HANDLE, 12, 13),
                  (S.CHECK_SEND, 13, 14), (S.CHECK, 14, 15, {"outcome": Out.PASS})]
    log.case(1, *close_tail, (S.CLOSE, 15, NAN, {**lead, "outcome": Out.ON_TIME}))
    log.case(2, *close_tail, (S.CLOSE, 16, NAN, {**lead, "outcome": Out.ON_TIME}))   # late
    table = ev.evaluate_shift_leaders(log.array(), 2, horizon=50)
    assert_row(table, "shift_leader", 0, {
        "n_filed": 3, "n_voided": 1, "n_filing_assessed": 4, "n_filing_on_time": 3,
        "n_closing_assessed": 2, "n_closing_on_time": 1, "on_time_filing_rate": 0.75,
        "filing_accuracy": 0.75, "on_time_closing_rate": 0.5,
        "score": 100 * (0.25 * 0.75 + 0.4 * 0.75 + 0.35 * 0.5), "grade": "C", "rank": 2})
    assert_row(table, "shift_leader", 1, {"n_filed": 0, "filing_accuracy": 1.0,
                                          "score": 100.0, "grade": "A", "rank": 1})


def test_dispatcher_indicators():
    log = Log()
    # Dispatcher 0 dispatches twice: one returned, one late. Dispatcher 1 re-dispatches on time.
    log.case(1, (S.REPORT, 0, 1), (S.FILE, 1, 2),
             (S.DISPATCH, 2, 30, {"dept": 0, "actor": 0}), (S.RETURN, 3, 4),
             (S.DISPATCH, 4, 30, {"dept": 1, "actor": 1}), (S.HANDLE_START, 5))
    log.case(2, (S.REPORT, 0, 1), (S.FILE, 1, 2),
             (S.DISPATCH, 3, 30, {"dept": 1, "actor": 0}), (S.EXTEND, 4, 40))
    table = ev.evaluate_dispatchers(log.array(), 2, horizon=50)
    assert_row(table, "dispatcher", 0, {
        "n_actions": 2, "volume_share": 1.0, "volume_score": 1.0, "n_dispatches": 2,
        "n_returned": 1, "n_dispatch_assessed": 2, "n_dispatched_on_time": 1,
        "on_time_dispatch_rate": 0.5, "dispatch_accuracy": 0.5, "score": 60.0,
        "grade": "C", "rank": 2})
    assert_row(table, "dispatcher", 1, {
        "n_actions": 1, "volume_share": 0.5, "volume_score": 0.6, "n_dispatches": 1,
        "n_returned": 0, "on_time_dispatch_rate": 1.0, "dispatch_accuracy": 1.0,
        "score": 92.0, "grade": "A", "rank": 1})


def test_system_rows_judge_nobody():
    log = Log().case(1, (S.REPORT, 0, 5), (S.FILE, 9, 9, {"actor": -1}))
    table = ev.evaluate_shift_leaders(log.array(), 1, horizon=50)
    assert row_of(table, "shift_leader", 0)["n_filing_assessed"] == 0


# --- the whole evaluation --------------------------------------------------------------------

SIZES = dict(department_names=["roads", "parks", "water"], grid_to_subdistrict=GRID_TO_AREA,
             subdistrict_names=["east", "west", "north"], n_beats=2,
             grid_to_beat=np.array([0, 0, 1, 1]), n_acceptors=2, n_shift_leaders=2,
             n_dispatchers=2)
TABLE_KEYS = {"departments": "department", "subdistricts": "area", "inspectors": "beat",
              "acceptors": "acceptor", "shift_leaders": "shift_leader",
              "dispatchers": "dispatcher"}


def test_empty_log_gives_defined_tables():
    tables = ev.standard_evaluation(np.zeros(0, dtype=EVENT_DTYPE), horizon=100, **SIZES)
    assert set(tables) == set(TABLE_KEYS)
    for name, table in tables.items():
        assert len(table) == {"departments": 3, "subdistricts": 3, "inspectors": 2}.get(name, 2)
        assert table["score"].eq(100.0).all() and table["grade"].eq("A").all()
        assert table["rank"].eq(1).all()
        assert not table.isna().any().any(), name


def test_no_units_gives_empty_tables():
    tables = ev.standard_evaluation(
        np.zeros(0, dtype=EVENT_DTYPE), department_names=[],
        grid_to_subdistrict=np.zeros(0, int), subdistrict_names=[], n_beats=0,
        grid_to_beat=np.zeros(0, int), n_acceptors=0, n_shift_leaders=0, n_dispatchers=0,
        horizon=100)
    for name, table in tables.items():
        assert len(table) == 0 and {"score", "grade", "rank"} <= set(table.columns), name


def test_actions_of_uncounted_staff_are_reported():
    with pytest.raises(GridLoopError, match="acceptors"):
        ev.standard_evaluation(department_log(), horizon=100, **{**SIZES, "n_acceptors": 0})


def test_period_keeps_the_cases_reported_in_it_to_the_end():
    log = Log()
    log.case(1, *handled(1, 0, handle_at=10, due=20, t=0))
    log.case(2, *handled(2, 0, handle_at=510, due=520, t=500))
    log.case(3, *handled(3, 1, handle_at=1100, due=1050, t=999))     # handled after t1
    events = log.array()
    kept = ev.restrict_to_period(events, (500, 1000))
    assert sorted(set(kept["case"].tolist())) == [2, 3]
    assert len(kept) == int(np.isin(events["case"], [2, 3]).sum())
    assert (np.diff(kept["time"]) >= 0).all()                         # original order
    tables = ev.standard_evaluation(events, horizon=2000, period=(500, 1000), **SIZES)
    deps = tables["departments"]
    assert deps["n_cases"].tolist() == [1, 1, 0]
    assert deps["on_time_handling_rate"].tolist() == [1.0, 0.0, 1.0]
    direct = ev.standard_evaluation(kept, horizon=2000, **SIZES)
    for name in TABLE_KEYS:
        pd.testing.assert_frame_equal(tables[name], direct[name])


# --- properties ------------------------------------------------------------------------------

def event_logs():  # noqa: ANN201
    return _event_logs(citizens=5)


@settings(deadline=None, max_examples=150)
@given(event_logs(), st.floats(0, 4000))
def test_every_table_is_well_formed(events, horizon):
    tables = ev.standard_evaluation(events, horizon=horizon, **SIZES)
    for name, table in tables.items():
        rules = ev.STANDARD_RULES["areas" if name == "subdistricts" else name]
        for ind in rules:
            assert table[ind.column].between(0.0, 1.0).all(), (name, ind.column)
        assert table["score"].between(-1e-9, 100 + 1e-9).all()
        assert table["grade"].tolist() == [ev.grade(s) for s in table["score"]]
        assert not table.isna().any().any()
        order = table.sort_values("score", ascending=False)
        assert order["rank"].is_monotonic_increasing and order["rank"].iloc[0] == 1


@settings(deadline=None, max_examples=100)
@given(event_logs(), st.floats(0, 4000))
def test_evaluation_ignores_how_cases_interleave(events, horizon):
    by_case = events[np.argsort(events["case"], kind="stable")]
    a = ev.standard_evaluation(events, horizon=horizon, **SIZES)
    b = ev.standard_evaluation(by_case, horizon=horizon, **SIZES)
    for name in TABLE_KEYS:
        pd.testing.assert_frame_equal(a[name], b[name])


@settings(deadline=None, max_examples=100)
@given(event_logs(), st.floats(0, 1300))
def test_case_table_accounts_for_every_case(events, cut):
    table = ev.case_table(events)
    assert table["case"].tolist() == sorted(set(events["case"].tolist()))
    assert (table["state"] == "closed").tolist() == table["t_close"].notna().tolist()
    assert ((table["state"] == "open") == table[["t_close", "t_void", "t_merge",
                                                 "t_self_handle"]].isna().all(axis=1)).all()
    assert table["n_dispatches"].sum() == int((events["step"] == S.DISPATCH).sum())
    deps = ev.evaluate_departments(events, SIZES["department_names"], horizon=cut)
    held = table["final_department"] >= 0
    assert deps["n_cases"].sum() + deps["n_suspended"].sum() == int(held.sum())
    # Periods partition the cases.
    early = ev.restrict_to_period(events, (-math.inf, cut))
    late = ev.restrict_to_period(events, (cut, math.inf))
    assert len(early) + len(late) == len(events)
    assert set(early["case"].tolist()).isdisjoint(late["case"].tolist())
