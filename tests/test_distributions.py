"""Distributions as scenario data: each kind draws what its parameters say."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from sim.data.distributions import Dist, make_sampler

N = 200_000


@pytest.mark.parametrize("spec, mean, cv", [
    ({"dist": "exponential", "mean": 3.0}, 3.0, 1.0),
    ({"dist": "lognormal", "mean": 2.0, "cv": 0.5}, 2.0, 0.5),
    ({"dist": "gamma", "mean": 5.0, "cv": 0.3}, 5.0, 0.3),
    ({"dist": "weibull", "mean": 4.0, "shape": 1.5}, 4.0, None),
    ({"dist": "deterministic", "mean": 7.0}, 7.0, 0.0),
])
def test_each_kind_has_the_mean_and_spread_it_says(spec: dict, mean: float,
                                                   cv: float | None) -> None:
    d = Dist.model_validate(spec)
    x = d.draw(np.random.default_rng(1), N)
    assert d.expected() == mean
    assert x.mean() == pytest.approx(mean, rel=0.01)
    assert (x >= 0).all()
    if cv is not None:
        assert x.std() / x.mean() == pytest.approx(cv, abs=0.01)


def test_empirical_draws_its_values_at_their_weights() -> None:
    d = Dist(dist="empirical", values=(1.0, 2.0, 10.0), weights=(1.0, 2.0, 1.0))
    x = d.draw(np.random.default_rng(2), N)
    assert set(np.unique(x).tolist()) == {1.0, 2.0, 10.0}
    assert (x == 2.0).mean() == pytest.approx(0.5, abs=0.01)
    assert d.expected() == pytest.approx((1 + 4 + 10) / 4)


def test_scale_converts_units() -> None:
    d = Dist(dist="lognormal", mean=1.5, cv=0.4)  # hours
    minutes = d.draw(np.random.default_rng(3), N, 60.0)
    assert minutes.mean() == pytest.approx(90.0, rel=0.01)


def test_sampler_gives_the_vectorised_draws_one_at_a_time() -> None:
    d = Dist(dist="gamma", mean=2.0, cv=0.7)
    s = make_sampler(d, np.random.default_rng(4), 2.0)
    one_by_one = [s() for _ in range(5000)]
    block = d.draw(np.random.default_rng(4), 2048, 2.0).tolist()
    assert one_by_one[:2048] == block
    assert all(isinstance(v, float) for v in one_by_one[:3])


@pytest.mark.parametrize("spec, words", [
    ({"dist": "lognormal", "mean": 2.0}, "cv"),
    ({"dist": "weibull", "mean": 2.0}, "shape"),
    ({"dist": "exponential"}, "mean"),
    ({"dist": "empirical", "values": []}, "non-empty"),
    ({"dist": "empirical", "values": [1, 2], "weights": [1]}, "weights"),
    ({"dist": "exponential", "mean": -1}, "greater than or equal"),
    ({"dist": "poisson", "mean": 1}, "dist"),
])
def test_bad_parameters_are_refused(spec: dict, words: str) -> None:
    with pytest.raises(ValidationError) as e:
        Dist.model_validate(spec)
    assert words in str(e.value)
