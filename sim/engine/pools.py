"""Staff pools: c identical servers (acceptors, dispatchers, crews, an inspector) and a queue.

A pool runs on the SimPy environment's event queue with plain callbacks, not one generator
process per job: a job that finds a free server costs one scheduled event (its completion),
a queued job costs none until a server frees up. The pool keeps the time integrals Little's
law needs (queue length and busy servers), so tests can check it against the event log.
Servers work inside a `DailyWindow`; work in hand when the window closes is finished.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable
from heapq import heappush
from typing import Any, Literal

from simpy.core import NORMAL

from sim.engine.clock import Clock, call_at

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
    This is the engine's hottest code: state lives in flat attributes, and a job that finds
    a free server and an empty queue touches as few of them as possible. The busy-server
    integral is kept as service minutes started less what lies in the future (each server's
    current job end is known at its start), so only queueing and dequeueing update a time
    integral (the queue length's).
    """

    __slots__ = ("env", "name", "servers", "window", "rule", "_free", "_fifo", "_heap", "_seq",
                 "_nq", "_wake_pending", "on_start", "_finish_cb", "_open_until",
                 "_arrivals", "_withdrawn", "_wait_sum", "_area_q", "_last", "_service_sum",
                 "_ends")

    def __init__(self, env: Clock, name: str, servers: int, window: Any = None,
                 rule: Literal["fifo", "deadline"] = "fifo",
                 on_start: Callable[[Any, int, float], None] | None = None) -> None:
        if not isinstance(env, Clock):
            raise TypeError(f"a staff pool runs on a sim.engine.clock.Clock, "
                            f"not {type(env).__name__}")
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
        self._finish_cb = self._finish
        # the window is known open until this time (time only moves forward)
        self._open_until = math.inf if self.window is None else -math.inf
        self._arrivals = self._withdrawn = 0
        self._wait_sum = self._area_q = self._last = self._service_sum = 0.0
        self._ends = [0.0] * servers  # when each server's latest job ends

    @property
    def busy(self) -> int:
        """Servers holding a job now."""
        return self.servers - len(self._free)

    @property
    def stats(self) -> PoolStats:
        """Counters and integrals up to now (or to the last `settle`, if later)."""
        now = max(self.env._now, self._last)
        area_q = self._area_q + (now - self._last) * self._nq
        area_b = self._service_sum - sum(e - now for e in self._ends if e > now)
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
            return False
        self._open_until = w.closes_at(now)
        return True

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
        self._withdrawn += 1
        return True

    def submit(self, job: Any, minutes: float, done: Callable[[Any, int], None],
               key: float = 0.0) -> None:
        """Queue ``job``; ``key`` orders the queue under the deadline rule (smaller first)."""
        env = self.env
        now = env._now  # the property costs a call; this is the hot path
        self._arrivals += 1
        free = self._free
        if free and not self._nq and (now < self._open_until or self._opens(now)):
            if minutes < 0:
                raise ValueError(f"{self.name}: negative service time {minutes}")
            server = free.pop()
            self._service_sum += minutes
            end = now + minutes
            self._ends[server] = end
            if self.on_start is not None:
                self.on_start(job, server, 0.0)
            # `call_at`, inlined: the hottest call in the engine
            heappush(env._queue, (end, NORMAL, next(env._eid), self._finish_cb,
                                  (job, server, done)))
            return
        dt = now - self._last
        if dt:
            self._area_q += dt * self._nq
            self._last = now
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
        self._free.append(server)
        if self._nq:
            self._dispatch(self.env._now)
        done(job, server)

    def _dispatch(self, now: float) -> None:
        if not (now < self._open_until or self._opens(now)):
            if not self._wake_pending:
                self._wake_pending = True
                call_at(self.env, self.window.next_open(now) - now, self._wake, None)
            return
        dt = now - self._last
        if dt:
            self._area_q += dt * self._nq
            self._last = now
        fifo, heap, free, ends = self._fifo, self._heap, self._free, self._ends
        on_start = self.on_start
        env = self.env
        while free and self._nq:
            if fifo:
                job, minutes, done, since = fifo.popleft()
            else:
                _, _, job, minutes, done, since = heapq.heappop(heap)
            if minutes < 0:
                raise ValueError(f"{self.name}: negative service time {minutes}")
            self._nq -= 1
            server = free.pop()
            self._wait_sum += now - since
            self._service_sum += minutes
            end = now + minutes
            ends[server] = end
            if on_start is not None:
                on_start(job, server, now - since)
            heappush(env._queue, (end, NORMAL, next(env._eid), self._finish_cb,
                                  (job, server, done)))

    def _wake(self, _: None) -> None:
        self._wake_pending = False
        self._dispatch(self.env._now)
