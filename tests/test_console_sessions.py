"""Console sessions: decisions committed before they are acknowledged, rebuilt by replay
after a restart, paced by real time, graded, regraded and exported; the users command.

Run on SQLite and, when ``GRIDLOOP_TEST_PG`` names one, PostgreSQL. The restart test also
runs the real training core on a one-hour exercise (tests/data/console-short.yaml).
"""

from __future__ import annotations

import csv
import io
import threading
from pathlib import Path

import pytest
from console_fakes import FakeCore
from console_support import DB_KINDS, SECRET, add_users, login, make_store, same_db
from fastapi.testclient import TestClient

from sim.cli import main
from training.console.app import create_app
from training.console.db import GroupCommit
from training.console.play import SessionDesk, TrainingCore

SHORT = Path(__file__).parent / "data" / "console-short.yaml"


class ShortCore(TrainingCore):
    """The real training core with the test exercise as its whole catalogue."""

    def catalogue(self):
        from training.exercises import load_exercise

        ex = load_exercise(SHORT)
        return {ex.id: ex}


def setup(store, exercise_id):
    ids = add_users(store, ann="instructor", bob="trainee")
    cid = store.add_class(ids["ann"], "Pilot A")
    store.add_member(cid, ids["bob"])
    return cid, store.assign(cid, exercise_id, None)


def begin(app, assignment):
    c = TestClient(app, raise_server_exceptions=False)
    token = login(c, "bob")
    r = c.post(f"/trainee/assignments/{assignment}/start", data={"csrf": token},
               follow_redirects=False)
    return c, token, int(r.headers["location"].rsplit("/", 1)[1])


def post(c, token, path, body):
    return c.post(path, json=body, headers={"X-CSRF-Token": token})


def store_of(app):
    return app.state.console.store


def no_fields(card):
    """An action of the card that needs no field (void, close, send_check...)."""
    return next(o["action"] for o in reversed(card["options"])
                if not any(f["required"] for f in o.get("fields", [])))


def view(state):
    return (state["now"], state["clock"], [p["id"] for p in state["pending"]],
            state["decisions"], state["finished"])


@pytest.mark.parametrize("kind", DB_KINDS)
@pytest.mark.parametrize("core", ["fake", "real"])
def test_after_a_restart_the_session_resumes_where_it_stood(kind, core, tmp_path):
    make = FakeCore if core == "fake" else ShortCore
    store = make_store(kind, tmp_path)
    exercise_id = "first-shift" if core == "fake" else "console-short"
    _, aid = setup(store, exercise_id)
    app = create_app(store, SECRET, core=make())
    c, token, sid = begin(app, aid)
    made = []
    for _ in range(3):
        state = post(c, token, f"/api/sessions/{sid}/step", {"minutes": 15}).json()
        card = state["pending"][0]
        action = no_fields(card)
        r = post(c, token, f"/api/sessions/{sid}/decisions",
                 {"card_id": card["id"], "action": action})
        assert r.status_code == 201, r.text
        assert r.json()["acknowledged"]["seq"] == len(made)
        made.append((card["id"], action))
    post(c, token, f"/api/sessions/{sid}/step", {"minutes": 5})
    before = view(c.get(f"/api/sessions/{sid}/state").json())
    assert [(d["card_id"], d["action"]) for d in store.decisions_of(sid)] == made
    store.close()

    restarted = create_app(same_db(kind, tmp_path), SECRET, core=make())   # a new process
    c2, token2, sid2 = begin(restarted, aid)
    assert sid2 == sid
    after = view(c2.get(f"/api/sessions/{sid}/state").json())
    assert after == before
    assert after[3] == 3 and after[0] == before[0]
    # and it continues: one more decision, then on to the end of the window
    card = c2.get(f"/api/sessions/{sid}/state").json()["pending"][0]
    r = post(c2, token2, f"/api/sessions/{sid}/decisions",
             {"card_id": card["id"], "action": no_fields(card)})
    assert r.status_code == 201 and r.json()["acknowledged"]["seq"] == 3
    for _ in range(30):
        if post(c2, token2, f"/api/sessions/{sid}/step", {"minutes": 60}).json().get("finished"):
            break
    assert store_of(restarted).session(sid)["finished_at"] is not None
    result = c2.get(f"/sessions/{sid}/result")
    assert result.status_code == 200 and card["id"] in result.text
    store_of(restarted).close()


