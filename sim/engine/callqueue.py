"""The 12345 hotline's call queue: one FIFO line, call-takers on duty by hour, impatient callers.

Each call is settled when it is offered, in arrival order, without simulation events: with
FIFO and the seats' next-free times known, a call's answer time is fixed at its arrival, and
a caller who would wait longer than their patience hangs up (and may redial) (docs/domain.md §7).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from heapq import heappop, heappush, heapreplace
from typing import Any

__all__ = ["Staffing", "CallQueue", "CallOutcome", "SERVICE_LEVEL_MINUTES"]

SERVICE_LEVEL_MINUTES = 0.25
"""The hotline norm: answer within 15 s."""

_HOUR = 60.0
_NAN = math.nan
_PRUNE = 4096  # answered calls kept before those ended are dropped (only busy_minutes reads them)


class Staffing:
    """Call-takers on duty by hour: 24 values (every day alike) or 168 (hour of week).

    Time is minutes since the scenario start, which is 00:00 of weekday ``start_weekday``
    (0 = Monday); a 168-value vector starts on Monday 00:00. The pool has ``seats =
    max(per_hour)`` seats and seat ``k`` is on duty in hour ``h`` iff ``k < per_hour[h]``, so
    when the count drops the highest seats leave first, and when it rises new seats join at
    the hour boundary.
    """

    __slots__ = ("per_hour", "start_weekday", "seats", "_per", "_period", "_gap", "_cum",
                 "constant")

    def __init__(self, per_hour: Sequence[int], start_weekday: int = 0) -> None:
        per = [int(n) for n in per_hour]
        if len(per) not in (24, 168):
            raise ValueError(f"staffing needs 24 or 168 hourly values, got {len(per)}")
        if any(n < 0 for n in per) or any(n != v for n, v in zip(per, per_hour, strict=True)):
            raise ValueError("call-takers on duty must be non-negative integers")
        if max(per) < 1:
            raise ValueError("staffing has no call-taker on duty in any hour")
        if not 0 <= start_weekday <= 6:
            raise ValueError(f"start_weekday must be 0 (Monday) .. 6, got {start_weekday}")
        self.per_hour = tuple(per)
        self.start_weekday = start_weekday
        period = len(per)
        shift = start_weekday * 24 % period
        self._per = per[shift:] + per[:shift]  # index = hours since the start, mod period
        self._period = period
        self.seats = max(per)
        self.constant = min(per) == self.seats
        # _gap[k][h]: whole hours from hour h until seat k is next on duty (0: on duty now)
        self._gap: list[list[int]] = []
        for k in range(self.seats):
            gap = [0] * period
            nxt = None
            for i in range(2 * period - 1, -1, -1):  # two turns so every hour sees the next
                h = i % period
                if k < self._per[h]:
                    nxt = i
                elif nxt is not None:
                    gap[h] = nxt - i
            self._gap.append(gap)
        self._cum = [0]
        for n in self._per:
            self._cum.append(self._cum[-1] + n)

    def on_duty(self, t: float) -> int:
        """Call-takers on duty at minute ``t``."""
        return self._per[int(t // _HOUR) % self._period]

    def next_on_duty(self, seat: int, t: float) -> float:
        """The first time ``>= t`` at which ``seat`` is on duty."""
        h = int(t // _HOUR)
        g = self._gap[seat][h % self._period]
        return t if g == 0 else (h + g) * _HOUR

    def seat_minutes(self, t: float) -> float:
        """On-duty seat-minutes in ``[0, t]``."""
        if t <= 0:
            return 0.0
        h = int(t // _HOUR)
        turns, r = divmod(h, self._period)
        return (_HOUR * (turns * self._cum[-1] + self._cum[r])
                + self._per[r] * (t - h * _HOUR))


@dataclass(slots=True)
class CallOutcome:
    """What became of one offered call (times in minutes since the start).

    ``wait`` is the time in the queue: until answered, or until hanging up (the patience)
    for an abandoned call. ``redial_at`` is set when an abandoned caller will call again
    then; the engine offers that call later, in time order.
    """

    arrival: float
    answered: bool
    answer_time: float | None
    end_time: float | None
    wait: float
    abandoned_at: float | None
    redial_at: float | None
    seat: int | None
    payload: Any = None


class CallQueue:
    """One FIFO queue served by the seats of a `Staffing`, settled call by call at arrival.

    Rule: a call only starts on a seat that is on duty at its start time; a call in progress
    when its seat goes off duty is finished. The seat taken is the one that can start the
    call soonest (the lowest such seat on ties); its answer time is ``max(arrival,
    that seat's next on-duty moment after it frees)``. Answer times are then non-decreasing in
    arrival order (FIFO: no call overtakes an earlier one), because a seat's availability
    only grows with time and each answered call pushes its seat's free time past its own
    answer. A caller whose wait would exceed their patience hangs up at ``arrival +
    patience`` and never takes a seat, so the calls behind are served exactly as if they had
    never come (exact for FIFO reneging). With probability ``redial_probability`` (drawn with
    ``uniform``) they call again ``redial_delay()`` minutes after hanging up.

    State: a heap of ``(ready, seat)`` for seats holding or about to hold a call (``ready``
    is the seat's first on-duty moment after its last call ends) and a heap of idle seat
    indices (free before the current arrival; the lowest is on duty soonest, since seat k
    on duty implies every lower seat is). A call costs a few heap operations.
    """

    __slots__ = ("staffing", "redial_probability", "redial_delay", "uniform", "_busy",
                 "_idle", "_gap", "_period", "_const", "_last", "_ends", "_offered",
                 "_answered", "_abandoned", "_redials", "_within", "_wait_sum", "_talk_sum",
                 "_seat", "_by_hour", "_hour", "_hour_end", "_prune_at", "_leave",
                 "_reserves", "_latest")

    def __init__(self, staffing: Staffing, redial_probability: float = 0.0,
                 redial_delay: Callable[[], float] | None = None,
                 uniform: Callable[[], float] | None = None) -> None:
        if not 0.0 <= redial_probability <= 1.0:
            raise ValueError(f"redial_probability must be in [0, 1], got {redial_probability}")
        if redial_probability > 0.0 and redial_delay is None:
            raise ValueError("redial_probability > 0 needs a redial_delay")
        if 0.0 < redial_probability < 1.0 and uniform is None:
            raise ValueError("0 < redial_probability < 1 needs a uniform() draw")
        self.staffing = staffing
        self.redial_probability = redial_probability
        self.redial_delay = redial_delay
        self.uniform = uniform
        self._gap = staffing._gap
        self._period = staffing._period
        self._const = staffing.constant
        # every seat starts free at time 0, ready when it is first on duty
        self._busy: list[tuple[float, int]] = sorted(
            (staffing.next_on_duty(k, 0.0), k) for k in range(staffing.seats))
        self._idle: list[int] = []
        # (end, answer) of answered calls, those ending by the last arrival dropped now and then
        self._ends: list[tuple[float, float]] = []
        self._prune_at = _PRUNE
        self._last = -math.inf
        self._offered = self._answered = self._abandoned = self._redials = self._within = 0
        self._wait_sum = self._talk_sum = 0.0
        self._seat = -1  # the seat taken (or that would have been) by the last call settled
        # _by_hour[h % period][seat]: hours until the seat is on duty, from hour h; the row of
        # the hour of the last arrival is kept with the minute that hour ends
        self._by_hour = [list(col) for col in zip(*self._gap, strict=True)]
        self._hour, self._hour_end = -1, -math.inf
        self._leave: list[float] = []  # reserve seat -1 - i leaves at _leave[i] (`add_seats`)
        self._reserves: list[tuple[float, float, int]] = []  # start, end, seats
        self._latest = -math.inf  # the latest answer time given

    def add_seats(self, start: float, end: float, n: int) -> float:
        """``n`` reserve call-takers on duty from ``start`` to ``end`` (a surge: called in
        for an incident), numbered -1, -2, ...: they take calls starting before ``end`` and
        finish the call in progress. The calls already offered keep their answer times, so
        to stay first-in-first-out the reserves come no earlier than the latest of those
        (and the last arrival). Returns the time they come."""
        start = max(start, self._last, self._latest)
        if n < 1 or start >= end:
            return start
        for _ in range(int(n)):
            self._leave.append(end)
            heappush(self._busy, (start, -len(self._leave)))
        self._reserves.append((start, end, int(n)))
        return start

    @property
    def last_arrival(self) -> float:
        """Arrival time of the latest call offered (``-inf`` before the first)."""
        return self._last

    def offer(self, arrival: float, talk: float, patience: float,
              payload: Any = None) -> CallOutcome:
        """Settle one call arriving at ``arrival`` needing ``talk`` minutes of a seat (the
        talk and any wrap-up after it), willing to wait ``patience`` minutes (``math.inf``:
        never hangs up). Arrivals must not decrease."""
        answers: list[float] = []
        _, redial_at = self.offer_run((arrival,), (talk,), (patience,), 0, arrival, answers)
        answer = answers[0]
        if answer != answer:  # NaN: hung up
            return CallOutcome(arrival, False, None, None, patience, arrival + patience,
                               redial_at, None, payload)
        return CallOutcome(arrival, True, answer, answer + talk, answer - arrival, None, None,
                           self._seat, payload)

    def offer_run(self, arrival: Sequence[float], talk: Sequence[float],
                  patience: Sequence[float], start: int, until: float,
                  answers: list[float]) -> tuple[int, float | None]:
        """Settle calls ``start, start + 1, ...`` of the columns ``arrival`` (not decreasing),
        ``talk`` and ``patience``, in order, while their arrival is ``<= until``: what
        `offer` does for each, without a `CallOutcome` per call (the hotline offers ~600,000
        background calls a year this way).

        Appends each call's answer time to ``answers`` (NaN: the caller hung up); its wait is
        ``answer - arrival`` and its end ``answer + talk``. Stops right after a caller who
        hung up and will redial, so that the engine can offer the redial in time order.
        Returns the index of the first call not offered and that redial's time (None when
        no caller redials).
        """
        n = len(arrival)
        i = start
        if i >= n or arrival[i] > until:
            return i, None
        busy, idle, ends = self._busy, self._idle, self._ends
        const, by_hour, period = self._const, self._by_hour, self._period
        hour, hour_end = self._hour, self._hour_end
        row = by_hour[hour % period]
        p_redial = self.redial_probability
        leave = self._leave
        last = self._last
        answered = abandoned = within = 0
        wait_sum, talk_sum = self._wait_sum, self._talk_sum
        seat = self._seat
        latest = self._latest
        redial_at = None
        append, end_append = answers.append, ends.append
        try:
            while i < n:
                a = arrival[i]
                if a > until:
                    break
                s = talk[i]
                p = patience[i]
                if not (a >= last and s >= 0.0 and p >= 0.0):  # NaN fails too
                    if a < last:
                        raise ValueError(f"call at {a} offered after one at {last}")
                    raise ValueError(f"call at {a}: talk {s} and patience {p} must be numbers"
                                     " >= 0")
                last = a
                i += 1
                if a >= hour_end:  # a new hour (arrivals never decrease)
                    hour = int(a // _HOUR)
                    hour_end = (hour + 1) * _HOUR
                    row = by_hour[hour % period]
                while busy and busy[0][0] <= a:
                    heappush(idle, heappop(busy)[1])
                while idle and idle[0] < 0 and leave[-1 - idle[0]] <= a:
                    heappop(idle)  # a reserve call-taker gone home
                if idle:
                    seat = idle[0]
                    g = 0 if const or seat < 0 else row[seat]
                    if g == 0:
                        answer = a
                        from_idle = True
                    else:
                        answer = (hour + g) * _HOUR
                        from_idle = not busy or (answer, seat) < busy[0]  # ties: lower seat
                        if not from_idle:
                            answer, seat = busy[0]
                else:
                    answer, seat = busy[0]
                    from_idle = False
                wait = answer - a
                if wait > p:
                    abandoned += 1
                    append(_NAN)
                    if p_redial > 0.0 and (p_redial >= 1.0
                                           or self.uniform() < p_redial):  # type: ignore[misc]
                        redial_at = a + p + self.redial_delay()  # type: ignore[misc]
                        self._redials += 1
                        break
                    continue
                end = answer + s
                if const or seat < 0:
                    ready = end
                elif end < hour_end:
                    g = row[seat]
                    ready = end if g == 0 else (hour + g) * _HOUR
                else:
                    h = int(end // _HOUR)
                    g = by_hour[h % period][seat]
                    ready = end if g == 0 else (h + g) * _HOUR
                if seat < 0 and ready >= leave[-1 - seat]:  # a reserve's last call
                    heappop(idle) if from_idle else heappop(busy)
                elif from_idle:
                    heappop(idle)
                    heappush(busy, (ready, seat))
                else:
                    heapreplace(busy, (ready, seat))
                if end > a:
                    end_append((end, answer))
                answered += 1
                wait_sum += wait
                talk_sum += s
                if wait <= SERVICE_LEVEL_MINUTES:
                    within += 1
                latest = answer
                append(answer)
        finally:  # the state and counters, kept in locals above, once
            self._last = last
            self._hour, self._hour_end = hour, hour_end
            self._offered += answered + abandoned
            self._answered += answered
            self._abandoned += abandoned
            self._within += within
            self._wait_sum, self._talk_sum = wait_sum, talk_sum
            self._seat = seat
            self._latest = latest
        if len(ends) >= self._prune_at:
            ends[:] = [e for e in ends if e[0] > last]
            self._prune_at = max(_PRUNE, 2 * len(ends))
        return i, redial_at

    def busy_minutes(self, t: float | None = None) -> float:
        """Seat-minutes spent talking in ``[0, t]`` (``t`` >= the last arrival; default it)."""
        t = self._last if t is None else t
        if t < self._last:
            raise ValueError(f"busy_minutes({t}) before the last arrival {self._last}")
        excess = 0.0
        for end, answer in self._ends:
            if end > t:
                excess += end - (answer if answer > t else t)
        return self._talk_sum - excess

    def stats(self) -> dict[str, float]:
        """Counters and rates up to the last arrival; every offered call is already settled
        (answered, possibly in the future, or abandoned). Utilisation is talking seat-minutes
        over on-duty seat-minutes in ``[0, last arrival]``; calls finished past a seat's
        shift count as talking, so it can exceed 1 slightly."""
        offered, answered = self._offered, self._answered
        t = self._last if self._offered else 0.0
        on_duty = self.staffing.seat_minutes(t) + sum(
            n * max(0.0, min(end, t) - start) for start, end, n in self._reserves)
        return {
            "offered": offered,
            "answered": answered,
            "abandoned": self._abandoned,
            "redials": self._redials,
            "answered_within_15s": self._within,
            "within_15s_rate": self._within / answered if answered else 0.0,
            "mean_wait_seconds": 60.0 * self._wait_sum / answered if answered else 0.0,
            "abandon_rate": self._abandoned / offered if offered else 0.0,
            "connected_rate": answered / offered if offered else 0.0,
            "utilisation": self.busy_minutes(t) / on_duty if on_duty > 0 else 0.0,
        }
