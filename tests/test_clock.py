"""`sim.engine.clock`: plain calls order exactly like SimPy timeouts, and processes (plain
generators on an owner's ``life``) wait and resume as SimPy processes would."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from sim.engine.clock import PENDING, Clock, call_at, resume, start
from sim.engine.pools import StaffPool


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


class _Owner:
    life = None


def test_processes_wait_resume_and_take_ready_values_at_once() -> None:
    """A process on a `Clock` against the same steps as a SimPy process: waits on the clock,
    results ready now (sent straight back, no time passes), results given later by whoever
    holds it, and an end."""
    log: dict[str, list[tuple[float, object]]] = {"ours": [], "simpy": []}
    ours, holder = Clock(), _Owner()

    def life(env: Clock, me: _Owner):  # noqa: ANN202
        yield env.after(me, 1.5)
        log["ours"].append((env.now, "woke"))
        got = yield 42  # ready now
        log["ours"].append((env.now, got))
        got = yield PENDING  # given later by whoever holds the owner
        log["ours"].append((env.now, got))
        yield env.after(me, 0.0)
        log["ours"].append((env.now, "end"))

    start(holder, life(ours, holder))
    call_at(ours, 4.0, lambda _: resume(holder, "answer"), None)
    ours.run()
    assert holder.life is None  # ended

    theirs = simpy.Environment()
    answer = theirs.event()

    def process(env: simpy.Environment):  # noqa: ANN202
        yield env.timeout(1.5)
        log["simpy"].append((env.now, "woke"))
        log["simpy"].append((env.now, 42))
        got = yield answer
        log["simpy"].append((env.now, got))
        yield env.timeout(0.0)
        log["simpy"].append((env.now, "end"))

    theirs.process(process(theirs))
    theirs.timeout(4.0).callbacks.append(lambda _: answer.succeed("answer"))
    theirs.run()
    assert log["ours"] == log["simpy"] == [(1.5, "woke"), (1.5, 42), (4.0, "answer"),
                                          (4.0, "end")]


def test_next_time_skips_the_stop_events_run_leaves_behind() -> None:
    env = Clock()
    call_at(env, 5.0, lambda _: None, None)
    env.run(until=2.0)
    assert env.next_time() == 5.0
    env.run(until=7.0)
    assert env.next_time() == float("inf")


def test_entries_held_for_a_later_slot_run_in_the_order_of_a_plain_queue(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A clock that keeps entries due after the current slot (and chained ones) out of the
    queue runs the same calls at the same times in the same order as one that queues every
    entry at once, through `run(until=...)`, `step` and `peek`, with SimPy timeouts among
    them and many ties (and the count of entries waiting is the same)."""

    def trace(holds: bool) -> tuple[list[tuple[float, object]], list[int]]:
        monkeypatch.setattr(Clock, "holds_ahead", holds)
        env = Clock()
        rng = np.random.default_rng(11)
        log: list[tuple[float, object]] = []
        pending: list[int] = []
        rng_k = np.random.default_rng(3)

        def note(v: object) -> None:
            log.append((env.now, v))
            if len(log) < 3000:  # calls made while running, near and far, some at once
                d = float(rng_k.choice([0.0, 0.5, 7.0, 30.0, 600.0]) * rng_k.integers(0, 3))
                env.call(env.now + d, note, ("again", v))
                if len(log) % 7 == 0:
                    env.timeout(d, ("timeout", v)).callbacks.append(
                        lambda ev: log.append((env.now, ev.value)))

        env.call_chain([60.0 * k for k in range(50)], note, [("day", k) for k in range(50)])
        for i, d in enumerate(np.round(rng.random(300) * 400, 0).tolist()):
            env.call(d, note, i)
        env.run(until=500.0)
        pending.append(env.pending())
        env.step()
        pending.append(env.pending())
        log.append((env.peek(), "peek"))
        env.run(until=2000.0)
        pending.append(env.pending())
        env.run()
        pending.append(env.pending())
        return log, pending

    held, plain = trace(True), trace(False)
    assert held == plain
    assert len(held[0]) > 3000 and held[1][0] > 0


def test_a_slots_sorted_entries_interleave_with_the_heap_as_one_heap_would(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A slot's held entries are sorted once at its start and taken from that list, beside
    the heap: with many entries at the same minutes (held ones made in an order unlike
    their times, SimPy timeouts, calls queued during the slot for the slot, processes
    waking), every call runs at the same time and in the same order as on a clock that
    queues everything in its heap, the ties broken by the order the entries were made."""

    def trace(holds: bool) -> tuple[list[tuple[float, object]], int]:
        monkeypatch.setattr(Clock, "holds_ahead", holds)
        env = Clock()
        log: list[tuple[float, object]] = []
        most = [0]

        def note(v: object) -> None:
            log.append((env.now, v))
            most[0] = max(most[0], len(env._slot))
            if isinstance(v, int) and v % 3 == 0:  # due in this slot (or now): the heap
                env.call(env.now + (v % 2) * 1.0, note, ("soon", v))
            if isinstance(v, int) and v % 5 == 0:  # due in a later slot: held
                env.call(env.now + 20.0, note, ("later", v))

        class Sleeper:
            life = None

        def sleeper(me: Sleeper, k: int):  # noqa: ANN202
            for _ in range(4):
                yield env.after(me, 10.0)
                log.append((env.now, ("woke", k)))

        times = [float(t) for t in (np.arange(600) * 7 % 60) + 10.0]  # minutes 10-69, ties
        def make(_: None) -> None:  # while the clock runs: held by slot
            for i, t in reversed(list(enumerate(times))):  # made against their times' order
                env.call(t, note, i)

        env.call(0.0, make, None)
        for k in range(20):
            env.timeout(float(k % 6) * 10.0, ("timeout", k)).callbacks.append(
                lambda ev: log.append((env.now, ev.value)))
            owner = Sleeper()
            start(owner, sleeper(owner, k))
        env.run(until=35.0)
        log.append((env.peek(), "peek"))
        env.step()
        env.run()
        return log, most[0]

    (held, most), (plain, none) = trace(True), trace(False)
    assert held == plain
    assert len(held) > 700 and most > 50 and none == 0  # the sorted list was used
    ties = [t for t, _ in held]
    assert ties == sorted(ties) and len(set(ties)) < len(ties) / 5
