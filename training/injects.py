"""Scripted injects: reports an exercise puts into the city at given times of its window.

Each inject makes new ground-truth problems (they then live like any other: residents may
call again, patrols may find them, they may vanish) and reports them at once through the
given channel, with the claimed subclass and the caller's words; repeats are duplicate
reports of the same problem while it is still open. Grids not named in the exercise are
drawn from the session seed's own stream, so the city's other draws never shift.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from sim.engine.eventlog import Channel
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
        env.call(max(start + inj.at, env.now), partial(_fire, model, notes),
                 (i, inj, grids))


def _fire(m: CityModel, notes: dict[int, InjectNote], value: tuple[int, Inject, list[int]]
          ) -> None:
    index, inj, grids = value
    hb = m.handbook
    sub = hb.index(inj.subclass)
    claimed = hb.index(inj.claimed) if inj.claimed is not None else sub
    channel = Channel.PUBLIC if inj.channel == "public" else Channel.INSPECTOR
    now = m.env._now
    note = InjectNote(index, inj.kind, inj.description)
    disc = m.discovery
    for grid in grids:
        if not inj.real:
            notes[disc.report_nothing(grid, claimed, sub, channel).id] = note
            continue
        pid = disc.new_problem(grid, sub, now)
        notes[disc.report_injected(pid, channel, claimed).id] = note
        for k in range(1, inj.repeats + 1):
            m.env.call(now + k * inj.repeat_every, partial(_repeat, m, notes, note, claimed),
                       pid)


def _repeat(m: CityModel, notes: dict[int, InjectNote], note: InjectNote, claimed: int,
            pid: int) -> None:
    if m.truth.is_open(pid):  # callers stop once it is fixed or gone
        case = m.discovery.report_injected(pid, Channel.PUBLIC, claimed)
        notes[case.id] = InjectNote(note.index, "duplicate", note.description)
