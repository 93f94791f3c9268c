"""League tables under a rule set: counts -> indicators -> score -> grade -> rank, per unit kind.

For each kind of unit the rule set names, the base counts come from the log
(`sim.rules.counts.base_counts`), the indicator formulas run in file order over all units at
once, and the score is either 100 x the weighted sum (an indicator where lower is better
enters as 1 - value, as in the standard evaluation) or the rule set's own score formula.
`evaluate_periods` repeats this per month or week and stacks the tables with a ``period``
column: one tidy table per unit kind.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from sim.errors import GridLoopError
from sim.evaluation.cases import CaseRows, as_case_rows
from sim.rules.counts import UnitRoster, base_counts
from sim.rules.periods import Period, split_periods
from sim.rules.ruleset import RuleSet, UnitRules

__all__ = ["evaluate_rules", "evaluate_periods", "grade_scores", "rank_scores",
           "league_table"]

_DAY = 1440.0


def grade_scores(scores: np.ndarray, grades: tuple[tuple[float, str], ...]) -> np.ndarray:
    """The grade letter of each score: the first band (best first) whose lowest score it
    reaches, else the last letter. Monotone: a higher score never gets a worse grade.

    Raises:
        GridLoopError: a score is NaN.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if np.isnan(scores).any():
        raise GridLoopError("evaluation: every score must be a number to be graded (got NaN)")
    out = np.full(scores.shape, grades[-1][1], dtype=object)
    for low, letter in reversed(grades):      # best band last, so it wins
        out[scores >= low] = letter
    return out


def rank_scores(scores: np.ndarray) -> np.ndarray:
    """Rank 1 = highest score; equal scores (to 9 decimals) share the best rank."""
    s = pd.Series(np.asarray(scores, dtype=np.float64)).round(9)
    return s.rank(ascending=False, method="min").to_numpy(dtype=np.int64)


def _finite(values: np.ndarray, what: str, names: list[str]) -> np.ndarray:
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise GridLoopError(f"evaluation: {what} is {values[i]} for {names[i]!r}; expected a "
                            f"finite number (check the parameters it reads)")
    return values


def league_table(unit: UnitRules, counts: dict[str, np.ndarray], names: list[str],
                 rules: RuleSet, *, period_days: float) -> pd.DataFrame:
    """One unit kind's table: unit, name, the counts, the indicators, score, grade, rank."""
    n = len(names)
    env: dict[str, np.ndarray | float] = {k: v.astype(np.float64) for k, v in counts.items()}
    env.update(rules.parameters)
    env["period_days"] = float(period_days)
    env["n_units"] = float(n)
    table = pd.DataFrame({"unit": np.arange(n, dtype=np.int64), "name": names, **counts})
    score = np.zeros(n, dtype=np.float64)
    where = f"{rules.name}: units.{unit.kind}"
    for ind in unit.indicators:
        value = _finite(ind.formula.evaluate(env, n), f"{where} indicator {ind.name!r}", names)
        env[ind.name] = value
        table[ind.name] = value
        # The same float operations, in the same order, as the standard evaluation.
        score += ind.weight * (value if ind.higher_is_better else 1.0 - value)
    if unit.score is not None:
        score = _finite(unit.score.evaluate(env, n), f"{where} score", names)
    else:
        score = 100.0 * score
    table["score"] = score
    table["grade"] = grade_scores(score, rules.grades)
    table["rank"] = rank_scores(score)
    return table


def _calls_in(calls: pd.DataFrame | None, period: Period | None) -> pd.DataFrame | None:
    if calls is None or period is None or (period.first and period.last):
        return calls
    time = next((c for c in ("arrival", "time_min") if c in calls.columns), None)
    if time is None:
        raise GridLoopError("evaluation: the calls table needs an 'arrival' column (minutes) "
                            "to be split by period; evaluate with period 'all' or add it")
    t0, t1 = period.bounds
    t = calls[time].to_numpy(dtype=np.float64)
    return calls[(t >= t0) & (t < t1)]


def evaluate_rules(rules: RuleSet, events: np.ndarray | CaseRows, roster: UnitRoster, *,
                   horizon: float, period: Period | None = None,
                   calls: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Every league table of a rule set for the cases reported in one period.

    Args:
        events: the event log (`EVENT_DTYPE` rows) or the log grouped by case.
        roster: the units and their maps (`UnitRoster`).
        horizon: the time the evaluation is taken, minutes.
        period: the cases reported in it are judged, followed to the horizon; None: all.
        calls: the hotline calls table (`sim.rules.counts.hotline_counts`), or None.

    Returns:
        Per unit kind of the rule set, in file order, a table with one row per unit.
    """
    cr = as_case_rows(events)
    if period is not None and not (period.first and period.last):
        cr = cr.restrict(period.bounds)
    days = period.days if period is not None else max(horizon, 0.0) / _DAY
    period_calls = _calls_in(calls, period)
    out: dict[str, pd.DataFrame] = {}
    for kind, unit in rules.units.items():
        counts = base_counts(kind, cr, roster, horizon, exclude=rules.exclude,
                             calls=period_calls)
        out[kind] = league_table(unit, counts, roster.names(kind), rules, period_days=days)
    return out


def evaluate_periods(rules: RuleSet, events: np.ndarray | CaseRows, roster: UnitRoster, *,
                     horizon: float, period: str | None = None,
                     start_date: dt.date | None = None, calls: pd.DataFrame | None = None
                     ) -> dict[str, pd.DataFrame]:
    """The league tables of every period of the run, stacked: one tidy table per unit kind.

    Args:
        period: "month", "week" or "all" (None: the rule set's default); see
            `sim.rules.periods.split_periods` for how a start date shapes them.

    Returns:
        Per unit kind, columns period, period_start_min, period_end_min, then the columns of
        `league_table`; ranks are within a period. A period with no cases still has its rows,
        with every rate at its empty value.
    """
    cr = as_case_rows(events)
    periods = split_periods(period or rules.period, horizon, start_date)
    stacks: dict[str, list[pd.DataFrame]] = {kind: [] for kind in rules.units}
    for p in periods:
        for kind, table in evaluate_rules(rules, cr, roster, horizon=horizon, period=p,
                                          calls=calls).items():
            table.insert(0, "period", p.label)
            table.insert(1, "period_start_min", p.start)
            table.insert(2, "period_end_min", p.end if math.isfinite(p.end) else horizon)
            stacks[kind].append(table)
    return {kind: pd.concat(frames, ignore_index=True) for kind, frames in stacks.items()}
