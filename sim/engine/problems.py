"""Ground truth: problems that appear in the simulated city, whether or not anyone sees them.

New problems follow a non-homogeneous Poisson process: a daily mean split by hour of day and
day of week (with a holiday factor), a subclass mix from the handbook's shares, and a
location drawn per subclass from grid weights (residents and hotspots). Arrivals are drawn a
day at a time, vectorised. `GroundTruth` keeps one record per problem (columns, not objects)
and its fate: fixed, vanished, or still open when the run ends.
"""

from __future__ import annotations

from collections import deque
from enum import IntEnum
from operator import itemgetter

import numpy as np

from sim.data.citymap import CityMap
from sim.data.scenario import ProblemsSpec
from sim.data.taxonomy import Handbook
from sim.engine.eventlog import PROBLEM_DTYPE

__all__ = ["Fate", "ArrivalModel", "GroundTruth", "ProblemColumn", "gather", "grid_weights"]


_ROW_COLUMNS = ("grid", "subclass", "created", "found", "ended", "fate", "first_case",
                "found_by", "recurrence_of")


def gather(column: list | dict, ids: list[int], dtype: type) -> np.ndarray:
    """``column[ids]`` for a per-problem column, as an array (the lookups done in C)."""
    if len(ids) > 1:
        return np.fromiter(itemgetter(*ids)(column), dtype, len(ids))
    return np.array([column[i] for i in ids], dtype=dtype)


class Fate(IntEnum):
    OPEN = 0
    FIXED = 1          # fixed by a department's crew
    FIXED_ON_SPOT = 2  # fixed by an inspector on patrol (自行处置)
    VANISHED = 3       # went away by itself (the hawker left)


def grid_weights(city: CityMap, handbook: Handbook, spec: ProblemsSpec) -> np.ndarray:
    """Relative intensity of each subclass in each grid, shape (subclasses, grids).

    Base weight is residents ** ``residents_exponent`` times the scenario's hotspot and
    subdistrict weights;
    a subclass's own ``hotspots`` multiply further where the grid has that hotspot.
    """
    res = np.maximum(city.residents, 1.0)
    base = res ** spec.residents_exponent
    for kind, w in spec.hotspot_weight.items():
        if kind in city.hotspots:
            base = base * np.where(city.hotspots[kind], w, 1.0)
    if spec.subdistrict_weight:
        per_sub = np.array([spec.subdistrict_weight.get(c, 1.0) for c in city.subdistrict_codes])
        base = base * per_sub[city.subdistrict]
    out = np.empty((len(handbook.subclasses), city.n_grids))
    for i, sub in enumerate(handbook.subclasses):
        w = base.copy()
        for kind, m in sub.hotspots.items():
            if kind in city.hotspots:
                w *= np.where(city.hotspots[kind], m, 1.0)
        out[i] = w / w.sum()
    return out


