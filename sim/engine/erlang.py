"""Queueing formulas for a call centre: Erlang C (M/M/c) and Erlang A (M/M/c+M, callers who
hang up), and the staffing they imply.

The hotline's queue (`sim.engine.callqueue`) is checked against these in tests, and a
planner sizes call-takers hour by hour with them (the stationary independent period
approximation: each hour as if it lasted for ever). Rates are per minute; ``theta`` is the
hang-up rate (1 / mean patience) and ``mu`` the service rate (1 / mean of talk plus
wrap-up). Erlang A comes from the birth-death chain of the number of callers, truncated
where its probabilities vanish; the time a caller waits follows from the chain of callers
ahead of them (Garnett, Mandelbaum and Reiman, 2002).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy.linalg import expm

__all__ = ["QueueFigures", "erlang_c", "erlang_a", "seats_for"]


class QueueFigures(NamedTuple):
    """Long-run figures of one queue (times in minutes).

    ``p_wait``: share of callers who find every seat busy; ``p_abandon``: share who hang up;
    ``mean_wait``: mean time in the queue of the callers answered; ``service_level``: share
    of the answered callers who waited at most ``within`` minutes; ``occupancy``: share of
    seat time busy.
    """

    p_wait: float
    p_abandon: float
    mean_wait: float
    service_level: float
    within: float
    occupancy: float


def erlang_c(lam: float, mu: float, c: int, within: float = 0.25) -> QueueFigures:
    """M/M/c with infinitely patient callers (``lam < c mu``)."""
    a = lam / mu
    if not a < c:
        raise ValueError(f"an Erlang C queue needs load {a:g} below its {c} seats")
    b = 1.0  # Erlang B by its recursion, then C from B
    for n in range(1, c + 1):
        b = a * b / (n + a * b)
    p = b / (1.0 - a / c * (1.0 - b))
    gap = c * mu - lam
    return QueueFigures(p, 0.0, p / gap, 1.0 - p * math.exp(-gap * within), within, a / c)


def erlang_a(lam: float, mu: float, theta: float, c: int, within: float = 0.25
             ) -> QueueFigures:
    """M/M/c+M: Poisson callers, exponential service and exponential patience (``theta >
    0``); stable at any load."""
    if theta <= 0:
        return erlang_c(lam, mu, c, within)
    p = [1.0]
    while True:  # the stationary chain, until its tail no longer matters
        n = len(p)
        p.append(p[-1] * lam / (min(n, c) * mu + max(n - c, 0) * theta))
        if n > c and p[-1] < 1e-15 * sum(p):
            break
    pi = np.asarray(p) / sum(p)
    ahead = pi[c:]  # an arrival finds k = 0, 1, ... callers queued ahead (PASTA)
    k = np.arange(len(ahead))
    p_wait = float(ahead.sum())
    queued = float((pi[c:] * k).sum())
    p_abandon = theta * queued / lam
    # the tagged caller's own chain: j callers ahead move up at c mu + j theta, it hangs up
    # at theta; h[j] = P(answered | j ahead), g[j] = E[wait; answered | j ahead]
    h, g = np.empty(len(k)), np.empty(len(k))
    prev_h, prev_g = 1.0, 0.0
    for j in k.tolist():
        up = c * mu + j * theta
        rate = up + theta
        prev_g = up / rate * (prev_h / rate + prev_g)
        prev_h = up / rate * prev_h
        h[j], g[j] = prev_h, prev_g
    answered = 1.0 - p_abandon
    mean_wait = float((ahead * g).sum()) / answered
    late = float((ahead * (h - _answered_by(c * mu, theta, within, len(k)))).sum())
    occupancy = lam * answered / (c * mu)
    return QueueFigures(p_wait, p_abandon, mean_wait, 1.0 - late / answered, within,
                        occupancy)


def _answered_by(c_mu: float, theta: float, t: float, size: int) -> np.ndarray:
    """P(answered within ``t`` | j callers ahead) for j < ``size``: the tagged caller's
    chain (j ahead ... 0 ahead, answered, hung up) after time ``t``."""
    n = size + 2
    q = np.zeros((n, n))
    served, gone = size, size + 1
    for j in range(size):
        up = c_mu + j * theta
        q[j, j - 1 if j else served] += up
        q[j, gone] += theta
        q[j, j] = -(up + theta)
    return expm(q * t)[:size, served]


def seats_for(lam: float, mu: float, theta: float, service_level: float, within: float = 0.25,
              max_seats: int = 10_000) -> int:
    """The fewest seats with at least ``service_level`` of the answered callers waiting at
    most ``within`` minutes (Erlang A; Erlang C when ``theta`` is 0)."""
    c = max(1, math.ceil(lam / mu) if theta > 0 else math.floor(lam / mu) + 1)
    while c <= max_seats:
        if erlang_a(lam, mu, theta, c, within).service_level >= service_level:
            return c
        c += 1
    raise ValueError(f"no staffing up to {max_seats} seats reaches {service_level:.0%}")
