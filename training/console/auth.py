"""Who is at the keyboard: Argon2 password hashes, the cookie secret and CSRF tokens.

Passwords are stored only as Argon2id hashes (argon2-cffi), checked on threads of their own
taken in turn by client address (`PasswordChecks`). The cookie is signed (Starlette's
SessionMiddleware, itsdangerous) with a secret from ``GRIDLOOP_CONSOLE_SECRET`` or, failing
that, a file generated once with owner-only permissions; the login it carries lives on the
server (`training.console.logins`). Every state-changing
request carries the session's CSRF token (a form field or the ``X-CSRF-Token`` header).
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import os
import re
import secrets
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from sim.errors import GridLoopError

__all__ = ["hash_password", "verify_password", "console_secret", "new_csrf_token",
           "same_token", "check_user_name", "check_password", "SECRET_ENV", "PasswordChecks",
           "Busy"]

SECRET_ENV = "GRIDLOOP_CONSOLE_SECRET"
_hasher = PasswordHasher()
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")
MIN_PASSWORD = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


# Argon2 wants 64 MiB and tens of milliseconds a check, on purpose: a class logging in at
# once queues here rather than holding 30 x 64 MiB at the same time.
_checks = threading.BoundedSemaphore(2)


def verify_password(password_hash: str, password: str) -> bool:
    with _checks:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


_DUMMY = hash_password("a password nobody has")


class Busy(GridLoopError):
    """Too many logins from one client are waiting for their password check."""


class PasswordChecks:
    """Argon2 checks off the event loop, on their own threads, taken in turn by client.

    Each client address has its own queue and the ``workers`` threads take the next check
    from each address in turn, so a flood of logins from one address delays another
    address's login by at most one check per worker, not by the whole flood. An address
    with ``per_client`` checks waiting is refused (`Busy`). Call `run` from the event loop.
    """

    def __init__(self, workers: int = 2, per_client: int = 64) -> None:
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="argon2")
        self._free = workers
        self.per_client = per_client
        self._queues: OrderedDict[str, deque[tuple[Callable[[], bool],
                                                   asyncio.Future[bool]]]] = OrderedDict()

    async def run(self, client: str, check: Callable[..., bool], *args: str) -> bool:
        """``check(*args)`` (a password check) in turn with the other clients' checks."""
        loop = asyncio.get_running_loop()
        queue = self._queues.setdefault(client, deque())
        if len(queue) >= self.per_client:
            raise Busy(f"{len(queue)} logins from {client} are already waiting")
        done: asyncio.Future[bool] = loop.create_future()
        queue.append((functools.partial(check, *args), done))
        self._next(loop)
        return await done

    def _next(self, loop: asyncio.AbstractEventLoop) -> None:
        while self._free and self._queues:
            client, queue = next(iter(self._queues.items()))
            job, done = queue.popleft()
            if queue:
                self._queues.move_to_end(client)       # its next check waits its turn
            else:
                del self._queues[client]
            if done.done():                            # the request went away
                continue
            self._free -= 1
            self._pool.submit(job).add_done_callback(
                lambda f, done=done: loop.call_soon_threadsafe(self._finish, loop, f, done))

    def _finish(self, loop: asyncio.AbstractEventLoop, f: Future[bool],
                done: asyncio.Future[bool]) -> None:
        self._free += 1
        if not done.done():
            if f.exception() is not None:
                done.set_exception(f.exception())  # type: ignore[arg-type]
            else:
                done.set_result(f.result())
        self._next(loop)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def verify_unknown(password: str) -> bool:
    """Spend the same work as a real check, so timing does not reveal unknown names."""
    verify_password(_DUMMY, password)
    return False


def check_user_name(name: str) -> str:
    if not _NAME.fullmatch(name):      # fullmatch: "$" would let a final newline through
        raise GridLoopError(f"user name: expected 2-64 letters, digits, '.', '_' or '-' "
                            f"starting with a letter or digit, got {name!r}")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise GridLoopError(f"password: expected at least {MIN_PASSWORD} characters, "
                            f"got {len(password)}")
    return password


def console_secret(secret_file: Path) -> str:
    """The cookie-signing secret: ``$GRIDLOOP_CONSOLE_SECRET``, else a generated file."""
    env = os.environ.get(SECRET_ENV, "")
    if env:
        if len(env) < 32:
            raise GridLoopError(f"{SECRET_ENV}: expected at least 32 characters, "
                                f"got {len(env)}")
        return env
    if secret_file.exists():
        text = secret_file.read_text().strip()
        if len(text) >= 32:
            return text
    secret_file.parent.mkdir(parents=True, exist_ok=True)
    text = secrets.token_urlsafe(48)
    tmp = secret_file.with_name(f".{secret_file.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")
    os.replace(tmp, secret_file)
    return text


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))