class ArrivalModel:
    """Draws a day's new problems: (times, subclasses, grids), sorted by time."""

    def __init__(self, city: CityMap, handbook: Handbook, spec: ProblemsSpec) -> None:
        self.spec = spec
        shares = np.array([s.share for s in handbook.subclasses], dtype=float)
        self.mix = shares / shares.sum()
        self.cum_grid = np.cumsum(grid_weights(city, handbook, spec), axis=1)
        self.cum_grid[:, -1] = 1.0
        hourly = np.asarray(spec.hourly_profile, dtype=float)
        self.hour_share = hourly / hourly.sum()
        weekly = np.asarray(spec.weekly_profile, dtype=float)
        self.day_factor = weekly / weekly.mean()

    def day(self, rng: np.random.Generator, day: int, weekday: int, holiday: bool,
            start: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """New problems in day ``day`` (minutes from ``start``), vectorised."""
        spec = self.spec
        mean = spec.per_day * spec.rate_scale * self.day_factor[weekday]
        if holiday:
            mean *= spec.holiday_factor
        if spec.day_dispersion > 0:  # gamma-Poisson mixture: negative binomial daily counts
            k = 1.0 / spec.day_dispersion
            mean *= rng.gamma(k, 1.0 / k)
        counts = rng.poisson(mean * self.hour_share)
        n = int(counts.sum())
        hours = np.repeat(np.arange(24), counts)
        times = start + (hours + rng.random(n)) * 60.0
        order = np.argsort(times, kind="stable")
        times = times[order]
        subs = rng.choice(len(self.mix), size=n, p=self.mix)
        u = rng.random(n)
        return times, subs.astype(np.int64), self.grids_of(subs, u)

    def grids_of(self, subs: np.ndarray, u: np.ndarray) -> np.ndarray:
        """The grid of each problem of subclass ``subs[i]``, by inverting that subclass's
        grid distribution at the uniform ``u[i]``; subclass by subclass on slices of one
        stable sort (a boolean mask per subclass costs a full pass each)."""
        grids = np.empty(len(subs), dtype=np.int64)
        by_sub = np.argsort(subs, kind="stable")  # each subclass's problems, in a slice
        lo = 0
        for s, hi in enumerate(np.cumsum(np.bincount(subs, minlength=len(self.mix))).tolist()):
            if hi > lo:
                at = by_sub[lo:hi]
                grids[at] = np.searchsorted(self.cum_grid[s], u[at], side="right")
                lo = hi
        return grids


class ProblemColumn(dict):  # type: ignore[type-arg]
    """One per-problem value by problem id, for the problems still held.

    A plain ``column[pid]`` reads and writes as a list would. A problem retired by
    `GroundTruth.retire` is gone from every column; reading it gives the column's
    ``retired`` value (an ended problem's: not open, no case, a token no event holds), or
    KeyError where no value would be right (grid, subclass...).
    """

    __slots__ = ("retired",)

    def __init__(self, retired: object = KeyError) -> None:
        super().__init__()
        self.retired = retired

    def __missing__(self, pid: int) -> object:
        if self.retired is KeyError:
            raise KeyError(pid)
        return self.retired

    def extend_from(self, first: int, values: list) -> None:
        """Set problems ``first``, ``first + 1``... to ``values``."""
        self.update(zip(range(first, first + len(values)), values, strict=True))


_RETIRED = -1  # the fate, case and token of a retired problem: ended, in no case, stale


class GroundTruth:
    """One record per problem, as columns keyed by problem id; `to_array` packs them.

    A long run hands ended problems on as rows once nothing will change them (`retire`),
    so what is held is the open problems and the recently ended ones, not every problem
    since the start.
    """

    def __init__(self) -> None:
        self.grid = ProblemColumn()
        self.subclass = ProblemColumn()
        self.created = ProblemColumn()
        self.found = ProblemColumn()
        self.ended = ProblemColumn()
        self.fate = ProblemColumn(_RETIRED)
        self.first_case = ProblemColumn(_RETIRED)
        self.found_by = ProblemColumn()
        self.recurrence_of = ProblemColumn()
        self.case = ProblemColumn(_RETIRED)   # open case tracking this problem (-1 none)
        self.token = ProblemColumn(_RETIRED)  # invalidates stale scheduled events
        self.n = 0                            # problems so far (ids 0 .. n - 1)
        self._ended: deque[int] | None = None  # ended problems in order, when retiring

    def __len__(self) -> int:
        return self.n

    def add_many(self, grids: np.ndarray, subclasses: np.ndarray, times: np.ndarray,
                 recurrence_of: int = -1) -> int:
        """Add new problems (a day's, or one recurrence); returns the first new id."""
        first = self.n
        n = len(times)
        self.n += n
        self.grid.extend_from(first, grids.tolist())
        self.subclass.extend_from(first, subclasses.tolist())
        self.created.extend_from(first, times.tolist())
        for col, fill in ((self.found, np.nan), (self.ended, np.nan), (self.fate, Fate.OPEN),
                          (self.first_case, -1), (self.found_by, 0),
                          (self.recurrence_of, recurrence_of),
                          (self.case, -1), (self.token, 0)):
            col.extend_from(first, [fill] * n)
        return first

    def add(self, grid: int, subclass: int, t: float, recurrence_of: int = -1) -> int:
        """Add one new problem (a recurrence); the scalar form of `add_many`."""
        pid = self.n
        self.n += 1
        self.grid[pid] = grid
        self.subclass[pid] = subclass
        self.created[pid] = t
        self.found[pid] = np.nan
        self.ended[pid] = np.nan
        self.fate[pid] = Fate.OPEN
        self.first_case[pid] = -1
        self.found_by[pid] = 0
        self.recurrence_of[pid] = recurrence_of
        self.case[pid] = -1
        self.token[pid] = 0
        return pid

    def is_open(self, pid: int) -> bool:
        return self.fate[pid] == Fate.OPEN

    def end(self, pid: int, t: float, fate: Fate) -> None:
        self.fate[pid] = fate
        self.ended[pid] = t
        self.token[pid] += 1
        if self._ended is not None:
            self._ended.append(pid)

    def to_array(self) -> np.ndarray:
        """The problems held (all of them unless some were retired), by id."""
        ids = sorted(self.grid) if self._ended is not None else list(self.grid)
        return self._rows(ids)

    def _rows(self, ids: list[int]) -> np.ndarray:
        out = np.zeros(len(ids), dtype=PROBLEM_DTYPE)
        out["problem"] = ids
        for name in _ROW_COLUMNS:
            out[name] = gather(getattr(self, name), ids, out.dtype[name].type)
        return out

    def retiring(self) -> None:
        """From now on, remember ended problems so that `retire` can hand them on."""
        if self._ended is None:
            self._ended = deque(pid for pid, fate in self.fate.items() if fate != Fate.OPEN)

    def retire(self, before: float) -> np.ndarray:
        """The rows of the problems that ended before ``before``, which leave every column.

        A problem ended long enough ago (the caller's choice: no case is still being filed
        for it) has its final row: nothing writes to it again, and reads of it find an
        ended problem (`ProblemColumn`). Returns `PROBLEM_DTYPE` rows in the order the
        problems ended. Call `retiring` first.
        """
        ended, at = self._ended, self.ended
        assert ended is not None, "call retiring() first"
        ids = []
        while ended and at[ended[0]] < before:
            ids.append(ended.popleft())
        rows = self._rows(ids)
        for col in (self.grid, self.subclass, self.created, self.found, self.ended,
                    self.fate, self.first_case, self.found_by, self.recurrence_of, self.case,
                    self.token):
            deque(map(col.__delitem__, ids), maxlen=0)
        return rows
