"""A minimal, idiomatic SimPy model of the case pipeline: the yardstick for GridLoop's cost.

It models what a straightforward SimPy model of docs/domain.md §3 costs per case: Poisson reports,
verification of some public reports, register, file, dispatch, handle, check, close, with a
small rework loop, every actor pool a `simpy.Resource`, one (case, time, step) row per step.
GridLoop's per-case wall time must stay within 2x of this. Keep it plain: no tricks.
Run from the repo root: ``python -m benchmarks.reference_pipeline`` (500k cases).
"""

from __future__ import annotations

import math
import time

import numpy as np
import simpy
from simpy.core import EmptySchedule

from sim.engine.eventlog import Step

__all__ = ["run_reference"]

MINUTES_PER_YEAR = 365 * 24 * 60
P_VERIFY = 0.07          # public reports the acceptor sends an inspector to verify
P_REWORK = 0.05          # checks that fail and send the case back to the department
CREW_SIGMA = 0.8         # lognormal shape of handling time; mean 90 min
CREW_MU = math.log(90.0) - CREW_SIGMA**2 / 2

REPORT, VERIFY, FILE, DISPATCH = int(Step.REPORT), int(Step.VERIFY), int(Step.FILE), int(
    Step.DISPATCH)
HANDLE_START, HANDLE, CHECK = int(Step.HANDLE_START), int(Step.HANDLE), int(Step.CHECK)
REWORK, CLOSE = int(Step.REWORK), int(Step.CLOSE)


def run_reference(n_cases: int, seed: int = 1) -> dict[str, int]:
    """Simulate `n_cases` reports arriving over 365 days and run until every case closes.

    Returns:
        ``cases`` (cases closed), ``rows`` (event rows logged), ``sim_events`` (SimPy events
        processed).
    """
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    inspectors = simpy.Resource(env, capacity=100)
    acceptors = simpy.Resource(env, capacity=12)
    shift_leaders = simpy.Resource(env, capacity=3)
    dispatchers = simpy.Resource(env, capacity=6)
    crews = simpy.Resource(env, capacity=400)
    log: list[tuple[int, float, int]] = []
    closed = 0

    def work(resource: simpy.Resource, minutes: float):
        with resource.request() as req:
            yield req
            yield env.timeout(minutes)

    def case(cid: int):
        nonlocal closed
        log.append((cid, env.now, REPORT))
        if rng.random() < P_VERIFY:
            yield from work(inspectors, rng.exponential(15.0))
            log.append((cid, env.now, VERIFY))
        yield from work(acceptors, rng.exponential(2.0))
        yield from work(shift_leaders, rng.exponential(1.0))
        log.append((cid, env.now, FILE))
        yield from work(dispatchers, rng.exponential(2.0))
        log.append((cid, env.now, DISPATCH))
        while True:
            with crews.request() as req:
                yield req
                log.append((cid, env.now, HANDLE_START))
                yield env.timeout(rng.lognormal(CREW_MU, CREW_SIGMA))
            log.append((cid, env.now, HANDLE))
            yield from work(inspectors, rng.exponential(12.0))
            log.append((cid, env.now, CHECK))
            if rng.random() >= P_REWORK:
                break
            log.append((cid, env.now, REWORK))
        yield from work(shift_leaders, rng.exponential(1.0))
        log.append((cid, env.now, CLOSE))
        closed += 1

    def arrivals():
        mean_gap = MINUTES_PER_YEAR / n_cases
        for cid in range(n_cases):
            yield env.timeout(rng.exponential(mean_gap))
            env.process(case(cid))

    env.process(arrivals())
    sim_events = 0
    try:  # env.run() without the count: step until the schedule is empty
        while True:
            env.step()
            sim_events += 1
    except EmptySchedule:
        pass
    return {"cases": closed, "rows": len(log), "sim_events": sim_events}


if __name__ == "__main__":
    n = 500_000
    t0, c0 = time.perf_counter(), time.process_time()
    out = run_reference(n)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"reference pipeline: {n:,} cases in {wall:.1f} s wall, {cpu:.1f} s cpu "
          f"({wall / n * 1e6:.1f} us/case wall); {out}")
