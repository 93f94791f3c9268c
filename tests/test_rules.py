"""Tests of sim.rules: the formula language, rule files, every base count and indicator on a
tiny hand-made log, the presets, and invariants (rates in [0, 1], grades monotone in scores,
empty periods defined, the standard rule file equal to the standard evaluation)."""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import DEFAULT_KIND
from strategies import event_logs as _event_logs

import sim.rules as rules_pkg
from sim.engine.eventlog import EVENT_DTYPE, ActorKind, Outcome, Step
from sim.errors import GridLoopError, InputError
from sim.evaluation import standard_evaluation
from sim.evaluation.cases import group_cases
from sim.rules import (
    VOCABULARY,
    FormulaError,
    Period,
    UnitRoster,
    base_counts,
    bundled_rules,
    evaluate_periods,
    evaluate_rules,
    grade_scores,
    load_rules,
    split_periods,
)
from sim.rules.expr import FUNCTIONS, Formula, parse
from sim.rules.ruleset import RULES_DIR

NAN = math.nan
S, K, Out = Step, ActorKind, Outcome
PRESETS = ["points-deduction", "standard", "subdistrict", "three-rates"]


# The tiny city: 3 departments, 4 grids in 2 subdistricts / 3 communities / 2 beats.
DEPARTMENTS = ("roads", "parks", "water")
GRIDS = ("990101001001001", "990101001002001", "990101002001001", "990101002001002")
BEAT = (0, 0, 1, 1)
ROSTER = UnitRoster.from_grid_codes(
    DEPARTMENTS, GRIDS, grid_to_beat=np.array(BEAT), n_beats=2, n_acceptors=2,
    n_shift_leaders=2, n_dispatchers=2, urgent_subclass=np.array([False, True]))
HORIZON = 1000.0


def case(cid: int, grid: int, *steps: tuple, subclass: int = 0) -> list[tuple]:
    """Rows of one case: each step is (Step, time[, deadline[, {kind, actor, dept,
    outcome}]]). Inspector rows default to the grid's beat, others to actor 0; the department
    carries over from the last DISPATCH; a PUBLIC report is written by a citizen."""
    rows, dept = [], -1
    for spec in steps:
        step, time = spec[0], spec[1]
        deadline = spec[2] if len(spec) > 2 else NAN
        extra = spec[3] if len(spec) > 3 else {}
        if step == S.DISPATCH:
            dept = extra["dept"]
        outcome = extra.get("outcome", Out.INSPECTOR if step == S.REPORT else Out.NONE)
        kind = extra.get("kind", K.CITIZEN if outcome == Out.PUBLIC else DEFAULT_KIND[step])
        actor = extra.get("actor", BEAT[grid] if kind == K.INSPECTOR else
                          -1 if kind == K.CITIZEN else 0)
        rows.append((cid, cid, time, step, kind, actor, dept, deadline, outcome, grid,
                     subclass))
    return rows


def tiny_log() -> np.ndarray:
    """Ten cases touching every count (the expected values below are worked out by hand)."""
    a1, l1, d1 = {"actor": 1}, {"actor": 1}, {"actor": 1}
    rows = [
        # c1 roads, grid 0: everything on time.
        *case(1, 0, (S.REPORT, 0, 5), (S.FILE, 2, 10), (S.DISPATCH, 3, 100, {"dept": 0}),
              (S.HANDLE_START, 50), (S.HANDLE, 60, 70), (S.CHECK_SEND, 65, 80),
              (S.CHECK, 70, 90, {"outcome": Out.PASS}),
              (S.CLOSE, 85, NAN, {"outcome": Out.ON_TIME})),
        # c2 roads, grid 1: public report, late verification, late dispatch, late handling,
        # failed check, rework, a late check send, closed overdue and late.
        *case(2, 1, (S.REPORT, 10, 15, {"outcome": Out.PUBLIC}), (S.VERIFY_SEND, 12, 20, a1),
              (S.VERIFY, 25, 30, {"outcome": Out.CONFIRMED}), (S.FILE, 28, 35, l1),
              (S.DISPATCH, 40, 120, {"dept": 0, **d1}), (S.HANDLE_START, 130),
              (S.HANDLE, 150, 160), (S.CHECK_SEND, 155, 170),
              (S.CHECK, 175, NAN, {"outcome": Out.FAIL}), (S.REWORK, 176, 300, {"actor": -1}),
              (S.HANDLE_START, 200), (S.HANDLE, 250, 252), (S.CHECK_SEND, 255, 270),
              (S.CHECK, 260, 280, {"outcome": Out.PASS}),
              (S.CLOSE, 290, NAN, {"outcome": Out.OVERDUE})),
        # c3 parks, grid 2, urgent: extended, handled on time thanks to it, closed on time.
        *case(3, 2, (S.REPORT, 100, 105), (S.FILE, 101, 110),
              (S.DISPATCH, 102, 150, {"dept": 1}), (S.EXTEND, 110, 200), (S.HANDLE_START, 170),
              (S.HANDLE, 180, 190), (S.CHECK_SEND, 185, 195, a1),
              (S.CHECK, 190, 210, {"outcome": Out.PASS}),
              (S.CLOSE, 200, NAN, {"outcome": Out.ON_TIME}), subclass=1),
        # c4 parks, grid 3, urgent: never handled, past its deadline (overdue backlog).
        *case(4, 3, (S.REPORT, 300, 305), (S.FILE, 301, 310, l1),
              (S.DISPATCH, 302, 500, {"dept": 1, **d1}), subclass=1),
        # c5 parks, grid 0: suspended (leaves the department and area counts).
        *case(5, 0, (S.REPORT, 400, 405), (S.FILE, 401, 410, l1),
              (S.DISPATCH, 402, 600, {"dept": 1}), (S.SUSPEND, 403)),
        # c6 grid 2: water returns it, roads handles it on time; the check is overdue.
        *case(6, 2, (S.REPORT, 500, 505), (S.FILE, 501, 510),
              (S.DISPATCH, 502, 700, {"dept": 2}), (S.RETURN, 510, 540),
              (S.DISPATCH, 530, 800, {"dept": 0, **d1}), (S.HANDLE_START, 600),
              (S.HANDLE, 650, 660), (S.CHECK_SEND, 655, 900, a1)),
        # c7 grid 3: a false public report, voided on time.
        *case(7, 3, (S.REPORT, 700, 705, {"outcome": Out.PUBLIC}), (S.VERIFY_SEND, 701, 720, a1),
              (S.VERIFY, 710, 730, {"outcome": Out.NOT_FOUND}), (S.VOID, 725, NAN, l1)),
        # c8 grid 1: fixed on the spot.
        *case(8, 1, (S.REPORT, 800), (S.SELF_HANDLE, 800)),
        # c9 grid 3: an invalid inspector report, voided late.
        *case(9, 3, (S.REPORT, 900, 905), (S.VOID, 910)),
        # c10 grid 2: a public report whose verification is overdue at the horizon.
        *case(10, 2, (S.REPORT, 940, 945, {"outcome": Out.PUBLIC}), (S.VERIFY_SEND, 941, 950)),
    ]
    arr = np.array(rows, dtype=EVENT_DTYPE)
    return arr[np.argsort(arr["time"], kind="stable")]


