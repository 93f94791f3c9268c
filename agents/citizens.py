"""The public (市民): when residents report an unresolved problem, first and again.

A problem's first public report comes at a hazard that grows with the grid's residents
(`CitizenReporting.first_reports`, a batch at a time); while it stays open, residents report
it again at `repeat_factor` times that rate, which may grow with the problem's age
(`CitizenReporting.next_report`, `repeat_gap`). `agents.discovery` schedules the reports and
hands them to the platform (or the 12345 hotline).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sim.engine.randomness import Exponentials

if TYPE_CHECKING:
    from sim.model import CityModel

__all__ = ["CitizenReporting", "repeat_gap"]

INF = math.inf


class CitizenReporting:
    """The public (市民): how soon residents report an unresolved problem.

    The times come from here; `Discovery.public_report` is the seam where a report enters
    the platform, which the 12345 hotline will take over (call-takers, work orders).
    """

    def __init__(self, model: CityModel) -> None:
        spec = model.spec.citizens
        city = model.city
        res = np.maximum(city.residents, 1.0)
        self.grid_factor = np.sqrt(res / res.mean()).tolist()
        self.rate = [s.citizen_rate * spec.propensity_scale / 60.0
                     for s in model.handbook.subclasses]  # per minute
        self.repeat = spec.repeat_factor
        self.false_share = spec.false_report_share
        self.growth = spec.repeat_growth_per_day
        self.expo = Exponentials(model.streams["citizens"])
        self.batch = model.streams["citizens:first"]
        self.rate_arr = np.asarray(self.rate)
        self.grid_arr = np.asarray(self.grid_factor)

    def first_reports(self, subs: np.ndarray, grids: np.ndarray, since: np.ndarray
                      ) -> np.ndarray:
        """When residents first report each of these new problems (INF: never)."""
        lam = self.rate_arr[subs] * self.grid_arr[grids]
        draws = self.batch.standard_exponential(len(since))
        with np.errstate(divide="ignore"):
            return np.where(lam > 0, since + draws / np.where(lam > 0, lam, 1.0), INF)

    def next_report(self, subclass: int, grid: int, since: float, born: float) -> float:
        """When residents next report an open problem of ``subclass`` in ``grid`` that
        appeared at ``born``, after a report at ``since``: repeats come at `repeat_factor`
        times the first report's rate, which grows by ``repeat_growth_per_day`` of itself
        per day of the problem's age."""
        lam = self.rate[subclass] * self.grid_factor[grid] * self.repeat
        if lam <= 0:
            return INF
        if not self.growth:
            return since + self.expo() / lam
        return since + repeat_gap(self.expo() / lam, since - born, self.growth)


def repeat_gap(y: float, age: float, growth: float) -> float:
    """Minutes from a report at age ``age`` (minutes) to the next one when the rate is
    ``lam * (1 + growth * age_days)``, for ``y`` = an exponential draw over ``lam``: the
    ``x`` with ``lam * integral of (1 + growth * (age + s) / 1440) ds over [0, x] = lam * y``,
    a quadratic's positive root (written so it does not cancel when growth is small)."""
    k = growth / 2880.0
    b = 1.0 + growth * age / 1440.0
    return 2.0 * y / (b + math.sqrt(b * b + 4.0 * k * y))
