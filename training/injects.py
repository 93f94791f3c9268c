"""Scripted injects: reports an exercise puts into the city at given times of its window.

Each inject makes new ground-truth problems (they then live like any other: residents may
call again, patrols may find them, they may vanish) and reports them at once through the
given channel, with the claimed subclass and the caller's words; repeats are duplicate
reports of the same problem while it is still open. Grids not named in the exercise are
drawn from the session seed's own stream, so the city's other draws never shift.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from sim.engine.eventlog import Channel
from sim.engine.problems import Fate
from sim.engine.randomness import stream

if TYPE_CHECKING:
    from sim.model import CityModel
    from training.exercises import Exercise, Inject

__all__ = ["schedule_injects", "InjectNote"]


class InjectNote:
    """What the session remembers about an injected report's case (for cards and grading)."""

    __slots__ = ("index", "kind", "description")

    def __init__(self, index: int, kind: str, description: str) -> None:
        self.index, self.kind, self.description = index, kind, description


def schedule_injects(model: CityModel, exercise: Exercise, seed: int,
                     notes: dict[int, InjectNote]) -> None:
    """Schedule every inject of ``exercise``; ``notes`` gets one entry per injected case."""
    rng = stream(seed, "training:injects")
    env = model.env
    codes = {c: i for i, c in enumerate(model.city.codes)}
    start = exercise.window.start_minute
    for i, inj in enumerate(exercise.injects):
        grids = ([codes[inj.grid]] * inj.count if inj.grid is not None
                 else rng.integers(model.city.n_grids, size=inj.count).tolist())
        t = start + inj.at
        ev = env.timeout(max(t - env.now, 0.0), (i, inj, grids))
        ev.callbacks.append(lambda e, m=model, n=notes: _fire(m, n, *e._value))


def _fire(m: CityModel, notes: dict[int, InjectNote], index: int, inj: Inject,
          grids: list[int]) -> None:
    hb = m.handbook
    sub = hb.index(inj.subclass)
    claimed = hb.index(inj.claimed) if inj.claimed is not None else sub
    channel = Channel.PUBLIC if inj.channel == "public" else Channel.INSPECTOR
    now = m.env._now
    note = InjectNote(index, inj.kind, inj.description)
    for grid in grids:
        if not inj.real:
            case = _open(m, -1, grid, claimed, sub, channel, now)
            notes[case.id] = note
            m.supervision.receive(case)
            continue
        pid = m.discovery.create(grid, sub, now)
        _report(m, notes, note, pid, claimed, channel)
        for k in range(1, inj.repeats + 1):
            ev = m.env.timeout(k * inj.repeat_every, pid)
            ev.callbacks.append(lambda e, c=claimed, nt=note: _repeat(m, notes, nt, e._value, c))


def _open(m: CityModel, pid: int, grid: int, claimed: int, sub: int, channel: int,
          now: float) -> Any:
    return m.cases.open(pid, grid, claimed, sub, channel, int(m.inspectors.grid_beat[grid]))


def _report(m: CityModel, notes: dict[int, InjectNote], note: InjectNote, pid: int,
            claimed: int, channel: int) -> None:
    truth = m.truth
    now = m.env._now
    m.discovery.reported[pid] = True
    if math.isnan(truth.found[pid]):
        truth.found[pid], truth.found_by[pid] = now, channel
    case = _open(m, pid, truth.grid[pid], claimed, truth.subclass[pid], channel, now)
    notes[case.id] = note
    m.supervision.receive(case)


def _repeat(m: CityModel, notes: dict[int, InjectNote], note: InjectNote, pid: int,
            claimed: int) -> None:
    if m.truth.fate[pid] == Fate.OPEN:  # callers stop once it is fixed or gone
        _report(m, notes, InjectNote(note.index, "duplicate", note.description), pid,
                claimed, Channel.PUBLIC)
