"""What a governance model changes, read off a scenario and its handbook (docs/domain.md §1, §8).

Pure functions shared by the scenario checks and the engine: which subclasses a list of codes
names (``E05`` is every street-order event, ``E05-01`` one subclass), and where the loops send
each subclass. The governance presets in ``scenarios/governance/`` are scenario files; this
module holds no model, only the reading of their keys (docs/governance.md).
"""

from __future__ import annotations

import re

from sim.data.taxonomy import Handbook

__all__ = ["CODE", "unmatched_codes", "subclasses_named", "loop_departments"]

CODE = re.compile(r"^[CE]\d{2}(-\d{2})?$")


def _matches(code: str, sub_code: str) -> bool:
    return sub_code == code or (len(code) == 3 and sub_code[:3] == code)


def unmatched_codes(handbook: Handbook, codes: tuple[str, ...]) -> list[tuple[int, str]]:
    """Positions and codes of ``codes`` that name no subclass of ``handbook``."""
    subs = [s.code for s in handbook.subclasses]
    return [(i, c) for i, c in enumerate(codes)
            if not CODE.match(c) or not any(_matches(c, s) for s in subs)]


def subclasses_named(handbook: Handbook, codes: tuple[str, ...]) -> list[int]:
    """Indices of the subclasses that ``codes`` (subclass or class codes) name."""
    return [i for i, s in enumerate(handbook.subclasses)
            if any(_matches(c, s.code) for c in codes)]


def loop_departments(handbook: Handbook, departments: list[str], handles: tuple[str, ...],
                     unit: str) -> list[int]:
    """Department index per subclass once the subdistrict loop takes what ``handles`` names:
    those go to ``unit``, the rest to the handbook's department."""
    index = {n: i for i, n in enumerate(departments)}
    out = [index[s.department] for s in handbook.subclasses]
    for i in subclasses_named(handbook, handles):
        out[i] = index[unit]
    return out