# --- public surface ---------------------------------------------------------------------------

def test_public_names_are_pinned():
    assert sorted(rules_pkg.__all__) == sorted([
        "BUILTINS", "FUNCTIONS", "HOTLINE_COUNTS", "PERIOD_KINDS", "RULES_DIR", "UNIT_KINDS",
        "VOCABULARY", "Formula", "FormulaError", "IndicatorRule", "Period", "RuleSet",
        "RuleSetSpec", "UnitRoster", "UnitRules", "base_counts", "bundled_rules",
        "compile_rules", "evaluate_periods", "evaluate_rules", "grade_scores",
        "hotline_counts", "load_rules", "rank_scores", "split_periods"])
    for name in rules_pkg.__all__:
        assert hasattr(rules_pkg, name)


def test_presets_are_bundled():
    assert bundled_rules() == PRESETS


def test_no_eval_of_user_text():
    source = "\n".join(p.read_text() for p in Path(rules_pkg.__file__).parent.glob("*.py"))
    assert not re.search(r"(?<![\w.])(eval|exec|compile|__import__)\(", source)
    assert "import ast" not in source


# --- the formula language ---------------------------------------------------------------------

ENV = {"a": np.array([0.0, 1.0, 4.0]), "b": np.array([0.0, 2.0, 2.0]), "p": 2.0}


@pytest.mark.parametrize("text, expected", [
    ("1 + 2 * 3", [7, 7, 7]),
    ("(1 + 2) * 3", [9, 9, 9]),
    ("-(2 - 5)", [3, 3, 3]),
    ("+a - -b", [0, 3, 6]),
    ("10 / 4", [2.5, 2.5, 2.5]),
    ("a / p", [0, 0.5, 2]),
    ("a / (p + 2)", [0, 0.25, 1]),
    ("1e-2 * 100 + .5", [1.5, 1.5, 1.5]),
    ("8 - 2 - 1", [5, 5, 5]),
    ("min(a, b)", [0, 1, 2]),
    ("max(a, b, 3)", [3, 3, 4]),
    ("abs(b - a)", [0, 1, 2]),
    ("clip(a, 0.5, 2)", [0.5, 1, 2]),
    ("ratio(a, b, 7)", [7, 0.5, 2]),
    ("ratio(a, b, p)", [2, 0.5, 2]),
    ("tier(a, [[4, 1], [1, 0.5]])", [0, 0.5, 1]),
    ("tier(a, [[1, 0.5], [4, 1]], 0.1)", [0.1, 0.5, 1]),
    ("when(a > 1, a, b)", [0, 2, 4]),
    ("a >= b", [1, 0, 1]),
    ("a < b", [0, 1, 0]),
    ("a <= 1", [1, 1, 0]),
    ("a == b", [1, 0, 0]),
    ("a != b", [0, 1, 1]),
    ("highest(a)", [4, 4, 4]),
    ("lowest(b)", [0, 0, 0]),
    ("total(a) - a", [5, 4, 1]),
    ("mean(a)", [5 / 3] * 3),
    ("1 - ratio(a, highest(a), 0)", [1, 0.75, 0]),
])
def test_formulas_evaluate_over_units(text, expected):
    f = Formula.parse(text)
    f.check({"a": "count", "b": "count", "p": "parameter"}, {"p": 2.0})
    assert f.evaluate(ENV, 3).tolist() == pytest.approx(expected)


def test_aggregates_of_no_units_are_zero():
    empty = {"a": np.zeros(0)}
    for fn in ("highest", "lowest", "total", "mean"):
        assert Formula.parse(f"{fn}(a) + 1").evaluate(empty, 0).tolist() == []
    assert FUNCTIONS["highest"].run(np.zeros(0)) == 0.0


def test_formula_names():
    assert Formula.parse("ratio(closed, filed, 1) + closed * p").names == ("closed", "filed",
                                                                             "p")


NAMES = {"closed": "count of departments", "filed": "count of departments", "p": "parameter",
         "z": "parameter"}


