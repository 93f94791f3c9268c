"""Outcome: the trainee's city against the same exercise played by the handbook.

The reference run is the exercise on the same seed (so the same random streams: the same
problems, patrols and callers) with the trainee's decision points decided at once by the
handbook (`HandbookDesk`). Both logs are measured at the same simulated time on on-time
handling, overdue cases, rework, returns, backlog and the standard evaluation's composite
for the whole district, and each difference is said in a sentence (in the language in force).
"""

from __future__ import annotations

import threading

import numpy as np
from pydantic import BaseModel, ConfigDict

from sim.evaluation import case_table
from sim.evaluation.units import evaluate_areas
from sim.i18n import N_, _, format_number, format_percent
from training.cards import ROLE_POINTS
from training.desk import HandbookDesk
from training.exercises import Exercise
from training.injects import InjectNote

__all__ = ["Metric", "Outcome", "measure", "reference_events", "reference_measures", "compare"]


class Metric(BaseModel):
    """One outcome measure of the trainee's run and of the reference run."""

    model_config = ConfigDict(frozen=True)

    name: str
    label: str
    trainee: float
    reference: float
    better: str  # "higher" or "lower"
    score: float
    sentence: str


class Outcome(BaseModel):
    """The comparison with the reference run, as numbers and sentences."""

    model_config = ConfigDict(frozen=True)

    at: float
    metrics: tuple[Metric, ...]
    score: float

    @property
    def sentences(self) -> list[str]:
        return [m.sentence for m in self.metrics]


def reference_events(exercise: Exercise, seed: int, until: float) -> np.ndarray:
    """The event log of the exercise played by the handbook, up to minute ``until``."""
    from training.session import start_city

    hb_urgent: list[bool] = []
    desk = HandbookDesk(ROLE_POINTS[exercise.role], exercise.window.start_minute, hb_urgent)
    notes: dict[int, InjectNote] = {}
    model = start_city(exercise, seed, desk, notes)
    hb_urgent.extend(s.urgency == "urgent" for s in model.handbook.subclasses)
    if until > 0:
        model.env.run(until=until)
    return model.events()


def reference_measures(exercise: Exercise, seed: int, at: float,
                       n_grids: int) -> dict[str, float]:
    """`measure` of `reference_events` at ``at``: the same for every trainee of a class (same
    exercise, seed and end), so it is run once and shared; a class finishing together grades
    against one reference run."""
    key = (exercise.model_dump_json(), int(seed), float(at), int(n_grids))
    with _LOCK:
        got = _REFERENCE.get(key)
    if got is None:
        got = measure(reference_events(exercise, seed, at), at, n_grids)
        with _LOCK:
            _REFERENCE[key] = got
            while len(_REFERENCE) > 64:            # oldest first
                _REFERENCE.pop(next(iter(_REFERENCE)))
    return dict(got)


_REFERENCE: dict[tuple[str, int, float, int], dict[str, float]] = {}
_LOCK = threading.Lock()


def measure(events: np.ndarray, at: float, n_grids: int) -> dict[str, float]:
    """The outcome measures of one log at minute ``at``."""
    cases = case_table(events)
    dispatched = cases["t_dispatch"].notna()
    late_done = cases["handled_on_time"].eq(False).fillna(False)
    waiting_late = cases["t_handle"].isna() & dispatched & (cases["handle_deadline"] < at)
    assessed = cases["handled_on_time"].notna()
    on_time = cases["handled_on_time"].eq(True).fillna(False)
    area = evaluate_areas(events, np.zeros(n_grids, dtype=np.int64), ["district"], at)
    return {
        "overdue": float((late_done | waiting_late).sum()),
        "on_time_rate": float(on_time.sum() / assessed.sum()) if assessed.sum() else 1.0,
        "reworks": float(cases["n_reworks"].sum()),
        "returns": float(cases["n_returns"].sum()),
        "backlog": float((cases["state"] == "open").sum()),
        "composite": float(area["score"].iloc[0]),
    }


_TEXT = {
    "overdue": (N_("cases overdue"), "lower",
                N_("{who} left {n} more cases overdue than the reference"),
                N_("{who} left {n} fewer cases overdue than the reference")),
    "reworks": (N_("reworks"), "lower", N_("{who} left {n} more reworks than the reference"),
                N_("{who} left {n} fewer reworks than the reference")),
    "returns": (N_("returns"), "lower", N_("{who} left {n} more returns than the reference"),
                N_("{who} left {n} fewer returns than the reference")),
    "backlog": (N_("backlog"), "lower",
                N_("{who} left {n} more reports open than the reference"),
                N_("{who} left {n} fewer reports open than the reference")),
}
_WHO = {"acceptor": N_("Your acceptance"), "dispatcher": N_("Your dispatching")}


def _count_score(tr: float, ref: float) -> float:
    return 100.0 * max(0.0, 1.0 - max(0.0, tr - ref) / max(5.0, ref))


def compare(trainee: dict[str, float], reference: dict[str, float], at: float,
            role: str) -> Outcome:
    """Score and sentences for the trainee's measures against the reference's."""
    who = _(_WHO.get(role, N_("Your decisions")))
    out = []
    for name, (label, better, worse, fewer) in _TEXT.items():
        tr, ref = trainee[name], reference[name]
        n = int(round(abs(tr - ref)))
        against = _(" ({trainee} against {reference}).").format(
            trainee=format_number(tr), reference=format_number(ref))
        if n == 0:
            sentence = _("{who} matched the reference on {measure} ({value}).").format(
                who=who, measure=_(label), value=format_number(tr))
        elif tr > ref:
            sentence = _(worse).format(who=who, n=n) + against
        else:
            sentence = _(fewer).format(who=who, n=n) + against
        out.append(Metric(name=name, label=_(label), trainee=tr, reference=ref, better=better,
                          score=round(_count_score(tr, ref), 1), sentence=sentence))
    tr, ref = trainee["on_time_rate"], reference["on_time_rate"]
    pp = (tr - ref) * 100
    out.insert(1, Metric(
        name="on_time_rate", label=_("on-time handling"), trainee=round(tr, 4),
        reference=round(ref, 4), better="higher",
        score=round(100.0 * max(0.0, 1.0 - max(0.0, ref - tr) * 5.0), 1),
        sentence=_("On-time handling was {trainee} against the reference's {reference} "
                   "({points} points).").format(
                       trainee=format_percent(tr), reference=format_percent(ref),
                       points=f"{'+' if pp >= 0 else ''}{pp:.0f}")))
    tr, ref = trainee["composite"], reference["composite"]
    out.append(Metric(
        name="composite", label=_("evaluation composite"), trainee=round(tr, 1),
        reference=round(ref, 1), better="higher",
        score=round(100.0 * max(0.0, 1.0 - max(0.0, ref - tr) / 20.0), 1),
        sentence=_("The district's evaluation composite was {trainee} against the "
                   "reference's {reference}.").format(trainee=f"{tr:.1f}",
                                                      reference=f"{ref:.1f}")))
    score = float(np.mean([m.score for m in out]))
    return Outcome(at=at, metrics=tuple(out), score=round(score, 1))
