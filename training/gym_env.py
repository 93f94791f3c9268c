"""A Gymnasium environment for the dispatcher's desk (optional extra ``gridloop[gym]``).

The agent sits at the same decision point as a trainee: each step is one card (a filed case
to dispatch, a returned case to re-dispatch, or an extension request), and the city runs on
to the next card between steps. The episode is one exercise window; its `Session` record is
graded by the same rubric as people (`training.grading.grade(env.session.record)`).

Observation (Box in [0, 1]): the card's kind, its claimed subclass (one-hot), the handbook's
department and urgency for that subclass, the department that returned it (if any), the time
of day, how long the card has waited and how many cards are queued. Action
(MultiDiscrete): department index, urgent (0/1), whistle (0/1), grant the extension (0/1);
a dispatch card reads the first three, an extension card only the last. Reward: minus the
rubric's points for the decision's deviations (per `training.rules`), divided by the points
of a critical one.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from training.baseline import handbook_answer
from training.cards import Card
from training.exercises import Exercise, load_exercise
from training.rules import judge, judge_time
from training.session import Session

__all__ = ["DispatchEnv", "handbook_action"]

_KINDS = ("dispatch", "return", "extension")


class DispatchEnv(gym.Env[np.ndarray, np.ndarray]):
    """The dispatcher role of ``exercise`` (an id, a file or an `Exercise`) as an episode."""

    metadata = {"render_modes": []}

    def __init__(self, exercise: str | Exercise = "dispatcher-first-morning") -> None:
        ex = exercise if isinstance(exercise, Exercise) else load_exercise(exercise)
        if ex.role != "dispatcher":
            ex = ex.model_copy(update={"role": "dispatcher"})
        self.exercise = ex
        probe = Session(ex)
        self.departments = probe.departments
        self.codes = [s.code for s in probe.handbook.subclasses]
        self._dept_of = [self.departments.index(s.department)
                         for s in probe.handbook.subclasses]
        self._urgent = [s.urgency == "urgent" for s in probe.handbook.subclasses]
        nd, ns = len(self.departments), len(self.codes)
        self._size = len(_KINDS) + ns + nd + 1 + (nd + 1) + 3
        self.observation_space = spaces.Box(0.0, 1.0, shape=(self._size,), dtype=np.float32)
        self.action_space = spaces.MultiDiscrete([nd, 2, 2, 2])
        self.session: Session = probe
        self._card: Card | None = None

    # -- gymnasium API ---------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self.session = Session(self.exercise, seed if seed is not None else self.exercise.seed,
                               trainee="gym")
        self._next()
        return self._obs(), self._info()

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        s = self.session
        card = self._card
        reward = 0.0
        info: dict[str, Any] = {}
        if card is not None:
            name, fields = self._decode(card, np.asarray(action))
            d = s.decide(card.id, name, **fields)
            rubric = s.exercise.rubric
            f = s.facts[card.id]
            _, devs = judge(f, d, s.handbook, rubric, s.departments)
            limit = rubric.step_limit_minutes or s.model.spec.centre.step_limit_minutes
            _, late = judge_time(f, d.sim_time, s.now, limit, rubric.urgent_limit_minutes,
                                 s.handbook)
            sev = rubric.severity.model_dump()
            reward = -sum(sev[x.severity] for x in (*devs, *late)) / rubric.severity.critical
            info["deviations"] = [x.rule for x in (*devs, *late)]
        self._next()
        terminated = self._card is None
        return self._obs(), float(reward), terminated, False, {**self._info(), **info}

    # -- helpers -----------------------------------------------------------------------------
    def _next(self) -> None:
        s = self.session
        if not s.pending():
            s.advance_to_next_card()
        pending = s.pending()
        self._card = pending[0] if pending else None

    def _decode(self, card: Card, a: np.ndarray) -> tuple[str, dict[str, Any]]:
        if card.kind == "extension":
            return ("grant" if int(a[3]) else "refuse"), {}
        return "dispatch", {"department": self.departments[int(a[0])],
                            "urgency": "urgent" if int(a[1]) else "normal",
                            "whistle": bool(int(a[2]))}

    def _obs(self) -> np.ndarray:
        o = np.zeros(self._size, dtype=np.float32)
        c = self._card
        if c is None:
            return o
        nd, ns = len(self.departments), len(self.codes)
        sub = self.codes.index(c.claimed_subclass)
        i = 0
        o[i + _KINDS.index(c.kind)] = 1.0
        i += len(_KINDS)
        o[i + sub] = 1.0
        i += ns
        o[i + self._dept_of[sub]] = 1.0
        i += nd
        o[i] = float(self._urgent[sub])
        i += 1
        back = self.departments.index(c.returned_from) if c.returned_from else nd
        o[i + back] = 1.0
        i += nd + 1
        s = self.session
        o[i] = (s.now % 1440.0) / 1440.0
        o[i + 1] = min(1.0, (s.now - c.received_at) / 60.0)
        o[i + 2] = min(1.0, len(s.pending()) / 20.0)
        return o

    def _info(self) -> dict[str, Any]:
        c = self._card
        return {"card": c.id if c else None, "clock": self.session.clock_text}


def handbook_action(env: DispatchEnv) -> np.ndarray:
    """The baseline policy: the handbook's answer to the current card, as an action."""
    c = env._card
    a = np.zeros(4, dtype=np.int64)
    if c is None:
        return a
    name, fields = handbook_answer(env.session, c)
    if c.kind == "extension":
        a[3] = 1 if name == "grant" else 0
        return a
    a[0] = env.departments.index(fields["department"])
    a[1] = 1 if fields["urgency"] == "urgent" else 0
    a[2] = 1 if fields["whistle"] else 0
    return a
