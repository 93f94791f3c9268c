"""Ground truth: problems that appear in the simulated city, whether or not anyone sees them.

New problems follow a non-homogeneous Poisson process: a daily mean split by hour of day and
day of week (with a holiday factor), a subclass mix from the handbook's shares, and a
location drawn per subclass from grid weights (residents and hotspots). Arrivals are drawn a
day at a time, vectorised. `GroundTruth` keeps one record per problem (columns, not objects)
and its fate: fixed, vanished, or still open when the run ends.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from enum import IntEnum
from itertools import compress, repeat
from operator import itemgetter

import numpy as np

from sim.data.citymap import CityMap
from sim.data.scenario import ProblemsSpec
from sim.data.taxonomy import Handbook
from sim.engine.eventlog import PROBLEM_DTYPE

__all__ = ["Fate", "ArrivalModel", "GroundTruth", "gather", "grid_weights", "put_new"]


def gather(column: list | dict, ids: list[int], dtype: type,
           gone: float | None = None) -> np.ndarray:
    """``column[ids]`` for a per-problem column, as an array (the lookups done in C).
    ``gone``: the value read for a problem a run has let go of (`GroundTruth.retire`),
    for a reader that may still hold its id (else such an id is a `KeyError`)."""
    if gone is not None and type(column) is dict:
        return np.fromiter(map(column.get, ids, repeat(gone)), dtype, len(ids))
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


def put_new(column: list | dict, first: int | list[int], values: list) -> None:
    """Add the values of problems ``first``, ``first + 1``... to a per-problem column: a list
    (every problem kept), or a dict by problem id (a run that lets ended problems go,
    ``GroundTruth(retiring=True)``). ``first`` may be the new ids themselves
    (`GroundTruth.new_ids`): every dict column then shares one key object per problem."""
    if type(column) is list:
        column.extend(values)
    elif type(first) is list:
        column.update(zip(first, values, strict=True))
    else:
        column.update(zip(range(first, first + len(values)), values, strict=True))


_ROW_COLUMNS = ("grid", "subclass", "created", "found", "ended", "fate", "first_case",
                "found_by", "recurrence_of")


class GroundTruth:
    """One record per problem, as growable columns; `to_array` packs them at the end.

    Args:
        retiring: hold the columns as dicts by problem id, so that ended problems can be
            let go (`retire`, a day at a time): a streamed long or large run then holds the
            open problems and the recently ended ones, not every problem since the start.
            Whoever keeps a per-problem column of its own makes it with `column`.
    """

    def __init__(self, retiring: bool = False) -> None:
        self.retiring = retiring
        self.grid: list[int] | dict[int, int] = self.column()
        self.subclass = self.column()
        self.created = self.column()
        self.found = self.column()
        self.ended = self.column()
        self.fate = self.column()
        self.first_case = self.column()
        self.found_by = self.column()
        self.recurrence_of = self.column()
        self.case = self.column()      # open case tracking this problem (-1 none)
        self.refs = self.column()      # cases in the loop that name it (its own or merged)
        self.n = 0                     # problems so far (ids 0 .. n - 1)
        # the ids of the last `add_many`, when retiring: one int object per problem, the key
        # of every dict column (16 columns with a key each cost 15 more ints a problem to
        # make, hash, compare and free)
        self.new_ids: list[int] = []
        self._ended: list[int] = []        # ended problems in order, when retiring
        self._held: list[int] = []         # ended, but a case in the loop still names them
        self.retired: list[int] = []       # the ids the last `retire` let go of

    def column(self) -> list | dict:
        """A new per-problem column: a list, or a dict by problem id when retiring."""
        return {} if self.retiring else []

    def __len__(self) -> int:
        return self.n

    def add_many(self, grids: np.ndarray, subclasses: np.ndarray, times: np.ndarray,
                 recurrence_of: int | np.ndarray = -1) -> int:
        """Add new problems (a day's, or recurrences of the fixed problems
        ``recurrence_of``); returns the first new id."""
        first = self.n
        n = len(times)
        self.n += n
        ids: int | list[int] = first
        if self.retiring:
            ids = self.new_ids = list(range(first, first + n))
        put_new(self.grid, ids, grids.tolist())
        put_new(self.subclass, ids, subclasses.tolist())
        put_new(self.created, ids, times.tolist())
        if isinstance(recurrence_of, np.ndarray):
            put_new(self.recurrence_of, ids, recurrence_of.tolist())
        else:
            put_new(self.recurrence_of, ids, [recurrence_of] * n)
        for col, fill in ((self.found, np.nan), (self.ended, np.nan), (self.fate, Fate.OPEN),
                          (self.first_case, -1), (self.found_by, 0), (self.case, -1),
                          (self.refs, 0)):
            put_new(col, ids, [fill] * n)
        return first

    def ids_from(self, first: int) -> int | list[int]:
        """What `put_new` takes for the problems ``first``... just added: their shared ids
        when retiring (`new_ids`), else ``first``."""
        return self.new_ids if self.retiring and self.new_ids[:1] == [first] else first

    def is_open(self, pid: int) -> bool:
        """Whether ``pid`` is still there (False once it ended, or was let go of)."""
        try:
            return self.fate[pid] == Fate.OPEN
        except KeyError:  # let go of (`retire`): it ended long ago
            return False

    # -- links to the platform's cases (written by `sim.engine.casebook.CaseBook` only) -----
    # ``refs[pid]``: the cases in the loop that name ``pid`` (opened for it, or it rode on the
    # case); its row stays until every such case has ended (closed, voided, merged, fixed on
    # the spot), whatever `retire` is asked. ``case[pid]``: the open case tracking it;
    # ``first_case[pid]``: the first case filed for it, or that fixed it on the spot.
    # `CaseBook` writes these columns inline as its cases open, file and end (a call less a
    # case step); a merged report riding on a case (`ride_on`) and a case that carried
    # merged problems closing (`untrack`) go through the methods here.
    def case_of(self, pid: int) -> int:
        """The open case tracking problem ``pid`` (-1: none)."""
        return self.case[pid]

    def ride_on(self, pid: int, case_id: int) -> bool:
        """A merged report of ``pid``, still open and tracked by no case, rides on open case
        ``case_id``: that case's work covers it (and the case names it until it closes).
        False (and nothing changes) otherwise."""
        if self.case[pid] >= 0 or self.fate[pid] != Fate.OPEN:
            return False
        self.case[pid] = case_id
        self.refs[pid] += 1
        return True

    def untrack(self, pid: int, case_id: int) -> bool:
        """Case ``case_id``, which named ``pid``, closed: it no longer tracks it. True when it
        tracked it and the problem is still there (closed, not solved)."""
        self.refs[pid] -= 1
        if self.case[pid] != case_id:
            return False
        self.case[pid] = -1
        return self.fate[pid] == Fate.OPEN

    def end(self, pid: int, t: float, fate: Fate) -> None:
        self.fate[pid] = fate
        self.ended[pid] = t
        if self.retiring:
            self._ended.append(pid)

    def to_array(self) -> np.ndarray:
        """The problems held (every one, unless some were retired), by id."""
        ids = sorted(self.grid) if self.retiring else list(range(self.n))
        out = np.zeros(len(ids), dtype=PROBLEM_DTYPE)
        out["problem"] = ids
        for name in _ROW_COLUMNS:
            out[name] = gather(getattr(self, name), ids, out.dtype[name].type)
        return out

    # -- letting ended problems go -------------------------------------------------------
    def retire(self, before: float) -> np.ndarray:
        """The rows of the problems that ended before ``before``, which leave every column.

        A problem that ended long enough ago (the caller's choice) and that no case in the
        loop names (``refs``: its own cases, before or after filing, and those it rode on) has
        its final row: nothing writes it again, and what still reads it (events already
        queued for it, a hotline caller's survey, a patrol's waiting list) finds it gone and
        ended (`agents.discovery.Discovery.forget`, `agents.inspector`). Returns
        `PROBLEM_DTYPE` rows in the order they left: those held back by a case before
        (`_held`), then the others in the order they ended.

        A day's problems in one pass per column, the loops in C: problems end at the clock's
        time (`end`), so ``_ended`` is in time order and the ones due are a prefix found by
        bisection; each column's values leave with ``dict.pop``, which reads and deletes in
        one lookup.
        """
        assert self.retiring, "a GroundTruth(retiring=True) lets problems go"
        ended, refs = self._ended, self.refs
        k = bisect_left(ended, before, key=self.ended.__getitem__)
        due = self._held + ended[:k]  # the held first: their cases may have ended since
        del ended[:k]
        named = np.fromiter(map(refs.__getitem__, due), np.int64, len(due)) != 0
        if named.any():
            self._held = list(compress(due, named.tolist()))
            ids = list(compress(due, (~named).tolist()))
        else:
            self._held, ids = [], due
        n = len(ids)
        out = np.zeros(n, dtype=PROBLEM_DTYPE)
        out["problem"] = ids
        for name in _ROW_COLUMNS:
            out[name] = np.fromiter(map(getattr(self, name).pop, ids), out.dtype[name].type, n)
        for name in ("case", "refs"):
            deque(map(getattr(self, name).pop, ids), maxlen=0)
        self.retired = ids
        return out
