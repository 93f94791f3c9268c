"""Training sessions: cards at the trainee's decision points, waiting cases, decisions, replay.

A session must be rebuilt exactly from its record (exercise, seed, decisions): the same event
log whether it was played in chunks or replayed at once. A case the trainee has not decided
waits at its step while the city runs on, and a bad decision changes nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.engine.eventlog import Step
from sim.errors import InputError
from sim.model import CityModel, case_limits
from training.baseline import handbook_answer, play_handbook
from training.cards import SessionRecord
from training.desk import TraineeDesk
from training.errors import InvalidDecision, RecordMismatch
from training.exercises import Exercise, list_exercises, load_exercise
from training.session import Session


def short(role: str = "both", hours: float = 1.5, **kw: object) -> Exercise:
    """A short exercise on small-town with a burst, a duplicate and a false report."""
    injects = [{"at": 5, "kind": "burst", "subclass": "E01-01", "count": 3},
               {"at": 15, "kind": "emergency", "subclass": "E04-02", "repeats": 2,
                "repeat_every": 5, "description": "Water everywhere"},
               {"at": 30, "kind": "false_report", "subclass": "E05-03", "real": False}]
    return Exercise(id="short", title="Short", level="beginner", role=role, briefing="b",
                    seed=5, window={"start": "08:30", "hours": hours}, injects=injects, **kw)


def play_in_chunks(s: Session, chunks: list[float]) -> Session:
    """Advance by each chunk in turn (cycling), answering cards by the handbook between."""
    i = 0
    while not s.finished:
        for card in s.pending():
            action, fields = handbook_answer(s, card)
            s.decide(card.id, action, **fields)
        s.advance(chunks[i % len(chunks)])
        i += 1
    return s


def test_bundled_exercises_cover_levels_and_roles() -> None:
    exercises = list_exercises()
    assert len(exercises) >= 4
    assert [e.level for e in exercises] == sorted(
        (e.level for e in exercises), key=["beginner", "intermediate", "advanced"].index)
    assert {e.level for e in exercises} == {"beginner", "intermediate", "advanced"}
    assert {e.role for e in exercises} == {"acceptor", "dispatcher", "both"}
    kinds = {i.kind for e in exercises for i in e.injects}
    assert {"burst", "emergency", "duplicate", "ambiguous", "false_report"} <= kinds
    assert all(e.briefing.strip() and e.window.hours > 0 for e in exercises)


@pytest.mark.parametrize(("change", "path", "expected"), [
    ("role: pilot", "role", "expected one of 'acceptor', 'dispatcher' or 'both'"),
    ("    subclass: E99-01", "injects.0.subclass", "a subclass of the scenario's handbook"),
    ("    grid: \"990101999999999\"", "injects.0.grid", "a grid code of small-town"),
    ("colour: blue", "colour", "got unknown key 'colour'"),
])
def test_bad_exercise_names_file_line_and_key(tmp_path: Path, change: str, path: str,
                                              expected: str) -> None:
    lines = ["title: T", "level: beginner", "role: acceptor", "briefing: b",
             "injects:", "  - at: 5", "    subclass: E01-01"]
    key = change.split(":")[0].strip()
    idx = next((i for i, ln in enumerate(lines) if ln.strip().startswith(key + ":")), None)
    if idx is None:
        lines.append(change)
        idx = len(lines) - 1
    else:
        lines[idx] = change
    f = tmp_path / "ex.yaml"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_exercise(f)
    assert e.value.line == idx + 1 and e.value.path == path
    assert expected in str(e.value) and str(e.value).startswith(f"{f}:{idx + 1}: ")


def test_chunked_play_equals_replay_from_json() -> None:
    ex = short()
    s = play_in_chunks(Session(ex), [7.0, 13.5, 3.0])
    assert len(s.decisions) > 20
    record = SessionRecord.model_validate_json(s.record.model_dump_json())
    r = Session.replay(record, ex)
    assert r.events().tobytes() == s.events().tobytes()
    assert r.facts == s.facts and r.record == s.record


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.floats(0.5, 40.0), min_size=1, max_size=4))
def test_any_chunking_replays_to_the_same_log(chunks: list[float]) -> None:
    ex = short("dispatcher", hours=1.0)
    s = play_in_chunks(Session(ex), chunks)
    assert Session.replay(s.record, ex).events().tobytes() == s.events().tobytes()


def test_undecided_case_waits_at_its_step_while_the_clock_runs() -> None:
    s = Session(short("acceptor"))
    s.advance(20)
    card = s.pending()[0]
    s.advance(60)
    assert card.id in {c.id for c in s.pending()}
    ev = s.events()
    steps = ev["step"][ev["case"] == card.case_id].tolist()
    parked_at = {"verify": Step.REPORT, "file": Step.REPORT}[card.kind]
    assert steps[-1] in (parked_at, Step.VERIFY)   # nothing after the parked step
    assert s.now == pytest.approx(card.received_at + 60, abs=20)
    assert s.pending() == sorted(s.pending(), key=lambda c: c.received_at)


def test_bad_decisions_raise_and_change_nothing() -> None:
    s = Session(short("dispatcher"))
    assert s.advance_to_next_card()
    card = s.pending()[0]
    before = (s.events().tobytes(), s.record, [c.id for c in s.pending()])
    bad = [((card.id, "dispatch"), {"department": "pirates", "urgency": "normal"}),
           ((card.id, "dispatch"), {"urgency": "normal"}),
           ((card.id, "dispatch"), {"department": "water", "urgency": "soon"}),
           ((card.id, "dispatch"), {"department": "water", "urgency": "normal", "x": 1}),
           ((card.id, "void"), {}),
           (("dispatch-99999", "dispatch"), {"department": "water", "urgency": "normal"})]
    for (cid, action), fields in bad:
        with pytest.raises(InvalidDecision) as e:
            s.decide(cid, action, **fields)
        assert "expected" in e.value.message
        assert (s.events().tobytes(), s.record, [c.id for c in s.pending()]) == before


def test_merge_needs_an_open_case() -> None:
    s = Session(short("acceptor"))
    s.advance(30)
    card = next(c for c in s.pending() if c.kind in ("verify", "file"))
    with pytest.raises(InvalidDecision, match="open"):
        s.decide(card.id, "merge", into=123456)


def test_dispatch_starts_the_handling_clock_on_the_chosen_subclass() -> None:
    s = Session(short("dispatcher"))
    assert s.advance_to_next_card()
    card = s.pending()[0]
    s.decide(card.id, "dispatch", department="water", subclass="E04-02", urgency="urgent")
    ev = s.events()
    row = ev[(ev["case"] == card.case_id) & (ev["step"] == Step.DISPATCH)][-1]
    assert s.departments[row["department"]] == "water"
    assert s.handbook.subclasses[row["subclass"]].code == "E04-02"
    # the case's limit: the last stage's (repair within 24 h) when longer than the row's
    # (make safe within 2 h); clock hours: the deadline is that many hours from now
    limit = case_limits(s.handbook, 480.0)[s.handbook.index("E04-02")]
    assert limit.unit == "h" and limit.value == 24
    assert row["deadline"] == pytest.approx(s.now + limit.value * 60)


def test_desk_outside_its_window_is_the_built_in_rules() -> None:
    ex = short("both", hours=1.0)
    sc = ex.build_scenario()
    plain = CityModel(sc).run().events()
    desk = TraineeDesk(frozenset({"verify", "file", "check", "close", "dispatch", "extension"}),
                       start=1e9, on_question=lambda q: pytest.fail("asked outside the window"))
    assert CityModel(sc, decisions=desk).run().events().tobytes() == plain.tobytes()


def test_replay_refuses_a_record_that_does_not_fit() -> None:
    ex = short("dispatcher", hours=1.0)
    s = play_handbook(Session(ex))
    d = s.record.decisions[0]
    wrong = s.record.model_copy(update={"decisions": (
        d.model_copy(update={"card_id": "dispatch-424242"}),)})
    with pytest.raises(RecordMismatch, match="does not replay"):
        Session.replay(wrong, ex)
    with pytest.raises(RecordMismatch, match="exercise"):
        Session.replay(s.record.model_copy(update={"exercise_id": "other"}), ex)


def _schedule(model: CityModel) -> list[tuple[float, int, str]]:
    """What the model's clock has scheduled: (time, order, what), stop events left out."""
    out = []
    for entry in model.env.entries():  # in the heap, or held for later (`Clock.hold`)
        if len(entry) == 5:
            out.append((entry[0], entry[2], entry[3].__qualname__))
        elif entry[3].callbacks:
            out.append((entry[0], entry[2], type(entry[3]).__name__))
    return sorted(out)


def test_a_session_starts_the_city_as_a_run_does() -> None:
    """One start-up sequence (`CityModel.start`): a session (here without injects) and a
    plain run of its scenario have the same things scheduled and the same log when the
    window opens, the whistle's lateness sweep included."""
    ex = Exercise(id="startup", title="T", level="beginner", role="dispatcher", briefing="b",
                  seed=3, window={"start": "08:30", "hours": 1},
                  overrides={"whistle.enabled": True, "whistle.overdue_hours": 2})
    s = Session(ex)
    run = CityModel(ex.build_scenario(), strict=True).start()
    run.env.run(until=s.window_start)
    assert _schedule(s.model) == _schedule(run)
    assert any(what == "Whistle._sweep" for _, _, what in _schedule(run))
    assert s.events().tobytes() == run.events().tobytes()
    assert len(s.events()) > 20
