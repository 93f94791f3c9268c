"""The console's guards: logins, roles, CSRF, ownership, answer key, input validation.

Run on SQLite and, when ``GRIDLOOP_TEST_PG`` names one, PostgreSQL; the training core is the
fast stand-in of `console_fakes`, since these rules are the console's own.
"""

from __future__ import annotations

from html import unescape

import pytest
from console_fakes import ANSWER_KEY, FakeCore
from console_support import DB_KINDS, PASSWORD, SECRET, add_users, csrf_of, login, make_store
from fastapi.testclient import TestClient

from training.console.app import COOKIE, create_app


@pytest.fixture(params=DB_KINDS)
def world(request, tmp_path):
    """Two instructors, three trainees; ann's class has bob and cat and one exercise."""
    store = make_store(request.param, tmp_path)
    ids = add_users(store, ann="instructor", dan="instructor", bob="trainee", cat="trainee",
                    eve="trainee")
    cid = store.add_class(ids["ann"], "Pilot A")
    for t in ("bob", "cat"):
        store.add_member(cid, ids[t])
    aid = store.assign(cid, "first-shift", None)
    app = create_app(store, SECRET, core=FakeCore())
    yield {"store": store, "app": app, "ids": ids, "class": cid, "assignment": aid}
    store.close()


def client(world, name=None):
    c = TestClient(world["app"])
    token = login(c, name) if name else csrf_of(c.get("/login").text)
    return c, token


def start(world, name):
    c, token = client(world, name)
    r = c.post(f"/trainee/assignments/{world['assignment']}/start", data={"csrf": token},
               follow_redirects=False)
    assert r.status_code == 303
    return c, token, int(r.headers["location"].rsplit("/", 1)[1])


def test_login_needs_the_right_password_and_stores_only_an_argon2_hash(world):
    c, token = client(world)
    r = c.post("/login", data={"name": "bob", "password": "wrong password", "csrf": token})
    assert r.status_code == 401 and "wrong password" in r.text
    r = c.post("/login", data={"name": "nobody", "password": PASSWORD, "csrf": token})
    assert r.status_code == 401
    h = world["store"].user_by_name("bob").password_hash
    assert h.startswith("$argon2id$") and PASSWORD not in h
    login(c, "bob")
    assert c.get("/trainee").status_code == 200


@pytest.mark.parametrize("path", ["/trainee", "/instructor", "/instructor/classes/1",
                                  "/api/sessions/1/state", "/api/classes/1/progress",
                                  "/sessions/1/result", "/instructor/classes/1/grades.csv"])
def test_without_a_login_every_page_answers_401(world, path):
    r = TestClient(world["app"]).get(path, follow_redirects=False)
    assert r.status_code == 401
    if path.startswith("/api/"):
        assert r.json()["error"] == "please log in"
    else:
        assert 'action="/login"' in r.text


