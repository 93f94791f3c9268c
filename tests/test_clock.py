"""`sim.clock.at` must behave exactly like a SimPy Timeout with a callback."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from sim.clock import at


def test_at_orders_like_simpy_timeouts() -> None:
    rng = np.random.default_rng(3)
    delays = np.round(rng.random(400) * 10, 1).tolist()  # many ties
    seen: dict[str, list[tuple[float, int]]] = {"ours": [], "simpy": []}
    for kind in seen:
        env = simpy.Environment()
        for i, d in enumerate(delays):
            if kind == "ours":
                at(env, d, i, lambda ev, e=env, k=kind: seen[k].append((e.now, ev.value)))
            else:
                t = env.timeout(d, i)
                t.callbacks.append(lambda ev, e=env, k=kind: seen[k].append((e.now, ev.value)))
        env.run()
    assert seen["ours"] == seen["simpy"]
    assert len(seen["ours"]) == 400


def test_at_interleaves_with_processes_and_rejects_negative_delays() -> None:
    env = simpy.Environment()
    log: list[tuple[float, str]] = []

    def proc(e: simpy.Environment):  # noqa: ANN202
        yield e.timeout(2)
        log.append((e.now, "process"))

    env.process(proc(env))
    at(env, 1, "a", lambda ev: log.append((env.now, ev.value)))
    at(env, 3, "b", lambda ev: log.append((env.now, ev.value)))
    env.run()
    assert log == [(1, "a"), (2, "process"), (3, "b")]
    with pytest.raises(ValueError):
        at(env, -1, None, lambda ev: None)
