"""Grading a session: a pure function of its record (and the exercise and rubric).

`grade` replays the record (`Session.replay`), judges every card the trainee was shown
(`training.rules`: right department, subclass and urgency; file, void or merge; checks and
closes; timeliness against the centre's limits), runs the same exercise with the handbook
on the same random streams (`training.outcome`) and weighs the three parts by the rubric.
Change the rubric and grade again: the same record gives the new grade. Feedback is written
in the language in force (`sim.i18n.use`); the numbers are the same in every language.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from sim.evaluation.scoring import grade as grade_letter
from sim.i18n import _, format_number, ngettext
from training.cards import Decision, FieldValue, SessionRecord
from training.exercises import Exercise, Rubric, load_exercise
from training.outcome import Outcome, compare, measure, reference_measures
from training.rules import Deviation, judge, judge_time
from training.wording import department_name

if TYPE_CHECKING:
    from training.session import Session

__all__ = ["grade", "Grade", "DecisionFeedback", "Deviation", "Outcome"]


class DecisionFeedback(BaseModel):
    """Feedback on one card: what was done, what the rules expected, what was wrong."""

    model_config = ConfigDict(frozen=True)

    card_id: str
    kind: str
    case_id: int
    received_at: float
    decided_at: float | None
    action: str | None
    fields: dict[str, FieldValue]
    expected: str
    limit_minutes: float
    deviations: tuple[Deviation, ...]
    points_lost: float

    @property
    def ok(self) -> bool:
        return not self.deviations


class Grade(BaseModel):
    """A session's grade: the score (0-100), its letter (A >= 90, B >= 75, C >= 60,
    D >= 40, E), the three parts, per-decision feedback and the outcome comparison."""

    model_config = ConfigDict(frozen=True)

    exercise_id: str
    seed: int
    score: float
    grade: str
    accuracy: float
    timeliness: float
    outcome_score: float
    n_cards: int
    n_missed: int
    decisions: tuple[DecisionFeedback, ...]
    outcome: Outcome
    rubric: Rubric
    summary: tuple[str, ...]


def _part(points: list[float], cap: float) -> float:
    if not points:
        return 100.0
    return round(100.0 * (1.0 - sum(min(cap, p) for p in points) / (cap * len(points))), 1)


def grade(record: SessionRecord, exercise: Exercise | None = None,
          rubric: Rubric | None = None, *, played: Session | None = None) -> Grade:
    """Grade a session record (see the module docstring).

    Args:
        record: the session record.
        exercise: the exercise it was played on (default: the bundled one of that id).
        rubric: grade under this rubric instead of the exercise's own.
        played: the live session ``record`` was taken from, left as it is: judged as it
            stands instead of replayed (a replay of the record rebuilds exactly that state,
            so the grade is the same; the console grades a session this way as it ends).
            Ignored unless its exercise, seed, decisions and clock are the record's.

    Raises:
        RecordMismatch: the record does not replay on the exercise.
    """
    from training.session import Session

    if exercise is None:
        exercise = load_exercise(record.exercise_id)
    rubric = rubric or exercise.rubric
    s = played if played is not None and _is_played(played, record, exercise) else \
        Session.replay(record, exercise)
    m = s.model
    hb = m.handbook
    sev = rubric.severity.model_dump()
    cap = rubric.severity.critical
    limit = rubric.step_limit_minutes or m.spec.centre.step_limit_minutes
    by_card: dict[str, Decision] = {d.card_id: d for d in record.decisions}
    now = s.now
    feedback: list[DecisionFeedback] = []
    acc_pts: list[float] = []
    time_pts: list[float] = []
    missed = 0
    for cid, f in s.facts.items():
        d = by_card.get(cid)
        lim, late = judge_time(f, d.sim_time if d else None, now, limit,
                               rubric.urgent_limit_minutes, hb)
        if d is None and not late:
            continue  # still within its limit when the session stopped: not graded
        expected, devs = judge(f, d, hb, rubric, m.department_names,
                               lambda n: department_name(m.spec, n))
        if d is None:
            missed += 1
            sub_urgent = hb.subclasses[f.true_subclass if f.evidence else
                                       f.claimed_subclass].urgency == "urgent"
            devs.append(Deviation(severity="critical" if sub_urgent else "major",
                                  rule=_("Every case moves on (docs/domain.md §3)"),
                                  message=_("No decision: the case waited at this step.")))
        a = sum(sev[x.severity] for x in devs)
        t = sum(sev[x.severity] for x in late)
        acc_pts.append(a)
        time_pts.append(t)
        feedback.append(DecisionFeedback(
            card_id=cid, kind=f.kind, case_id=f.case_id, received_at=f.received_at,
            decided_at=d.sim_time if d else None, action=d.action if d else None,
            fields=dict(d.fields) if d else {}, expected=expected, limit_minutes=lim,
            deviations=(*devs, *late), points_lost=min(cap, a) + min(cap, t)))
    accuracy, timeliness = _part(acc_pts, cap), _part(time_pts, cap)
    at = now
    n_grids = m.city.n_grids
    outcome = compare(measure(s.events(), at, n_grids),
                      reference_measures(exercise, record.seed, at, n_grids), at, exercise.role)
    wa, wt, wo = rubric.weights.normalised()
    score = round(wa * accuracy + wt * timeliness + wo * outcome.score, 1)
    n_dev = sum(len(fb.deviations) for fb in feedback)
    graded_text = ngettext("{n} decision graded", "{n} decisions graded",
                           len(feedback)).format(n=len(feedback))
    dev_text = ngettext("{n} deviation", "{n} deviations", n_dev).format(n=n_dev)
    waiting = ngettext("{n} case left waiting", "{n} cases left waiting",
                       missed).format(n=missed) if missed else ""
    first = _("{graded}, {deviations}, {waiting}.") if waiting else _("{graded}, {deviations}.")
    summary = (first.format(graded=graded_text, deviations=dev_text, waiting=waiting),
               _("Accuracy {accuracy}, timeliness {timeliness}, outcome {outcome}: score "
                 "{score} ({letter}).").format(
                   accuracy=format_number(accuracy), timeliness=format_number(timeliness),
                   outcome=format_number(outcome.score), score=format_number(score),
                   letter=grade_letter(score)),
               *outcome.sentences)
    return Grade(exercise_id=exercise.id, seed=record.seed, score=score,
                 grade=grade_letter(score), accuracy=accuracy, timeliness=timeliness,
                 outcome_score=outcome.score, n_cards=len(feedback), n_missed=missed,
                 decisions=tuple(feedback), outcome=outcome, rubric=rubric, summary=summary)


def _is_played(s: Session, record: SessionRecord, exercise: Exercise) -> bool:
    """``s`` is the session ``record`` describes: same exercise, seed, decisions and clock."""
    return (s.exercise.id == exercise.id == record.exercise_id and s.seed == record.seed
            and tuple(s.decisions) == tuple(record.decisions) and s.now == record.now)
