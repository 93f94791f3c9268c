"""Cohort report: a class's grades side by side, their spread and the mistakes they share.

`cohort_report` takes graded sessions (trainee, `Grade`) and returns a `CohortReport`:
one row per session, summary statistics, the grade distribution, a 10-point histogram and
the most common deviations (by rule, with how many trainees made them). `write_gradebook_csv`
writes the rows as a CSV that gradebook tools import (one row per trainee and exercise).
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from sim.i18n import _, format_decimal
from sim.outputs.csvcells import safe_row
from sim.outputs.files import atomic_write
from training.grading import Grade

__all__ = ["cohort_report", "write_gradebook_csv", "CohortReport", "CohortRow", "Mistake",
           "GRADEBOOK_COLUMNS"]

GRADEBOOK_COLUMNS = ("trainee", "exercise", "seed", "score", "grade", "accuracy", "timeliness",
                     "outcome", "decisions", "deviations", "critical", "missed",
                     "top_mistake")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class CohortRow(_Frozen):
    trainee: str
    exercise: str
    seed: int
    score: float
    grade: str
    accuracy: float
    timeliness: float
    outcome: float
    decisions: int
    deviations: int
    critical: int
    missed: int
    top_mistake: str


class Mistake(_Frozen):
    """A rule broken across the cohort: how often, by how many trainees, how severe."""

    rule: str
    severity: str
    count: int
    trainees: int


class CohortReport(_Frozen):
    rows: tuple[CohortRow, ...]
    mean: float | None
    median: float | None
    stdev: float | None
    low: float | None
    high: float | None
    grades: dict[str, int]
    histogram: tuple[tuple[str, int], ...]
    mistakes: tuple[Mistake, ...]

    def text(self) -> str:
        """The report as plain text for a terminal, in the language in force."""
        from training.wording import SEVERITY, label

        def num(x: float | None) -> str:
            return format_decimal(x or 0.0, 1)

        out = [_("{n} sessions").format(n=len(self.rows))]
        if self.mean is not None:
            out.append(_("score mean {mean}, median {median}, sd {sd}, range {low}-{high}")
                       .format(mean=num(self.mean), median=num(self.median),
                               sd=num(self.stdev), low=num(self.low), high=num(self.high)))
        out.append(_("grades: {grades}").format(
            grades=", ".join(f"{k} {v}" for k, v in self.grades.items())))
        width = max((n for _band, n in self.histogram), default=0) or 1
        for band, n in self.histogram:
            out.append(f"  {band:>7} {'#' * round(20 * n / width):<20} {n}")
        if self.mistakes:
            out.append(_("common mistakes:"))
            for m in self.mistakes[:10]:
                out.append("  " + _("{count}x by {n} trainee(s) [{severity}] {rule}").format(
                    count=f"{m.count:>4}", n=m.trainees, severity=label(SEVERITY, m.severity),
                    rule=m.rule))
        return "\n".join(out)


def cohort_report(graded: Sequence[tuple[str, Grade]]) -> CohortReport:
    """The cohort's report from ``(trainee, grade)`` pairs (one per session)."""
    rows = []
    rules: Counter[tuple[str, str]] = Counter()
    who: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    for trainee, g in graded:
        devs = [d for fb in g.decisions for d in fb.deviations]
        mine = Counter(d.rule for d in devs)
        for d in devs:
            rules[(d.rule, d.severity)] += 1
            who[(d.rule, d.severity)].add(trainee)
        rows.append(CohortRow(
            trainee=trainee, exercise=g.exercise_id, seed=g.seed, score=g.score, grade=g.grade,
            accuracy=g.accuracy, timeliness=g.timeliness, outcome=g.outcome_score,
            decisions=g.n_cards, deviations=len(devs),
            critical=sum(d.severity == "critical" for d in devs), missed=g.n_missed,
            top_mistake=mine.most_common(1)[0][0] if mine else ""))
    rows.sort(key=lambda r: (r.exercise, -r.score, r.trainee))
    scores = [r.score for r in rows]
    grades = {k: sum(r.grade == k for r in rows) for k in "ABCDE"}
    hist = []
    for lo in range(0, 100, 10):
        hi = lo + 10
        n = sum(lo <= s < hi or (hi == 100 and s == 100) for s in scores)
        hist.append((f"{lo}-{hi}", n))
    mistakes = sorted((Mistake(rule=r, severity=s, count=n, trainees=len(who[(r, s)]))
                       for (r, s), n in rules.items()),
                      key=lambda m: (-m.trainees, -m.count, m.rule))
    return CohortReport(
        rows=tuple(rows), mean=statistics.fmean(scores) if scores else None,
        median=statistics.median(scores) if scores else None,
        stdev=statistics.stdev(scores) if len(scores) > 1 else None,
        low=min(scores) if scores else None, high=max(scores) if scores else None,
        grades=grades, histogram=tuple(hist), mistakes=tuple(mistakes))


def gradebook_csv(report: CohortReport) -> str:
    """The gradebook as CSV text (header `GRADEBOOK_COLUMNS`)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(GRADEBOOK_COLUMNS)
    for r in report.rows:
        w.writerow(safe_row(getattr(r, c) for c in GRADEBOOK_COLUMNS))
    return buf.getvalue()


def write_gradebook_csv(report: CohortReport, path: str | Path) -> Path:
    """Write the gradebook CSV atomically (UTF-8 with a BOM, so spreadsheets read names)."""
    text = gradebook_csv(report)
    return atomic_write(Path(path), lambda tmp: tmp.write_text(text, encoding="utf-8-sig"))
