"""The one clock: SimPy's environment, and the single place that schedules on it.

Time is float minutes since the scenario start (``env.now``). The engine's environment is a
`Clock`: a `simpy.Environment` whose event queue also holds plain calls. `call_at` schedules
``callback(value)`` ``delay`` minutes from now as the queue entry ``(time, NORMAL, id,
callback, value)``: no `Event` object, no callback list, because the engine schedules
millions of these per simulated year. Entries are ordered by SimPy's own key (time,
priority, insertion id), so calls interleave with SimPy events, processes and timeouts
exactly as timeouts would; `tests/test_clock.py` pins that, so a SimPy upgrade that changes
the queue fails there first. `at` is the same for any `simpy.Environment`, through an
`Event` (``callback(event)``, ``event.value``).
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

import simpy
from simpy.core import NORMAL, URGENT, EmptySchedule, StopSimulation
from simpy.events import Event, EventPriority

__all__ = ["Clock", "at", "call_at", "now"]

_new = Event.__new__


class Clock(simpy.Environment):
    """A SimPy environment that also runs plain calls scheduled with `call_at`.

    Everything SimPy offers works unchanged (processes, timeouts, events, ``run(until=...)``,
    ``step``, ``peek``); only the loop that pops the queue is this module's, so that a
    plain call costs a heap pop and a function call.
    """

    def step(self) -> None:
        """Process the next entry: a plain call, or a SimPy event as SimPy does."""
        try:
            entry = heappop(self._queue)  # type: ignore[attr-defined]
        except IndexError:
            raise EmptySchedule from None
        self._now = entry[0]
        if len(entry) == 5:
            entry[3](entry[4])
        else:
            self._process(entry[3])

    def _process(self, event: Event) -> None:
        """SimPy's own handling of a popped event (`simpy.Environment.step`)."""
        callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]
        try:
            for callback in callbacks:  # type: ignore[union-attr]
                callback(event)
        except StopSimulation:
            event.callbacks = callbacks[callbacks.index(callback) + 1:]  # type: ignore
            self.schedule(event, EventPriority(-1))
            raise
        if not event._ok and not hasattr(event, "_defused"):
            exc = type(event._value)(*event._value.args)
            exc.__cause__ = event._value
            raise exc

    def run(self, until: float | Event | None = None) -> Any:
        """`simpy.Environment.run`, with `step` inlined."""
        if until is not None:
            if not isinstance(until, Event):
                t = until if isinstance(until, int) else float(until)
                if t <= self._now:
                    raise ValueError(
                        f"until ({t}) must be greater than the current simulation time")
                until = Event(self)
                until._ok = True
                until._value = None
                self.schedule(until, URGENT, t - self._now)
            elif until.callbacks is None:
                return until.value
            until.callbacks.append(StopSimulation.callback)  # type: ignore[union-attr]
        queue = self._queue  # type: ignore[attr-defined]
        process = self._process
        try:
            while queue:
                entry = heappop(queue)
                self._now = entry[0]
                if len(entry) == 5:
                    entry[3](entry[4])
                else:
                    process(entry[3])
        except StopSimulation as exc:
            return exc.args[0]
        if until is not None:
            assert not until.triggered
            raise RuntimeError(f'No scheduled events left but "until" event was not '
                               f"triggered: {until}")
        return None


def call_at(env: Clock, delay: float, callback: Callable[[Any], None], value: Any) -> None:
    """Call ``callback(value)`` at ``env.now + delay`` (``env`` must be a `Clock`)."""
    if delay < 0:
        raise ValueError(f"negative delay {delay}")
    heappush(env._queue, (env._now + delay, NORMAL, next(env._eid),  # type: ignore
                          callback, value))


def at(env: simpy.Environment, delay: float, value: Any,
       callback: Callable[[Event], None]) -> Event:
    """Call ``callback(event)`` at ``env.now + delay``; ``event.value`` is ``value``.

    Works on any `simpy.Environment`; on a `Clock`, `call_at` does the same more cheaply.
    """
    if delay < 0:
        raise ValueError(f"negative delay {delay}")
    ev = _new(Event)
    ev.env = env
    ev.callbacks = [callback]
    ev._value = value
    ev._ok = True
    heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), ev))  # type: ignore[attr-defined]
    return ev


def now(env: simpy.Environment) -> float:
    """Current simulated time in minutes (the attribute, without the property call)."""
    return env._now  # type: ignore[attr-defined,no-any-return]
