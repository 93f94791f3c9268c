"""Evaluation rules as data: rule sets in YAML, a safe formula language, league tables.

A rule set (``scenarios/rules/*.yaml``) names, per kind of unit, indicators written as
formulas over a documented vocabulary of base counts (`VOCABULARY`), their weights or a score
formula, grade bands, the period and the cases that leave the denominators. `load_rules`
checks every formula when the file is read; `evaluate_rules` and `evaluate_periods` turn an
event log into league tables. The vocabulary, grammar and presets are in ``docs/rules.md``.
"""

from __future__ import annotations

from sim.rules.counts import (
    BUILTINS,
    HOTLINE_COUNTS,
    UNIT_KINDS,
    VOCABULARY,
    UnitRoster,
    base_counts,
    hotline_counts,
)
from sim.rules.expr import FUNCTIONS, Formula, FormulaError
from sim.rules.periods import PERIOD_KINDS, Period, split_periods
from sim.rules.ruleset import (
    RULES_DIR,
    IndicatorRule,
    RuleSet,
    RuleSetSpec,
    UnitRules,
    bundled_rules,
    compile_rules,
    load_rules,
)
from sim.rules.tables import evaluate_periods, evaluate_rules, grade_scores, rank_scores

__all__ = [
    "BUILTINS",
    "FUNCTIONS",
    "HOTLINE_COUNTS",
    "PERIOD_KINDS",
    "RULES_DIR",
    "UNIT_KINDS",
    "VOCABULARY",
    "Formula",
    "FormulaError",
    "IndicatorRule",
    "Period",
    "RuleSet",
    "RuleSetSpec",
    "UnitRoster",
    "UnitRules",
    "base_counts",
    "bundled_rules",
    "compile_rules",
    "evaluate_periods",
    "evaluate_rules",
    "grade_scores",
    "hotline_counts",
    "load_rules",
    "rank_scores",
    "split_periods",
]
