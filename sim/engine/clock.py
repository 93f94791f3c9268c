"""The one clock: SimPy's environment, the single place that schedules on it, and processes.

Time is float minutes since the scenario start (``env.now``). The engine's environment is a
`Clock`: a `simpy.Environment` whose event queue also holds plain calls. `Clock.call`
schedules ``callback(value)`` at a time as the queue entry ``(time, NORMAL, id, callback,
value)``: no `Event` object, no callback list, because the engine schedules millions of these
per simulated year. Entries are ordered by SimPy's own key (time, priority, insertion id), so
calls interleave with SimPy events, processes and timeouts exactly as timeouts would;
`tests/test_clock.py` pins that, so a SimPy upgrade that changes the queue fails there first.

A *process* is a plain generator kept on its owner's ``life`` attribute (a case's life,
`agents.caselife`). It yields what it waits for: `PENDING` when someone will `resume` it
later (a staff pool when the work is done, the clock after a delay, a person answering a
question), or a value that is ready now, which is sent straight back. So a process costs no
SimPy `Process` or `Event`: a step that takes time is one queue entry, a step that does not
is a generator round trip.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Generator, Iterable
from heapq import heappop, heappush
from itertools import repeat
from operator import itemgetter
from typing import Any, Final, Protocol

import simpy
from simpy.core import NORMAL, URGENT, EmptySchedule, StopSimulation
from simpy.events import Event, EventPriority

__all__ = ["Clock", "Owner", "PENDING", "Pending", "call_at", "now", "resume", "start"]

INF = float("inf")
SLOT_MINUTES = 10.0
"""The queue holds the entries due in the current slot of this many minutes (and those
queued before the clock ran); later ones wait in their slot's list (`Clock.hold`). An
engine setting, not a model number: it changes no result, only how deep the heap is."""
TICK = -2
"""The priority of a slot's start (`Clock._tick`): below every SimPy priority, so a slot
starts before anything else due at its first minute."""


class Pending:
    """The type of `PENDING`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "PENDING"


PENDING: Final = Pending()
"""What a process yields when it waits for something that takes time: whoever it waits for
resumes it (`resume`) with the result. Anything else a process yields is a result ready now."""


class Owner(Protocol):
    """Whatever carries a process: its generator is ``life`` (None once it has ended)."""

    life: Generator[Any, Any, Any] | None


def resume(owner: Owner, value: Any = None) -> None:
    """Run ``owner.life`` from where it waits, sending ``value``, until it yields `PENDING`
    (it waits for something that takes time) or ends. A yield of anything else is a result
    ready now (a staff pool's free server, a rule's answer) and is sent straight back."""
    try:  # `life.send(...)` each time: a stored bound `send` costs more than it saves
        life = owner.life
        value = life.send(value)  # type: ignore[union-attr]
        while value is not PENDING:
            value = life.send(value)  # type: ignore[union-attr]
    except StopIteration:
        owner.life = None


def start(owner: Owner, life: Generator[Any, Any, Any]) -> None:
    """Give ``owner`` its process and run it up to its first wait."""
    owner.life = life
    resume(owner)


