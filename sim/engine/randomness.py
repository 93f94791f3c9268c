"""Named random streams from one seed, so subsystems never share or shift each other's draws.

Stream ``name`` of replication seed ``s`` is ``SeedSequence(s, spawn_key=(crc32(name),))``:
it depends only on the seed and its own name, not on which other streams exist or in what
order they are made. Two scenarios run with the same seed see the same arrivals, the same
patrol draws and so on: common random numbers for comparisons.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from functools import partial
from itertools import chain
from typing import Self

import numpy as np

__all__ = ["stream", "Streams", "Uniforms", "Exponentials"]


def stream(seed: int | np.random.SeedSequence, name: str) -> np.random.Generator:
    """The generator for stream ``name`` under ``seed`` (an int or a SeedSequence)."""
    key = zlib.crc32(name.encode("utf-8"))
    if isinstance(seed, np.random.SeedSequence):
        ss = np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, key))
    else:
        ss = np.random.SeedSequence(seed, spawn_key=(key,))
    return np.random.Generator(np.random.PCG64(ss))


class Streams:
    """Lazily made named streams of one replication: ``streams['arrivals']``."""

    def __init__(self, seed: int | np.random.SeedSequence) -> None:
        self.seed = seed
        self._made: dict[str, np.random.Generator] = {}

    def __getitem__(self, name: str) -> np.random.Generator:
        g = self._made.get(name)
        if g is None:
            g = self._made[name] = stream(self.seed, name)
        return g


class _Buffered(partial):
    """Draws from ``rng`` one at a time, made in vectorised blocks of 4,096.

    An instance is ``next`` bound to a chain of blocks: a draw is a call into C, with no
    Python frame (the engine makes ~10 million draws a simulated year). Within a block,
    values are used last to first.
    """

    __slots__ = ()

    def __new__(cls, rng: np.random.Generator) -> Self:
        return super().__new__(cls, next, chain.from_iterable(cls._blocks(rng)))

    @classmethod
    def _blocks(cls, rng: np.random.Generator) -> Iterator[list[float]]:
        while True:
            yield cls._block(rng)[::-1].tolist()

    @staticmethod
    def _block(rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError


class Uniforms(_Buffered):
    """Uniform [0, 1) draws, one at a time: ``u()``."""

    __slots__ = ()

    @staticmethod
    def _block(rng: np.random.Generator) -> np.ndarray:
        return rng.random(4096)


class Exponentials(_Buffered):
    """Standard exponential draws (mean 1), one at a time: ``e()``."""

    __slots__ = ()

    @staticmethod
    def _block(rng: np.random.Generator) -> np.ndarray:
        return rng.standard_exponential(4096)
