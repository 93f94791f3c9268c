"""Named random streams from one seed, so subsystems never share or shift each other's draws.

Stream ``name`` of replication seed ``s`` is ``SeedSequence(s, spawn_key=(crc32(name),))``:
it depends only on the seed and its own name, not on which other streams exist or in what
order they are made. Two scenarios run with the same seed see the same arrivals, the same
patrol draws and so on: common random numbers for comparisons.
"""

from __future__ import annotations

import zlib

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


class _Buffered:
    """Draws from ``rng`` one at a time, made in vectorised blocks of 4,096."""

    __slots__ = ("_rng", "_buf")

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._buf: list[float] = []

    def _block(self) -> np.ndarray:
        raise NotImplementedError

    def __call__(self) -> float:
        buf = self._buf
        if not buf:
            buf.extend(self._block().tolist())
        return buf.pop()


class Uniforms(_Buffered):
    """Uniform [0, 1) draws, one at a time."""

    __slots__ = ()

    def _block(self) -> np.ndarray:
        return self._rng.random(4096)


class Exponentials(_Buffered):
    """Standard exponential draws (mean 1), one at a time."""

    __slots__ = ()

    def _block(self) -> np.ndarray:
        return self._rng.standard_exponential(4096)