@pytest.mark.parametrize("text, message, column", [
    ("__import__('os')", "unexpected character \"'\" (formulas have no text)", 12),
    ("__import__(1)", "unknown function '__import__'", 1),
    ("closed.__class__", "unexpected character '.' (formulas have no attribute access)", 7),
    ("()", "expected a number, a name, a function call or '(', got ')'", 2),
    ("foo(closed)", "unknown function 'foo'", 1),
    ("clsoed + 1", "unknown name 'clsoed' (did you mean 'closed'?)", 1),
    ("closed(1)", "'closed' is a count of departments, not a function", 1),
    ("1 +", "expected a number, a name, a function call or '(', got the end of the formula", 4),
    ("(closed + 1", "expected ')', got the end of the formula", 12),
    ("closed filed", "expected an operator or the end of the formula, got 'filed'", 8),
    ("closed / 0", "division by zero", 8),
    ("closed / (p - 2)", "division by zero", 8),
    ("closed / filed", "'/' divides by constants only", 8),
    ("closed / highest(filed)", "'/' divides by constants only", 8),
    ("ratio(closed, filed)", "ratio(num, den, empty) takes 3 arguments, got 2", 1),
    ("ratio(closed, filed, closed)", "argument 3 of ratio(num, den, empty) must be a number", 22),
    ("min(closed)", "min(a, b, ...) takes 2 or more arguments, got 1", 1),
    ("tier(closed, 1)", "tier needs a list of [threshold, score] pairs", 14),
    ("tier(closed, [[1, filed]])", "tier thresholds and scores must be numbers or parameters",
     15),
    ("tier(closed, [[1, 2, 3]])", "each tier is a pair [threshold, score]", 15),
    ("[1, 2]", "a list [...] is only a function argument (tier)", 1),
    ("max([1], 2)", "a list [...] is only the second argument of tier", 5),
    ("closed < filed < 3", "comparisons do not chain", 16),
    ("closed ** 2", "expected a number, a name, a function call or '(', got '*'", 9),
    ("closed = 1", "compare with '=='", 8),
    ("70%", "write 0.7, not 70%", 3),
    ("lambda: 1", "unexpected character ':'", 7),
    ("", "expected a formula, got nothing", 1),
    ("(" * 50 + "1" + ")" * 50, "formula nested more than 40 deep", 41),
])
def test_rejected_formulas_say_what_and_where(text, message, column):
    with pytest.raises(FormulaError) as info:
        Formula.parse(text).check(NAMES, {"p": 2.0, "z": 0.0})
    assert message in info.value.message
    assert info.value.column == column
    assert isinstance(info.value, GridLoopError)


def test_overlong_formula_is_rejected():
    with pytest.raises(FormulaError, match="longer than"):
        parse("1 + " * 600 + "1")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab1.+-*/()[],<>=! _x", max_size=40))
def test_any_text_parses_or_fails_cleanly(text):
    try:
        f = Formula.parse(text)
    except FormulaError as e:
        assert 1 <= e.column <= len(text) + 1
        return
    try:
        f.check({"a": "count", "b": "count", "x": "count"}, {})
    except FormulaError:
        return
    assert f.evaluate({"a": np.ones(2), "b": np.zeros(2), "x": np.full(2, 3.0)}, 2).shape == (2,)


# --- base counts on the tiny log (every count of every kind) ----------------------------------

EXPECTED_COUNTS = {
    "departments": {
        "filed": [3, 2, 0], "excluded": [0, 1, 0], "suspended": [0, 1, 0],
        "public_reports": [1, 0, 0], "closed": [2, 1, 0], "closed_on_time": [1, 1, 0],
        "open": [1, 1, 0], "handled": [3, 1, 0], "due": [3, 2, 0],
        "handled_on_time": [2, 1, 0], "overdue": [0, 1, 0], "reworked": [1, 0, 0],
        "reworks": [1, 0, 0], "returned": [1, 0, 0], "extended": [0, 1, 0],
        "urgent": [0, 2, 0], "urgent_due": [0, 2, 0], "urgent_handled_on_time": [0, 1, 0],
        "dispatches": [3, 2, 1], "returns": [0, 0, 1], "summons": [0, 0, 0],
    },
    "subdistricts": {
        "filed": [2, 3], "excluded": [1, 0], "suspended": [1, 0], "public_reports": [1, 0],
        "closed": [2, 1], "closed_on_time": [1, 1], "open": [0, 2], "handled": [2, 2],
        "due": [2, 3], "handled_on_time": [1, 2], "overdue": [0, 1], "reworked": [1, 0],
        "reworks": [1, 0], "returned": [0, 1], "extended": [0, 1], "urgent": [0, 2],
        "urgent_due": [0, 2], "urgent_handled_on_time": [0, 1],
    },
    "communities": {"filed": [1, 1, 3], "excluded": [1, 0, 0], "closed": [1, 1, 1]},
    "grids": {"filed": [1, 1, 2, 1], "overdue": [0, 0, 0, 1], "returned": [0, 0, 1, 0]},
    "inspectors": {
        "actions": [8, 6], "reports": [2, 4], "voided": [0, 1], "self_handled": [1, 0],
        "filed": [3, 3], "missed_reports": [1, 0], "verification_assessed": [1, 2],
        "verified_on_time": [0, 1], "check_assessed": [3, 2], "checked_on_time": [2, 1],
    },
    "acceptors": {
        "actions": [4, 4], "verify_send_assessed": [1, 2], "verify_sent_on_time": [1, 2],
        "check_send_assessed": [3, 2], "check_sent_on_time": [2, 2],
    },
    "shift_leaders": {
        "actions": [7, 4], "filed": [3, 3], "voided": [1, 1], "filing_assessed": [4, 4],
        "filing_on_time": [3, 4], "closing_assessed": [3, 0], "closing_on_time": [2, 0],
    },
    "dispatchers": {
        "actions": [4, 3], "dispatches": [4, 3], "returned": [1, 0],
        "dispatch_assessed": [4, 3], "dispatched_on_time": [4, 2],
    },
}


