"""Ceilings: the most a file or a scenario may ask of GridLoop, so hostile or careless input
is refused with a located error instead of exhausting memory, time or a library's range.

Two kinds live here. File ceilings bound what a reader takes in (bytes, nesting, YAML nodes
after aliases, text length). Value ceilings bound what a valid scenario may ask the engine
for (staff, rates, horizon, dates): `check_ceilings` walks a validated `Scenario` and refuses
the first value over its ceiling, at the line that wrote it. Every ceiling is far above
any real city's figure (DOMAIN: Dongcheng has 432 inspectors and ~1,650 problems a day) and
states why it is where it is; docs/security.md lists them. What a scenario costs as a
whole (memory, time) is `sim.data.resources`'s estimate, on top of these.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from sim.data.textfile import MiB
from sim.errors import InputError

__all__ = ["YAML_BYTES", "CSV_BYTES", "GEOJSON_BYTES", "YAML_DEPTH", "YAML_NODES",
           "TEXT_CHARS", "NUMBER_DIGITS", "DATE_MIN", "DATE_MAX", "Ceiling", "CEILINGS",
           "ANY_NUMBER", "check_ceilings", "check_date", "ceiling_of", "on_duty"]

# --- files ------------------------------------------------------------------------------------
YAML_BYTES = 8 * MiB        # scenario, handbook, rule and exercise files (the biggest shipped:
#                             the standard handbook, 37 KB)
CSV_BYTES = 256 * MiB       # grid tables, handbook CSVs, case logs (a year of a big
#                             district's cases is ~100 MB)
GEOJSON_BYTES = 128 * MiB   # grid maps (Dongcheng's 2,322 grids are ~2 MB)
YAML_DEPTH = 64             # nested mappings and lists (the shipped files nest 5 deep)
YAML_NODES = 200_000        # values after aliases are expanded (the handbook has ~3,000):
#                             refuses "billion laughs" bombs before they are expanded
TEXT_CHARS = 100_000        # one YAML string (a description, a formula)
NUMBER_DIGITS = 100         # digits of one YAML number (Python refuses ints of > 4,300)

# --- dates ------------------------------------------------------------------------------------
# Every date GridLoop takes (scenario start and end, holidays, case logs) lies in this range:
# pandas' nanosecond timestamps span 1677-2262, and no city-management record predates 1900.
DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2200, 12, 31)

# --- scenario values --------------------------------------------------------------------------
ANY_NUMBER = 1e12           # every number without a ceiling of its own (minutes, hours, weights,
#                             multipliers): far past any duration that means something (1e12
#                             is how a model writes "never", e.g. patience that never runs out)
#                             and far from overflow in sums and products


@dataclass(frozen=True)
class Ceiling:
    """The largest value a scenario key may take (``pattern``: dotted path, ``*`` for a
    department's name)."""

    pattern: str
    most: float
    why: str


_STAFF = 100_000
_STAFF_WHY = "ten times the inspectors of all of Beijing; staff are simulated one by one"
CEILINGS: tuple[Ceiling, ...] = (
    Ceiling("days", 3660, "ten years; run longer studies as several runs"),
    Ceiling("seed", 2**63 - 1, "the largest seed stored in a 64-bit column (console, manifests)"),
    Ceiling("inspectors.count", _STAFF, _STAFF_WHY),
    Ceiling("departments.*.crews", _STAFF, _STAFF_WHY),
    Ceiling("centre.acceptors", _STAFF, _STAFF_WHY),
    Ceiling("centre.shift_leaders", _STAFF, _STAFF_WHY),
    Ceiling("centre.dispatchers", _STAFF, _STAFF_WHY),
    Ceiling("hotline.call_takers", _STAFF, _STAFF_WHY),
    Ceiling("departments.*.borrowing.max_crews", _STAFF, _STAFF_WHY),
    Ceiling("problems.per_day", 1_000_000, "600 times Dongcheng's load, 15 times all of "
            "Beijing's 12345 contacts a day"),
    Ceiling("hotline.background_per_day", 1_000_000, "15 times all of Beijing's 12345 "
            "contacts a day"),
    Ceiling("problems.rate_scale", 1000, "a lever on per_day, not a second rate"),
    Ceiling("hotline.rate_scale", 1000, "a lever on the hotline's rates, not a second rate"),
    Ceiling("hotline.surge.seats", _STAFF, _STAFF_WHY),
    Ceiling("hotline.requests.*.incident_followers.mean", 100_000, "every seventh resident "
            "of Dongcheng phoning about one incident"),
    Ceiling("hotline.requests.*.incident_followers.values.*", 100_000, "every seventh "
            "resident of Dongcheng phoning about one incident"),
)
# Profiles that share out a day's or a week's load: at least one entry must be positive.
PROFILES = ("problems.hourly_profile", "problems.weekly_profile", "hotline.hourly_profile",
            "hotline.weekly_profile")


def ceiling_of(path: str) -> Ceiling | None:
    """The ceiling of a dotted key path (None: only `ANY_NUMBER`)."""
    return next((c for c in CEILINGS if fnmatchcase(path, c.pattern)), None)


def _numbers(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...],
                                                                      float]]:
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _numbers(v, (*path, k))
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from _numbers(v, (*path, i))