@pytest.mark.parametrize("kind", DB_KINDS)
def test_a_decision_the_database_did_not_take_is_not_acknowledged_nor_kept(kind, tmp_path,
                                                                           monkeypatch):
    store = make_store(kind, tmp_path)
    _, aid = setup(store, "first-shift")
    core = FakeCore()
    app = create_app(store, SECRET, core=core)
    c, token, sid = begin(app, aid)
    post(c, token, f"/api/sessions/{sid}/step", {"minutes": 15})

    def broken(*_a, **_k):
        raise ConnectionError("database went away")
    monkeypatch.setattr(store, "record_decision", broken)
    r = post(c, token, f"/api/sessions/{sid}/decisions", {"card_id": "c7-1", "action": "void"})
    assert r.status_code == 500
    monkeypatch.undo()
    state = c.get(f"/api/sessions/{sid}/state").json()      # rebuilt from the database
    assert [p["id"] for p in state["pending"]] == ["c7-1"] and state["decisions"] == 0
    assert store.decisions_of(sid) == []
    r = post(c, token, f"/api/sessions/{sid}/decisions", {"card_id": "c7-1", "action": "void"})
    assert r.status_code == 201
    assert [d["card_id"] for d in store.decisions_of(sid)] == ["c7-1"]
    store.close()


def test_a_paced_clock_follows_real_time_only_while_the_page_is_open(tmp_path):
    store = make_store("sqlite", tmp_path)
    _, aid = setup(store, "first-shift")
    core = FakeCore(pace=2.0)                 # 2 simulated minutes a real second
    real = [100.0]
    desk = SessionDesk(store, core.catalogue, core, clock=lambda: real[0])
    sid = store.start_session(aid, store.user_by_name("bob").id, "first-shift", 7, 0.0)
    assert desk.state(sid)["now"] == 0
    real[0] += 3.0
    assert desk.state(sid)["now"] == pytest.approx(6.0)
    real[0] += 600.0                          # the page was closed ten minutes
    assert desk.state(sid)["now"] == pytest.approx(6.0 + 2.0 * 5.0)
    assert store.session(sid)["sim_now"] == pytest.approx(16.0)
    with pytest.raises(Exception, match="own clock"):
        desk.step(sid, 15)
    for _ in range(10):
        real[0] += 5.0
        state = desk.state(sid)
    assert state["finished"] and state["now"] == 60 and state["pending"] == []
    assert store.session(sid)["finished_at"] is not None
    assert store.grade(sid)["letter"] in ("A", "C")
    store.close()


@pytest.mark.parametrize("kind", DB_KINDS)
def test_grades_live_progress_regrade_and_gradebook_export(kind, tmp_path):
    store = make_store(kind, tmp_path)
    cid, aid = setup(store, "first-shift")
    core = FakeCore()
    app = create_app(store, SECRET, core=core)
    c, token, sid = begin(app, aid)
    ann = TestClient(app)
    atoken = login(ann, "ann")
    post(c, token, f"/api/sessions/{sid}/step", {"minutes": 30})
    post(c, token, f"/api/sessions/{sid}/decisions", {"card_id": "c7-1", "action": "file"})
    post(c, token, f"/api/sessions/{sid}/decisions", {"card_id": "c7-2", "action": "void"})
    live = ann.get(f"/api/classes/{cid}/progress").json()["sessions"]
    assert [(p["trainee"], p["decisions"], p["sim_now"], p["finished"]) for p in live] == \
        [("bob", 2, 30.0, False)]
    assert ann.get(f"/sessions/{sid}/result").status_code == 409      # not finished yet
    post(c, token, f"/api/sessions/{sid}/step", {"minutes": 60})
    page = ann.get(f"/sessions/{sid}/result").text       # waits for the grade on its way
    g = store.grade(sid)
    assert (g["score"], g["letter"]) == (50.0, "C")
    assert "voided a valid report (major)" in page and "50.0" in page
    assert "voided a valid report (major)" in c.get(f"/sessions/{sid}/result").text

    from console_fakes import FakeGrade
    core.grade = lambda record, exercise: FakeGrade(score=75.0, letter="B", decisions=[])
    r = ann.post(f"/instructor/classes/{cid}/regrade", data={"csrf": atoken},
                 follow_redirects=False)
    assert r.status_code == 303
    assert (store.grade(sid)["score"], store.grade(sid)["letter"]) == (75.0, "B")

    r = ann.get(f"/instructor/classes/{cid}/grades.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="gradebook-Pilot-A.csv"' in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert rows == [{"class": "Pilot A", "trainee": "bob", "exercise": "first-shift",
                     "status": "graded", "decisions": "2", "sim_minutes": "60",
                     "score": "75.0", "letter": "B"}]
    store.close()