def test_a_forged_or_tampered_cookie_is_no_login(world):
    c, _ = client(world, "ann")
    good = c.cookies.get(COOKIE)
    other = TestClient(world["app"])
    other.cookies.set(COOKIE, good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"))
    assert other.get("/instructor").status_code == 401
    signed_elsewhere = create_app(world["store"], "another-secret-" + "y" * 40,
                                  core=FakeCore())
    c2 = TestClient(signed_elsewhere)
    c2.cookies.set(COOKIE, good)
    assert c2.get("/instructor").status_code == 401


@pytest.mark.parametrize("method,path", [
    ("get", "/instructor"), ("get", "/instructor/classes/{cid}"),
    ("get", "/api/classes/{cid}/progress"), ("get", "/instructor/classes/{cid}/grades.csv"),
    ("get", "/instructor/exercises"), ("post", "/instructor/classes"),
    ("post", "/instructor/classes/{cid}/regrade")])
def test_a_trainee_is_refused_the_instructor_pages(world, method, path):
    c, token = client(world, "bob")
    url = path.format(cid=world["class"])
    r = c.get(url) if method == "get" else c.post(url, data={"csrf": token, "name": "x"})
    assert r.status_code == 403
    assert "for instructors" in r.text
    assert world["store"].classes_of(world["ids"]["ann"])[0]["name"] == "Pilot A"
    assert len(world["store"].classes_of(world["ids"]["bob"])) == 0


def test_an_instructor_is_refused_the_play_pages(world):
    _, _, sid = start(world, "bob")
    c, token = client(world, "ann")
    assert c.get("/trainee").status_code == 403
    assert c.get(f"/api/sessions/{sid}/state").status_code == 403
    r = c.post(f"/api/sessions/{sid}/step", json={"minutes": 15},
               headers={"X-CSRF-Token": token})
    assert r.status_code == 403


def test_an_instructor_sees_only_their_own_classes(world):
    c, token = client(world, "dan")
    cid = world["class"]
    for path in (f"/instructor/classes/{cid}", f"/api/classes/{cid}/progress",
                 f"/instructor/classes/{cid}/grades.csv"):
        assert c.get(path).status_code == 404, path
    r = c.post(f"/instructor/classes/{cid}/members", data={"csrf": token, "trainee": "eve"})
    assert r.status_code == 404
    assert [u.name for u in world["store"].members_of(cid)] == ["bob", "cat"]
    assert "Pilot A" not in c.get("/instructor").text
    ann, _ = client(world, "ann")
    assert ann.get(f"/instructor/classes/{cid}").status_code == 200
    assert "Pilot A" in ann.get("/instructor").text


def test_state_changing_requests_without_the_csrf_token_are_refused(world):
    c, token = client(world, "ann")
    for data in ({"name": "Pilot B"}, {"name": "Pilot B", "csrf": "forged"}):
        r = c.post("/instructor/classes", data=data)
        assert r.status_code == 403 and "security token" in r.text
    assert [k["name"] for k in world["store"].classes_of(world["ids"]["ann"])] == ["Pilot A"]
    r = c.post("/instructor/classes", data={"name": "Pilot B", "csrf": token},
               follow_redirects=False)
    assert r.status_code == 303
    # the JSON calls take it as a header
    t, ttoken, sid = start(world, "bob")
    r = t.post(f"/api/sessions/{sid}/step", json={"minutes": 15})
    assert r.status_code == 403
    r = t.post(f"/api/sessions/{sid}/step", json={"minutes": 15},
               headers={"X-CSRF-Token": token})        # another login's token
    assert r.status_code == 403
    assert t.get(f"/api/sessions/{sid}/state").json()["now"] == 0
    r = t.post(f"/api/sessions/{sid}/step", json={"minutes": 15},
               headers={"X-CSRF-Token": ttoken})
    assert r.status_code == 200 and r.json()["now"] == 15
    # logging in (and out) needs it too
    anon = TestClient(world["app"])
    anon.get("/login")
    r = anon.post("/login", data={"name": "bob", "password": PASSWORD})
    assert r.status_code == 403
    r = t.post("/logout", data={}, follow_redirects=False)
    assert r.status_code == 403


def test_a_trainee_cannot_see_or_touch_another_trainees_session(world):
    bob, btoken, sid = start(world, "bob")
    bob.post(f"/api/sessions/{sid}/step", json={"minutes": 15}, headers={"X-CSRF-Token": btoken})
    card = bob.get(f"/api/sessions/{sid}/state").json()["pending"][0]["id"]
    for name in ("cat", "eve"):
        c, token = client(world, name)
        assert c.get(f"/api/sessions/{sid}/state").status_code == 404
        assert c.get(f"/sessions/{sid}").status_code == 404
        assert c.get(f"/sessions/{sid}/result").status_code == 404
        assert c.get(f"/api/sessions/{sid}/handbook?q=bin").status_code == 404
        r = c.post(f"/api/sessions/{sid}/decisions", json={"card_id": card, "action": "void"},
                   headers={"X-CSRF-Token": token})
        assert r.status_code == 404
    assert world["store"].decisions_of(sid) == []
    # eve is not in the class: she cannot start its assignment either
    eve, etoken = client(world, "eve")
    r = eve.post(f"/trainee/assignments/{world['assignment']}/start", data={"csrf": etoken})
    assert r.status_code == 404
    assert "Pilot A" not in eve.get("/trainee").text


def test_a_trainee_never_receives_the_answer_key(world):
    bob, token, sid = start(world, "bob")
    seen = [bob.get(f"/sessions/{sid}").text, bob.get("/trainee").text]
    for _ in range(4):
        r = bob.post(f"/api/sessions/{sid}/step", json={"minutes": 15},
                     headers={"X-CSRF-Token": token})
        seen.append(r.text)
        pending = r.json()["pending"]
        if pending:
            r = bob.post(f"/api/sessions/{sid}/decisions", json={
                "card_id": pending[0]["id"], "action": "file",
                "fields": {"subclass": "C01-02"}}, headers={"X-CSRF-Token": token})
            seen.append(r.text)
    seen.append(bob.get(f"/sessions/{sid}/result").text)
    assert world["store"].session(sid)["finished_at"] is not None
    assert all(ANSWER_KEY not in text for text in seen)
    assert "rubric" not in seen[0]
    ann, _ = client(world, "ann")
    assert ANSWER_KEY in ann.get("/instructor/exercises").text


@pytest.mark.parametrize("form,message", [
    ({"exercise": "no-such-exercise"}, "exercise: expected one of busy-morning, first-shift"),
    ({"exercise": ""}, "exercise: expected a value, got nothing"),
    ({"exercise": "busy-morning", "seed": "12abc"}, "seed: expected a whole number"),
    ({"exercise": "busy-morning", "seed": "-3"}, "seed: expected a whole number"),
    ({"exercise": "first-shift"}, "already assigned"),
])
def test_assigning_validates_every_field_with_a_clear_message(world, form, message):
    c, token = client(world, "ann")
    r = c.post(f"/instructor/classes/{world['class']}/assignments", data={**form, "csrf": token})
    assert r.status_code == 422
    assert message in unescape(r.text)
    assert len(world["store"].assignments_of_class(world["class"])) == 1


def test_class_and_member_forms_validate_their_fields(world):
    c, token = client(world, "ann")
    r = c.post("/instructor/classes", data={"name": "x" * 121, "csrf": token})
    assert r.status_code == 422 and "name: expected at most 120 characters, got 121" in r.text
    r = c.post(f"/instructor/classes/{world['class']}/members",
               data={"trainee": "dan", "csrf": token})
    assert r.status_code == 422
    assert "expected the name of a trainee account, got 'dan'" in unescape(r.text)
    r = c.post("/instructor/classes", data={"name": "Pilot A", "csrf": token})
    assert r.status_code == 422 and "already have a class named 'Pilot A'" in unescape(r.text)


@pytest.mark.parametrize("body,message", [
    ({"minutes": 7}, "step: expected one of 5, 15, 30, 60, 120, 240 minutes"),
    ({"minutes": "soon"}, "minutes"),
    ({"minutes": 15, "extra": 1}, "extra"),
])
def test_steps_are_validated(world, body, message):
    c, token, sid = start(world, "bob")
    r = c.post(f"/api/sessions/{sid}/step", json=body, headers={"X-CSRF-Token": token})
    assert r.status_code == 422
    assert message in r.json()["error"]
    assert c.get(f"/api/sessions/{sid}/state").json()["now"] == 0


@pytest.mark.parametrize("body,message", [
    ({"card_id": "c7-9", "action": "file"}, "no card 'c7-9' is waiting"),
    ({"card_id": "c7-1", "action": "escalate"}, "action: expected one of file, void"),
    ({"card_id": "c7-1", "action": "File!"}, "action"),
    ({"card_id": "c7-1", "action": "file", "fields": {"colour": "red"}}, "unknown fields"),
    ({"card_id": "", "action": "file"}, "card_id"),
    ({"card_id": "c7-1", "action": "file", "fields": {"subclass": "x" * 501}}, "500 characters"),
])
def test_a_refused_decision_says_why_and_leaves_no_trace(world, body, message):
    c, token, sid = start(world, "bob")
    c.post(f"/api/sessions/{sid}/step", json={"minutes": 15}, headers={"X-CSRF-Token": token})
    r = c.post(f"/api/sessions/{sid}/decisions", json=body, headers={"X-CSRF-Token": token})
    assert r.status_code == 422
    assert message in r.json()["error"]
    assert world["store"].decisions_of(sid) == []
    assert [p["id"] for p in c.get(f"/api/sessions/{sid}/state").json()["pending"]] == ["c7-1"]


def test_names_are_shown_as_text_never_as_markup_or_formulas(world):
    from training.console.instructor import gradebook_csv

    c, token = client(world, "ann")
    evil = "<script>alert(1)</script>"
    r = c.post("/instructor/classes", data={"name": evil, "csrf": token})
    assert r.status_code == 200 and evil not in r.text and "&lt;script&gt;" in r.text
    text = gradebook_csv("=HYPERLINK(\"x\")", [{"trainee": "+bob", "exercise_id": "e",
                                                "finished": True, "decisions": 1,
                                                "sim_now": 60.0, "score": None,
                                                "letter": None}])
    assert text.splitlines()[1].startswith("\"'=HYPERLINK(\"\"x\"\")\",'+bob,e,finished")
