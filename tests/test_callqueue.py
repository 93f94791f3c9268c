"""The hotline call queue against queueing theory (Erlang C, Erlang A), a naive reference,
and the staffing rule: a call only starts on a seat that is on duty."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.callqueue import CallOutcome, CallQueue, Staffing

# ---------------------------------------------------------------- theory


def erlang_c(c: int, a: float) -> float:
    """Probability an arrival waits in M/M/c with offered load ``a = lambda / mu`` (< c)."""
    b = 1.0
    for n in range(1, c + 1):
        b = a * b / (n + a * b)
    rho = a / c
    return b / (1.0 - rho * (1.0 - b))


def erlang_a(c: int, lam: float, mu: float, theta: float) -> tuple[float, float]:
    """M/M/c+M: (abandonment probability, mean time in queue of all arrivals), from the
    birth-death chain truncated where its probabilities vanish."""
    p = [1.0]
    n = 0
    while True:
        n += 1
        p.append(p[-1] * lam / (min(n, c) * mu + max(n - c, 0) * theta))
        if n > c and p[-1] < 1e-16 * sum(p):
            break
    total = sum(p)
    mean_q = sum(max(k - c, 0) * pk for k, pk in enumerate(p)) / total
    return theta * mean_q / lam, mean_q / lam  # Little's law on the queue


def batch_ci(x: np.ndarray, batches: int = 40) -> tuple[float, float]:
    """Mean of ``x`` and its standard error by batch means."""
    means = np.array([b.mean() for b in np.array_split(x, batches)])
    return float(x.mean()), float(means.std(ddof=1) / math.sqrt(batches))


def poisson_calls(rng: np.random.Generator, n: int, lam: float, mean_talk: float
                  ) -> tuple[np.ndarray, np.ndarray]:
    return np.cumsum(rng.exponential(1 / lam, n)), rng.exponential(mean_talk, n)


def run(q: CallQueue, arrival, talk, patience) -> list[CallOutcome]:
    offer = q.offer
    return [offer(a, s, p) for a, s, p in zip(arrival.tolist(), talk.tolist(),
                                              patience.tolist(), strict=True)]


# ---------------------------------------------------------------- (1) Erlang C


@pytest.mark.parametrize("rho", [0.5, 0.8, 0.9])
def test_mmc_matches_erlang_c(rho: float) -> None:
    c, mu, n, warm = 10, 1.0, 240_000, 10_000
    lam = rho * c * mu
    rng = np.random.default_rng(int(rho * 100))
    arrival, talk = poisson_calls(rng, n, lam, 1 / mu)
    q = CallQueue(Staffing([c] * 24))
    out = run(q, arrival, talk, np.full(n, math.inf))
    assert all(o.answered for o in out)
    wait = np.array([o.wait for o in out])[warm:]
    pc = erlang_c(c, lam / mu)
    wq = pc / (c * mu - lam)
    m, se = batch_ci(wait)
    assert abs(m - wq) < 3 * se, (m, wq, se)
    share, se_share = batch_ci((wait > 0).astype(float))
    assert abs(share - pc) < 3 * se_share, (share, pc, se_share)
    st_ = q.stats()
    assert st_["offered"] == st_["answered"] == n and st_["abandoned"] == 0
    assert st_["connected_rate"] == 1.0
    assert st_["utilisation"] == pytest.approx(rho, rel=0.03)
    assert st_["mean_wait_seconds"] == pytest.approx(60 * np.mean([o.wait for o in out]))


def test_erlang_c_formula() -> None:
    # textbook values: c=1 -> rho; c=2, a=1 -> 1/3
    assert erlang_c(1, 0.7) == pytest.approx(0.7)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)


# ---------------------------------------------------------------- (2) abandonment


def test_abandonment_matches_erlang_a_and_is_monotone() -> None:
    c, mu, n, warm = 10, 1.0, 200_000, 10_000
    lam = 1.1 * c * mu  # overloaded: only abandonment keeps it stable
    rng = np.random.default_rng(7)
    arrival, talk = poisson_calls(rng, n, lam, 1 / mu)
    e = rng.standard_exponential(n)  # common random numbers across patience levels
    answered_wait, abandon = [], []
    for mean_patience in (10.0, 3.0, 1.0, 0.3):
        q = CallQueue(Staffing([c] * 24))
        out = run(q, arrival, talk, mean_patience * e)
        s = q.stats()
        assert s["offered"] == s["answered"] + s["abandoned"] == n
        assert s["redials"] == 0
        for o in out[:2000]:
            assert o.answered == (o.abandoned_at is None)
            if not o.answered:
                assert o.abandoned_at == pytest.approx(o.arrival + o.wait)
                assert o.seat is None and o.end_time is None and o.redial_at is None
        ab = np.array([not o.answered for o in out], dtype=float)[warm:]
        in_queue = np.array([o.wait for o in out])[warm:]
        p_ab, wq = erlang_a(c, lam, mu, 1 / mean_patience)
        m_ab, se_ab = batch_ci(ab)
        m_q, se_q = batch_ci(in_queue)
        assert abs(m_ab - p_ab) < 3 * se_ab, (mean_patience, m_ab, p_ab, se_ab)
        assert abs(m_q - wq) < 3 * se_q, (mean_patience, m_q, wq, se_q)
        answered_wait.append(s["mean_wait_seconds"])
        abandon.append(s["abandon_rate"])
    assert all(a > b for a, b in zip(answered_wait, answered_wait[1:], strict=False)), answered_wait
    assert all(a < b for a, b in zip(abandon, abandon[1:], strict=False)), abandon


def test_abandoned_calls_leave_the_queue_untouched() -> None:
    # one seat; call 1 takes it 0-10; call 2 gives up; call 3 gets the seat at 10
    q = CallQueue(Staffing([1] * 24))
    a = q.offer(0.0, 10.0, 1.0)
    b = q.offer(1.0, 5.0, 2.0)
    c = q.offer(2.0, 5.0, math.inf)
    assert a.answer_time == 0.0 and a.end_time == 10.0
    assert not b.answered and b.abandoned_at == 3.0 and b.wait == 2.0
    assert c.answer_time == 10.0 and c.wait == 8.0 and c.end_time == 15.0
    # patience exactly equal to the wait: answered
    d = q.offer(3.0, 1.0, 12.0)
    assert d.answered and d.answer_time == 15.0
    e = q.offer(15.75, 1.0, 1.0)  # waits exactly 15 s: within the norm
    f = q.offer(16.5, 1.0, 1.0)  # waits 30 s
    assert e.wait == 0.25 and f.wait == 0.5
    s = q.stats()
    assert (s["offered"], s["answered"], s["abandoned"]) == (6, 5, 1)
    assert s["answered_within_15s"] == 2 and s["within_15s_rate"] == 0.4  # a and e
    assert s["mean_wait_seconds"] == pytest.approx(60 * (0 + 8 + 12 + 0.25 + 0.5) / 5)
    assert s["connected_rate"] == 5 / 6 and s["abandon_rate"] == 1 / 6
    assert s["utilisation"] == pytest.approx(1.0)  # the seat talked all along up to 16.5


# ---------------------------------------------------------------- (3) staffing by hour


def test_staffing_hour_of_week_and_seat_minutes() -> None:
    week = [(h * 7) % 5 for h in range(168)]
    s = Staffing(week, start_weekday=2)  # scenario starts on a Wednesday
    for t in (0.0, 59.9, 60.0, 1439.0, 5 * 1440 + 30.0, 10_000.5, 3 * 10_080 + 61.0):
        assert s.on_duty(t) == week[(48 + int(t // 60)) % 168]
    assert s.seats == 4
    for t in (0.0, 30.0, 61.5, 10_080.0, 25_000.25):
        grid = np.arange(0.0, t, 0.25) + 0.125
        brute = sum(s.on_duty(x) for x in grid.tolist()) * 0.25
        assert s.seat_minutes(t) == pytest.approx(brute)
    day = Staffing([0] * 8 + [2] * 16, start_weekday=5)  # 24 values: weekday irrelevant
    assert day.on_duty(7 * 60 + 59) == 0 and day.on_duty(8 * 60) == 2
    assert day.next_on_duty(1, 100.0) == 480.0 and day.next_on_duty(0, 600.0) == 600.0
    assert day.next_on_duty(0, 1440.0 + 1.0) == 1440.0 + 480.0
    with pytest.raises(ValueError):
        Staffing([0] * 24)
    with pytest.raises(ValueError):
        Staffing([1] * 23)
    with pytest.raises(ValueError):
        Staffing([1] * 24, start_weekday=7)


def test_night_calls_answered_at_first_on_duty_minute() -> None:
    staffing = Staffing([0] * 8 + [2] * 10 + [1] * 6)
    q = CallQueue(staffing)
    night = [q.offer(t, 5.0, math.inf) for t in (10.0, 200.0, 300.0, 479.0)]
    assert [o.answer_time for o in night] == [480.0, 480.0, 485.0, 485.0]
    assert [o.seat for o in night[:2]] == [0, 1]
    gone = q.offer(479.5, 1.0, 5.0)  # would be answered at 490: waits 10.5 min > 5
    assert not gone.answered and gone.abandoned_at == 484.5
    assert q.offer(479.5, 1.0, 10.5).answer_time == 490.0  # its place was kept for no one
    # evening: one seat; seat 1 leaves at 18:00 after finishing its call
    late = q.offer(17 * 60 + 58.0, 10.0, math.inf)
    assert late.seat == 0 and late.end_time == 17 * 60 + 68.0
    nxt = q.offer(17 * 60 + 59.0, 10.0, math.inf)
    assert nxt.seat == 1 and nxt.end_time == 18 * 60 + 9.0  # started on duty, finishes late
    third = q.offer(18 * 60 + 1.0, 1.0, math.inf)  # seat 1 is off duty now: waits for seat 0
    assert third.seat == 0 and third.answer_time == 17 * 60 + 68.0
    # the next night: answered at 08:00 the next day
    o = q.offer(1440.0 + 60.0, 1.0, math.inf)
    assert o.answer_time == 1440.0 + 480.0


def naive(staffing: Staffing, calls: list[tuple[float, float, float]],
          windows: list[tuple[float, float]] = ()) -> list[tuple]:
    """Reference: scan every seat for the soonest start (lowest seat on ties); reserve seats
    -1, -2, ... are on duty in ``windows`` (from, until) and may start a call in between."""
    free = {k: 0.0 for k in range(staffing.seats)}
    free.update({-1 - i: w[0] for i, w in enumerate(windows)})
    res = []
    for arrival, talk, patience in calls:
        options = [(staffing.next_on_duty(k, max(arrival, free[k], 0.0)), k)
                   for k in range(staffing.seats)]
        options += [(max(arrival, free[k]), k) for k in free if k < 0
                    and max(arrival, free[k]) < windows[-1 - k][1]]
        start, k = min(options)
        if start - arrival > patience:
            res.append((False, None, None))
        else:
            free[k] = start + talk
            res.append((True, start, k))
    return res


@settings(max_examples=150, deadline=None)
@given(
    per=st.one_of(st.lists(st.integers(0, 4), min_size=24, max_size=24),
                  st.lists(st.integers(0, 3), min_size=168, max_size=168)),
    weekday=st.integers(0, 6),
    calls=st.lists(st.tuples(st.floats(0, 8000, allow_nan=False),
                             st.floats(0, 200, allow_nan=False),
                             st.one_of(st.just(math.inf), st.floats(0, 300, allow_nan=False))),
                   min_size=1, max_size=120),
)
def test_property_seats_on_duty_no_overlap_fifo(per, weekday, calls) -> None:
    if max(per) == 0:
        per[0] = 1
    staffing = Staffing(per, start_weekday=weekday)
    calls.sort(key=lambda c: c[0])
    q = CallQueue(staffing)
    out = [q.offer(a, s, p) for a, s, p in calls]
    ref = naive(staffing, calls)
    by_seat: dict[int, list[tuple[float, float]]] = {}
    last_answer = -math.inf
    for (a, _, p), o, r in zip(calls, out, ref, strict=True):
        assert (o.answered, o.answer_time, o.seat) == r
        if o.answered:
            assert o.answer_time >= a and o.wait == o.answer_time - a <= p
            assert o.seat < staffing.on_duty(o.answer_time)  # on duty when the call starts
            assert o.answer_time >= last_answer  # FIFO
            last_answer = o.answer_time
            by_seat.setdefault(o.seat, []).append((o.answer_time, o.end_time))
        else:
            assert o.abandoned_at == a + p
    for spans in by_seat.values():
        for (_, e0), (s1, _) in zip(spans, spans[1:], strict=False):
            assert s1 >= e0  # a seat holds one call at a time
    st_ = q.stats()
    assert st_["offered"] == st_["answered"] + st_["abandoned"] == len(calls)
    t = calls[-1][0]
    busy = sum(max(0.0, min(e, t) - min(b, t)) for sp in by_seat.values() for b, e in sp)
    assert q.busy_minutes() == pytest.approx(busy, abs=1e-6)


@settings(max_examples=150, deadline=None)
@given(
    per=st.one_of(st.lists(st.integers(0, 3), min_size=24, max_size=24),
                  st.just([2] * 24)),
    p_redial=st.sampled_from([0.0, 0.5, 1.0]),
    calls=st.lists(st.tuples(st.floats(0, 3000, allow_nan=False),
                             st.floats(0, 60, allow_nan=False),
                             st.one_of(st.just(math.inf), st.floats(0, 30, allow_nan=False))),
                   min_size=1, max_size=80),
    cuts=st.lists(st.floats(0, 3000, allow_nan=False), max_size=5),
)
def test_offer_run_settles_as_offer_one_by_one(per, p_redial, calls, cuts) -> None:
    if max(per) == 0:
        per[0] = 1
    calls.sort(key=lambda c: c[0])

    def queue() -> CallQueue:  # each queue with its own copy of the same draws
        rng = np.random.default_rng(7)
        u, d = iter(rng.random(200).tolist()), iter(rng.exponential(5.0, 200).tolist())
        return CallQueue(Staffing(per), p_redial, lambda: next(d), lambda: next(u))

    one = queue()
    out = [one.offer(a, s, p) for a, s, p in calls]
    run = queue()
    arrival, talk, patience = (list(x) for x in zip(*calls, strict=True))
    answers: list[float] = []
    redials: dict[int, float] = {}
    i = 0
    for until in [*sorted(cuts), math.inf]:  # stops between runs, as between problem calls
        while True:
            i, redial_at = run.offer_run(arrival, talk, patience, i, until, answers)
            if redial_at is None:
                break
            redials[i - 1] = redial_at
    assert i == len(calls) == len(answers)
    for k, (o, answer) in enumerate(zip(out, answers, strict=True)):
        if o.answered:
            assert answer == o.answer_time and answer + talk[k] == o.end_time
        else:
            assert math.isnan(answer)
        assert redials.get(k) == o.redial_at
    assert run.stats() == one.stats()  # counters and float sums alike, to the bit


@settings(max_examples=150, deadline=None)
@given(
    per=st.lists(st.integers(0, 3), min_size=24, max_size=24),
    reserves=st.lists(st.tuples(st.floats(0, 4000, allow_nan=False),
                                st.floats(1, 2000, allow_nan=False), st.integers(1, 3)),
                      max_size=3),
    calls=st.lists(st.tuples(st.floats(0, 6000, allow_nan=False),
                             st.floats(0, 200, allow_nan=False),
                             st.one_of(st.just(math.inf), st.floats(0, 300, allow_nan=False))),
                   min_size=1, max_size=100),
)
def test_property_reserve_seats_take_calls_in_their_turn_fifo(per, reserves, calls) -> None:
    """Reserve call-takers (`CallQueue.add_seats`) take calls that start within their turn,
    one at a time, and the queue stays first-in-first-out (a naive scan agrees)."""
    if max(per) == 0:
        per[0] = 1
    staffing = Staffing(per)
    calls.sort(key=lambda c: c[0])
    q = CallQueue(staffing)
    windows: list[tuple[float, float]] = []
    for begin, length, n in reserves:
        assert q.add_seats(begin, begin + length, n) == begin
        windows += [(begin, begin + length)] * n
    out = [q.offer(a, s, p) for a, s, p in calls]
    last_answer = -math.inf
    for o, r in zip(out, naive(staffing, calls, windows), strict=True):
        assert (o.answered, o.answer_time, o.seat) == r
        if o.answered:
            if o.seat < 0:
                assert windows[-1 - o.seat][0] <= o.answer_time < windows[-1 - o.seat][1]
            assert o.answer_time >= last_answer
            last_answer = o.answer_time


def test_reserves_come_after_the_answers_already_given() -> None:
    """A queue built before the reserves were called keeps its answer times: the reserves
    start no earlier than the latest of them, so nobody is overtaken."""
    q = CallQueue(Staffing([1] * 24))
    q.offer(0.0, 10.0, math.inf)           # the one seat until 10
    waiting = q.offer(1.0, 5.0, math.inf)  # answered at 10
    assert waiting.answer_time == 10.0
    assert q.add_seats(2.0, 60.0, 2) == 10.0
    later = q.offer(3.0, 5.0, math.inf)
    assert later.answer_time == 10.0 and later.seat < 0
    assert q.offer(70.0, 1.0, math.inf).seat == 0  # the reserves have gone home
    assert q.add_seats(80.0, 80.0, 3) == 80.0      # an empty turn adds nobody
    assert q.offer(81.0, 1.0, math.inf).seat == 0
    # a reserve finishes the call in progress past its turn, then takes no other
    q = CallQueue(Staffing([1] * 24))
    q.add_seats(0.0, 2.5, 1)
    assert q.offer(0.0, 3.0, math.inf).seat == -1  # reserves first on ties
    assert q.offer(1.0, 10.0, math.inf).seat == 0
    third = q.offer(2.0, 1.0, math.inf)
    assert (third.seat, third.answer_time) == (0, 11.0)


# ---------------------------------------------------------------- (4) redials


def test_redial_every_call_when_certain_and_impatient() -> None:
    delays = iter([5.0, 6.0, 7.0, 8.0, 9.0])
    q = CallQueue(Staffing([0] * 8 + [3] * 16), redial_probability=1.0,
                  redial_delay=lambda: next(delays))
    out = [q.offer(t, 2.0, 0.0, payload=i) for i, t in enumerate((1.0, 2.0, 3.0, 4.0))]
    assert [o.redial_at for o in out] == [6.0, 8.0, 10.0, 12.0]
    assert [o.payload for o in out] == [0, 1, 2, 3]
    assert all(not o.answered and o.abandoned_at == o.arrival for o in out)
    assert q.stats()["redials"] == 4
    # the redials are offered later, in time order, like any call
    again = q.offer(out[0].redial_at, 2.0, 0.0, payload="again")
    assert again.redial_at is not None and again.payload == "again"


def test_redial_probability_uses_uniform_draws() -> None:
    rng = np.random.default_rng(3)
    q = CallQueue(Staffing([0] * 12 + [1] * 12), redial_probability=0.3,
                  redial_delay=lambda: 10.0, uniform=rng.random)
    out = [q.offer(float(t), 1.0, 1.0) for t in range(600)]
    share = np.mean([o.redial_at is not None for o in out])
    assert abs(share - 0.3) < 4 * math.sqrt(0.3 * 0.7 / 600)
    assert all(o.redial_at == o.abandoned_at + 10.0 for o in out if o.redial_at is not None)
    with pytest.raises(ValueError):
        CallQueue(Staffing([1] * 24), redial_probability=0.5, redial_delay=lambda: 1.0)
    with pytest.raises(ValueError):
        CallQueue(Staffing([1] * 24), redial_probability=1.5, redial_delay=lambda: 1.0)


def test_no_redial_when_answered_or_probability_zero() -> None:
    q = CallQueue(Staffing([1] * 24), redial_probability=1.0, redial_delay=lambda: 1.0)
    assert q.offer(0.0, 5.0, 0.0).redial_at is None  # answered at once
    q0 = CallQueue(Staffing([0] * 8 + [1] * 16))
    assert q0.offer(0.0, 5.0, 0.0).redial_at is None


# ---------------------------------------------------------------- (5) time order


def test_arrivals_back_in_time_raise() -> None:
    q = CallQueue(Staffing([2] * 24))
    q.offer(10.0, 1.0, 1.0)
    q.offer(10.0, 1.0, 1.0)  # ties are fine
    with pytest.raises(ValueError):
        q.offer(9.999, 1.0, 1.0)
    with pytest.raises(ValueError):
        q.offer(11.0, -1.0, 1.0)
    for bad in ((math.nan, 1.0, 1.0), (11.0, math.nan, 1.0), (11.0, 1.0, math.nan)):
        with pytest.raises(ValueError, match="call at"):
            q.offer(*bad)
    with pytest.raises(ValueError, match="offered after"):  # a run stops at the bad call
        q.offer_run([10.5, 10.2], [1.0, 1.0], [1.0, 1.0], 0, math.inf, [])
    assert q.stats()["offered"] == 3 and q.last_arrival == 10.5


# ---------------------------------------------------------------- speed (printed)


@pytest.mark.parametrize("shifts", [False, True])
def test_speed_printed(shifts: bool) -> None:
    n = 500_000
    rng = np.random.default_rng(0)
    per = [15] * 24 if not shifts else [4] * 7 + [15] * 15 + [8] * 2
    arrival, talk = poisson_calls(rng, n, 14 * 0.4, 2.5)  # rho ~ 0.93 on 15 seats
    patience = rng.exponential(2.0, n)
    q = CallQueue(Staffing(per))
    a, s, p = arrival.tolist(), talk.tolist(), patience.tolist()
    offer = q.offer
    t0 = time.perf_counter()
    for i in range(n):
        offer(a[i], s[i], p[i])
    dt = time.perf_counter() - t0
    run = CallQueue(Staffing(per))
    t0 = time.perf_counter()
    run.offer_run(a, s, p, 0, math.inf, [])
    dt_run = time.perf_counter() - t0
    print(f"\ncallqueue ({'shifts' if shifts else 'constant'} 15 seats): "
          f"{dt / n * 1e6:.2f} us per call offered, {dt_run / n * 1e6:.2f} in a run; "
          f"{q.stats()}")
    assert q.stats()["offered"] == n
    assert run.stats() == q.stats()
