"""Where mistakes go: wrong dispatches and misclassifications that look like real ones.

A dispatcher who sends a case to the wrong department rarely picks one at random: a drainage
cover goes to the water-supply company or to municipal works, a fallen tree to sanitation
(whoever else plausibly owns the thing). An inspector who misreads a problem mistakes it for
a look-alike (exposed garbage for a street-cleanliness case), not for a gas leak. The
handbook says which (`Subclass.dispatch_alternates`, `Subclass.look_alikes`); absent, a wrong
dispatch goes to any other department (as before) and a misclassification stays in the
subclass's class. How often mistakes happen stays the scenario's (``centre.dispatch_error``,
``inspectors.misclassification``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from typing import NamedTuple

from sim.data.taxonomy import Handbook

__all__ = ["Mistakes", "mistakes_of", "wrong_department", "misclassify"]


class Mistakes(NamedTuple):
    """Per subclass (in handbook order): where a wrong dispatch goes and what a
    misclassification turns it into.

    ``alternates[i]`` are department indices and ``alternate_cum[i]`` their cumulative
    weights (both empty: any other department); ``confusable[i]`` the subclass indices a
    misclassification picks from (never empty unless the handbook has one subclass).
    """

    alternates: tuple[tuple[int, ...], ...]
    alternate_cum: tuple[tuple[float, ...], ...]
    confusable: tuple[tuple[int, ...], ...]


def mistakes_of(handbook: Handbook, departments: Sequence[str]) -> Mistakes:
    """The handbook's mistake tables, with departments as indices into ``departments``."""
    index = {name: i for i, name in enumerate(departments)}
    code_index = {s.code: i for i, s in enumerate(handbook.subclasses)}
    alternates, cums, confusable = [], [], []
    for i, s in enumerate(handbook.subclasses):
        alternates.append(tuple(index[d] for d in s.dispatch_alternates))
        cums.append(tuple(accumulate(s.dispatch_alternates.values())))
        if s.look_alikes:
            pool = tuple(code_index[c] for c in s.look_alikes)
        else:
            pool = tuple(j for j, o in enumerate(handbook.subclasses)
                         if j != i and o.code[:3] == s.code[:3])
            if not pool:  # alone in its class: any other subclass
                pool = tuple(j for j in range(len(handbook.subclasses)) if j != i)
        confusable.append(pool)
    return Mistakes(tuple(alternates), tuple(cums), tuple(confusable))


def wrong_department(right: int, alternates: Sequence[int], cum: Sequence[float],
                     n_departments: int, v: float) -> int:
    """The department a wrong dispatch sends the case to, from a uniform ``v`` in [0, 1):
    one of the handbook's plausible ``alternates`` by weight, else any department other than
    ``right`` with equal chance (``right`` itself when there is no other)."""
    if alternates:
        return alternates[min(bisect_right(cum, v * cum[-1]), len(alternates) - 1)]
    if n_departments < 2:
        return right
    other = int(v * (n_departments - 1))
    return other if other < right else other + 1


def misclassify(subclass: int, confusable: Sequence[int], u: float) -> int:
    """The subclass an inspector mistakes ``subclass`` for, from a uniform ``u`` in [0, 1):
    one of ``confusable`` (`Mistakes.confusable`) with equal chance."""
    if not confusable:
        return subclass
    return confusable[min(int(u * len(confusable)), len(confusable) - 1)]
