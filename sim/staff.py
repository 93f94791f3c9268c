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
from typing import Any, Literal

import simpy

__all__ = ["StaffPool", "PoolStats"]


class PoolStats:
    """Counters and time integrals of one pool, for Little's law and utilisation."""

    __slots__ = ("arrivals", "started", "completed", "wait_sum", "area_queue", "area_busy",
                 "last_t")

    def __init__(self) -> None:
        self.arrivals = self.started = self.completed = 0
        self.wait_sum = self.area_queue = self.area_busy = self.last_t = 0.0

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
    """

    __slots__ = ("env", "name", "servers", "window", "rule", "_free", "_fifo", "_heap", "_seq",
                 "_wake_pending", "stats", "on_start", "_schedule", "busy")

    def __init__(self, env: simpy.Environment, name: str, servers: int, window: Any = None,
                 rule: Literal["fifo", "deadline"] = "fifo",
                 on_start: Callable[[Any, int, float], None] | None = None) -> None:
        self.env, self.name, self.servers = env, name, servers
        self.window = None if window is None or window.always_open else window
        self.rule = rule
        self._free = list(range(servers - 1, -1, -1))
        self._fifo: deque[tuple[Any, float, Callable, float]] = deque()
        self._heap: list[tuple[float, int, Any, float, Callable, float]] = []
        self._seq = 0
        self._wake_pending = False
        self.stats = PoolStats()
        self.on_start = on_start
        self.busy = 0

    def __len__(self) -> int:
        return len(self._fifo) + len(self._heap)

    def settle(self, now: float) -> None:
        """Bring the time integrals up to ``now`` (call at the end of a run)."""
        self._account(now)

    def queued_since(self) -> list[float]:
        """When each job still waiting joined the queue."""
        return [j[3] for j in self._fifo] + [j[5] for j in self._heap]

    def _account(self, now: float) -> None:
        st = self.stats
        dt = now - st.last_t
        if dt:
            st.area_queue += dt * (len(self._fifo) + len(self._heap))
            st.area_busy += dt * self.busy
            st.last_t = now

    def submit(self, job: Any, minutes: float, done: Callable[[Any, int], None],
               key: float = 0.0) -> None:
        """Queue ``job``; ``key`` orders the queue under the deadline rule (smaller first)."""
        now = self.env.now
        self._account(now)
        self.stats.arrivals += 1
        if self._free and not self._heap and not self._fifo and (
                self.window is None or self.window.is_open(now)):
            self._start(job, minutes, done, now, now)
            return
        if self.rule == "fifo":
            self._fifo.append((job, minutes, done, now))
        else:
            self._seq += 1
            heapq.heappush(self._heap, (key, self._seq, job, minutes, done, now))
        if self._free:
            self._dispatch(now)

    def _start(self, job: Any, minutes: float, done: Callable, now: float, since: float) -> None:
        server = self._free.pop()
        self.busy += 1
        st = self.stats
        st.started += 1
        st.wait_sum += now - since
        if self.on_start is not None:
            self.on_start(job, server, now - since)
        ev = self.env.timeout(minutes, (job, server, done))
        ev.callbacks.append(self._finish)

    def _finish(self, ev: simpy.Event) -> None:
        job, server, done = ev._value
        now = self.env.now
        self._account(now)
        self.busy -= 1
        self.stats.completed += 1
        self._free.append(server)
        if self._fifo or self._heap:
            self._dispatch(now)
        done(job, server)

    def _dispatch(self, now: float) -> None:
        w = self.window
        if w is not None and not w.is_open(now):
            if not self._wake_pending:
                self._wake_pending = True
                ev = self.env.timeout(w.next_open(now) - now)
                ev.callbacks.append(self._wake)
            return
        fifo, heap = self._fifo, self._heap
        while self._free and (fifo or heap):
            if fifo:
                job, minutes, done, since = fifo.popleft()
            else:
                _, _, job, minutes, done, since = heapq.heappop(heap)
            self._start(job, minutes, done, now, since)

    def _wake(self, ev: simpy.Event) -> None:
        self._wake_pending = False
        now = self.env.now
        self._account(now)
        self._dispatch(now)