@pytest.mark.parametrize("kind, name, expected", [
    (kind, name, values) for kind, table in EXPECTED_COUNTS.items()
    for name, values in table.items()])
def test_base_count(kind, name, expected):
    counts = base_counts(kind, group_cases(tiny_log()), ROSTER, HORIZON)
    assert counts[name].tolist() == expected


def test_every_count_is_covered_and_well_typed():
    cr = group_cases(tiny_log())
    for kind, vocab in VOCABULARY.items():
        counts = base_counts(kind, cr, ROSTER, HORIZON)
        assert list(counts) == list(vocab)
        for name, values in counts.items():
            assert values.dtype == np.int64 and len(values) == ROSTER.size(kind)
            assert (values >= 0).all(), (kind, name)
    covered = {n for table in EXPECTED_COUNTS.values() for n in table}
    case_counts = set(VOCABULARY["departments"]) - set(rules_pkg.HOTLINE_COUNTS)
    assert case_counts <= covered


def test_excluding_other_conditions():
    cr = group_cases(tiny_log())
    counts = base_counts("departments", cr, ROSTER, HORIZON, exclude=("urgent", "returned"))
    assert counts["filed"].tolist() == [2, 1, 0]        # roads loses c6, parks c3 and c4
    assert counts["excluded"].tolist() == [1, 2, 0]
    assert counts["dispatches"].tolist() == [2, 1, 0]   # c6's dispatches left with it
    with pytest.raises(GridLoopError, match="exclude"):
        base_counts("departments", cr, ROSTER, HORIZON, exclude=("lost",))


CALLS = pd.DataFrame({
    "unit": ["roads", "roads", "parks", "district", "roads"],
    "work_order": [True, True, True, True, False],
    "closed": [True, False, True, True, True], "reached": [True, False, False, True, True],
    "responded": [True, False, True, True, True], "resolved": [True, False, False, True, True],
    "satisfied": [False, False, False, True, True], "subdistrict": [0, 1, 1, 0, 0],
    "arrival": [10.0, 20.0, 2000.0, 30.0, 40.0],
})


@pytest.mark.parametrize("kind, expected", [
    ("departments", {"contacts": [2, 1, 0], "contacts_closed": [1, 1, 0], "surveyed": [1, 0, 0],
                     "responded": [1, 1, 0], "resolved": [1, 0, 0], "satisfied": [0, 0, 0]}),
    ("subdistricts", {"contacts": [2, 2], "contacts_closed": [2, 1], "surveyed": [2, 0],
                      "responded": [2, 1], "resolved": [2, 0], "satisfied": [1, 0]}),
])
def test_hotline_counts(kind, expected):
    counts = base_counts(kind, group_cases(tiny_log()), ROSTER, HORIZON, calls=CALLS)
    for name, values in expected.items():
        assert counts[name].tolist() == values, name


def test_hotline_counts_by_unit_name_and_missing_columns():
    calls = CALLS.drop(columns=["subdistrict"]).assign(unit=["subdistrict:001", "002", "x",
                                                             "001", "001"])
    counts = base_counts("subdistricts", group_cases(tiny_log()), ROSTER, HORIZON, calls=calls)
    assert counts["contacts"].tolist() == [2, 1]
    with pytest.raises(GridLoopError, match="missing satisfied"):
        base_counts("departments", group_cases(tiny_log()), ROSTER, HORIZON,
                    calls=CALLS.drop(columns=["satisfied"]))


# --- indicators of the presets on the tiny log (table-driven) --------------------------------

