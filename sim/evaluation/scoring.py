"""How indicator values become a score, a grade and a rank (docs/domain.md §6, "standard").

An evaluation table holds, per assessed unit, its counts and its indicator values (each in 0..1).
A rule set names, per table, which indicator columns count and with what weight; the score is
100 x the weighted sum, where an indicator for which lower is better enters as (1 - value).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from sim.errors import GridLoopError

__all__ = ["GRADE_BANDS", "VOLUME_TIERS", "Indicator", "STANDARD_RULES", "grade", "volume_score"]

# (lowest score of the band, grade), best band first. A >= 90, B >= 75, C >= 60, D >= 40, E below.
GRADE_BANDS: tuple[tuple[float, str], ...] = ((90, "A"), (75, "B"), (60, "C"), (40, "D"), (0, "E"))

# Volume score of centre staff: (lowest share of the busiest colleague's volume, score).
VOLUME_TIERS: tuple[tuple[float, float], ...] = ((0.8, 1.0), (0.6, 0.8), (0.4, 0.6), (0.0, 0.4))


@dataclass(frozen=True, slots=True)
class Indicator:
    """One weighted term of a score.

    Attributes:
        column: the table column holding the indicator value (0..1).
        weight: its share of the score (the weights of a table sum to 1).
        higher_is_better: False for rates of things going wrong (rework, public reports,
            missed reports); such an indicator enters the score as (1 - value).
    """

    column: str
    weight: float
    higher_is_better: bool = True


_I = Indicator
STANDARD_RULES: Mapping[str, tuple[Indicator, ...]] = MappingProxyType({
    "departments": (_I("case_count_score", 0.10), _I("closure_rate", 0.30),
                    _I("on_time_handling_rate", 0.30), _I("rework_rate", 0.30, False)),
    "areas": (_I("public_report_rate", 0.10, False), _I("filed_count_score", 0.20),
              _I("closure_rate", 0.30), _I("on_time_closure_rate", 0.40)),
    "inspectors": (_I("valid_report_rate", 0.40), _I("missed_report_rate", 0.20, False),
                   _I("on_time_verification_rate", 0.20), _I("on_time_check_rate", 0.20)),
    "acceptors": (_I("volume_score", 0.25), _I("on_time_verify_send_rate", 0.40),
                  _I("on_time_check_send_rate", 0.35)),
    "shift_leaders": (_I("on_time_filing_rate", 0.25), _I("filing_accuracy", 0.40),
                      _I("on_time_closing_rate", 0.35)),
    "dispatchers": (_I("volume_score", 0.20), _I("on_time_dispatch_rate", 0.40),
                    _I("dispatch_accuracy", 0.40)),
})


def grade(score: float) -> str:
    """The grade letter of a score (0..100) by `GRADE_BANDS`; monotone in the score.

    Raises:
        GridLoopError: the score is not a number (NaN).
    """
    if math.isnan(score):
        raise GridLoopError(f"grade: 'score' must be a number in 0..100 (got {score!r})")
    for low, letter in GRADE_BANDS:
        if score >= low:
            return letter
    return GRADE_BANDS[-1][1]


def volume_score(volumes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tiered volume score of each person: (share of the busiest one's volume, score).

    When nobody did anything every share is 1.0 (all tie with the busiest).
    """
    volumes = np.asarray(volumes, dtype=np.float64)
    top = volumes.max(initial=0.0)
    share = volumes / top if top > 0 else np.ones_like(volumes)
    scores = np.select([share >= low for low, _ in VOLUME_TIERS],
                       [s for _, s in VOLUME_TIERS], default=VOLUME_TIERS[-1][1])
    return share, scores


def ratio(num: np.ndarray, den: np.ndarray | float, empty: float) -> np.ndarray:
    """num / den elementwise, `empty` where den is 0 (a rate over nothing is defined, never NaN)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, empty, dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


def finish_table(table: pd.DataFrame, rules: tuple[Indicator, ...]) -> pd.DataFrame:
    """Add `score` (0..100), `grade` and `rank` (1 = best, ties share the best rank) to a table."""
    score = np.zeros(len(table), dtype=np.float64)
    for ind in rules:
        value = table[ind.column].to_numpy(dtype=np.float64)
        score += ind.weight * (value if ind.higher_is_better else 1.0 - value)
    table["score"] = 100.0 * score
    table["grade"] = [grade(s) for s in table["score"].to_numpy()]
    # Rounded so that equal weighted sums reached by different float paths tie.
    table["rank"] = table["score"].round(9).rank(ascending=False, method="min").astype(np.int64)
    return table
