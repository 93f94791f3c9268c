"""`sim.engine.clock.at` must behave exactly like a SimPy Timeout with a callback."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from sim.engine.clock import Clock, at, call_at
from sim.engine.pools import StaffPool


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


def test_call_at_on_a_clock_orders_like_simpy_timeouts() -> None:
    rng = np.random.default_rng(5)
    delays = np.round(rng.random(400) * 10, 1).tolist()  # many ties
    seen: dict[str, list[tuple[float, int]]] = {"ours": [], "simpy": []}
    for kind in seen:
        env = Clock() if kind == "ours" else simpy.Environment()
        for i, d in enumerate(delays):
            if kind == "ours" and i % 2:  # plain calls and SimPy timeouts share the queue
                call_at(env, d, lambda v, e=env: seen["ours"].append((e.now, v)), i)
            else:
                t = env.timeout(d, i)
                t.callbacks.append(lambda ev, e=env, k=kind: seen[k].append((e.now, ev.value)))
        env.run()
    assert seen["ours"] == seen["simpy"]
    assert len(seen["ours"]) == 400


def test_clock_runs_processes_until_and_steps_like_simpy() -> None:
    def trace(env: simpy.Environment, plain: bool) -> list[tuple[float, str]]:
        log: list[tuple[float, str]] = []

        def proc(e: simpy.Environment):  # noqa: ANN202
            for k in range(5):
                yield e.timeout(1.5)
                log.append((e.now, f"process {k}"))
                if plain:
                    call_at(e, 0.5, lambda v: log.append((env.now, v)), f"call {k}")  # type: ignore[arg-type]
                else:
                    e.timeout(0.5, f"call {k}").callbacks.append(
                        lambda ev: log.append((env.now, ev.value)))

        env.process(proc(env))
        env.run(until=4.0)
        log.append((env.now, "paused"))
        env.step()
        log.append((env.now, "stepped"))
        env.run()
        return log

    assert trace(Clock(), plain=True) == trace(simpy.Environment(), plain=False)


def test_clock_raises_what_a_failed_event_raises_and_rejects_bad_input() -> None:
    env = Clock()

    def proc(e: simpy.Environment):  # noqa: ANN202
        yield e.timeout(1)
        raise KeyError("boom")

    env.process(proc(env))
    with pytest.raises(KeyError, match="boom"):
        env.run()
    with pytest.raises(ValueError):
        call_at(env, -1, lambda v: None, None)
    with pytest.raises(ValueError):
        env.run(until=0.5)
    with pytest.raises(TypeError, match="Clock"):
        StaffPool(simpy.Environment(), "acceptors", 2)  # type: ignore[arg-type]