class Clock(simpy.Environment):
    """A SimPy environment that also runs plain calls and drives processes.

    Everything SimPy offers works unchanged (processes, timeouts, events, ``run(until=...)``,
    ``step``, ``peek``); only the loop that pops the queue is this module's, so that a
    plain call costs a heap pop and a function call.

    ``holds_ahead``: entries due after the current slot wait outside the queue until their
    slot starts, and entries queued long ahead (`call_chain`) until the one before them
    runs; False queues every entry at once (the plain clock the tests pin this one to: the
    same entries run in the same order either way).
    """

    holds_ahead = True

    def __init__(self, initial_time: float = 0) -> None:
        super().__init__(initial_time)
        self._chains: list[_Chain] = []
        # Entries due in a later slot than the current one wait in ``_ahead[slot]``; the
        # slot's start (a tick, queued while there is anything to run) sorts them into
        # ``_slot``. Their keys are the ones they were made with, so they run in the same
        # order as if queued at once; the heap only holds the current slot's newcomers
        # (fewer comparisons a push and a pop). ``later_from``: an entry due from then on
        # may wait (INF: the clock is not ticking). Slots are keyed by ``t // SLOT_MINUTES``
        # (a float). Hot code writes ``if t < clock.later_from: heappush(queue, entry)``
        # else `hold`'s one line.
        self._ahead: defaultdict[float, list[tuple]] = defaultdict(list)
        # The current slot's held entries, sorted once when the slot starts, in reverse
        # (the next one last): they are taken from here, not pushed through the heap, so
        # the heap holds only what was queued during the slot for the slot, SimPy's events
        # and the ticks. The loops take the smaller of ``_slot[-1]`` and the heap's top by
        # the same key, so the order is the heap's. While ``_slot`` has entries the heap
        # holds the next slot's start (due after all of them): the heap is never empty then.
        self._slot: list[tuple] = []
        self.later_from = INF
        self._ticking = False
        self._tick_cb = self._tick

    # -- scheduling ----------------------------------------------------------------------------
    def call(self, t: float, callback: Callable[[Any], None], value: Any) -> None:
        """Call ``callback(value)`` at time ``t`` (not before now). (A staff pool pushes the
        same entry itself for the end of a job, the engine's most frequent entry.)"""
        entry = (t, NORMAL, next(self._eid), callback, value)  # type: ignore[attr-defined]
        if t < self.later_from:
            heappush(self._queue, entry)  # type: ignore[attr-defined]
        else:
            self.hold(entry)

    def call_each(self, times: Iterable[float], callback: Callable[[Any], None],
                  values: Iterable[Any]) -> None:
        """`call` for each time and value, in order (the pushes done by C loops)."""
        queue, later = self._queue, self.later_from  # type: ignore[attr-defined]
        for entry in zip(times, repeat(NORMAL), self._eid, repeat(callback),  # type: ignore
                         values, strict=False):
            if entry[0] < later:
                heappush(queue, entry)
            else:
                self.hold(entry)

    def hold(self, entry: tuple) -> None:
        """Keep ``entry`` (made now, due in a later slot) until its slot starts."""
        self._ahead[entry[0] // SLOT_MINUTES].append(entry)

    def _tick(self, slot: float) -> None:
        """Slot ``slot`` starts: its entries are sorted into ``_slot`` (the last slot's are
        all taken by now: they are due before this tick), and the next slot's start is
        queued while anything is left to run."""
        self.later_from = (slot + 1) * SLOT_MINUTES
        queue, held = self._queue, self._slot  # type: ignore[attr-defined]
        waiting = self._ahead.pop(slot, None)
        if waiting is not None:  # one sort (C compares of floats first), no heap pushes
            held += waiting
            held.sort(reverse=True)
        if queue or held or self._ahead:
            heappush(queue, (self.later_from, TICK, -1, self._tick_cb, slot + 1.0))
        else:
            self.later_from = INF
            self._ticking = False

    def _start_ticking(self) -> None:
        if self.holds_ahead and not self._ticking and self._queue:  # type: ignore
            slot = self._now // SLOT_MINUTES + 1.0  # type: ignore[attr-defined]
            self.later_from = slot * SLOT_MINUTES
            self._ticking = True
            heappush(self._queue, (self.later_from, TICK, -1,  # type: ignore[attr-defined]
                                   self._tick_cb, slot))

    def _next(self) -> tuple:
        """Take the next entry, from the heap or the current slot's sorted list (slot starts
        included); IndexError when there is none."""
        queue, held = self._queue, self._slot  # type: ignore[attr-defined]
        if held and held[-1] < queue[0]:
            return held.pop()
        return heappop(queue)

    def _head(self) -> tuple | None:
        """The next entry, left where it is (None: there is none)."""
        queue, held = self._queue, self._slot  # type: ignore[attr-defined]
        if held and held[-1] < queue[0]:
            return held[-1]
        return queue[0] if queue else None

    def call_chain(self, times: Iterable[float], callback: Callable[[Any], None],
                   values: Iterable[Any]) -> None:
        """`call_each`, for calls queued long ahead (every day start or shift start of the
        horizon): each entry takes its id now, as `call_each` gives it, so it runs in the
        same order among the other entries, but it enters the queue only when the one before
        it runs. The queue stays as short as the near future, and every push and pop does
        fewer comparisons."""
        if not self.holds_ahead:
            self.call_each(times, callback, values)
            return
        entries = sorted(zip(times, repeat(NORMAL), self._eid,  # type: ignore[attr-defined]
                             repeat(callback), values, strict=False), key=itemgetter(0, 2))
        if entries:
            chain = _Chain(self._queue, entries)  # type: ignore[attr-defined]
            self._chains.append(chain)
            chain.next()

    def after(self, owner: Owner, minutes: float) -> Pending:
        """``yield clock.after(owner, minutes)``: resume ``owner``'s process after that long."""
        t = self._now + minutes  # type: ignore[attr-defined]
        entry = (t, NORMAL, next(self._eid), resume, owner)  # type: ignore[attr-defined]
        if t < self.later_from:
            heappush(self._queue, entry)  # type: ignore[attr-defined]
        else:  # `hold`, inlined
            self._ahead[t // SLOT_MINUTES].append(entry)
        return PENDING

    def scheduled(self) -> int:
        """How many entries (SimPy events and plain calls) have been scheduled so far, this
        question included."""
        return next(self._eid)  # type: ignore[attr-defined,no-any-return]

    def pending(self) -> int:
        """How many entries wait in the queue, or to enter it (in a later slot, or in a
        chain, `call_chain`); a slot's start is none of them."""
        return (len(self._queue) - self._ticking  # type: ignore[attr-defined]
                + len(self._slot) + sum(map(len, self._ahead.values()))
                + sum(len(c.entries) - c.i for c in self._chains))

    def entries(self) -> list[tuple]:
        """Every entry waiting, in the queue or to enter it, as it was made (a chained one
        with its own callback; slot starts left out): what tests compare."""
        queued = [e[3].__self__.entries[e[4]] if isinstance(  # a chain's next entry
            getattr(e[3], "__self__", None), _Chain) else e
            for e in self._queue if e[1] != TICK]  # type: ignore[attr-defined]
        return queued + self._slot[::-1] + [
            e for waiting in self._ahead.values() for e in waiting] + [
            e for c in self._chains for e in c.entries[c.i:]]

    def peek(self) -> float:
        """When the next entry is due (inf: none), as SimPy's `peek` (slot starts skipped)."""
        while (head := self._head()) is not None and head[1] == TICK:
            heappop(self._queue)  # type: ignore[attr-defined]
            head[3](head[4])
        return INF if head is None else head[0]

    def next_time(self) -> float:
        """When the next scheduled thing happens (inf: nothing left). Drops the stop events
        `run(until=...)` leaves behind with no callbacks (SimPy keeps them, at priority -1,
        at the time it stopped), so that they are not taken for the next happening."""
        queue = self._queue  # type: ignore[attr-defined]
        while (head := self._head()) is not None and head[1] < NORMAL:  # (in the heap)
            if head[1] == TICK:  # a slot starts: its entries are sorted
                heappop(queue)
                head[3](head[4])
            elif len(head) == 4 and not head[3].callbacks:
                heappop(queue)
            else:
                break
        return INF if head is None else head[0]

    # -- running -------------------------------------------------------------------------------
    def step(self) -> None:
        """Process the next entry: a plain call, or a SimPy event as SimPy does (a slot's
        start on the way is no entry: it is taken care of on the way)."""
        try:
            entry = self._next()
            while entry[1] == TICK:
                entry[3](entry[4])
                entry = self._next()
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
        queue, held = self._queue, self._slot  # type: ignore[attr-defined]
        process = self._process
        self._start_ticking()
        try:
            while queue:  # (never empty while ``held`` has entries: the next tick is in it)
                if held and held[-1] < queue[0]:
                    entry = held.pop()
                else:
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


class _Chain:
    """Entries of one `Clock.call_chain`, in queue order: the next one waits outside the
    queue until the one before it runs (its entry in the queue calls `fire`)."""

    __slots__ = ("queue", "entries", "i")

    def __init__(self, queue: list, entries: list[tuple]) -> None:
        self.queue, self.entries, self.i = queue, entries, 0

    def next(self) -> None:
        """Queue the next entry, as the same key with `fire` in place of its callback."""
        t, priority, eid, _, _ = self.entries[self.i]
        heappush(self.queue, (t, priority, eid, self.fire, self.i))
        self.i += 1

    def fire(self, i: int) -> None:
        _, _, _, callback, value = self.entries[i]
        if self.i < len(self.entries):
            self.next()
        callback(value)


def call_at(env: Clock, delay: float, callback: Callable[[Any], None], value: Any) -> None:
    """Call ``callback(value)`` at ``env.now + delay`` (``env`` must be a `Clock`)."""
    if delay < 0:
        raise ValueError(f"negative delay {delay}")
    env.call(env._now + delay, callback, value)  # type: ignore[attr-defined]


def now(env: simpy.Environment) -> float:
    """Current simulated time in minutes (the attribute, without the property call)."""
    return env._now  # type: ignore[attr-defined,no-any-return]