def test_users_add_hashes_the_password_and_refuses_bad_input(tmp_path, monkeypatch, capsys):
    import sys

    db = str(tmp_path / "c.db")
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough password\n"))
    assert main(["users", "add", "lin", "--role", "trainee", "--password-stdin",
                 "--db", db]) == 0
    assert "added trainee lin" in capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", io.StringIO("another password\n"))
    assert main(["users", "add", "lin", "--role", "trainee", "--password-stdin",
                 "--db", db]) == 2
    assert "user 'lin' already exists" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert main(["users", "add", "mo", "--role", "instructor", "--password-stdin",
                 "--db", db]) == 2
    assert "password: expected at least 8 characters, got 5" in capsys.readouterr().err
    assert main(["users", "add", "-bad name", "--role", "trainee", "--db", db]) == 2
    assert "user name: expected" in capsys.readouterr().err
    assert main(["users", "list", "--db", db]) == 0
    assert capsys.readouterr().out == "lin\ttrainee\t-\n"
    from training.console.auth import verify_password
    from training.console.db import ConsoleStore

    h = ConsoleStore(db).user_by_name("lin").password_hash
    assert h.startswith("$argon2id$") and verify_password(h, "a long enough password")


class AccuracyOnlyCore(ShortCore):
    """The test exercise with its rubric changed: only accuracy counts."""

    def catalogue(self):
        from training.exercises import RubricWeights

        ex = super().catalogue()["console-short"]
        rubric = ex.rubric.model_copy(update={"weights": RubricWeights(
            accuracy=1.0, timeliness=0.0, outcome=0.0)})
        return {ex.id: ex.model_copy(update={"rubric": rubric})}


def test_regrading_after_a_rubric_change_gives_what_the_new_rubric_gives(tmp_path):
    from training.grading import grade

    store = make_store("sqlite", tmp_path)
    cid, aid = setup(store, "console-short")
    app = create_app(store, SECRET, core=ShortCore())
    c, token, sid = begin(app, aid)
    for _ in range(8):
        state = c.get(f"/api/sessions/{sid}/state").json()
        for card in state["pending"]:
            post(c, token, f"/api/sessions/{sid}/decisions",
                 {"card_id": card["id"], "action": no_fields(card)})
        if post(c, token, f"/api/sessions/{sid}/step", {"minutes": 15}).json().get("finished"):
            break
    assert c.get(f"/sessions/{sid}/result").status_code == 200     # graded by then
    first = store.grade(sid)
    assert first is not None and store.decisions_of(sid)
    store.close()

    core = AccuracyOnlyCore()
    restarted = create_app(same_db("sqlite", tmp_path), SECRET, core=core)
    ann = TestClient(restarted)
    r = ann.post(f"/instructor/classes/{cid}/regrade", data={"csrf": login(ann, "ann")},
                 follow_redirects=False)
    assert r.status_code == 303
    again = store_of(restarted).grade(sid)
    from training.session import SessionRecord

    record = SessionRecord.model_validate_json(store_of(restarted).latest_record(sid))
    expected = grade(record.model_copy(update={"now": store_of(restarted).session(sid)[
        "sim_now"]}), exercise=core.catalogue()["console-short"])
    assert again["score"] == expected.score and again["letter"] == expected.grade
    assert again["score"] == expected.accuracy          # accuracy is all that counts now
    assert again["detail"]["rubric"]["weights"]["timeliness"] == 0.0
    store_of(restarted).close()


def test_console_refuses_a_bad_database_or_port_in_one_line(tmp_path, capsys):
    assert main(["console", "--db", "mysql://root@localhost/x"]) == 2
    assert "--db: expected a SQLite file path" in capsys.readouterr().err
    assert main(["console", "--db", str(tmp_path / "c.db"), "--port", "70000"]) == 2
    assert "--port: expected 1-65535, got 70000" in capsys.readouterr().err
    assert main(["console", "--db", str(tmp_path / "no-such-folder" / "c.db")]) == 2
    assert "cannot open" in capsys.readouterr().err


def _wait_until(condition) -> None:
    """Until ``condition()`` holds (other threads make it so); fails after 10 s."""
    pause = threading.Event()
    for _ in range(10_000):
        if condition():
            return
        pause.wait(0.001)
    raise AssertionError("the other threads never got there")


def test_decisions_arriving_together_are_committed_in_one_batch_each_before_it_returns():
    batches: list[list[int]] = []
    first_in, release = threading.Event(), threading.Event()

    def write(items):
        if not batches:           # the first write holds until everyone else is waiting
            first_in.set()
            release.wait(10)
        if 13 in items:
            raise ValueError("seq 13 is taken")
        batches.append(sorted(items))

    gc = GroupCommit(write)
    returned: dict[int, str] = {}

    def one(i):
        try:
            gc.commit(i)
            returned[i] = "committed" if any(i in b for b in batches) else "returned early"
        except ValueError as e:
            returned[i] = str(e)

    threads = [threading.Thread(target=one, args=(0,))]
    threads[0].start()
    assert first_in.wait(10)
    threads += [threading.Thread(target=one, args=(i,)) for i in range(1, 20)]
    for t in threads[1:]:
        t.start()
    _wait_until(lambda: len(gc._waiting) == 19)
    release.set()
    for t in threads:
        t.join(10)
    # one write for the first, one for the 19 that came meanwhile; that batch failed on 13,
    # so each of its decisions was written alone: 13 fails, every other one is committed
    assert batches[0] == [0] and len(batches) == 1 + 18
    assert returned == {i: ("seq 13 is taken" if i == 13 else "committed") for i in range(20)}
    assert sorted(i for b in batches for i in b) == [i for i in range(20) if i != 13]


