"""The dispatcher's desk as a Gymnasium environment, graded by the same rubric as people."""

from __future__ import annotations

import pytest

gym = pytest.importorskip("gymnasium")
from gymnasium.utils.env_checker import check_env  # noqa: E402

from training.grading import grade  # noqa: E402
from training.gym_env import DispatchEnv, handbook_action  # noqa: E402


@pytest.fixture(scope="module")
def env() -> DispatchEnv:
    return DispatchEnv("dispatcher-first-morning")


def test_passes_the_gymnasium_checker(env: DispatchEnv) -> None:
    check_env(env, skip_render_check=True)


def run(env: DispatchEnv, policy, seed: int) -> tuple[float, int]:
    env.reset(seed=seed)
    total, steps, done = 0.0, 0, False
    while not done:
        _, r, done, truncated, _ = env.step(policy())
        assert not truncated
        total += r
        steps += 1
    return total, steps


def test_baseline_scores_at_the_top_and_beats_random(env: DispatchEnv) -> None:
    reward, steps = run(env, lambda: handbook_action(env), seed=12)
    assert steps > 5 and reward == 0.0
    top = grade(env.session.record, env.exercise)
    assert top.grade == "A" and top.score >= 95
    env.action_space.seed(0)
    random_reward, _ = run(env, env.action_space.sample, seed=12)
    low = grade(env.session.record, env.exercise)
    assert random_reward < reward and low.score < top.score - 10
