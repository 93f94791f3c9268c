"""Fixtures' helpers for the console tests: databases (SQLite and, when
``GRIDLOOP_TEST_PG`` names one, PostgreSQL), accounts, logged-in clients, a live server."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from training.console import logins
from training.console.auth import hash_password
from training.console.db import ConsoleStore, metadata

PG_ENV = "GRIDLOOP_TEST_PG"
SECRET = "test-secret-" + "x" * 40
PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')

DB_KINDS = [pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres")]


def make_store(kind: str, tmp_path: Path) -> ConsoleStore:
    """A fresh, empty store of ``kind``; the postgres leg skips when no database is named."""
    if kind == "sqlite":
        return ConsoleStore(str(tmp_path / "console.db"))
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set: no PostgreSQL to test against (.ci/run sets it)")
    store = ConsoleStore(url)
    for tables in (logins.metadata, metadata):        # the console's and the logins' tables
        tables.drop_all(store.engine)
        tables.create_all(store.engine)
    return store


def same_db(kind: str, tmp_path: Path) -> ConsoleStore:
    """Another store on the database `make_store` made (a restarted server)."""
    if kind == "sqlite":
        return ConsoleStore(str(tmp_path / "console.db"))
    return ConsoleStore(os.environ[PG_ENV])


def add_users(store: ConsoleStore, **roles: str) -> dict[str, int]:
    h = hash_password(PASSWORD)          # one hash for all: Argon2 is slow on purpose
    return {name: store.add_user(name, role, h) for name, role in roles.items()}


def csrf_of(html: str) -> str:
    m = _CSRF.search(html)
    assert m, "the page has no CSRF field"
    return m.group(1)


def login(client: Any, name: str, password: str = PASSWORD) -> str:
    """Log ``client`` in as ``name``; returns the new CSRF token."""
    token = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"name": name, "password": password, "csrf": token,
                                    "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return csrf_of(client.get("/login").text)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(app: Any) -> Iterator[str]:
    """Run ``app`` under uvicorn on 127.0.0.1 (a free port) in a thread; yields its URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(400):            # wait for the socket, not for a fixed time
            if server.started:
                break
            time.sleep(0.025)
        else:
            raise RuntimeError("the console server did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