@pytest.mark.parametrize("preset, kind, unit, column, expected", [
    ("standard", "departments", 0, "case_count_score", 0.0),
    ("standard", "departments", 1, "case_count_score", 1 / 3),
    ("standard", "departments", 0, "closure_rate", 2 / 3),
    ("standard", "departments", 0, "on_time_handling_rate", 2 / 3),
    ("standard", "departments", 0, "rework_rate", 1 / 3),
    ("standard", "departments", 2, "score", 100.0),
    ("standard", "subdistricts", 0, "public_report_rate", 0.5),
    ("standard", "subdistricts", 0, "filed_count_score", 2 / 3),
    ("standard", "subdistricts", 1, "closure_rate", 1 / 3),
    ("standard", "subdistricts", 0, "on_time_closure_rate", 0.5),
    ("standard", "inspectors", 1, "valid_report_rate", 0.75),
    ("standard", "inspectors", 0, "missed_report_rate", 1 / 3),
    ("standard", "inspectors", 0, "on_time_verification_rate", 0.0),
    ("standard", "inspectors", 1, "on_time_check_rate", 0.5),
    ("standard", "acceptors", 0, "volume_score", 1.0),
    ("standard", "acceptors", 0, "on_time_check_send_rate", 2 / 3),
    ("standard", "acceptors", 1, "on_time_verify_send_rate", 1.0),
    ("standard", "shift_leaders", 0, "on_time_filing_rate", 0.75),
    ("standard", "shift_leaders", 0, "filing_accuracy", 0.75),
    ("standard", "shift_leaders", 0, "on_time_closing_rate", 2 / 3),
    ("standard", "shift_leaders", 1, "on_time_closing_rate", 1.0),
    ("standard", "dispatchers", 1, "volume_score", 0.8),
    ("standard", "dispatchers", 1, "on_time_dispatch_rate", 2 / 3),
    ("standard", "dispatchers", 0, "dispatch_accuracy", 0.75),
    ("subdistrict", "subdistricts", 0, "handling_rate", 1.0),
    ("subdistrict", "subdistricts", 0, "on_time_handling_rate", 0.5),
    ("subdistrict", "subdistricts", 0, "rework_rate", 0.5),
    ("subdistrict", "subdistricts", 1, "overdue_backlog_rate", 1 / 3),
    ("subdistrict", "subdistricts", 1, "extension_rate", 1 / 3),
    ("subdistrict", "subdistricts", 0, "score", 80.0),
    ("subdistrict", "subdistricts", 1,
     "score", 100 * (0.3 * 2 / 3 + 0.2 * 2 / 3 + 0.2 + 0.2 * 2 / 3 + 0.1 * 2 / 3)),
    ("subdistrict", "communities", 2, "handling_rate", 2 / 3),
    ("points-deduction", "departments", 0, "on_time_closure_rate", 0.5),
    ("points-deduction", "departments", 0, "on_time_closure_points", 50 * 0.5 / 0.7),
    ("points-deduction", "departments", 0, "closure_points_won", 20 * (2 / 3) / 0.9),
    ("points-deduction", "departments", 0, "urgent_points_won", 10.0),
    ("points-deduction", "departments", 0, "rework_deduction", 1.0),
    ("points-deduction", "departments", 0,
     "score", 50 * 0.5 / 0.7 + 20 * (2 / 3) / 0.9 + 10 + 20 - 1),
    ("points-deduction", "departments", 1, "urgent_on_time_rate", 0.5),
    ("points-deduction", "departments", 1, "score", 50 + 20 * 0.5 / 0.9 + 5 + 20),
    ("points-deduction", "subdistricts", 1, "closure_points_won", 20 * (1 / 3) / 0.9),
    ("three-rates", "departments", 0, "hotline_data", 0.0),
    ("three-rates", "departments", 0, "response_rate", 2 / 3),
    ("three-rates", "departments", 0, "resolution_rate", 2 / 3),
    ("three-rates", "departments", 0, "satisfaction_rate", 2 / 3),
    ("three-rates", "departments", 0, "score", 100 * 2 / 3),
])
def test_preset_indicator(preset, kind, unit, column, expected):
    tables = evaluate_rules(load_rules(preset), tiny_log(), ROSTER, horizon=HORIZON)
    got = tables[kind].set_index("unit").loc[unit, column]
    assert got == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("unit, column, expected", [
    (0, "hotline_data", 1.0), (0, "response_rate", 1.0), (0, "resolution_rate", 1.0),
    (0, "satisfaction_rate", 0.0), (0, "score", 65.0), (1, "score", 100.0),
    (2, "score", 100.0),
])
def test_three_rates_with_hotline_calls(unit, column, expected):
    tables = evaluate_rules(load_rules("three-rates"), tiny_log(), ROSTER, horizon=HORIZON,
                            calls=CALLS)
    assert tables["departments"].set_index("unit").loc[unit, column] == pytest.approx(expected)


def test_three_rates_weights_are_parameters():
    rules = load_rules("three-rates", ["parameters.w_response=0.5",
                                       "parameters.w_satisfaction=0.15"])
    assert [i.weight for i in rules.units["departments"].indicators] == [0, 0.5, 0.35, 0.15]
    dept = evaluate_rules(rules, tiny_log(), ROSTER, horizon=HORIZON,
                          calls=CALLS)["departments"]
    assert dept.loc[0, "score"] == pytest.approx(100 * (0.5 + 0.35))


# --- the standard rule file is the standard evaluation ----------------------------------------

STANDARD_KEYS = {"departments": "department", "subdistricts": "area", "inspectors": "beat",
                 "acceptors": "acceptor", "shift_leaders": "shift_leader",
                 "dispatchers": "dispatcher"}


def standard_of(events: np.ndarray, horizon: float, period: tuple[float, float] | None = None
                ) -> dict[str, pd.DataFrame]:
    return standard_evaluation(
        events, department_names=DEPARTMENTS, grid_to_subdistrict=ROSTER.grid_to_subdistrict,
        subdistrict_names=ROSTER.subdistrict_names, n_beats=2, grid_to_beat=np.array(BEAT),
        n_acceptors=2, n_shift_leaders=2, n_dispatchers=2, horizon=horizon, period=period)


def assert_same_as_standard(events: np.ndarray, horizon: float,
                            period: Period | None = None) -> None:
    want = standard_of(events, horizon, period.bounds if period else None)
    got = evaluate_rules(load_rules("standard"), events, ROSTER, horizon=horizon,
                         period=period)
    assert list(got) == list(STANDARD_KEYS)
    for kind, table in want.items():
        mine = got[kind]
        for column in ("score", "grade", "rank"):
            assert table[column].tolist() == mine[column].tolist(), (kind, column)
        for ind in load_rules("standard").units[kind].indicators:
            assert table[ind.name].tolist() == mine[ind.name].tolist(), (kind, ind.name)


def test_standard_rules_reproduce_the_standard_evaluation_on_the_tiny_log():
    assert_same_as_standard(tiny_log(), HORIZON)
    assert_same_as_standard(tiny_log(), 450.0)
    assert_same_as_standard(tiny_log(), HORIZON, Period("mid", 100, 500, False, False))


