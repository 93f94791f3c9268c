"""The console's records: accounts, classes, assignments, sessions, decisions and grades.

SQLAlchemy Core on SQLite (a file, the default) or PostgreSQL (by URL, psycopg 3). A session
is kept as its exercise, seed and ordered decision log plus the trainee's simulated clock; the
live `training.session.Session` is rebuilt from that by replay, so nothing here depends on
the engine's objects. Every write is one transaction: a decision row and the session's new
clock commit together or not at all.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sim.errors import GridLoopError

__all__ = ["ConsoleStore", "database_url", "ROLES", "metadata"]

ROLES = ("instructor", "trainee")

metadata = sa.MetaData()

users = sa.Table(
    "console_users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("lang", sa.String(16), nullable=True),      # None: the browser's language
)

classes = sa.Table(
    "console_classes", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("instructor_id", sa.Integer, sa.ForeignKey("console_users.id"), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("instructor_id", "name"),
    sa.Column("lang", sa.String(16), nullable=True),      # None: each trainee's own
)
# Columns added after the first release, by table: `ConsoleStore` adds them to a database
# made before (SQLAlchemy's create_all makes missing tables only, never missing columns).
ADDED_COLUMNS = {"console_users": ("lang",), "console_classes": ("lang",)}

members = sa.Table(
    "console_members", metadata,
    sa.Column("class_id", sa.Integer, sa.ForeignKey("console_classes.id"), primary_key=True),
    sa.Column("trainee_id", sa.Integer, sa.ForeignKey("console_users.id"), primary_key=True),
)

assignments = sa.Table(
    "console_assignments", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("class_id", sa.Integer, sa.ForeignKey("console_classes.id"), nullable=False),
    sa.Column("exercise_id", sa.String(120), nullable=False),
    sa.Column("seed", sa.BigInteger, nullable=True),   # None: the exercise's own seed
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("class_id", "exercise_id"),
)

attempts = sa.Table(
    "console_sessions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("assignment_id", sa.Integer, sa.ForeignKey("console_assignments.id"),
              nullable=False),
    sa.Column("trainee_id", sa.Integer, sa.ForeignKey("console_users.id"), nullable=False),
    sa.Column("exercise_id", sa.String(120), nullable=False),
    sa.Column("seed", sa.BigInteger, nullable=True),
    sa.Column("sim_now", sa.Float, nullable=False),      # the trainee's clock, minutes
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    sa.UniqueConstraint("assignment_id", "trainee_id"),
)

decisions = sa.Table(
    "console_decisions", metadata,
    sa.Column("session_id", sa.Integer, sa.ForeignKey("console_sessions.id"), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),       # 0, 1, 2... in the order taken
    sa.Column("sim_time", sa.Float, nullable=False),
    sa.Column("card_id", sa.String(120), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("fields", sa.Text, nullable=False),         # JSON object
    sa.Column("record", sa.Text, nullable=True),          # the SessionRecord after it (JSON)
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

grades = sa.Table(
    "console_grades", metadata,
    sa.Column("session_id", sa.Integer, sa.ForeignKey("console_sessions.id"), primary_key=True),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("letter", sa.String(8), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),         # the Grade as JSON
    sa.Column("graded_at", sa.DateTime(timezone=True), nullable=False),
)


def database_url(text: str) -> str:
    """A SQLAlchemy URL from ``--db``: a file path means SQLite; postgres URLs use psycopg 3."""
    if "://" not in text:
        return f"sqlite:///{Path(text).expanduser().resolve()}"
    for prefix in ("postgresql://", "postgres://"):
        if text.startswith(prefix):
            return "postgresql+psycopg://" + text[len(prefix):]
    if text.startswith(("sqlite://", "postgresql+psycopg://")):
        return text
    raise GridLoopError(f"--db: expected a SQLite file path, sqlite:///FILE or "
                        f"postgresql://USER@HOST/DB, got {text!r}")


def _private_file(url: str) -> None:
    """A SQLite database file readable by its owner only (it holds the password hashes):
    created 0600 before SQLite opens it (its -wal and -shm files take the same mode), and an
    existing one that others may read is made so (0644 was the default before)."""
    if not url.startswith("sqlite:///") or url in ("sqlite://", "sqlite:///:memory:"):
        return
    path = Path(url.removeprefix("sqlite:///").split("?", 1)[0])
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        st = path.stat()
        if st.st_mode & 0o077 and st.st_uid == os.getuid() and stat.S_ISREG(st.st_mode):
            os.chmod(path, 0o600)
    except OSError:
        return           # SQLite says what is wrong with the path when it opens it


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    password_hash: str
    lang: str | None = None       # the account's language; None: the browser's


def _user(r: Any) -> User:
    return User(r.id, r.name, r.role, r.password_hash, r.lang)


class _Waiter:
    __slots__ = ("item", "done", "lead", "error")

    def __init__(self, item: Any) -> None:
        self.item, self.done, self.lead = item, threading.Event(), False
        self.error: BaseException | None = None


class GroupCommit:
    """Writes from many threads committed together: ``commit(item)`` returns once ``write``
    has committed a batch holding ``item`` (or raises what committing it raised).

    No thread of its own: the first caller to find no batch being written writes every item
    waiting then, in one call of ``write`` (one transaction); callers arriving meanwhile wait
    and form the next batch, which one of them writes. If a batch fails, each of its items is
    written alone, so an item fails only for its own error."""

    def __init__(self, write: Callable[[list[Any]], None]) -> None:
        self._write = write
        self._lock = threading.Lock()
        self._waiting: list[_Waiter] = []
        self._writing = False

    def commit(self, item: Any) -> None:
        me = _Waiter(item)
        with self._lock:
            self._waiting.append(me)
            lead = not self._writing
            self._writing = True
        if not lead:
            me.done.wait()
            if not me.lead:
                if me.error is not None:
                    raise me.error
                return
        self._write_batch()
        if me.error is not None:
            raise me.error

    def _write_batch(self) -> None:
        with self._lock:
            batch, self._waiting = self._waiting, []
        try:
            self._write([w.item for w in batch])
        except BaseException:
            for w in batch:
                try:
                    self._write([w.item])
                except BaseException as e:     # noqa: BLE001 - handed to its caller
                    w.error = e
        finally:
            with self._lock:
                nxt = self._waiting[0] if self._waiting else None
                self._writing = nxt is not None
            if nxt is not None:        # the next batch is written by one of its own callers
                nxt.lead = True
                nxt.done.set()
            for w in batch:
                w.done.set()


class ConsoleStore:
    """All reads and writes of the console, one short transaction each."""

    def __init__(self, url: str) -> None:
        url = database_url(url)
        kw: dict[str, Any] = {}
        _private_file(url)
        if url.startswith("sqlite"):
            kw["connect_args"] = {"check_same_thread": False, "timeout": 30}
        # a server connection may drop between requests: ping it before use; a SQLite file
        # cannot, and a ping before each of a poll's queries is one more query each
        self.engine: Engine = sa.create_engine(url, future=True,
                                               pool_pre_ping=not url.startswith("sqlite"), **kw)
        if url.startswith("sqlite"):
            @sa.event.listens_for(self.engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=FULL")   # committed means on disk
                cur.close()
        self._group = GroupCommit(self._write_together)
        try:
            metadata.create_all(self.engine)
            self._add_columns()
        except sa.exc.OperationalError as e:
            raise GridLoopError(f"console database {url.split('@')[-1]}: cannot open "
                                f"({e.orig})") from None

    def _add_columns(self) -> None:
        """`ADDED_COLUMNS` missing from a database made by an earlier version, added."""
        have = sa.inspect(self.engine)
        for table, names in ADDED_COLUMNS.items():
            present = {c["name"] for c in have.get_columns(table)}
            for name in names:
                if name not in present:
                    kind = metadata.tables[table].c[name].type.compile(
                        dialect=self.engine.dialect)
                    # another server (or test) on the same database may add it meanwhile
                    guard = "IF NOT EXISTS " if self.engine.dialect.name == "postgresql" \
                        else ""
                    try:
                        with self.tx() as c:
                            c.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN {guard}"
                                              f"{name} {kind}"))
                    except sa.exc.OperationalError:
                        if name not in {c["name"] for c in
                                        sa.inspect(self.engine).get_columns(table)}:
                            raise

    @contextmanager
    def tx(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    def close(self) -> None:
        self.engine.dispose()

    # -- accounts ---------------------------------------------------------------------------
    def add_user(self, name: str, role: str, password_hash: str) -> int:
        with self.tx() as c:
            if c.execute(sa.select(users.c.id).where(users.c.name == name)).first():
                raise GridLoopError(f"user {name!r} already exists")
            return int(c.execute(users.insert().values(
                name=name, role=role, password_hash=password_hash, created_at=_now())
            ).inserted_primary_key[0])

    def set_password(self, name: str, password_hash: str) -> None:
        with self.tx() as c:
            n = c.execute(users.update().where(users.c.name == name)
                          .values(password_hash=password_hash)).rowcount
        if not n:
            raise GridLoopError(f"no user named {name!r}")

    def user_by_name(self, name: str) -> User | None:
        with self.tx() as c:
            r = c.execute(sa.select(users).where(users.c.name == name)).first()
        return _user(r) if r else None

    def user(self, user_id: int) -> User | None:
        with self.tx() as c:
            r = c.execute(sa.select(users).where(users.c.id == user_id)).first()
        return _user(r) if r else None

    def list_users(self) -> list[User]:
        with self.tx() as c:
            rows = c.execute(sa.select(users).order_by(users.c.name)).all()
        return [_user(r) for r in rows]

    def set_language(self, user_id: int, lang: str | None) -> None:
        """The account's language (None: follow the browser)."""
        with self.tx() as c:
            c.execute(users.update().where(users.c.id == user_id).values(lang=lang))

    # -- classes ----------------------------------------------------------------------------
    def add_class(self, instructor_id: int, name: str) -> int:
        with self.tx() as c:
            if c.execute(sa.select(classes.c.id).where(
                    classes.c.instructor_id == instructor_id, classes.c.name == name)).first():
                raise GridLoopError(f"you already have a class named {name!r}")
            return int(c.execute(classes.insert().values(
                name=name, instructor_id=instructor_id, created_at=_now())
            ).inserted_primary_key[0])

    def classes_of(self, instructor_id: int) -> list[dict[str, Any]]:
        n_members = (sa.select(sa.func.count()).select_from(members)
                     .where(members.c.class_id == classes.c.id).scalar_subquery())
        with self.tx() as c:
            rows = c.execute(sa.select(classes, n_members.label("n_trainees"))
                             .where(classes.c.instructor_id == instructor_id)
                             .order_by(classes.c.name)).mappings().all()
        return [dict(r) for r in rows]

    def class_(self, class_id: int) -> dict[str, Any] | None:
        with self.tx() as c:
            r = c.execute(sa.select(classes).where(classes.c.id == class_id)).mappings().first()
        return dict(r) if r else None

    def add_member(self, class_id: int, trainee_id: int) -> None:
        with self.tx() as c:
            if not c.execute(sa.select(members).where(members.c.class_id == class_id,
                                                      members.c.trainee_id == trainee_id)).first():
                c.execute(members.insert().values(class_id=class_id, trainee_id=trainee_id))

    def members_of(self, class_id: int) -> list[User]:
        with self.tx() as c:
            rows = c.execute(sa.select(users).join(members, members.c.trainee_id == users.c.id)
                             .where(members.c.class_id == class_id)
                             .order_by(users.c.name)).all()
        return [_user(r) for r in rows]

    def set_class_language(self, class_id: int, lang: str | None) -> None:
        """The language the class's trainees play in (None: each their own)."""
        with self.tx() as c:
            c.execute(classes.update().where(classes.c.id == class_id).values(lang=lang))

    # -- assignments ------------------------------------------------------------------------
    def assign(self, class_id: int, exercise_id: str, seed: int | None) -> int:
        with self.tx() as c:
            if c.execute(sa.select(assignments.c.id).where(
                    assignments.c.class_id == class_id,
                    assignments.c.exercise_id == exercise_id)).first():
                raise GridLoopError(f"exercise {exercise_id!r} is already assigned to this class")
            return int(c.execute(assignments.insert().values(
                class_id=class_id, exercise_id=exercise_id, seed=seed, created_at=_now())
            ).inserted_primary_key[0])

    def assignments_of_class(self, class_id: int) -> list[dict[str, Any]]:
        with self.tx() as c:
            rows = c.execute(sa.select(assignments).where(assignments.c.class_id == class_id)
                             .order_by(assignments.c.id)).mappings().all()
        return [dict(r) for r in rows]

    def assignment(self, assignment_id: int) -> dict[str, Any] | None:
        with self.tx() as c:
            r = c.execute(sa.select(assignments, classes.c.instructor_id, classes.c.name
                                    .label("class_name"))
                          .join(classes, classes.c.id == assignments.c.class_id)
                          .where(assignments.c.id == assignment_id)).mappings().first()
        return dict(r) if r else None

    def assignments_of_trainee(self, trainee_id: int) -> list[dict[str, Any]]:
        """The trainee's assignments with their own session (if started) and score."""
        mine = sa.select(attempts).where(attempts.c.trainee_id == trainee_id).subquery()
        q = (sa.select(assignments.c.id, assignments.c.exercise_id, assignments.c.class_id,
                       classes.c.name.label("class_name"), mine.c.id.label("session_id"),
                       mine.c.finished_at, grades.c.score, grades.c.letter)
             .join(classes, classes.c.id == assignments.c.class_id)
             .join(members, sa.and_(members.c.class_id == classes.c.id,
                                    members.c.trainee_id == trainee_id))
             .outerjoin(mine, mine.c.assignment_id == assignments.c.id)
             .outerjoin(grades, grades.c.session_id == mine.c.id)
             .order_by(classes.c.name, assignments.c.id))
        with self.tx() as c:
            return [dict(r) for r in c.execute(q).mappings().all()]

    def is_member(self, class_id: int, trainee_id: int) -> bool:
        with self.tx() as c:
            return c.execute(sa.select(members).where(
                members.c.class_id == class_id, members.c.trainee_id == trainee_id)
            ).first() is not None

    # -- sessions ---------------------------------------------------------------------------
    def start_session(self, assignment_id: int, trainee_id: int, exercise_id: str,
                      seed: int | None, sim_now: float) -> int:
        """The trainee's session of an assignment: the existing one, or a new one."""
        with self.tx() as c:
            r = c.execute(sa.select(attempts.c.id).where(
                attempts.c.assignment_id == assignment_id,
                attempts.c.trainee_id == trainee_id)).first()
            if r:
                return int(r.id)
            return int(c.execute(attempts.insert().values(
                assignment_id=assignment_id, trainee_id=trainee_id, exercise_id=exercise_id,
                seed=seed, sim_now=sim_now, started_at=_now())).inserted_primary_key[0])

    def session(self, session_id: int) -> dict[str, Any] | None:
        q = (sa.select(attempts, assignments.c.class_id, classes.c.instructor_id,
                       users.c.name.label("trainee"), classes.c.lang.label("class_lang"))
             .join(assignments, assignments.c.id == attempts.c.assignment_id)
             .join(classes, classes.c.id == assignments.c.class_id)
             .join(users, users.c.id == attempts.c.trainee_id)
             .where(attempts.c.id == session_id))
        with self.tx() as c:
            r = c.execute(q).mappings().first()
        return dict(r) if r else None

    def sessions_of_class(self, class_id: int) -> list[dict[str, Any]]:
        n_dec = (sa.select(sa.func.count()).select_from(decisions)
                 .where(decisions.c.session_id == attempts.c.id).scalar_subquery())
        q = (sa.select(attempts, users.c.name.label("trainee"), n_dec.label("n_decisions"),
                       grades.c.score, grades.c.letter)
             .join(assignments, assignments.c.id == attempts.c.assignment_id)
             .join(users, users.c.id == attempts.c.trainee_id)
             .outerjoin(grades, grades.c.session_id == attempts.c.id)
             .where(assignments.c.class_id == class_id)
             .order_by(attempts.c.exercise_id, users.c.name))
        with self.tx() as c:
            return [dict(r) for r in c.execute(q).mappings().all()]

    def decisions_of(self, session_id: int) -> list[dict[str, Any]]:
        with self.tx() as c:
            rows = c.execute(sa.select(decisions).where(decisions.c.session_id == session_id)
                             .order_by(decisions.c.seq)).mappings().all()
        return [dict(r, fields=json.loads(r["fields"])) for r in rows]

    def latest_record(self, session_id: int) -> str | None:
        with self.tx() as c:
            r = c.execute(sa.select(decisions.c.record).where(
                decisions.c.session_id == session_id).order_by(decisions.c.seq.desc())
                .limit(1)).first()
        return r.record if r else None

    def record_decision(self, session_id: int, seq: int, sim_time: float, card_id: str,
                        action: str, fields: dict[str, Any], record: str | None) -> None:
        """Commit one decision and the session's clock together (raises if ``seq`` is taken).

        Returns only once the decision is committed. Decisions arriving together (a class
        answering the same card) are committed in one transaction, one flush to disk for all
        of them (`GroupCommit`); if that transaction fails, each is committed on its own, so
        one bad decision fails alone."""
        row = dict(session_id=session_id, seq=seq, sim_time=sim_time, card_id=card_id,
                   action=action, fields=json.dumps(fields, sort_keys=True), record=record,
                   created_at=_now())

        def write(c: Connection) -> None:
            c.execute(decisions.insert().values(**row))
            c.execute(attempts.update().where(attempts.c.id == session_id)
                      .values(sim_now=sim_time))
        self._group.commit(write)

    def _write_together(self, writes: list[Callable[[Connection], None]]) -> None:
        with self.tx() as c:
            for write in writes:
                write(c)

    def set_clock(self, session_id: int, sim_now: float, finished: bool) -> None:
        """The session's clock (and its end), committed with whatever else is being written
        then (a class's clocks end together)."""
        values: dict[str, Any] = {"sim_now": sim_now}
        if finished:
            values["finished_at"] = _now()

        def write(c: Connection) -> None:
            c.execute(attempts.update().where(attempts.c.id == session_id,
                                              attempts.c.finished_at.is_(None)).values(**values))
        self._group.commit(write)

    # -- grades -----------------------------------------------------------------------------
    def save_grade(self, session_id: int, score: float, letter: str, detail: dict) -> None:
        with self.tx() as c:
            c.execute(grades.delete().where(grades.c.session_id == session_id))
            c.execute(grades.insert().values(session_id=session_id, score=score, letter=letter,
                                             detail=json.dumps(detail), graded_at=_now()))

    def grade(self, session_id: int) -> dict[str, Any] | None:
        with self.tx() as c:
            r = c.execute(sa.select(grades).where(grades.c.session_id == session_id)
                          ).mappings().first()
        return dict(r, detail=json.loads(r["detail"])) if r else None