@pytest.mark.parametrize("kind", DB_KINDS)
def test_thirty_decisions_at_once_are_all_stored_in_order(kind, tmp_path):
    store = make_store(kind, tmp_path)
    _, aid = setup(store, "first-shift")
    sid = store.start_session(aid, store.user_by_name("bob").id, "first-shift", 7, 0.0)
    ready = threading.Barrier(30)

    def decide(seq):
        ready.wait()
        store.record_decision(sid, seq, float(seq), f"c{seq}", "file", {"n": seq}, None)

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    log = store.decisions_of(sid)
    assert [(d["seq"], d["card_id"], d["fields"]) for d in log] == \
        [(i, f"c{i}", {"n": i}) for i in range(30)]
    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        store.record_decision(sid, 4, 99.0, "again", "file", {}, None)
    assert len(store.decisions_of(sid)) == 30
    store.close()


def test_a_session_that_ends_is_graded_off_the_request_and_its_result_page_waits(tmp_path):
    store = make_store("sqlite", tmp_path)
    _, aid = setup(store, "first-shift")
    core = FakeCore()
    grading, release = threading.Event(), threading.Event()
    plain = core.grade

    def slow_grade(record, exercise):
        grading.set()
        assert release.wait(10)
        return plain(record, exercise)
    core.grade = slow_grade
    app = create_app(store, SECRET, core=core)
    c, token, sid = begin(app, aid)
    post(c, token, f"/api/sessions/{sid}/step", {"minutes": 30})
    post(c, token, f"/api/sessions/{sid}/decisions", {"card_id": "c7-1", "action": "file"})
    end = post(c, token, f"/api/sessions/{sid}/step", {"minutes": 60}).json()
    assert end["finished"] and grading.wait(10)
    # the step that ended it has answered while its grade is still being worked out
    assert store.session(sid)["finished_at"] is not None and store.grade(sid) is None
    got: list = []
    page = threading.Thread(target=lambda: got.append(c.get(f"/sessions/{sid}/result")))
    page.start()
    release.set()
    page.join(10)
    assert got[0].status_code == 200 and "Score <strong>100.0</strong>" in got[0].text
    assert store.grade(sid)["score"] == 100.0
    store.close()


def test_a_session_that_ended_ungraded_is_graded_when_its_result_is_opened(tmp_path):
    store = make_store("sqlite", tmp_path)
    _, aid = setup(store, "first-shift")
    core = FakeCore()
    app = create_app(store, SECRET, core=core)
    c, token, sid = begin(app, aid)
    post(c, token, f"/api/sessions/{sid}/step", {"minutes": 30})
    post(c, token, f"/api/sessions/{sid}/decisions", {"card_id": "c7-1", "action": "void"})
    store.set_clock(sid, 60.0, finished=True)     # the server stopped before grading it
    restarted = create_app(same_db("sqlite", tmp_path), SECRET, core=FakeCore())
    c2 = TestClient(restarted)
    login(c2, "bob")
    page = c2.get(f"/sessions/{sid}/result")
    assert page.status_code == 200 and "Score <strong>0.0</strong>" in page.text
    assert store_of(restarted).grade(sid)["letter"] == "C"
    store.close()


def test_polls_write_a_paced_clock_only_every_ten_simulated_minutes_and_a_restart_resumes(
        tmp_path):
    store = make_store("sqlite", tmp_path)
    _, aid = setup(store, "first-shift")
    core = FakeCore(pace=2.0)                 # 2 simulated minutes a real second
    real = [0.0]
    desk = SessionDesk(store, core.catalogue, core, clock=lambda: real[0])
    sid = store.start_session(aid, store.user_by_name("bob").id, "first-shift", 7, 0.0)
    writes: list[float] = []
    set_clock = store.set_clock
    store.set_clock = lambda s, now, finished: (writes.append(now), set_clock(s, now, finished))
    desk.state(sid)
    for _ in range(12):                       # a poll a second: 24 simulated minutes
        real[0] += 1.0
        desk.state(sid)
    assert writes == [10.0, 20.0]
    assert store.session(sid)["sim_now"] == 20.0
    desk.forget(sid)                          # a restart: rebuilt where the database stood
    assert desk.state(sid, run_clock=False)["now"] == 20.0
    store.close()