def test_standard_rules_reproduce_a_simulated_run():
    from sim.data.scenario import load_scenario
    from sim.run import simulate

    sc = load_scenario("small-town", days=3)
    result = simulate(sc)
    roster = UnitRoster.from_city(
        result.city, result.departments, grid_to_beat=result.grid_beat, n_beats=result.n_beats,
        n_acceptors=sc.centre.acceptors, n_shift_leaders=sc.centre.shift_leaders,
        n_dispatchers=sc.centre.dispatchers)
    want = result.evaluation()
    got = evaluate_rules(load_rules("standard"), result.events, roster, horizon=3 * 1440.0)
    for kind, table in want.items():
        assert np.array_equal(table["score"].to_numpy(), got[kind]["score"].to_numpy()), kind
        assert table["rank"].tolist() == got[kind]["rank"].tolist()
    for preset in PRESETS:
        for kind, table in evaluate_rules(load_rules(preset), result.events, roster,
                                          horizon=3 * 1440.0).items():
            assert table["score"].between(0, 100).all(), (preset, kind)


# --- rule files: loading and located errors ---------------------------------------------------

def write_rules(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mine.yaml"
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = """\
name: mine
units:
  departments:
    indicators:
      - name: closure_rate
        formula: ratio(closed, filed, 1)
        weight: 0.5
      - name: late_share
        formula: {formula}
        weight: 0.5
        higher_is_better: false
"""


def test_a_new_rule_set(tmp_path):
    path = write_rules(tmp_path, MINIMAL.format(formula="ratio(due - handled_on_time, due, 0)"))
    rules = load_rules(path)
    assert (rules.name, rules.period, rules.exclude) == ("mine", "month", ("suspended",))
    table = evaluate_rules(rules, tiny_log(), ROSTER, horizon=HORIZON)["departments"]
    assert table["late_share"].tolist() == pytest.approx([1 / 3, 0.5, 0.0])
    assert table["score"].tolist() == pytest.approx(
        [100 * (0.5 * 2 / 3 + 0.5 * 2 / 3), 100 * (0.25 + 0.25), 100.0])
    assert table["grade"].tolist() == ["C", "D", "A"]
    assert table["rank"].tolist() == [2, 3, 1]


@pytest.mark.parametrize("formula, line, path, message", [
    ("ratio(clsoed, filed, 0)", 9, "units.departments.indicators.1.formula",
     "unknown name 'clsoed' (did you mean 'closed'?) at column 7 of 'ratio(clsoed, filed, 0)'"),
    ("ratio(missed_reports, filed, 0)", 9, "units.departments.indicators.1.formula",
     "unknown name 'missed_reports' (a count of inspectors only"),
    ("later + 1", 9, "units.departments.indicators.1.formula",
     "unknown name 'later' at column 1"),
    ("late_share", 9, "units.departments.indicators.1.formula",
     "an indicator defined further down; define it before the formulas using it"),
    ("closed / 0", 9, "units.departments.indicators.1.formula", "division by zero at column 8"),
    ("os.system(1)", 9, "units.departments.indicators.1.formula",
     "unexpected character '.' (formulas have no attribute access) at column 3"),
])
def test_bad_formula_is_located(tmp_path, formula, line, path, message):
    file = write_rules(tmp_path, MINIMAL.format(formula=formula))
    with pytest.raises(InputError) as info:
        load_rules(file)
    e = info.value
    assert (e.file, e.line, e.path) == (str(file), line, path)
    assert message in e.message
    assert str(e).startswith(f"{file}:{line}: {path}: ")


@pytest.mark.parametrize("edit, line, path, message", [
    (("weight: 0.5\n      - name: late", "weight: 0.4\n      - name: late"), 4,
     "units.departments.indicators", "expected weights summing to 1, got 0.9"),
    (("weight: 0.5\n      - name: late", "weight: -0.5\n      - name: late"), 7,
     "units.departments.indicators.0.weight", "expected a weight >= 0"),
    (("weight: 0.5\n      - name: late", "weight: w\n      - name: late"), 7,
     "units.departments.indicators.0.weight", "unknown name 'w'"),
    (("name: late_share", "name: closed"), 8, "units.departments.indicators.1.name",
     "already used for: count of departments"),
    (("name: late_share", "name: closure_rate"), 8, "units.departments.indicators.1.name",
     "already used for: indicator"),
    (("name: late_share", "name: rank"), 8, "units.departments.indicators.1.name",
     "other than the table columns"),
    (("name: late_share", "name: ratio"), 8, "units.departments.indicators.1.name",
     "not a function"),
    (("name: late_share", "name: 2late"), 8, "units.departments.indicators.1.name",
     "expected text matching the pattern"),
    (("departments:", "department:"), 3, "units.department",
     "expected a unit kind, one of departments, subdistricts"),
    (("name: mine", "name: mine\nperiod: fortnight"), 2, "period",
     "expected one of 'month', 'week' or 'all'"),
    (("name: mine", "name: mine\ngrades: {A: 90, B: 95}"), 2, "grades.B",
     "each lower than the one before (90), got 95"),
    (("name: mine", "name: mine\nexclude: [holidays]"), 2, "exclude.0",
     "expected one of 'suspended'"),
    (("name: mine", "name: mine\nparameters: {closed: 1}"), 2, "parameters.closed",
     "not a count, built-in or function"),
    (("name: mine", "name: mine\ncolour: red"), 2, "colour", "got unknown key 'colour'"),
    (("        higher_is_better: false\n",
      "        higher_is_better: false\n    score: 100 * closure_rate\n"), 7,
     "units.departments.indicators.0.weight", "expected no weight (0) when the unit has a score"),
])
def test_bad_rule_file_is_located(tmp_path, edit, line, path, message):
    text = MINIMAL.format(formula="0")
    assert edit[0] in text
    file = write_rules(tmp_path, text.replace(edit[0], edit[1], 1))
    with pytest.raises(InputError) as info:
        load_rules(file)
    e = info.value
    assert (e.file, e.line, e.path) == (str(file), line, path), str(e)
    assert message in e.message


def test_rule_set_lookup_and_overrides(tmp_path):
    with pytest.raises(InputError, match="bundled: points-deduction, standard"):
        load_rules("atlantis")
    with pytest.raises(InputError, match="no such file"):
        load_rules(tmp_path / "none.yaml")
    with pytest.raises(InputError) as info:
        load_rules("three-rates", ["parameters.w_respnse=0.3"])
    assert info.value.file == "--set" and "w_response" in info.value.message
    with pytest.raises(InputError, match="expected weights summing to 1, got 1.1"):
        load_rules("three-rates", ["parameters.w_response=0.4"])
    assert load_rules("standard", ["period=week"]).period == "week"
    assert load_rules(RULES_DIR / "standard.yaml").source.endswith("standard.yaml")


def test_presets_load_with_documented_shapes():
    expected_units = {
        "standard": ["departments", "subdistricts", "inspectors", "acceptors",
                     "shift_leaders", "dispatchers"],
        "points-deduction": ["departments", "subdistricts"],
        "subdistrict": ["subdistricts", "communities"],
        "three-rates": ["departments", "subdistricts"],
    }
    for name in PRESETS:
        rules = load_rules(name)
        assert list(rules.units) == expected_units[name]
        assert rules.grades == ((90, "A"), (75, "B"), (60, "C"), (40, "D"), (0, "E"))
        assert rules.exclude == ("suspended",)
        for unit in rules.units.values():
            if unit.score is None:
                assert math.fsum(i.weight for i in unit.indicators) == pytest.approx(1.0)
    assert dict(load_rules("three-rates").parameters) == {
        "w_response": 0.30, "w_resolution": 0.35, "w_satisfaction": 0.35}


# --- periods ----------------------------------------------------------------------------------

def test_periods_without_a_start_date():
    weeks = split_periods("week", 16 * 1440.0)
    assert [p.label for p in weeks] == ["W01", "W02", "W03"]
    assert [(p.start, p.end) for p in weeks] == [(0, 10080), (10080, 20160), (20160, 23040)]
    assert weeks[0].bounds == (-math.inf, 10080) and weeks[2].bounds == (20160, math.inf)
    assert [p.label for p in split_periods("month", 61 * 1440.0)] == ["M01", "M02", "M03"]
    assert [p.label for p in split_periods("all", 5.0)] == ["all"]
    assert len(split_periods("week", 0.0)) == 1
    with pytest.raises(GridLoopError, match="period"):
        split_periods("day", 10.0)


def test_periods_on_the_calendar():
    months = split_periods("month", 40 * 1440.0, dt.date(2026, 3, 2))
    assert [p.label for p in months] == ["2026-03", "2026-04"]
    assert months[1].start == 30 * 1440.0 and months[1].end == 40 * 1440.0
    weeks = split_periods("week", 10 * 1440.0, dt.date(2026, 3, 4))     # a Wednesday
    assert [p.label for p in weeks] == ["2026-W10", "2026-W11"]
    assert weeks[1].start == 5 * 1440.0
    dec = split_periods("month", 40 * 1440.0, dt.date(2025, 12, 15))
    assert [p.label for p in dec] == ["2025-12", "2026-01"]


def test_tables_by_period_are_tidy_and_empty_weeks_are_defined():
    events = tiny_log()                                   # everything in the first day
    tables = evaluate_periods(load_rules("standard"), events, ROSTER, horizon=20 * 1440.0,
                              period="week")
    dept = tables["departments"]
    assert dept.columns[:5].tolist() == ["period", "period_start_min", "period_end_min",
                                         "unit", "name"]
    assert dept["period"].tolist() == ["W01"] * 3 + ["W02"] * 3 + ["W03"] * 3
    later = dept[dept["period"] != "W01"]
    assert (later["filed"] == 0).all() and (later["score"] == 100.0).all()
    assert (later["rank"] == 1).all()
    first = dept[dept["period"] == "W01"]
    whole = evaluate_rules(load_rules("standard"), events, ROSTER, horizon=20 * 1440.0)
    assert first["score"].tolist() == whole["departments"]["score"].tolist()


def test_calls_are_split_by_arrival():
    rules = load_rules("three-rates")
    tables = evaluate_periods(rules, tiny_log(), ROSTER, horizon=3 * 1440.0, period="all",
                              calls=CALLS.drop(columns=["arrival"]))
    assert tables["departments"]["contacts"].tolist() == [2, 1, 0]
    two = split_periods("week", 14 * 1440.0)
    first = evaluate_rules(rules, tiny_log(), ROSTER, horizon=14 * 1440.0, period=two[0],
                           calls=CALLS)
    assert first["departments"]["contacts"].tolist() == [2, 1, 0]   # arrival 2000 < 1 week
    with pytest.raises(GridLoopError, match="arrival"):
        evaluate_rules(rules, tiny_log(), ROSTER, horizon=14 * 1440.0, period=two[0],
                       calls=CALLS.drop(columns=["arrival"]))


# --- properties -------------------------------------------------------------------------------

def event_logs():  # noqa: ANN201
    return _event_logs(subclasses=2)


@st.composite
def call_tables(draw) -> pd.DataFrame | None:
    n = draw(st.integers(0, 12))
    if n == 0 and draw(st.booleans()):
        return None
    flags = {c: draw(st.lists(st.booleans(), min_size=n, max_size=n))
             for c in ("work_order", "closed", "reached", "responded", "resolved",
                       "satisfied")}
    return pd.DataFrame({
        "unit": draw(st.lists(st.sampled_from([*DEPARTMENTS, "district", "001"]), min_size=n,
                              max_size=n)),
        "subdistrict": draw(st.lists(st.integers(-1, 2), min_size=n, max_size=n)),
        "arrival": draw(st.lists(st.floats(0, 3000), min_size=n, max_size=n)), **flags})


@settings(deadline=None, max_examples=80)
@given(event_logs(), st.floats(0, 4000))
def test_standard_rules_equal_the_standard_evaluation(events, horizon):
    assert_same_as_standard(events, horizon)


@settings(deadline=None, max_examples=60)
@given(event_logs(), st.floats(0, 4000), call_tables(), st.sampled_from(PRESETS),
       st.sampled_from(["all", "week"]))
def test_preset_tables_are_well_formed(events, horizon, calls, preset, period):
    rules = load_rules(preset)
    tables = evaluate_periods(rules, events, ROSTER, horizon=horizon, period=period,
                              calls=calls)
    for kind, table in tables.items():
        assert len(table) == ROSTER.size(kind) * table["period"].nunique()
        assert not table.isna().any().any(), (preset, kind)
        for ind in rules.units[kind].indicators:
            if ind.name.endswith(("_rate", "_score", "_accuracy")):
                assert table[ind.name].between(0.0, 1.0).all(), (preset, kind, ind.name)
        assert table["score"].between(-1e-9, 100 + 1e-9).all(), (preset, kind)
        assert table["grade"].tolist() == grade_scores(table["score"].to_numpy(),
                                                       rules.grades).tolist()
        for _, one in table.groupby("period"):
            order = one.sort_values("score", ascending=False)
            assert order["rank"].is_monotonic_increasing and order["rank"].iloc[0] == 1
            assert [ "ABCDE".index(g) for g in order["grade"]] == sorted(
                "ABCDE".index(g) for g in order["grade"])


@settings(deadline=None, max_examples=60)
@given(event_logs(), st.sampled_from(PRESETS), st.floats(0, 3000), st.floats(0, 3000))
def test_an_empty_period_gives_a_defined_result(events, preset, start, length):
    rules = load_rules(preset)
    period = Period("empty", 5000 + start, 5000 + start + length, first=False, last=False)
    tables = evaluate_rules(rules, events, ROSTER, horizon=4000, period=period)
    for kind, table in tables.items():
        assert len(table) == ROSTER.size(kind)
        counts = [c for c in VOCABULARY[kind] if c not in ("actions",)]
        assert (table[counts] == 0).all().all(), (preset, kind)
        assert np.isfinite(table["score"]).all() and not table.isna().any().any()


@given(st.lists(st.floats(0, 100), min_size=1, max_size=4, unique=True),
       st.floats(-50, 150), st.floats(-50, 150))
def test_grades_are_monotone_in_scores(lows, a, b):
    bands = tuple((low, letter) for low, letter in zip(sorted(lows, reverse=True), "ABCD",
                                                      strict=False))
    letters = [letter for _, letter in bands]
    lo, hi = sorted((a, b))
    g_lo, g_hi = grade_scores(np.array([lo, hi]), bands)
    assert letters.index(g_hi) <= letters.index(g_lo)
    if hi >= bands[0][0]:
        assert g_hi == bands[0][1]


def test_grading_a_nan_is_an_error():
    with pytest.raises(GridLoopError, match="NaN"):
        grade_scores(np.array([NAN]), ((0.0, "A"),))


def test_a_non_finite_indicator_is_reported(tmp_path):
    path = write_rules(tmp_path, MINIMAL.format(formula="0").replace(
        "ratio(closed, filed, 1)", "0 * z + ratio(closed, filed, 1)").replace(
        "name: mine", "name: mine\nparameters: {z: 1e308}").replace(
        "0 * z", "z * z * 0"))
    with pytest.raises(GridLoopError, match="closure_rate.*finite"):
        evaluate_rules(load_rules(path), tiny_log(), ROSTER, horizon=HORIZON)


def test_roster_from_grid_codes():
    assert ROSTER.subdistrict_names == ("001", "002")
    assert ROSTER.grid_to_subdistrict.tolist() == [0, 0, 1, 1]
    assert ROSTER.community_names == ("001001", "001002", "002001")
    assert ROSTER.grid_to_community.tolist() == [0, 1, 2, 2]
    assert ROSTER.names("inspectors") == ["beat 0", "beat 1"]
    with pytest.raises(GridLoopError, match="15 digits"):
        UnitRoster.from_grid_codes(["a"], ["12345"])


# --- the documentation ------------------------------------------------------------------------

DOCS = Path(__file__).resolve().parent.parent / "docs" / "rules.md"


def test_docs_name_every_count_and_function():
    text = DOCS.read_text(encoding="utf-8")
    for kind, vocab in VOCABULARY.items():
        for name in vocab:
            assert f"`{name}`" in text or f" {name}`" in text or f"`{name}," in text, \
                (kind, name)
    for name in FUNCTIONS:
        assert f"`{name}(" in text, name


def test_the_documented_example_rule_set_runs(tmp_path):
    text = DOCS.read_text(encoding="utf-8")
    example = next(block for block in re.findall(r"```yaml\n(.*?)```", text, re.S)
                   if re.match(r"(# .*\n)?name: speed-and-returns\n", block))
    path = write_rules(tmp_path, example)
    rules = load_rules(path, ["parameters.target=0.9"])
    table = evaluate_rules(rules, tiny_log(), ROSTER, horizon=HORIZON)["departments"]
    # roads: c6 is not urgent and stays; parks keeps no case (c3, c4 urgent, c5 suspended).
    assert table["filed"].tolist() == [3, 0, 0]
    assert table["on_time_vs_target"].tolist() == pytest.approx([(2 / 3) / 0.9, 1.0, 1.0])
    assert table["return_rate"].tolist() == pytest.approx([0.0, 0.0, 1.0])
