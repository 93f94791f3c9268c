"""The console under attack (issue 17, points 4-6 and 11): revocable logins, throttled
logins, bounded bodies, numbers out of range, non-ASCII downloads, headers on every answer.

Before: a cookie copied before logout (or before ``gridloop users password``) worked for
12 h; 200 wrong passwords and then the right one got in; a 200 MB body was read to the end
(also an anonymous one to /login); ids >= 2^63, a seed of ``²`` and a decision field of
1e999 were 500s without the security headers; a class named in Chinese could not export.
"""

from __future__ import annotations

import asyncio
import io
import os
import socket
import stat
import threading
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from argon2 import PasswordHasher
from console_fakes import FakeCore
from console_support import (
    DB_KINDS,
    PASSWORD,
    SECRET,
    add_users,
    csrf_of,
    login,
    make_store,
    served,
)
from fastapi.testclient import TestClient

from sim.cli import main
from training.console import throttle
from training.console.app import COOKIE, create_app
from training.console.auth import PasswordChecks
from training.console.db import ConsoleStore
from training.console.guard import HEADERS, MAX_BODY
from training.console.logins import RECHECK

SECURITY_HEADERS = [k.decode() for k, _ in HEADERS]


def _world(kind: str, path: Path) -> dict:
    """ann (instructor) with class "Pilot A" of bob and cat; dan, another instructor."""
    store = make_store(kind, path)
    # Argon2 at its cheapest: these tests log in and fail dozens of times; the hash is still
    # checked by the console's own verify, whatever its parameters
    quick = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    ids = {name: store.add_user(name, role, quick) for name, role in
           (("ann", "instructor"), ("dan", "instructor"), ("bob", "trainee"),
            ("cat", "trainee"))}
    cid = store.add_class(ids["ann"], "Pilot A")
    for t in ("bob", "cat"):
        store.add_member(cid, ids[t])
    aid = store.assign(cid, "first-shift", None)
    app = create_app(store, SECRET, core=FakeCore())
    return {"store": store, "app": app, "ids": ids, "class": cid, "assignment": aid,
            "path": path}


@pytest.fixture(params=DB_KINDS)
def world(request, tmp_path):
    """A fresh console on each database kind (for what the database keeps)."""
    w = _world(request.param, tmp_path)
    yield w
    w["store"].close()


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One console on SQLite for the checks that read no state they change."""
    w = _world("sqlite", tmp_path_factory.mktemp("shared"))
    yield w
    w["store"].close()


@pytest.fixture
def fresh(tmp_path):
    w = _world("sqlite", tmp_path)
    yield w
    w["store"].close()


def client(world, name=None, **kw):
    c = TestClient(world["app"], **kw)
    token = login(c, name) if name else csrf_of(c.get("/login").text)
    return c, token


def copy_of(c: TestClient, world) -> TestClient:
    """Another browser holding a copy of ``c``'s login cookie."""
    thief = TestClient(world["app"])
    thief.cookies.set(COOKIE, c.cookies[COOKIE])
    return thief


def start(world, name):
    c, token = client(world, name)
    r = c.post(f"/trainee/assignments/{world['assignment']}/start", data={"csrf": token},
               follow_redirects=False)
    return c, token, int(r.headers["location"].rsplit("/", 1)[1])


# --- point 4: logins that end when they are ended ---------------------------------------------

def test_a_cookie_copied_before_logout_gets_401(world):
    c, token, sid = start(world, "bob")
    thief = copy_of(c, world)
    assert thief.get("/trainee").status_code == 200
    assert c.post("/logout", data={"csrf": token}, follow_redirects=False).status_code == 303
    assert thief.get("/trainee").status_code == 401
    r = thief.post(f"/api/sessions/{sid}/decisions", json={"card_id": "c7-1", "action": "file"},
                   headers={"X-CSRF-Token": token})
    assert r.status_code in (401, 403) and world["store"].decisions_of(sid) == []
    assert c.get("/trainee").status_code == 401


