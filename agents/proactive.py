"""Proactive governance (未诉先办, docs/domain.md §8): patrols go where residents complain.

Every public report of a grid problem (by phone through 12345 or otherwise) is counted by
day, grid and subclass. Complaint pressure reaches the patrols with a lag (``lag_days``: the
3-5 days it takes hotline figures to feed back into grid work) over a window
(``window_days``). At each shift start the `patrol_route` decision point receives each
beat's grid weights (complaints in the window); the built-in rule walks the most complained
about grids a second time every cycle. The subclasses with most complaints become the
period's themes ("monthly themes"): patrols look for them harder (``theme_detection``).
Nothing here runs when the scenario's ``proactive.enabled`` is false.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.model import CityModel

__all__ = ["Proactive"]


class Proactive:
    """Complaint counts by day, grid and subclass, and what patrols make of them."""

    def __init__(self, model: CityModel) -> None:
        self.m = model
        spec = model.spec.proactive
        self.spec = spec
        self.hot_share = spec.hot_share
        self._days = model.days + 1
        # the counts of the days a window may still read, in rows reused day after day
        # (row ``day % len``, `_row`): a fixed size whatever the horizon (ten years of
        # dongcheng's grids, one row a day, were 67 MB)
        n_rows = min(self._days, int(round(spec.lag_days)) + int(round(spec.window_days)) + 1)
        self.by_grid = np.zeros((n_rows, model.city.n_grids), dtype=np.float64)
        self.by_subclass = np.zeros((n_rows, len(model.handbook.subclasses)), dtype=np.float64)
        self._row_day = [-1] * n_rows  # the day each row counts (-1: none yet)
        disc = model.discovery
        self.detect = disc.detect_arr            # patrols' detection, adjusted in place
        self.base_detect = disc.detect_arr.copy()
        self.themes: list[int] = []
        self._day: int | None = None
        self._weights = np.zeros(model.city.n_grids)
        disc.complaint_hook = self.complaint

    def complaint(self, pid: int, now: float) -> None:
        """A resident reported problem ``pid`` (Discovery's public-report seam)."""
        truth = self.m.truth
        row = self._row(min(int(now // 1440), self._days - 1))
        self.by_grid[row, truth.grid[pid]] += 1.0
        self.by_subclass[row, truth.subclass[pid]] += 1.0

    def _row(self, day: int) -> int:
        """The row that counts ``day``, emptied of the older day it counted."""
        row = day % len(self._row_day)
        if self._row_day[row] != day:
            self._row_day[row] = day
            self.by_grid[row] = 0.0
            self.by_subclass[row] = 0.0
        return row

    def window(self, day: int) -> tuple[int, int]:
        """Days whose complaints steer patrols on ``day``: ``window_days`` ending
        ``lag_days`` before it (clipped to the run)."""
        hi = min(max(day - int(round(self.spec.lag_days)) + 1, 0), self._days)
        lo = max(hi - int(round(self.spec.window_days)), 0)
        return lo, hi

    def _rows(self, lo: int, hi: int) -> list[int]:
        """The rows of days ``lo`` .. ``hi - 1`` that counted any complaint, in day order."""
        n, row_day = len(self._row_day), self._row_day
        return [d % n for d in range(lo, hi) if row_day[d % n] == d]

    def grid_weights(self, t: float) -> np.ndarray:
        """Complaints per grid in the window that steers patrols at time ``t`` (minutes);
        recomputed once a day, when the themes are renewed too."""
        day = int(t // 1440)
        if day != self._day:
            self._day = day
            lo, hi = self.window(day)
            rows = self._rows(lo, hi)
            self._weights = self.by_grid[rows].sum(axis=0)
            self._renew_themes(self.by_subclass[rows].sum(axis=0))
        return self._weights

    def _renew_themes(self, per_subclass: np.ndarray) -> None:
        self._set_themes(per_subclass)
        # recurrences and single watches read the list, batches the array: both follow
        self.m.discovery.detect_p[:] = self.detect.tolist()

    def _set_themes(self, per_subclass: np.ndarray) -> None:
        k = self.spec.themes
        self.detect[:] = self.base_detect
        if k == 0 or not per_subclass.any():
            self.themes = []
            return
        top = np.argsort(-per_subclass, kind="stable")[:k]
        self.themes = [int(s) for s in top if per_subclass[s] > 0]
        idx = np.asarray(self.themes, dtype=np.int64)
        self.detect[idx] = np.minimum(1.0, self.base_detect[idx] * self.spec.theme_detection)
