"""Staff pools: c identical servers (acceptors, dispatchers, crews, an inspector) and a queue.

A pool runs on the SimPy environment's event queue with plain callbacks, not one generator
process per job: a job that finds a free server costs one scheduled event (its completion),
a queued job costs none until a server frees up. The pool keeps the time integrals Little's
law needs (queue length and busy servers), so tests can check it against the event log.
Servers work inside a `DailyWindow`; work in hand when the window closes is finished.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable
from heapq import heappush
from typing import Any, Literal

from simpy.core import NORMAL

from sim.clock import Clock, call_at

__all__ = ["StaffPool", "PoolStats"]


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

    ``submit(job, minutes, done, key)`` queues a job needing ``minutes`` of service; when a
    server finishes it, ``done(job, server)`` is called at that simulated time. ``on_start``,
    if given, is called as ``on_start(job, server, waited)`` when service begins.
    This is the engine's hottest code: state lives in flat attributes.
    """

    __slots__ = ("env", "name", "servers", "window", "rule", "_free", "_fifo", "_heap", "_seq",
                 "_nq", "_wake_pending", "on_start", "busy", "_finish_cb",
                 "_arrivals", "_started", "_completed", "_wait_sum", "_area_q", "_area_b",
                 "_last")

    def __init__(self, env: Clock, name: str, servers: int, window: Any = None,
                 rule: Literal["fifo", "deadline"] = "fifo",
                 on_start: Callable[[Any, int, float], None] | None = None) -> None:
        if not isinstance(env, Clock):
            raise TypeError(f"a staff pool runs on a sim.clock.Clock, not {type(env).__name__}")
        self.env, self.name, self.servers = env, name, servers
        self.window = None if window is None or window.always_open else window
        self.rule = rule
        self._free = list(range(servers - 1, -1, -1))
        self._fifo: deque[tuple[Any, float, Callable, float]] = deque()
        self._heap: list[tuple[float, int, Any, float, Callable, float]] = []
        self._seq = 0
        self._nq = 0
        self._wake_pending = False
        self.on_start = on_start
        self.busy = 0
        self._finish_cb = self._finish
        self._arrivals = self._started = self._completed = 0
        self._wait_sum = self._area_q = self._area_b = self._last = 0.0

    @property
    def stats(self) -> PoolStats:
        return PoolStats(self._arrivals, self._started, self._completed, self._wait_sum,
                         self._area_q, self._area_b, self._last)

    def __len__(self) -> int:
        return self._nq

    def settle(self, now: float) -> None:
        """Bring the time integrals up to ``now`` (call at the end of a run)."""
        dt = now - self._last
        if dt > 0:
            self._area_q += dt * self._nq
            self._area_b += dt * self.busy
            self._last = now

    def queued_since(self) -> list[float]:
        """When each job still waiting joined the queue."""
        return [j[3] for j in self._fifo] + [j[5] for j in self._heap]

    def withdraw(self, job: Any) -> bool:
        """Take ``job`` out of the queue before any server starts it (a summoned case goes
        to the site another way). False if it is not waiting. Not on the hot path: a scan."""
        for i, item in enumerate(self._fifo):
            if item[0] is job:
                del self._fifo[i]
                break
        else:
            for i, item in enumerate(self._heap):
                if item[2] is job:
                    self._heap[i] = self._heap[-1]
                    self._heap.pop()
                    heapq.heapify(self._heap)
                    break
            else:
                return False
        self.settle(self.env._now)
        self._nq -= 1  # its wait so far stays in the queue-length integral
        return True

    def submit(self, job: Any, minutes: float, done: Callable[[Any, int], None],
               key: float = 0.0) -> None:
        """Queue ``job``; ``key`` orders the queue under the deadline rule (smaller first)."""
        now = self.env._now  # the property costs a call; this is the hot path
        dt = now - self._last
        if dt:
            self._area_q += dt * self._nq
            self._area_b += dt * self.busy
            self._last = now
        self._arrivals += 1
        free = self._free
        if free and not self._nq and (self.window is None or self.window.is_open(now)):
            server = free.pop()
            self.busy += 1
            self._started += 1
            if self.on_start is not None:
                self.on_start(job, server, 0.0)
            if minutes < 0:
                raise ValueError(f"{self.name}: negative service time {minutes}")
            env = self.env  # `call_at`, inlined: the hottest call in the engine
            heappush(env._queue, (now + minutes, NORMAL, next(env._eid), self._finish_cb,
                                  (job, server, done)))
            return
        self._nq += 1
        if self.rule == "fifo":
            self._fifo.append((job, minutes, done, now))
        else:
            self._seq += 1
            heapq.heappush(self._heap, (key, self._seq, job, minutes, done, now))
        if free:
            self._dispatch(now)

    def _finish(self, value: tuple[Any, int, Callable[[Any, int], None]]) -> None:
        job, server, done = value
        now = self.env._now
        dt = now - self._last
        if dt:
            self._area_q += dt * self._nq
            self._area_b += dt * self.busy
            self._last = now
        self.busy -= 1
        self._completed += 1
        self._free.append(server)
        if self._nq:
            self._dispatch(now)
        done(job, server)

    def _dispatch(self, now: float) -> None:
        w = self.window
        if w is not None and not w.is_open(now):
            if not self._wake_pending:
                self._wake_pending = True
                call_at(self.env, w.next_open(now) - now, self._wake, None)
            return
        fifo, heap, free = self._fifo, self._heap, self._free
        on_start = self.on_start
        while free and self._nq:
            if fifo:
                job, minutes, done, since = fifo.popleft()
            else:
                _, _, job, minutes, done, since = heapq.heappop(heap)
            self._nq -= 1
            server = free.pop()
            self.busy += 1
            self._started += 1
            self._wait_sum += now - since
            if on_start is not None:
                on_start(job, server, now - since)
            call_at(self.env, minutes, self._finish_cb, (job, server, done))

    def _wake(self, _: None) -> None:
        self._wake_pending = False
        now = self.env._now
        self.settle(now)
        self._dispatch(now)
