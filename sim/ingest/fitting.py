"""Statistics for calibration: arrival profiles, overdispersion, handling-time distributions.

Pure functions of arrays. Arrivals are counted per day and per hour of the week; the
scenario's arrival model is multiplicative (daily mean x hour-of-day x day-of-week x subclass
share x place weight), so its maximum-likelihood profiles are the margins of the counts, and
a likelihood-ratio (G) test says how much an interaction the model leaves out matters.
Durations are fitted by maximum likelihood (``scipy.stats``, location 0) as lognormal, gamma
and Weibull, and the family with the lowest AIC is kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special, stats

from sim.data.distributions import Dist

__all__ = ["Dispersion", "DurationFit", "daily_dispersion", "independence_test",
           "fit_duration", "FAMILIES"]

FAMILIES: tuple[str, ...] = ("lognormal", "gamma", "weibull")


@dataclass(frozen=True)
class Dispersion:
    """How much more daily counts vary than a Poisson process with the fitted weekday means.

    ``index`` is Pearson's X^2 over its degrees of freedom (1 for Poisson counts, above 1
    overdispersed) and ``p_value`` its chi-square test. ``day_dispersion`` is the variance of
    a gamma day-level rate multiplier (negative binomial counts, variance mu + c mu^2) fitted
    by maximum likelihood, and ``lr_p_value`` the likelihood-ratio test of c = 0 (on the
    boundary: half a chi-square with one degree of freedom).
    """

    days: int
    mean: float
    variance: float
    index: float
    p_value: float
    day_dispersion: float
    lr_statistic: float
    lr_p_value: float


def _nb_loglik(n: np.ndarray, mu: np.ndarray, c: float) -> float:
    if c <= 1e-12:
        return float(stats.poisson.logpmf(n, mu).sum())
    r = 1.0 / c
    return float((special.gammaln(n + r) - special.gammaln(r) - special.gammaln(n + 1)
                  + r * np.log(r / (r + mu)) + n * np.log(mu / (r + mu))).sum())


def daily_dispersion(counts: np.ndarray, weekday: np.ndarray) -> Dispersion:
    """Overdispersion of daily counts around their weekday means.

    Args:
        counts: cases per day.
        weekday: 0 (Monday) .. 6 per day.
    """
    counts = np.asarray(counts, dtype=float)
    weekday = np.asarray(weekday, dtype=np.int64)
    days = counts.size
    total = np.bincount(weekday, counts, minlength=7)
    n_days = np.bincount(weekday, minlength=7)
    mu = (total / np.maximum(n_days, 1))[weekday]
    mu = np.maximum(mu, 1e-9)
    groups = int((n_days > 0).sum())
    df = max(days - groups, 1)
    x2 = float(((counts - mu) ** 2 / mu).sum())
    index = x2 / df
    p = float(stats.chi2.sf(x2, df))
    fit = optimize.minimize_scalar(lambda c: -_nb_loglik(counts, mu, c), bounds=(0.0, 10.0),
                                   method="bounded")
    c = float(fit.x) if fit.success else 0.0
    lr = max(0.0, 2.0 * (_nb_loglik(counts, mu, c) - _nb_loglik(counts, mu, 0.0)))
    lr_p = 0.5 * float(stats.chi2.sf(lr, 1)) if lr > 0 else 1.0
    return Dispersion(days, float(counts.mean()), float(counts.var(ddof=1)) if days > 1 else 0.0,
                      index, p, c if lr > 0 else 0.0, lr, lr_p)


def independence_test(table: np.ndarray) -> tuple[float, int, float]:
    """G-test of independence of a two-way count table: (G, degrees of freedom, p-value).

    Rows or columns with no counts are left out (they carry no information)."""
    t = np.asarray(table, dtype=float)
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
    if t.shape[0] < 2 or t.shape[1] < 2:
        return 0.0, 0, 1.0
    expected = t.sum(axis=1, keepdims=True) * t.sum(axis=0, keepdims=True) / t.sum()
    nz = t > 0
    g = float(2.0 * (t[nz] * np.log(t[nz] / expected[nz])).sum())
    df = (t.shape[0] - 1) * (t.shape[1] - 1)
    return g, df, float(stats.chi2.sf(g, df))


@dataclass(frozen=True)
class DurationFit:
    """The best of the candidate families for a sample of durations, and every AIC."""

    n: int
    family: str
    dist: Dist
    aic: dict[str, float]
    ks: float

    def describe(self) -> str:
        d = self.dist
        shape = f"cv {d.cv:.3g}" if d.cv is not None else f"shape {d.shape:.3g}"
        others = ", ".join(f"{f} {a - self.aic[self.family]:+.1f}"
                           for f, a in sorted(self.aic.items()) if f != self.family)
        return (f"{self.family} mean {d.mean:.3g} h, {shape} by AIC over n={self.n} "
                f"(dAIC: {others}; KS {self.ks:.3f})")


def _as_dist(family: str, params: tuple[float, ...]) -> Dist:
    if family == "lognormal":
        s, _, scale = params
        return Dist(dist="lognormal", mean=_r(scale * math.exp(s * s / 2)),
                    cv=_r(math.sqrt(math.expm1(s * s))))
    if family == "gamma":
        a, _, scale = params
        return Dist(dist="gamma", mean=_r(a * scale), cv=_r(1 / math.sqrt(a)))
    k, _, lam = params
    return Dist(dist="weibull", mean=_r(lam * math.gamma(1 + 1 / k)), shape=_r(k))


def _r(x: float) -> float:
    return float(f"{x:.4g}")


_SCIPY = {"lognormal": stats.lognorm, "gamma": stats.gamma, "weibull": stats.weibull_min}


def fit_duration(hours: np.ndarray) -> DurationFit:
    """Fit lognormal, gamma and Weibull (location 0) by maximum likelihood; keep the lowest AIC.

    Durations of 0 or less cannot come from these families and are left out by the caller.
    """
    x = np.asarray(hours, dtype=float)
    if x.size < 2 or (x <= 0).any():
        raise ValueError("fit_duration needs at least 2 durations, all > 0")
    aic: dict[str, float] = {}
    params: dict[str, tuple[float, ...]] = {}
    for family in FAMILIES:
        rv = _SCIPY[family]
        with np.errstate(all="ignore"):
            try:
                p = rv.fit(x, floc=0)
            except (ValueError, RuntimeError):  # the optimiser gives up: not this family
                continue
            ll = float(rv.logpdf(x, *p).sum())
        if math.isfinite(ll):
            params[family] = tuple(float(v) for v in p)
            aic[family] = 2 * 2 - 2 * ll
    best = min(aic, key=aic.__getitem__)
    ks = float(stats.kstest(x, _SCIPY[best](*params[best]).cdf).statistic)
    return DurationFit(int(x.size), best, _as_dist(best, params[best]), aic, ks)