def test_a_new_password_ends_every_login_of_the_account(world, monkeypatch, capsys):
    """From the command line (another process), within `RECHECK` seconds."""
    clock = Clock()
    world["app"].state.console.logins._clock = clock
    c, _ = client(world, "bob")
    other, _ = client(world, "bob")                      # a second device
    cat, _ = client(world, "cat")
    assert c.get("/trainee").status_code == 200          # found live: trusted a moment
    store = world["store"]
    db = str(world["path"] / "console.db") if store.engine.dialect.name == "sqlite" \
        else os.environ["GRIDLOOP_TEST_PG"]
    monkeypatch.setattr("sys.stdin", io.StringIO("a brand new password\n"))
    assert main(["users", "password", "bob", "--password-stdin", "--db", db]) == 0
    assert "2 login(s) ended" in capsys.readouterr().out
    clock.now += RECHECK
    assert c.get("/trainee").status_code == 401 and other.get("/trainee").status_code == 401
    assert cat.get("/trainee").status_code == 200
    login(c, "bob", "a brand new password")
    assert c.get("/trainee").status_code == 200


def test_an_instructor_ends_the_logins_of_a_class_or_one_trainee(world):
    bob, _ = client(world, "bob")
    cat, _ = client(world, "cat")
    assert cat.get("/trainee").status_code == 200 and bob.get("/trainee").status_code == 200
    ann, token = client(world, "ann")
    r = ann.post("/instructor/access/end", data={"csrf": token, "class": world["class"],
                                                 "trainee": "cat"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("ended=1")
    assert cat.get("/trainee").status_code == 401 and bob.get("/trainee").status_code == 200
    ann.post("/instructor/access/end", data={"csrf": token, "class": world["class"]})
    assert bob.get("/trainee").status_code == 401
    assert ann.get("/instructor").status_code == 200          # not the instructor's own
    dan, dtoken = client(world, "dan")                       # not dan's class: 404
    bob2, _ = client(world, "bob")
    r = dan.post("/instructor/access/end", data={"csrf": dtoken, "class": world["class"]})
    assert r.status_code == 404 and bob2.get("/trainee").status_code == 200


def test_cookies_are_secure_over_https_and_behind_a_proxy_that_says_so(shared):
    plain = TestClient(shared["app"]).get("/login")
    assert "secure" not in plain.headers["set-cookie"].lower()
    direct = TestClient(shared["app"], base_url="https://testserver").get("/login")
    assert direct.headers["set-cookie"].endswith("; Secure")
    assert "max-age=31536000" in direct.headers["strict-transport-security"]
    import httpx

    with served(shared["app"]) as url:                    # uvicorn trusts 127.0.0.1's proxy
        r = httpx.get(f"{url}/login", headers={"X-Forwarded-Proto": "https"})
        assert r.headers["set-cookie"].endswith("; Secure")
        assert "secure" not in httpx.get(f"{url}/login").headers["set-cookie"].lower()


# --- point 5: throttled logins ----------------------------------------------------------------

class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def wrong(c: TestClient, token: str, name: str, password: str = "wrong password") -> int:
    return c.post("/login", data={"name": name, "password": password, "csrf": token}
                  ).status_code


def test_the_eleventh_wrong_password_in_a_minute_is_throttled(fresh, caplog):
    clock = Clock()
    fresh["app"].state.console.throttle._clock = clock
    c, token = client(fresh)
    codes = [wrong(c, token, "bob") for _ in range(10)]
    assert codes == [401] * 10
    r = c.post("/login", data={"name": "bob", "password": PASSWORD, "csrf": token})
    assert r.status_code == 429 and int(r.headers["retry-after"]) == 60  # even the right one
    assert "too many failed logins for this account" in r.text
    assert any("lock-out: account 'bob'" in m for m in caplog.messages)
    clock.now += 61
    login(c, "bob")                                        # the lock has passed
    ann, _ = client(fresh, "ann")
    page = ann.get("/instructor/access").text
    assert "account bob" in page and "<td>10</td>" in page  # visible to instructors


def test_lock_outs_double_and_an_address_is_throttled_across_accounts():
    clock, seen = Clock(), []
    t = throttle.LoginThrottle(record=lambda *a: seen.append(a), clock=clock)
    for lock in (60, 120, 240, 480, 900, 900):
        for _ in range(throttle.ACCOUNT_FAILURES):
            t.failed("bob", f"10.0.0.{lock % 250}")
        assert t.refusal("bob", "10.9.9.9").retry_after == lock
        clock.now += lock + 1
    assert [a[:3] for a in seen] == [("account", "bob", 10)] * 6
    for i in range(throttle.ADDRESS_FAILURES):           # a spray of names from one address
        t.failed(f"user{i}", "10.1.1.1")
    refused = t.refusal("someone-else", "10.1.1.1")
    assert refused is not None and refused.kind == "address"
    assert t.refusal("someone-else", "10.1.1.2") is None


def test_a_flood_from_one_address_does_not_starve_another():
    """The checks of each address are taken in turn: with two threads busy on a flood of
    ten from one address, a check from another address is the next one run."""
    started: list[str] = []
    gate = threading.Event()

    def check(who: str) -> bool:
        started.append(who)
        gate.wait(10)
        return False

    async def scenario() -> None:
        checks = PasswordChecks(workers=2)
        flood = [asyncio.ensure_future(checks.run("10.0.0.1", check, f"flood{i}"))
                 for i in range(10)]
        await asyncio.sleep(0)
        real = asyncio.ensure_future(checks.run("10.0.0.2", check, "real"))
        while len(started) < 2:
            await asyncio.sleep(0.01)
        gate.set()
        await asyncio.gather(*flood, real)
        checks.close()

    asyncio.run(scenario())
    assert started[:2] == ["flood0", "flood1"] and "real" in started[2:4]


# --- point 6: bodies, numbers, downloads, headers ---------------------------------------------

def _raw(url: str, head: str, body_part: bytes) -> bytes:
    """Send a request head and the first part of its body; the server's answer."""
    host, port = urlsplit(url).hostname, urlsplit(url).port
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(head.encode() + body_part)
        s.shutdown(socket.SHUT_WR)            # never send the rest: it is not waited for
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize("path, kind", [
    ("/login", "multipart/form-data; boundary=x"),          # anonymous
    ("/api/sessions/1/decisions", "application/json"),
])
def test_a_50_mb_body_gets_413_without_being_read(shared, path, kind):
    with served(shared["app"]) as url:
        head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {kind}\r\n"
                f"Content-Length: {50 * 2**20}\r\n\r\n")
        answer = _raw(url, head, b"x" * 1000)
    status, _, rest = answer.partition(b"\r\n")
    assert status.startswith(b"HTTP/1.1 413"), answer[:200]
    assert all(h.encode() in rest.lower() for h in SECURITY_HEADERS)


def test_a_streamed_body_over_the_limit_gets_413(shared):
    c, token, sid = start(shared, "bob")

    def chunks():
        for _ in range(MAX_BODY // 1000 + 2):
            yield b"x" * 1000

    r = c.post(f"/api/sessions/{sid}/decisions", content=chunks(),
               headers={"X-CSRF-Token": token, "Content-Type": "application/json"})
    assert "content-length" not in r.request.headers          # streamed, length unknown
    assert r.status_code == 413 and shared["store"].decisions_of(sid) == []


@pytest.mark.parametrize("path", ["/instructor/classes/9223372036854775808",
                                  "/instructor/classes/" + "9" * 400 + "/grades.csv",
                                  "/api/classes/99999999999999999999/progress",
                                  "/sessions/9223372036854775808/result"])
def test_ids_past_64_bits_are_422_not_500(shared, path):
    c, _ = client(shared, "ann")
    r = c.get(path)
    assert r.status_code == 422 and "expected a whole number up to" in r.text


@pytest.mark.parametrize("seed", ["²", "9" * 5000, "1" * 20, "١٢٣"])
def test_seeds_that_are_not_plain_64_bit_numbers_are_422(shared, seed):
    c, token = client(shared, "ann")
    r = c.post(f"/instructor/classes/{shared['class']}/assignments",
               data={"exercise": "busy-morning", "seed": seed, "csrf": token})
    assert r.status_code == 422 and "seed: expected a whole number" in r.text


@pytest.mark.parametrize("raw", ['{"subclass": 1e999}', '{"subclass": Infinity}',
                                 '{"subclass": NaN}', '{"subclass": -1e400}',
                                 '{"subclass": 1' + "0" * 400 + "}"])
def test_decision_fields_out_of_range_are_422(shared, raw):
    c, token, sid = start(shared, "bob")
    c.post(f"/api/sessions/{sid}/step", json={"minutes": 15}, headers={"X-CSRF-Token": token})
    body = '{"card_id": "c7-1", "action": "file", "fields": ' + raw + "}"
    r = c.post(f"/api/sessions/{sid}/decisions", content=body,
               headers={"X-CSRF-Token": token, "Content-Type": "application/json"})
    assert r.status_code == 422 and shared["store"].decisions_of(sid) == []


def test_a_class_named_in_chinese_exports_its_gradebook(shared):
    c, token = client(shared, "ann")
    name = "东城 spring intake"
    r = c.post("/instructor/classes", data={"name": name, "csrf": token},
               follow_redirects=False)
    cid = r.headers["location"].rsplit("/", 1)[1]
    r = c.get(f"/instructor/classes/{cid}/grades.csv")
    assert r.status_code == 200 and r.text.startswith("class,trainee")
    disposition = r.headers["content-disposition"]
    assert 'filename="gradebook-spring-intake.csv"' in disposition
    assert f"filename*=UTF-8''{quote('gradebook-' + name + '.csv', safe='')}" in disposition


def test_every_answer_carries_the_security_headers_even_a_crash(shared, monkeypatch):
    c, token = client(shared, "ann")
    answers = [c.get("/login"), c.get("/nowhere"), c.get("/instructor/classes/99999"),
               c.get("/instructor/classes/9223372036854775808"),
               c.post("/login", data={"name": "x"}),                      # no CSRF: 403
               c.post("/instructor/classes", data={"name": "", "csrf": token})]
    monkeypatch.setattr(shared["store"], "classes_of",
                        lambda _uid: (_ for _ in ()).throw(RuntimeError("boom")))
    crash = TestClient(shared["app"], raise_server_exceptions=False)
    crash.cookies.set(COOKIE, c.cookies[COOKIE])
    answers.append(crash.get("/instructor"))
    assert [a.status_code for a in answers] == [200, 404, 404, 422, 403, 422, 500]
    for a in answers:
        assert all(h in a.headers for h in SECURITY_HEADERS), (a.status_code, a.headers)
    assert "boom" not in answers[-1].text and "Traceback" not in answers[-1].text


# --- point 11: accounts and the database file -------------------------------------------------

@pytest.mark.parametrize("name", ["eve\n", "eve\r", "eve ", "\neve", "e"])
def test_user_names_are_checked_whole(tmp_path, monkeypatch, capsys, name):
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    db = str(tmp_path / "c.db")
    assert main(["users", "add", name, "--role", "trainee", "--password-stdin",
                 "--db", db]) == 2
    assert "user name: expected" in capsys.readouterr().err
    assert ConsoleStore(db).list_users() == []


def test_the_console_database_is_private_to_its_owner(tmp_path):
    fresh = tmp_path / "fresh.db"
    ConsoleStore(str(fresh)).close()
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    old = tmp_path / "old.db"
    ConsoleStore(str(old)).close()
    os.chmod(old, 0o644)                                   # as earlier versions left it
    store = ConsoleStore(str(old))
    add_users(store, eve="trainee")
    store.close()
    for p in Path(tmp_path).glob("old.db*"):
        assert stat.S_IMODE(p.stat().st_mode) & 0o077 == 0, p
