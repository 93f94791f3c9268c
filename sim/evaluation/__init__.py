"""Evaluation (综合评价): league tables of departments, areas and people, from the event log.

Every function here is a pure function of event log rows (`sim.engine.eventlog.EVENT_DTYPE`), so the
same evaluation runs on a simulated log or on a real city's export. Formulas, in terms of log
rows, are in ``docs/evaluation.md``; the weights are `STANDARD_RULES` (docs/domain.md §6).
"""

from __future__ import annotations

from sim.evaluation.cases import (
    CASE_STATES,
    CaseRows,
    case_table,
    group_cases,
    restrict_to_period,
)
from sim.evaluation.scoring import (
    GRADE_BANDS,
    STANDARD_RULES,
    VOLUME_TIERS,
    Indicator,
    grade,
    volume_score,
)
from sim.evaluation.staff import (
    evaluate_acceptors,
    evaluate_dispatchers,
    evaluate_inspectors,
    evaluate_shift_leaders,
)
from sim.evaluation.standard import standard_evaluation
from sim.evaluation.units import evaluate_areas, evaluate_departments

__all__ = [
    "CASE_STATES",
    "GRADE_BANDS",
    "STANDARD_RULES",
    "VOLUME_TIERS",
    "CaseRows",
    "Indicator",
    "case_table",
    "evaluate_acceptors",
    "evaluate_areas",
    "evaluate_departments",
    "evaluate_dispatchers",
    "evaluate_inspectors",
    "evaluate_shift_leaders",
    "grade",
    "group_cases",
    "restrict_to_period",
    "standard_evaluation",
    "volume_score",
]
