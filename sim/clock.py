"""The one clock: SimPy's environment, and the single place that schedules on it.

Time is float minutes since the scenario start (``env.now``). `at` schedules a callback
``delay`` minutes from now carrying ``value``; it is what `simpy.Timeout` does, without the
constructor chain, because the engine schedules millions of these per simulated year. It is
the only code that touches SimPy's event queue directly; `tests/test_clock.py` pins that it
orders events exactly as SimPy's own timeouts do, so a SimPy upgrade that changes the queue
fails there first.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappush
from typing import Any

import simpy
from simpy.core import NORMAL
from simpy.events import Event

__all__ = ["at", "now"]

_new = Event.__new__


def at(env: simpy.Environment, delay: float, value: Any,
       callback: Callable[[Event], None]) -> Event:
    """Call ``callback(event)`` at ``env.now + delay``; ``event.value`` is ``value``."""
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