def _num(x: float) -> str:
    if isinstance(x, int) or float(x).is_integer() and abs(x) < 1e15:
        return f"{int(x):,}"
    return f"{x:g}"


Fail = Callable[[tuple[str | int, ...], str], InputError]


def check_date(value: dt.date, what: str = "a date") -> str | None:
    """Why ``value`` is outside `DATE_MIN`..`DATE_MAX` (None: inside)."""
    if DATE_MIN <= value <= DATE_MAX:
        return None
    return f"expected {what} from {DATE_MIN} to {DATE_MAX}, got {value}"


def on_duty(hotline: Any) -> list[int]:
    """Call-takers on duty in each hour of the day: ``call_takers`` x the staffing profile,
    within the hours the shifts cover (3 shifts: all day; 2: 08:00-24:00; 1: 08:00-16:00).
    The hotline's call queue (`agents.hotline.demand.staffing_by_hour`) staffs by this."""
    first = 0 if hotline.shifts == 3 else 8
    covered = range(first, min(24, first + 8 * hotline.shifts))
    return [int(round(hotline.call_takers * hotline.staffing_profile[h])) if h in covered
            else 0 for h in range(24)]


def check_ceilings(scenario: Any, fail: Fail) -> None:
    """Refuse the first value of a validated scenario over its ceiling.

    Args:
        scenario: a `sim.data.scenario.Scenario`.
        fail: builds the located error for a key path and a message.

    Raises:
        InputError: from ``fail``: a number that is not finite, over its ceiling or over
            `ANY_NUMBER`; a profile with no positive entry; a date out of range.
    """
    data = scenario.model_dump(mode="python", exclude={"source"})
    for loc, x in _numbers(data, ()):
        dotted = ".".join(str(p) for p in loc)
        if not math.isfinite(x):
            raise fail(loc, f"expected a finite number, got {x}")
        ceiling = ceiling_of(dotted)
        most = ceiling.most if ceiling else ANY_NUMBER
        if abs(x) > most:
            why = ceiling.why if ceiling else "the ceiling of every number in a scenario"
            raise fail(loc, f"expected at most {_num(most)} ({why}), got {_num(x)}")
    for dotted in PROFILES:
        section, key = dotted.split(".")
        if not any(v > 0 for v in data[section][key]):
            raise fail((section, key), "expected at least one entry above 0 (the profile "
                       "shares out the load), got all zeros")
    h = scenario.hotline
    if h.enabled and max(on_duty(h)) < 1:
        key = "call_takers" if h.call_takers == 0 else "staffing_profile"
        raise fail(("hotline", key), "expected at least one call-taker on duty in "
                   f"some hour of the shifts (call_takers x staffing_profile), got none: "
                   f"{h.call_takers} call-takers, {h.shifts} shift(s)")
    start = scenario.start_date
    why = check_date(start, "a start date")
    if why:
        raise fail(("start_date",), why)
    end = start + dt.timedelta(days=scenario.days)
    if end > DATE_MAX:
        raise fail(("days",), f"expected the run to end by {DATE_MAX}, got {scenario.days:,} "
                   f"days from {start} (ending {end})")
    for key in ("holidays", "extra_workdays"):
        for i, day in enumerate(getattr(scenario.calendar, key)):
            why = check_date(day)
            if why:
                raise fail(("calendar", key, i), why)
