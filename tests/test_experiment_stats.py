"""Experiment statistics against scipy, and MSER-5 on series with a known transient."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.experiment.stats import (
    mser,
    paired_difference,
    relative_half_width,
    replications_needed,
    steady_mean,
    t_interval,
)

SAMPLES = [
    ([1.0, 2.0, 3.0, 4.0], 0.95),
    ([0.91, 0.93, 0.90, 0.95, 0.92, 0.94], 0.95),
    ([10.0, 12.5], 0.90),
    ([5.0, 7.0, 6.0, 9.0, 4.0, 8.0, 6.5, 7.5, 5.5, 6.0], 0.99),
]


@pytest.mark.parametrize(("values", "level"), SAMPLES)
def test_t_interval_matches_scipy(values: list[float], level: float) -> None:
    iv = t_interval(values, level)
    lo, hi = stats.t.interval(level, len(values) - 1, loc=np.mean(values),
                              scale=stats.sem(values))
    assert iv.low == pytest.approx(lo) and iv.high == pytest.approx(hi)
    assert iv.n == len(values)


@pytest.mark.parametrize(("values", "level"), SAMPLES)
@pytest.mark.parametrize("m", [1, 3])
def test_paired_difference_matches_scipy_with_bonferroni(values: list[float], level: float,
                                                         m: int) -> None:
    rng = np.random.default_rng(len(values))
    base = np.asarray(values) + rng.normal(0, 1, len(values))
    iv = paired_difference(values, base, level, comparisons=m)
    ci = stats.ttest_rel(values, base).confidence_interval(1 - (1 - level) / m)
    assert iv.low == pytest.approx(ci.low) and iv.high == pytest.approx(ci.high)
    assert iv.level == pytest.approx(1 - (1 - level) / m)


def test_bonferroni_widens_and_pairs_drop_nans() -> None:
    a, b = [1.0, 2.0, 3.5, np.nan], [0.5, 1.0, 3.0, 2.0]
    one, three = paired_difference(a, b), paired_difference(a, b, comparisons=3)
    assert one.n == 3 and three.half_width > one.half_width


def test_degenerate_samples() -> None:
    assert math.isnan(t_interval([3.0]).half_width)
    assert t_interval([2.0, 2.0, 2.0]).half_width == 0.0
    assert t_interval([]).n == 0
    assert relative_half_width(t_interval([2.0, 2.0])) == 0.0
    assert relative_half_width(t_interval([-1.0, 1.0])) == math.inf


def test_replications_needed_follows_square_root_law() -> None:
    assert replications_needed(10, 0.10, 0.05) == 40
    assert replications_needed(10, 0.04, 0.05) == 10
    assert replications_needed(10, 0.0501, 0.05) == 11
    assert replications_needed(3, math.inf, 0.05) == 6


def test_mser5_deletes_a_known_transient() -> None:
    """A backlog that starts 40 above its level and decays over ~20 days, then noise: MSER-5
    cuts within the transient's tail, and the steady mean is close to the true level."""
    rng = np.random.default_rng(4)
    days = np.arange(200)
    series = 50 + 40 * np.exp(-days / 5.0) + rng.normal(0, 2, days.size)
    d = mser(series)
    assert d % 5 == 0 and 10 <= d <= 40
    assert abs(steady_mean(series, d) - 50) < 0.5
    assert abs(series.mean() - 50) > abs(steady_mean(series, d) - 50)


def test_mser5_keeps_a_stationary_series_and_handles_short_ones() -> None:
    rng = np.random.default_rng(5)
    assert mser(rng.normal(10, 1, 300)) <= 50
    assert mser([1.0, 2.0, 3.0]) == 0
    assert mser(np.r_[np.full(10, 100.0), np.full(90, 1.0)]) == 10


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=2, max_size=40),
       st.floats(0.5, 0.999))
def test_interval_contains_mean_and_narrows_with_level(values: list[float], level: float) -> None:
    wide, narrow = t_interval(values, level), t_interval(values, level / 2)
    assert wide.low <= wide.mean <= wide.high
    assert narrow.half_width <= wide.half_width + 1e-9 * (1 + abs(wide.half_width))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 1e4, allow_nan=False), min_size=10, max_size=120))
def test_mser_truncation_stays_within_half_the_series(values: list[float]) -> None:
    d = mser(values)
    assert 0 <= d <= 5 * ((len(values) // 5) // 2)
