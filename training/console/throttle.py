"""Login throttling: failed logins per account and per client address, and lock-outs.

An account may fail `ACCOUNT_FAILURES` logins in `WINDOW` seconds, an address (a whole
class may sit behind one) `ADDRESS_FAILURES`; the failure that reaches the limit locks that
account or address out for `FIRST_LOCK` seconds, each further lock-out of it within a day
twice as long as the one before, up to `LONGEST_LOCK`. While locked, a login is refused
without checking the password (so guessing on costs no Argon2 work and a right guess does
not get in). A successful login clears the account's failures. Every lock-out is logged and
recorded (`Logins.record_lockout`) for instructors to see.

Counts are kept in memory (one console process); ``clock`` is injectable so tests need not
wait.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["LoginThrottle", "Refusal", "ACCOUNT_FAILURES", "ADDRESS_FAILURES", "WINDOW",
           "FIRST_LOCK", "LONGEST_LOCK"]

log = logging.getLogger(__name__)

ACCOUNT_FAILURES = 10      # failed logins of one account in WINDOW: the next is refused
ADDRESS_FAILURES = 30      # from one address (a classroom behind one router mistypes too)
WINDOW = 60.0              # seconds
FIRST_LOCK = 60.0          # seconds; doubles with each lock-out of the same key in a day
LONGEST_LOCK = 900.0
_FORGET = 86400.0          # a key with no lock-out for a day starts again from FIRST_LOCK
_PRUNE_AT = 10_000         # keys kept before old ones are dropped (a spray of random names)


@dataclass
class _Key:
    failures: deque[float] = field(default_factory=deque)
    locked_until: float = 0.0
    locks: int = 0
    last_lock: float = float("-inf")


@dataclass(frozen=True)
class Refusal:
    """A login refused before its password is checked: who is locked and for how long."""

    kind: str            # "account" or "address"
    key: str
    retry_after: float   # seconds


class LoginThrottle:
    """Failure counts and lock-outs (thread-safe).

    Args:
        record: called with (kind, key, failures, locked until) at each lock-out.
        clock: seconds, monotonic (default `time.monotonic`).
    """

    def __init__(self, record: Callable[[str, str, int, dt.datetime], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._record = record
        self._clock = clock
        self._keys: dict[tuple[str, str], _Key] = {}
        self._lock = threading.Lock()

    def refusal(self, account: str, address: str) -> Refusal | None:
        """Why a login of ``account`` from ``address`` may not be tried now (None: it may)."""
        now = self._clock()
        with self._lock:
            for kind, key in (("account", account.lower()), ("address", address)):
                k = self._keys.get((kind, key))
                if k is not None and k.locked_until > now:
                    return Refusal(kind, key, k.locked_until - now)
        return None

    def failed(self, account: str, address: str) -> list[Refusal]:
        """Count a failed login; lock out whichever of the two reached its limit (returned)."""
        now = self._clock()
        locked: list[tuple[Refusal, int]] = []
        with self._lock:
            if len(self._keys) > _PRUNE_AT:
                self._prune(now)
            for kind, key, limit in (("account", account.lower(), ACCOUNT_FAILURES),
                                     ("address", address, ADDRESS_FAILURES)):
                k = self._keys.setdefault((kind, key), _Key())
                k.failures.append(now)
                while k.failures and k.failures[0] <= now - WINDOW:
                    k.failures.popleft()
                if len(k.failures) >= limit:
                    k.locks = k.locks + 1 if now - k.last_lock < _FORGET else 1
                    seconds = min(FIRST_LOCK * 2 ** (k.locks - 1), LONGEST_LOCK)
                    k.locked_until, k.last_lock = now + seconds, now
                    locked.append((Refusal(kind, key, seconds), len(k.failures)))
                    k.failures.clear()
        for refusal, failures in locked:          # logged and recorded outside the lock
            log.warning("login lock-out: %s %r after %d failed logins in %.0f s, for %.0f s",
                        refusal.kind, refusal.key, failures, WINDOW, refusal.retry_after)
            if self._record is not None:
                until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=refusal.retry_after)
                try:
                    self._record(refusal.kind, refusal.key, failures, until)
                except Exception:       # noqa: BLE001 - the lock-out holds without its record
                    log.exception("could not record the lock-out of %s %r", refusal.kind,
                                  refusal.key)
        return [r for r, _ in locked]

    def succeeded(self, account: str) -> None:
        """A right password: the account's failures and back-off are forgotten."""
        with self._lock:
            self._keys.pop(("account", account.lower()), None)

    def _prune(self, now: float) -> None:
        for key, k in list(self._keys.items()):
            if k.locked_until <= now and (not k.failures or k.failures[-1] <= now - WINDOW) \
                    and now - k.last_lock >= _FORGET:
                del self._keys[key]
