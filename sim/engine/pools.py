"""Staff pools: c identical servers (acceptors, dispatchers, crews, an inspector) and a queue.

A pool serves processes (`sim.engine.clock`): a case's life yields ``pool.job(case,
minutes)`` and is resumed with the server when the work is done, or ``pool.seize(case)`` and
holds the server it gets until it calls ``pool.release(server)`` (or ends its hold with
``yield pool.work(case, server, minutes)``: that much more work, then the release, in one
queue entry, the end of a job). A job that finds a free server costs one scheduled entry
(its end), a queued job none until a server frees up; no process or event object per job.
The pool keeps the time integrals Little's law needs (queue length and busy servers), so
tests can check it against the event log. Servers work inside a `DailyWindow`; work in hand
when the window closes is finished.

Two operations let a department stretch (`agents.stretch`): `extend_window` keeps one day's
window open longer (overtime), and `resize` changes the number of servers (crews lent and
borrowed); a server taken away while it works finishes its job first.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from heapq import heappush
from typing import Any, Literal

from sim.engine.clock import NORMAL, PENDING, SLOT_MINUTES, Clock, Owner, Pending, resume

__all__ = ["StaffPool", "PoolStats"]

SEIZE = -1.0  # a queued request's "minutes" when it holds the server until `release`


class PoolStats:
    """A snapshot of one pool's counters and time integrals (Little's law, utilisation)."""

    __slots__ = ("arrivals", "started", "completed", "wait_sum", "area_queue", "area_busy",
                 "last_t")

    def __init__(self, arrivals: int = 0, started: int = 0, completed: int = 0,
                 wait_sum: float = 0.0, area_queue: float = 0.0, area_busy: float = 0.0,
                 last_t: float = 0.0) -> None:
        self.arrivals, self.started, self.completed = arrivals, started, completed
        self.wait_sum, self.area_queue, self.area_busy = wait_sum, area_queue, area_busy
        self.last_t = last_t

    def as_dict(self, horizon: float) -> dict[str, float]:
        t = max(horizon, 1e-9)
        return {
            "arrivals": self.arrivals, "started": self.started, "completed": self.completed,
            "mean_wait": self.wait_sum / self.started if self.started else 0.0,
            "mean_queue": self.area_queue / t, "mean_busy": self.area_busy / t,
        }


class StaffPool:
    """``servers`` identical servers with one queue, FIFO or earliest-deadline-first.

    This is the engine's hottest code: state lives in flat attributes, and a job that finds
    a free server and an empty queue touches as few of them as possible. The busy-server
    integral is kept as the service minutes of finished work plus, when asked, the time each
    busy server has worked so far; only queueing and dequeueing update a time integral (the
    queue length's).
    """

    __slots__ = ("env", "name", "servers", "window", "rule", "_free", "_fifo", "_heap", "_seq",
                 "_nq", "_wake_pending", "_finish_cb", "_open_until", "_arrivals",
                 "_withdrawn", "_wait_sum", "_area_q", "_last", "_service_sum", "_since",
                 "_ot_close", "_ot_until", "_leaving", "_queue", "_eid", "_ahead")

    def __init__(self, env: Clock, name: str, servers: int, window: Any = None,
                 rule: Literal["fifo", "deadline"] = "fifo") -> None:
        if not isinstance(env, Clock):
            raise TypeError(f"a staff pool runs on a sim.engine.clock.Clock, "
                            f"not {type(env).__name__}")
        self.env, self.name, self.servers = env, name, servers
        self.window = None if window is None or window.always_open else window
        self.rule = rule
        self._free = list(range(servers - 1, -1, -1))
        self._fifo: deque[tuple[Owner, float, float]] = deque()
        self._heap: list[tuple[float, int, Owner, float, float]] = []
        self._seq = 0
        self._nq = 0
        self._wake_pending = False
        self._finish_cb = self._finish
        # the clock's queue and entry counter: a job's end is pushed as `Clock.call` pushes it,
        # without the call (both live as long as the clock)
        self._queue, self._eid = env._queue, env._eid  # type: ignore[attr-defined]
        self._ahead = env._ahead  # the clock's later slots (`Clock.hold`)
        # the window is known open until this time (time only moves forward)
        self._open_until = math.inf if self.window is None else -math.inf
        self._arrivals = self._withdrawn = 0
        self._wait_sum = self._area_q = self._last = self._service_sum = 0.0
        self._since = [0.0] * servers  # when each server's current work began
        self._ot_close = self._ot_until = -math.inf  # one window kept open longer (overtime)
        self._leaving: set[int] = set()  # busy servers taken away (resize): gone when free

    @property
    def busy(self) -> int:
        """Servers holding a job now."""
        return self.servers - len(self._free) + sum(1 for s in self._leaving
                                                    if s >= self.servers)

    def _busy_servers(self) -> list[int]:
        free = set(self._free)
        return [s for s in range(len(self._since))
                if s not in free and (s < self.servers or s in self._leaving)]

    @property
    def stats(self) -> PoolStats:
        """Counters and integrals up to now (or to the last `settle`, if later)."""
        now = max(self.env._now, self._last)
        area_q = self._area_q + (now - self._last) * self._nq
        area_b = self._service_sum + sum(now - self._since[s] for s in self._busy_servers())
        started = self._arrivals - self._nq - self._withdrawn
        return PoolStats(self._arrivals, started, started - self.busy, self._wait_sum,
                         area_q, area_b, now)

    def __len__(self) -> int:
        return self._nq

    def settle(self, now: float) -> None:
        """Bring the queue-length integral up to ``now`` (call at the end of a run)."""
        dt = now - self._last
        if dt > 0:
            self._area_q += dt * self._nq
            self._last = now

    def _opens(self, now: float) -> bool:
        """Whether the window is open at ``now``; if so, remember until when."""
        w = self.window  # not None: without a window `_open_until` is infinite
        if not w.is_open(now):
            if self._ot_close <= now < self._ot_until:  # overtime after the window closed
                self._open_until = self._ot_until
                return True
            return False
        self._open_until = w.closes_at(now)
        if self._open_until == self._ot_close:
            self._open_until = self._ot_until
        return True

    # -- stretching (a department under load) ------------------------------------------------
    def extend_window(self, close: float, until: float) -> None:
        """Keep the window that closes at ``close`` open until ``until`` (overtime): work
        still queued then starts, as in the window. One extension at a time: a new one
        replaces the last. No effect without a window."""
        if self.window is None or until <= close:
            return
        self._ot_close, self._ot_until = close, until
        if self._open_until == close:
            self._open_until = until
        elif self._open_until < until and self._ot_close <= self.env._now < until:
            self._open_until = until
        if self._nq and self._free:
            self._dispatch(self.env._now)

    def off_duty_at(self) -> float:
        """When the servers on duty now go off duty: the end of the window open now, today's
        overtime included (`extend_window`); ``inf`` without a window. Read while the pool is
        open, as it is for a process just given a server."""
        return self._open_until

    def resize(self, servers: int) -> None:
        """Change the number of servers to ``servers`` from now (crews lent or borrowed).
        Free servers leave at once; a busy one taken away finishes its job, then leaves. New
        servers start on the queue at once (within the window)."""
        if servers < 0:
            raise ValueError(f"{self.name}: servers must be >= 0, got {servers}")
        old = self.servers
        if servers == old:
            return
        now = self.env._now
        if servers < old:
            busy = set(range(servers, old)) - set(self._free)
            self._free = [s for s in self._free if s < servers]
            self._leaving |= busy
        else:
            self._since.extend([0.0] * (servers - len(self._since)))
            back = [s for s in range(old, servers) if s not in self._leaving]
            self._leaving -= set(range(old, servers))  # busy ones come back when free
            self._free[:0] = back[::-1]
        self.servers = servers
        if self._nq and self._free:
            self._dispatch(now)

    def _free_server(self, server: int) -> bool:
        """Server ``server`` finished: back to the free list unless it has left (`resize`)."""
        if self._leaving:
            self._leaving.discard(server)
            if server >= self.servers:
                return False
        self._free.append(server)
        return True

    def queued_since(self) -> list[float]:
        """When each job still waiting joined the queue."""
        return [j[2] for j in self._fifo] + [j[4] for j in self._heap]

    def withdraw(self, owner: Owner) -> bool:
        """Take ``owner``'s job out of the queue before any server starts it (a summoned case
        goes to the site another way). False if it is not waiting. Not on the hot path."""
        for i, item in enumerate(self._fifo):
            if item[0] is owner:
                del self._fifo[i]
                break
        else:
            for i, item in enumerate(self._heap):
                if item[2] is owner:
                    self._heap[i] = self._heap[-1]
                    self._heap.pop()
                    heapq.heapify(self._heap)
                    break
            else:
                return False
        self.settle(self.env._now)
        self._nq -= 1  # its wait so far stays in the queue-length integral
        self._withdrawn += 1
        return True

    # -- what a process yields -------------------------------------------------------------
    def job(self, owner: Owner, minutes: float, key: float = 0.0) -> Pending:
        """``yield pool.job(case, minutes)``: a server works ``minutes`` for ``owner``, whose
        process resumes with the server's index when the work is done. ``key`` orders the
        queue under the deadline rule (smaller first)."""
        now = self.env._now  # the property costs a call; this is the hot path
        self._arrivals += 1
        free = self._free
        if free and not self._nq and (now < self._open_until or self._opens(now)):
            if minutes < 0:
                raise ValueError(f"{self.name}: negative service time {minutes}")
            server = free.pop()
            self._since[server] = now
            t = now + minutes
            entry = (t, NORMAL, next(self._eid), self._finish_cb, (owner, server))
            if t < self.env.later_from:  # due in the clock's current slot
                heappush(self._queue, entry)
            else:  # `Clock.hold`, inlined
                self._ahead[t // SLOT_MINUTES].append(entry)
            return PENDING
        self._enqueue(owner, minutes, key, now)
        return PENDING

    def seize(self, owner: Owner, key: float = 0.0) -> int | Pending:
        """``server = yield pool.seize(case)``: a server for ``owner`` as soon as one is free
        and on duty (now, or the process resumes with it later); it works for ``owner`` until
        `release`. ``key`` orders the queue under the deadline rule."""
        now = self.env._now
        self._arrivals += 1
        free = self._free
        if free and not self._nq and (now < self._open_until or self._opens(now)):
            server = free.pop()
            self._since[server] = now
            return server
        self._enqueue(owner, SEIZE, key, now)
        return PENDING

    def seize_first(self, owner: Owner) -> int | Pending:
        """`seize`, ahead of everyone waiting (a summons): the next server free and on duty
        goes to ``owner`` (those seized first this way go in the order they came)."""
        now = self.env._now
        self._arrivals += 1
        if self._free and (now < self._open_until or self._opens(now)):
            server = self._free.pop()
            self._since[server] = now
            return server
        self.settle(now)
        self._nq += 1
        if self.rule == "fifo":
            self._fifo.appendleft((owner, SEIZE, now))
        else:
            self._seq += 1
            heapq.heappush(self._heap, (-math.inf, self._seq, owner, SEIZE, now))
        if self._free:  # off duty now: wake when the window opens
            self._dispatch(now)
        return PENDING

    def release(self, server: int) -> None:
        """Server ``server`` (got from `seize`) is free again."""
        self._service_sum += self.env._now - self._since[server]
        if server < self.servers and not self._leaving:
            self._free.append(server)
        elif not self._free_server(server):
            return
        if self._nq:
            self._dispatch(self.env._now)

    def work(self, owner: Owner, server: int, minutes: float) -> Pending:
        """``yield pool.work(case, crew, minutes)``: server ``server`` (got from `seize`)
        works ``minutes`` more for ``owner``, then is released and the process resumes with
        it. The same as ``yield env.after(case, minutes)`` then ``pool.release(crew)``, in
        one queue entry, the end of a `job` (`_finish`: the server is freed and the queue
        served before the process goes on)."""
        t = self.env._now + minutes
        entry = (t, NORMAL, next(self._eid), self._finish_cb, (owner, server))
        if t < self.env.later_from:
            heappush(self._queue, entry)
        else:  # `Clock.hold`, inlined
            self._ahead[t // SLOT_MINUTES].append(entry)
        return PENDING

    # -- inside ----------------------------------------------------------------------------
    def _enqueue(self, owner: Owner, minutes: float, key: float, now: float) -> None:
        dt = now - self._last
        if dt:
            self._area_q += dt * self._nq
            self._last = now
        self._nq += 1
        if self.rule == "fifo":
            self._fifo.append((owner, minutes, now))
        else:
            self._seq += 1
            heapq.heappush(self._heap, (key, self._seq, owner, minutes, now))
        if self._free:
            self._dispatch(now)

    def _finish(self, value: tuple[Owner, int]) -> None:
        owner, server = value
        now = self.env._now
        self._service_sum += now - self._since[server]
        if server < self.servers and not self._leaving:
            self._free.append(server)
            if self._nq:
                self._dispatch(now)
        elif self._free_server(server) and self._nq:
            self._dispatch(now)
        try:  # `resume(owner, server)`, inlined: the engine's most frequent wake
            life = owner.life
            value = life.send(server)  # type: ignore[union-attr]
            while value is not PENDING:
                value = life.send(value)  # type: ignore[union-attr]
        except StopIteration:
            owner.life = None

    def _dispatch(self, now: float) -> None:
        if not (now < self._open_until or self._opens(now)):
            if not self._wake_pending:
                self._wake_pending = True
                self.env.call(self.window.next_open(now), self._wake, None)
            return
        dt = now - self._last
        if dt:
            self._area_q += dt * self._nq
            self._last = now
        fifo, heap, free, since = self._fifo, self._heap, self._free, self._since
        while free and self._nq:
            if fifo:
                owner, minutes, queued = fifo.popleft()
            else:
                _, _, owner, minutes, queued = heapq.heappop(heap)
            self._nq -= 1
            server = free.pop()
            self._wait_sum += now - queued
            since[server] = now
            if minutes == SEIZE:  # the process holds the server from now on
                resume(owner, server)
            elif minutes < 0:
                raise ValueError(f"{self.name}: negative service time {minutes}")
            else:
                t = now + minutes
                entry = (t, NORMAL, next(self._eid), self._finish_cb, (owner, server))
                if t < self.env.later_from:
                    heappush(self._queue, entry)
                else:
                    self._ahead[t // SLOT_MINUTES].append(entry)

    def _wake(self, _: None) -> None:
        self._wake_pending = False
        self._dispatch(self.env._now)
