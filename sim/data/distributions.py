"""Probability distributions as scenario data, and fast samplers for the engine.

A `Dist` is what a scenario file says (``{dist: lognormal, mean: 2.5, cv: 0.8}``); the unit is
given by the field that holds it (``*_minutes``, ``*_hours``). `Sampler` draws from a named
random stream in vectorised blocks, so the engine pays a list pop per draw, not a numpy call.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from functools import partial
from itertools import chain
from typing import Literal, Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["Dist", "Sampler", "make_sampler"]

_BLOCK = 2048


class Dist(BaseModel):
    """A non-negative random duration or quantity.

    ``dist`` is one of exponential (``mean``), lognormal and gamma (``mean``, ``cv``),
    weibull (``mean``, ``shape``), deterministic (``mean``) and empirical (``values`` with
    optional ``weights``). All values are in the unit the holding field names.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    dist: Literal["exponential", "lognormal", "gamma", "weibull", "deterministic", "empirical"]
    mean: float | None = Field(default=None, ge=0)
    cv: float | None = Field(default=None, gt=0)
    shape: float | None = Field(default=None, gt=0)
    values: tuple[float, ...] | None = None
    weights: tuple[float, ...] | None = None

    @model_validator(mode="after")
    def _check_parameters(self) -> Dist:
        need = {
            "exponential": ("mean",),
            "lognormal": ("mean", "cv"),
            "gamma": ("mean", "cv"),
            "weibull": ("mean", "shape"),
            "deterministic": ("mean",),
            "empirical": ("values",),
        }[self.dist]
        missing = [k for k in need if getattr(self, k) is None]
        if missing:
            raise ValueError(f"a {self.dist} distribution needs {', '.join(missing)}")
        if self.dist == "empirical":
            assert self.values is not None
            if not self.values or min(self.values) < 0:
                raise ValueError("empirical values must be a non-empty list of numbers >= 0")
            if self.weights is not None and (
                len(self.weights) != len(self.values) or min(self.weights) < 0
                or sum(self.weights) <= 0
            ):
                raise ValueError("empirical weights must match values in length and be >= 0")
        return self

    def expected(self) -> float:
        """The distribution's mean, in its own unit."""
        if self.dist == "empirical":
            v = np.asarray(self.values, dtype=float)
            w = np.ones_like(v) if self.weights is None else np.asarray(self.weights, dtype=float)
            return float((v * w).sum() / w.sum())
        assert self.mean is not None
        return self.mean

    def draw(self, rng: np.random.Generator, n: int, scale: float = 1.0) -> np.ndarray:
        """Draw ``n`` values multiplied by ``scale`` (a unit conversion or lever)."""
        m = (self.mean or 0.0) * scale
        if self.dist == "exponential":
            return rng.exponential(m, n) if m > 0 else np.zeros(n)
        if self.dist == "deterministic":
            return np.full(n, m)
        if self.dist == "lognormal":
            assert self.cv is not None
            if m <= 0:
                return np.zeros(n)
            s2 = math.log1p(self.cv**2)
            return rng.lognormal(math.log(m) - s2 / 2, math.sqrt(s2), n)
        if self.dist == "gamma":
            assert self.cv is not None
            k = 1.0 / self.cv**2
            return rng.gamma(k, m / k, n) if m > 0 else np.zeros(n)
        if self.dist == "weibull":
            assert self.shape is not None
            lam = m / math.gamma(1 + 1 / self.shape)
            return lam * rng.weibull(self.shape, n)
        v = np.asarray(self.values, dtype=float) * scale
        p = None if self.weights is None else np.asarray(self.weights) / sum(self.weights)
        return rng.choice(v, size=n, p=p)


class Sampler(partial):
    """Draws one value at a time from a block-vectorised stream.

    Call the instance: ``sampler()`` returns the next value (a Python float). It is ``next``
    bound to a chain of blocks of 2,048 draws, so a draw is a call into C with no Python
    frame; values are used in the order the block was drawn.
    """

    __slots__ = ()

    def __new__(cls, dist: Dist, rng: np.random.Generator, scale: float = 1.0) -> Self:
        return super().__new__(cls, next, chain.from_iterable(_blocks(dist, rng, scale)))


def _blocks(dist: Dist, rng: np.random.Generator, scale: float) -> Iterator[list[float]]:
    while True:
        yield dist.draw(rng, _BLOCK, scale).tolist()


def make_sampler(dist: Dist, rng: np.random.Generator, scale: float = 1.0) -> Sampler:
    """A `Sampler` for ``dist`` on stream ``rng``, values multiplied by ``scale``."""
    return Sampler(dist, rng, scale)
