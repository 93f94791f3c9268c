"""Erlang C and Erlang A (`sim.engine.erlang`): textbook values, the limit between them, and
the hotline's call queue simulated against the service level and waits they predict."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.engine.callqueue import CallQueue, Staffing
from sim.engine.erlang import erlang_a, erlang_c, seats_for


def test_erlang_c_textbook_values() -> None:
    one = erlang_c(0.7, 1.0, 1)          # M/M/1: waits with probability rho
    assert one.p_wait == pytest.approx(0.7)
    assert one.mean_wait == pytest.approx(0.7 / 0.3)
    assert one.service_level == pytest.approx(1 - 0.7 * math.exp(-0.3 * 0.25))
    assert erlang_c(1.0, 1.0, 2).p_wait == pytest.approx(1 / 3)
    with pytest.raises(ValueError):
        erlang_c(3.0, 1.0, 3)


def test_erlang_a_tends_to_erlang_c_and_counts_abandonment_by_littles_law() -> None:
    c_ = erlang_c(1.6, 0.4, 5)
    a_ = erlang_a(1.6, 0.4, 1e-9, 5)
    for got, want in zip(a_, c_, strict=True):
        assert got == pytest.approx(want, rel=1e-6, abs=1e-7)
    # P(abandon) = theta * E[queue] / lambda, the queue from the birth-death chain
    lam, mu, theta, c = 2.2, 0.2, 0.5, 10
    p = [1.0]
    for n in range(1, 400):
        p.append(p[-1] * lam / (min(n, c) * mu + max(n - c, 0) * theta))
    pi = np.array(p) / sum(p)
    queue = sum(max(n - c, 0) * x for n, x in enumerate(pi))
    assert erlang_a(lam, mu, theta, c).p_abandon == pytest.approx(theta * queue / lam)
    assert erlang_a(lam, mu, theta, c).p_wait == pytest.approx(pi[c:].sum())


@pytest.mark.parametrize(("lam", "c", "patience"), [(4.2, 10, 3.0), (5.0, 10, 1.0)])
def test_queue_matches_erlang_a_service_level_and_answered_wait(lam: float, c: int,
                                                                patience: float) -> None:
    mu, n, warm = 0.5, 150_000, 5_000   # 2-minute calls; the second case is overloaded
    rng = np.random.default_rng(11)
    arrival = np.cumsum(rng.exponential(1 / lam, n))
    talk = rng.exponential(1 / mu, n)
    wait_limit = rng.exponential(patience, n)
    answers: list[float] = []
    q = CallQueue(Staffing([c] * 24))
    q.offer_run(arrival.tolist(), talk.tolist(), wait_limit.tolist(), 0, math.inf, answers)
    wait = (np.array(answers) - arrival)[warm:]
    answered = ~np.isnan(wait)
    want = erlang_a(lam, mu, 1 / patience, c)

    def batches(x: np.ndarray) -> tuple[float, float]:
        means = np.array([b.mean() for b in np.array_split(x, 30)])
        return float(x.mean()), float(means.std(ddof=1) / math.sqrt(30))

    for got, expected in ((batches((~answered).astype(float)), want.p_abandon),
                          (batches(wait[answered]), want.mean_wait),
                          (batches((wait[answered] <= 0.25).astype(float)), want.service_level)):
        mean, se = got
        assert abs(mean - expected) < 3.5 * se + 1e-4, (mean, expected, se)


def test_seats_for_reaches_the_service_level_with_the_fewest_seats() -> None:
    lam, mu, theta = 2.3, 1 / 4, 1 / 10   # a peak hour: 138 calls, 4 minutes each
    c = seats_for(lam, mu, theta, 0.95)
    assert erlang_a(lam, mu, theta, c).service_level >= 0.95
    assert erlang_a(lam, mu, theta, c - 1).service_level < 0.95
    assert seats_for(2 * lam, mu, theta, 0.95) > c
    assert seats_for(lam, mu, 0.0, 0.95) >= c  # patient callers need no fewer seats
