"""Logins kept on the server, so ending one takes effect at once.

The signed cookie carries a random login token; the database keeps only the token's
SHA-256 (a stolen database opens no session), whose account it is, and when it ends. A
request is logged in only while its token's row exists and has not expired: logging out,
a new password (`gridloop users password`) and an instructor's "end sessions" delete rows,
so a cookie copied before then gets 401 on its next request. Lock-outs after failed logins
(`training.console.throttle`) are recorded here too, for instructors to see.

The tables live in their own `metadata`, created beside the console's (`ConsoleStore`) on
the same database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

__all__ = ["Logins", "LIFETIME", "RECHECK", "metadata"]

LIFETIME = dt.timedelta(hours=12)     # a working day and then some; then log in again
RECHECK = 2.0                         # seconds a token found live is trusted without a query
_REMEMBER = 100_000                   # tokens remembered at most (then forgotten at once)

metadata = sa.MetaData()

logins = sa.Table(
    "console_logins", metadata,
    sa.Column("id", sa.String(64), primary_key=True),          # SHA-256 of the token, hex
    sa.Column("user_id", sa.Integer, nullable=False, index=True),
    sa.Column("address", sa.String(64), nullable=False),       # where it logged in from
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)

lockouts = sa.Table(
    "console_lockouts", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),          # account or address
    sa.Column("key", sa.String(120), nullable=False),          # the name typed, or the IP
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("until", sa.DateTime(timezone=True), nullable=False),
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _naive(t: Any) -> dt.datetime:
    """A stored time as naive UTC (SQLite gives naive values back, PostgreSQL aware)."""
    return t.astimezone(dt.UTC).replace(tzinfo=None) if t.tzinfo else t


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Logins:
    """The login rows and lock-out records of one console database.

    A token found live is trusted for `RECHECK` seconds without asking the database again
    (a class polls every second; each poll would otherwise cost a query and a trip to a
    thread). Ending logins here forgets them at once; a new password set by another process
    (`gridloop users password`) takes effect within `RECHECK` seconds.
    """

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self._clock = clock
        self._seen: dict[str, tuple[int, float]] = {}     # digest -> (account, checked at)
        self._lock = threading.Lock()
        metadata.create_all(engine)

    def cached_user_of(self, token: str) -> int | None:
        """The account of a token found live less than `RECHECK` seconds ago; None: ask
        `user_of` (no I/O: for the event loop)."""
        with self._lock:
            seen = self._seen.get(_digest(token)) if len(token) <= 128 else None
        if seen is None or self._clock() - seen[1] >= RECHECK:
            return None
        return seen[0]

    def start(self, user_id: int, address: str) -> str:
        """A new login of ``user_id``; returns the token for its cookie (only its digest is
        stored). Logins that have expired are cleared out on the way."""
        token = secrets.token_urlsafe(32)
        now = _now()
        with self.engine.begin() as c:
            c.execute(logins.delete().where(logins.c.expires_at < now))
            c.execute(logins.insert().values(id=_digest(token), user_id=user_id,
                                             address=address[:64], started_at=now,
                                             expires_at=now + LIFETIME))
        return token

    def user_of(self, token: str) -> int | None:
        """The account a token is logged in as (None: ended, expired or never issued)."""
        if not token or len(token) > 128:
            return None
        digest, checked = _digest(token), self._clock()
        with self.engine.begin() as c:
            row = c.execute(sa.select(logins.c.user_id, logins.c.expires_at)
                            .where(logins.c.id == digest)).first()
        live = row is not None and _naive(row.expires_at) > _naive(_now())
        with self._lock:
            if live:
                if len(self._seen) > _REMEMBER:
                    self._seen.clear()
                self._seen[digest] = (int(row.user_id), checked)
            else:
                self._seen.pop(digest, None)
        return int(row.user_id) if live else None

    def end(self, token: str) -> None:
        """Log one login out."""
        with self._lock:
            self._seen.pop(_digest(token), None)
        with self.engine.begin() as c:
            c.execute(logins.delete().where(logins.c.id == _digest(token)))

    def end_users(self, user_ids: Iterable[int]) -> int:
        """End every login of these accounts (a new password, an instructor's "end
        sessions"); returns how many ended."""
        ids = list(user_ids)
        if not ids:
            return 0
        with self._lock:
            for digest in [d for d, (uid, _) in self._seen.items() if uid in ids]:
                del self._seen[digest]
        with self.engine.begin() as c:
            return int(c.execute(logins.delete().where(logins.c.user_id.in_(ids))).rowcount)

    def active(self, user_ids: Iterable[int]) -> dict[int, int]:
        """Live logins per account, for these accounts."""
        ids = list(user_ids)
        if not ids:
            return {}
        q = (sa.select(logins.c.user_id, sa.func.count()).where(
            logins.c.user_id.in_(ids), logins.c.expires_at > _now())
            .group_by(logins.c.user_id))
        with self.engine.begin() as c:
            return {int(u): int(n) for u, n in c.execute(q).all()}

    def record_lockout(self, kind: str, key: str, failures: int, until: dt.datetime) -> None:
        with self.engine.begin() as c:
            c.execute(lockouts.insert().values(at=_now(), kind=kind, key=key[:120],
                                               failures=failures, until=until))

    def recent_lockouts(self, since: dt.timedelta = dt.timedelta(days=7),
                        limit: int = 200) -> list[dict[str, Any]]:
        """Lock-outs of the last ``since``, newest first."""
        q = (sa.select(lockouts).where(lockouts.c.at > _now() - since)
             .order_by(lockouts.c.at.desc(), lockouts.c.id.desc()).limit(limit))
        with self.engine.begin() as c:
            return [dict(r) for r in c.execute(q).mappings().all()]
