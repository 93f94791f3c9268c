"""A small stand-in for the training core, so the console's own rules (accounts, roles, CSRF,
persistence, pacing) are tested quickly and apart from the simulation.

`FakeCore` has the shape `training.console.play.TrainingCore` gives the console: a catalogue,
new sessions, replay of a JSON record, grading, and the invalid-decision error. Its sessions
put one card on the desk every 10 simulated minutes; a decision must name a waiting card and
one of its actions. The rubric carries `ANSWER_KEY`, which no trainee response may contain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pydantic import BaseModel

from sim.data.citymap import load_city
from sim.data.scenario import load_scenario
from sim.data.taxonomy import load_handbook
from sim.errors import GridLoopError

ANSWER_KEY = "ANSWER-KEY-C01-02-to-water"


class FakeInvalid(GridLoopError):
    pass


@cache
def _city_and_handbook() -> tuple[Any, Any]:
    sc = load_scenario("small-town")
    return (load_city(sc.resolve(sc.city.grids_file), sc.city.district_code),
            load_handbook(sc.resolve(sc.handbook.file)))


@dataclass(frozen=True)
class FakeExercise:
    id: str
    title: str
    pace: float = 0.0
    level: str = "beginner"
    role: str = "acceptor"
    briefing: str = "File what meets the criterion; void the rest."
    seed: int = 7
    window: dict = field(default_factory=lambda: {"start_minute": 0, "end_minute": 60})
    rubric: dict = field(default_factory=lambda: {"answer": ANSWER_KEY})
    injects: tuple = ()


class FakeDecision(BaseModel):
    seq: int
    card_id: str
    action: str
    fields: dict[str, Any]
    sim_time: float


class FakeRecord(BaseModel):
    exercise_id: str
    seed: int
    decisions: tuple[FakeDecision, ...] = ()
    now: float = 0.0


class FakeCard(BaseModel):
    id: str
    kind: str
    case_id: int
    received_at: float
    channel: str
    description: str
    grid_code: str
    x: float
    y: float
    claimed_subclass: str
    options: tuple[dict, ...]


class FakeSession:
    def __init__(self, exercise: FakeExercise, seed: int | None = None) -> None:
        self.exercise = exercise
        self.seed = exercise.seed if seed is None else seed
        self.window_end = float(exercise.window["end_minute"])
        self._now = 0.0
        self._decisions: list[FakeDecision] = []
        self._decided: set[str] = set()
        self.city, self.handbook = _city_and_handbook()

    @property
    def now(self) -> float:
        return self._now

    @property
    def clock_text(self) -> str:
        m = int(self._now)
        return f"Mon {9 + m // 60:02d}:{m % 60:02d}"

    @property
    def finished(self) -> bool:
        return self._now >= self.window_end

    def advance(self, minutes: float) -> None:
        self._now = min(self._now + minutes, self.window_end)

    def advance_to_next_card(self, max_minutes: float | None = None) -> bool:
        nxt = (int(self._now) // 10 + 1) * 10
        self._now = min(float(nxt), self.window_end)
        return bool(self.pending())

    def pending(self) -> list[FakeCard]:
        out = []
        for k in range(1, int(self._now) // 10 + 1):
            cid = f"c{self.seed}-{k}"
            if cid not in self._decided:
                g = (k * 7 + self.seed) % self.city.n_grids
                out.append(FakeCard(
                    id=cid, kind="file", case_id=k, received_at=10.0 * k, channel="public",
                    description=f"report {k}: overflowing bin", grid_code=self.city.codes[g],
                    x=float(self.city.col[g]) + .5, y=float(self.city.row[g]) + .5,
                    claimed_subclass="C01-01",
                    options=({"action": "file", "label": "File the case", "fields": [
                        {"name": "subclass", "kind": "choice", "label": "Subclass",
                         "required": False, "choices": ["C01-01", "C01-02"],
                         "default": "C01-01"}]},
                             {"action": "void", "label": "Void", "fields": []})))
        return out

    def decide(self, card_id: str, action: str, **fields: Any) -> FakeDecision:
        card = next((c for c in self.pending() if c.id == card_id), None)
        if card is None:
            raise FakeInvalid(f"no card {card_id!r} is waiting")
        if action not in ("file", "void"):
            raise FakeInvalid(f"{card_id}: action: expected one of file, void, got {action!r}")
        if set(fields) - {"subclass"}:
            raise FakeInvalid(f"{card_id}: unknown fields {sorted(set(fields) - {'subclass'})}")
        d = FakeDecision(seq=len(self._decisions), card_id=card_id, action=action,
                         fields=fields, sim_time=self._now)
        self._decisions.append(d)
        self._decided.add(card_id)
        return d

    @property
    def record(self) -> FakeRecord:
        return FakeRecord(exercise_id=self.exercise.id, seed=self.seed,
                          decisions=tuple(self._decisions), now=self._now)


@dataclass
class FakeGrade:
    score: float
    letter: str
    decisions: list[dict]


class FakeCore:
    """The training core's shape; `pace` sets the exercises' pace."""

    def __init__(self, pace: float = 0.0) -> None:
        self.exercises = {
            "first-shift": FakeExercise("first-shift", "First shift", pace=pace),
            "busy-morning": FakeExercise("busy-morning", "Busy morning", pace=pace,
                                         level="advanced", role="dispatcher"),
        }
        self.replays = 0

    def catalogue(self) -> dict[str, Any]:
        return dict(self.exercises)

    def new_session(self, exercise: Any, seed: int | None) -> FakeSession:
        return FakeSession(exercise, seed)

    def replay(self, record_json: str, exercise: Any) -> FakeSession:
        self.replays += 1
        rec = FakeRecord.model_validate_json(record_json)
        s = FakeSession(exercise, rec.seed)
        for d in rec.decisions:
            s.advance(d.sim_time - s.now)
            s.decide(d.card_id, d.action, **d.fields)
        s.advance(rec.now - s.now)
        return s

    def record(self, exercise_id: str, seed: int, record_json: str | None,
               now: float) -> FakeRecord:
        if record_json is None:
            return FakeRecord(exercise_id=exercise_id, seed=seed, now=now)
        rec = FakeRecord.model_validate_json(record_json)
        return rec.model_copy(update={"now": max(rec.now, now)})

    def grade(self, record: FakeRecord, exercise: Any) -> FakeGrade:
        rows = [{"card": d.card_id, "action": d.action,
                 "feedback": "ok" if d.action == "file" else "voided a valid report (major)"}
                for d in record.decisions]
        right = sum(d.action == "file" for d in record.decisions)
        score = 100.0 * right / max(len(record.decisions), 1)
        return FakeGrade(score=score, letter="A" if score >= 90 else "C", decisions=rows)

    @property
    def invalid_decision(self) -> type[Exception]:
        return FakeInvalid
