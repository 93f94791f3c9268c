"""Output analysis of replicated runs: confidence intervals, paired differences, warm-up.

Replications of one design point are independent and identically distributed, so a KPI's
mean gets a Student t interval. Design points share replication seeds (common random
numbers), so a difference against the baseline is taken replication by replication and gets
a paired t interval; with several comparisons each is widened by Bonferroni (level
``1 - alpha / m``). MSER-5 picks how many leading days of a daily series to drop as warm-up
before a steady-state mean is taken. Pure functions of numbers: no files, no simulation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as _st

__all__ = ["Interval", "t_interval", "paired_difference", "relative_half_width",
           "replications_needed", "mser", "steady_mean"]


@dataclass(frozen=True, slots=True)
class Interval:
    """A mean with a two-sided confidence interval ``[low, high] = mean -+ half_width``.

    ``half_width`` is NaN with fewer than two values (no spread to estimate) and 0 when every
    value is the same.
    """

    mean: float
    half_width: float
    n: int
    level: float

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width

    def excludes_zero(self) -> bool:
        """True when the whole interval lies on one side of zero (a significant difference)."""
        return bool(self.low > 0 or self.high < 0)


def _clean(values: Sequence[float] | np.ndarray) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64)
    return x[~np.isnan(x)]


def t_interval(values: Sequence[float] | np.ndarray, level: float = 0.95) -> Interval:
    """Student t interval for the mean of independent replications (NaNs left out)."""
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    x = _clean(values)
    n = int(x.size)
    if n == 0:
        return Interval(math.nan, math.nan, 0, level)
    mean = float(x.mean())
    if n < 2:
        return Interval(mean, math.nan, n, level)
    sd = float(x.std(ddof=1))
    half = float(_st.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n) if sd > 0 else 0.0
    return Interval(mean, half, n, level)


def paired_difference(values: Sequence[float] | np.ndarray,
                      baseline: Sequence[float] | np.ndarray, level: float = 0.95,
                      comparisons: int = 1) -> Interval:
    """Interval for mean(values - baseline), paired by replication (common random numbers).

    Pairs where either side is NaN are left out. With ``comparisons`` m > 1 the level is
    Bonferroni-corrected to ``1 - (1 - level) / m``, so all m intervals hold together with
    probability at least ``level``; the returned `Interval` carries the corrected level.
    """
    a, b = np.asarray(values, dtype=np.float64), np.asarray(baseline, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired samples need equal lengths, got {a.size} and {b.size}")
    if comparisons < 1:
        raise ValueError(f"comparisons must be >= 1, got {comparisons!r}")
    return t_interval(a - b, 1 - (1 - level) / comparisons)


def relative_half_width(iv: Interval) -> float:
    """Half-width over |mean|: the precision ``--precision`` asks for (inf at mean 0)."""
    if math.isnan(iv.half_width):
        return math.inf
    if iv.half_width == 0:
        return 0.0
    return iv.half_width / abs(iv.mean) if iv.mean != 0 else math.inf


def replications_needed(n: int, rel_half_width: float, target: float) -> int:
    """Replications expected to reach ``target`` from ``n`` at ``rel_half_width`` (the
    half-width shrinks as 1/sqrt(n)); at least n + 1 while the target is missed."""
    if rel_half_width <= target:
        return n
    if not math.isfinite(rel_half_width):
        return 2 * max(n, 1)
    return max(n + 1, math.ceil(n * (rel_half_width / target) ** 2))


def mser(series: Sequence[float] | np.ndarray, batch: int = 5) -> int:
    """MSER-m truncation point (White 1997): how many leading observations to delete.

    The series is cut into batches of ``batch`` (trailing leftovers dropped) and batch means
    Z_1..Z_k formed; for each d in 0..k/2 the statistic
    ``sum_{j>d} (Z_j - mean(Z_{d+1..k}))^2 / (k - d)^2`` is computed and the d that minimises
    it is taken (the first on ties). Returns ``batch * d`` observations; 0 for a series too
    short to have two batches.
    """
    x = np.asarray(series, dtype=np.float64)
    k = x.size // batch
    if k < 2:
        return 0
    z = x[: k * batch].reshape(k, batch).mean(axis=1)
    best, best_d = math.inf, 0
    for d in range(k // 2 + 1):
        tail = z[d:]
        stat = float(((tail - tail.mean()) ** 2).sum()) / (k - d) ** 2
        if stat < best:
            best, best_d = stat, d
    return batch * best_d


def steady_mean(series: Sequence[float] | np.ndarray, warmup: int) -> float:
    """Mean of a series after its first ``warmup`` observations (NaN when none are left)."""
    x = np.asarray(series, dtype=np.float64)[warmup:]
    x = x[~np.isnan(x)]
    return float(x.mean()) if x.size else math.nan
