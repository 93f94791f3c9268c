"""A training session: one exercise's city running, with the trainee at some decision points.

The session builds the exercise's city with a `TraineeDesk`: inside the window, the desk
takes every decision of the trainee's role, the case waits at that step, and the question
becomes a `Card`; the rest of the city runs on around it. `decide` answers the question with
the trainee's choice, at the current simulated time, and the case goes on. Nothing here
reads the wall clock: the console paces `advance`.

A session is its exercise, seed and ordered decision log (`SessionRecord`). Every advance is
``env.run(until=t)``, which processes exactly the events before ``t`` in one fixed order, so
replaying the decisions at their recorded times rebuilds the same state (`Session.replay`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.data.citymap import CityMap
from sim.data.taxonomy import Handbook
from sim.engine.asking import DecisionError, Question
from sim.engine.decisions import DecisionPoints
from sim.engine.eventlog import Channel
from sim.engine.problems import Fate
from sim.model import CityModel
from training.cards import ROLE_POINTS, Card, Decision, FieldValue, SessionRecord
from training.desk import TraineeDesk
from training.errors import InvalidDecision, RecordMismatch
from training.exercises import Exercise, load_exercise
from training.injects import InjectNote, schedule_injects
from training.options import card_options, check_fields

__all__ = ["Session", "CardFacts", "Card", "Decision", "SessionRecord", "start_city"]


@dataclass(frozen=True, slots=True)
class CardFacts:
    """The answer key of one card, taken from the ground truth when the question was asked.

    Never shown to the trainee; grading reads it. ``duplicate_of`` is a live case already
    handling the same problem (-1: none); ``evidence`` says the card carried what is needed
    to classify the case by its true subclass (an inject's words, or a department's return).
    """

    card_id: str
    kind: str
    case_id: int
    received_at: float
    problem: int
    problem_open: bool
    true_subclass: int
    claimed_subclass: int
    channel: int
    verified: bool | None
    duplicate_of: int
    open_case: int
    check_passed: bool | None
    returned_from: int
    department: int
    can_verify: bool
    evidence: bool
    inject: str | None


def start_city(exercise: Exercise, seed: int, decisions: DecisionPoints,
               notes: dict[int, InjectNote]) -> CityModel:
    """Build the exercise's city with ``decisions``, start it as a run does
    (`CityModel.start`) and schedule its injects (time 0)."""
    model = CityModel(exercise.build_scenario(seed), decisions=decisions, strict=True).start()
    schedule_injects(model, exercise, seed, notes)
    return model


class Session:
    """One trainee playing one exercise (see the module docstring).

    Args:
        exercise: the exercise (`training.exercises.load_exercise`).
        seed: the random seed; default the exercise's. Same exercise and seed: same city.
        trainee: who plays (kept in the record for cohort reports).
    """

    def __init__(self, exercise: Exercise, seed: int | None = None, trainee: str = "") -> None:
        self.exercise = exercise
        self.trainee = trainee
        self.seed = exercise.seed if seed is None else seed
        self.window_start = exercise.window.start_minute
        self.window_end = exercise.window.end_minute
        self.points = ROLE_POINTS[exercise.role]
        self.desk = TraineeDesk(self.points, self.window_start, self._take)
        self.notes: dict[int, InjectNote] = {}
        self.model = start_city(exercise, self.seed, self.desk, self.notes)
        self.facts: dict[str, CardFacts] = {}
        self._cards: dict[str, Card] = {}
        self._questions: dict[str, Question] = {}
        self._count: dict[tuple[str, int], int] = {}
        self._decisions: list[Decision] = []
        self._seq = 0
        self._hb = self.model.handbook
        self._dept_index = {n: i for i, n in enumerate(self.model.department_names)}
        self._sub_index = {s.code: i for i, s in enumerate(self._hb.subclasses)}
        self.advance_to(self.window_start)

    # -- the clock ---------------------------------------------------------------------------
    @property
    def now(self) -> float:
        """Simulated minutes since the scenario start."""
        return float(self.model.env.now)

    @property
    def clock_text(self) -> str:
        """The simulated time as a trainee reads it: ``Mon 09:42``."""
        t = self.now
        day = self.model.calendar.date_of(t).strftime("%a")
        m = int(t % 1440)
        return f"{day} {m // 60:02d}:{m % 60:02d}"

    @property
    def finished(self) -> bool:
        """The window is over: no more advancing or deciding."""
        return self.now >= self.window_end

    @property
    def pace(self) -> float:
        """Simulated minutes per real second the exercise asks for (0: step by step)."""
        return self.exercise.pace

    def advance(self, minutes: float) -> None:
        """Run the city ``minutes`` forward (stopping at the window's end)."""
        if not math.isfinite(minutes) or minutes < 0:
            raise InvalidDecision(f"advance: expected a number of minutes >= 0, got {minutes!r}")
        self.advance_to(self.now + minutes)

    def advance_to(self, t: float) -> None:
        """Run the city up to simulated minute ``t`` (at most the window's end)."""
        t = min(float(t), self.window_end)
        if t > self.model.env.now:
            self.model.env.run(until=t)

    def advance_to_next_card(self, max_minutes: float | None = None) -> bool:
        """Run until a card is waiting (or ``max_minutes`` passed, or the window ended),
        one event time at a time. Returns True when a card is waiting."""
        limit = self.window_end if max_minutes is None else min(self.window_end,
                                                                 self.now + max_minutes)
        env = self.model.env
        while not self._cards and self.now < limit:
            self.advance_to(min(float(np.nextafter(env.next_time(), math.inf)), limit))
        return bool(self._cards)

    # -- what the trainee sees ---------------------------------------------------------------
    @property
    def city(self) -> CityMap:
        return self.model.city

    @property
    def handbook(self) -> Handbook:
        return self._hb

    @property
    def departments(self) -> list[str]:
        return list(self.model.department_names)

    def pending(self) -> list[Card]:
        """Cards awaiting the trainee, oldest first."""
        return list(self._cards.values())

    def card(self, card_id: str) -> Card:
        """A waiting card by id."""
        try:
            return self._cards[card_id]
        except KeyError:
            raise InvalidDecision(f"card: expected a waiting card ("
                                  f"{', '.join(self._cards) or 'none is waiting'}), got "
                                  f"{card_id!r}") from None

    @property
    def decisions(self) -> list[Decision]:
        return list(self._decisions)

    @property
    def record(self) -> SessionRecord:
        """The session as data: exercise id, seed, decisions in order, and the clock."""
        return SessionRecord(exercise_id=self.exercise.id, seed=self.seed,
                             decisions=tuple(self._decisions), now=self.now,
                             trainee=self.trainee)

    def events(self) -> np.ndarray:
        """The event log so far (`sim.engine.eventlog.EVENT_DTYPE` rows)."""
        return self.model.events()

    # -- deciding ----------------------------------------------------------------------------
    def decide(self, card_id: str, action: str, **fields: FieldValue) -> Decision:
        """Apply the trainee's ``action`` on a waiting card, now.

        Raises:
            InvalidDecision: unknown card, an action the card does not allow, or a bad field;
                nothing is applied.
        """
        if self.finished:
            raise InvalidDecision("the exercise window is over: no more decisions")
        card = self.card(card_id)
        values = check_fields(card, action, fields, self)
        try:
            self._apply(card, action, values)
        except DecisionError as e:
            raise InvalidDecision(f"{card_id}: {e}") from None
        del self._cards[card_id]
        del self._questions[card_id]
        d = Decision(seq=self._seq, card_id=card_id, action=action, fields=dict(fields),
                     sim_time=self.now)
        self._seq += 1
        self._decisions.append(d)
        return d

    def _apply(self, card: Card, action: str, v: dict[str, Any]) -> None:
        """Answer the card's question with the trainee's action (the case goes on now)."""
        question = self._questions[card.id]
        kind = card.kind
        if kind in ("verify", "file"):
            if action == "merge":
                question.answer(("merge", int(v["into"])))
            elif action == "file" and kind == "file":
                question.answer("file", subclass=self._sub_index[v["subclass"]])
            else:
                question.answer(action)
        elif kind == "check":
            question.answer(action == "send_check")
        elif kind == "close":
            question.answer(action)
        elif kind in ("dispatch", "return"):
            question.answer(self._dept_index[v["department"]],
                            subclass=self._sub_index[v["subclass"]])
        else:  # extension
            question.answer(action == "grant")

    # -- questions (the desk takes them for the trainee) -------------------------------------
    def _take(self, question: Question) -> None:
        m = self.model
        point, case, view = question.point, question.case, question.view
        kind = point
        if point == "dispatch" and case.returned_from >= 0:
            kind = "return"
        n = self._count.get((kind, case.id), 0) + 1
        self._count[(kind, case.id)] = n
        cid = f"{kind}-{case.id}" if n == 1 else f"{kind}-{case.id}-{n}"
        now = question.asked_at
        truth = m.truth
        pid = case.problem
        other = truth.case_of(pid) if pid >= 0 else -1
        open_case = m.cases.duplicate_of(case)
        note = self.notes.get(case.id)
        facts = CardFacts(
            card_id=cid, kind=kind, case_id=case.id, received_at=now, problem=pid,
            problem_open=pid >= 0 and truth.fate[pid] == Fate.OPEN,
            true_subclass=case.true_subclass, claimed_subclass=case.subclass,
            channel=case.channel, verified=case.verified,
            duplicate_of=other if other != case.id else -1,
            open_case=open_case if open_case != case.id else -1,
            check_passed=view.check_passed if point == "close" else None,
            returned_from=case.returned_from, department=case.department,
            can_verify=m.inspectors.active and not case.direct,
            evidence=bool(note is not None and note.description) or case.returned_from >= 0,
            inject=note.kind if note is not None else None)
        self.facts[cid] = facts
        self._cards[cid] = self._make_card(cid, kind, case, facts, note, view)
        self._questions[cid] = question

    def _make_card(self, cid: str, kind: str, case: Any, f: CardFacts,
                   note: InjectNote | None, view: Any) -> Card:
        from training.describe import describe_card

        m = self.model
        city = m.city
        sub = self._hb.subclasses[case.subclass]
        rubric = self.exercise.rubric
        limit = rubric.urgent_limit_minutes if sub.urgency == "urgent" else (
            rubric.step_limit_minutes or m.spec.centre.step_limit_minutes)
        names = m.department_names
        return Card(
            id=cid, kind=kind, case_id=case.id, received_at=f.received_at,  # type: ignore[arg-type]
            due_at=f.received_at + limit,
            channel="public" if case.channel == Channel.PUBLIC else "inspector",
            description=describe_card(self, kind, case, f, note, view),
            grid_code=city.codes[case.grid],
            community=city.community_names[city.community[case.grid]],
            x=float(city.col[case.grid]) + 0.5, y=float(city.row[case.grid]) + 0.5,
            claimed_subclass=sub.code, claimed_subclass_name=sub.name,
            department=names[case.department] if case.department >= 0 else None,
            returned_from=names[case.returned_from] if case.returned_from >= 0 else None,
            verified=case.verified, check_passed=f.check_passed,
            deadline=None if math.isnan(case.deadline) else float(case.deadline),
            open_case=f.open_case if f.open_case >= 0 else None,
            options=card_options(self, kind, f))

    # -- replay ------------------------------------------------------------------------------
    @classmethod
    def replay(cls, record: SessionRecord, exercise: Exercise | None = None) -> Session:
        """Rebuild a session from its record: same exercise and seed, each decision made
        again at its recorded simulated time, then the clock run to where it stood.

        Raises:
            RecordMismatch: the record names another exercise, or a decision no longer fits.
        """
        if exercise is None:
            exercise = load_exercise(record.exercise_id)
        if exercise.id != record.exercise_id:
            raise RecordMismatch(f"the record is of exercise {record.exercise_id!r}, "
                                 f"not {exercise.id!r}")
        s = cls(exercise, record.seed, record.trainee)
        for d in record.decisions:
            if d.sim_time < s.now:
                raise RecordMismatch(f"decision {d.seq} at minute {d.sim_time:g} comes "
                                     f"before the clock ({s.now:g}): decisions out of order")
            s.advance_to(d.sim_time)
            try:
                s.decide(d.card_id, d.action, **d.fields)
            except InvalidDecision as e:
                raise RecordMismatch(f"decision {d.seq} ({d.card_id} {d.action}) does not "
                                     f"replay on {exercise.id} seed {record.seed}: "
                                     f"{e.message}") from None
        s.advance_to(record.now)
        return s
