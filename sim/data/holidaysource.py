"""Public holidays and official working-day swaps from the `holidays` library (PyPI), and
IANA time zones (`iana_zone`).

A scenario's ``calendar.holiday_country`` (ISO 3166, e.g. ``CN``, ``US``) and optional
``holiday_subdivision`` (``CA``) name the source; `holiday_days` gives the holidays and the
weekend days worked in lieu (China's 调休: the library's ``weekend_workdays``) for a span of
years. The library is maintained against each country's published schedules, so a scenario
need not list them by hand; its own ``holidays`` and ``extra_workdays`` still add to them.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

__all__ = ["holiday_days", "check_source", "iana_zone"]


def iana_zone(name: str) -> str:
    """``name`` if it is an IANA time zone (``Asia/Shanghai``), else ValueError (for pydantic
    validators: the message says what was expected)."""
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError("an IANA time zone such as Asia/Shanghai or America/Los_Angeles") \
            from None
    return name


def check_source(country: str, subdivision: str = "") -> tuple[str, str] | None:
    """None if the library knows the country (and subdivision), else (key, expected)."""
    import holidays

    supported = holidays.list_supported_countries()
    if country not in supported:
        return "holiday_country", "a country code the holidays library knows (CN, US, GB, ...)"
    if subdivision and subdivision not in supported[country]:
        subs = ", ".join(supported[country][:12])
        return "holiday_subdivision", f"a subdivision of {country} ({subs}, ...)"
    return None


@lru_cache(maxsize=32)
def holiday_days(country: str, subdivision: str, first_year: int, last_year: int
                 ) -> tuple[tuple[dt.date, ...], tuple[dt.date, ...]]:
    """(holidays, weekend days worked in lieu) in ``first_year..last_year``, sorted."""
    import holidays

    years = list(range(first_year, last_year + 1))
    table = holidays.country_holidays(country, subdiv=subdivision or None, years=years)
    days = tuple(sorted(table))
    extra = tuple(sorted(d for d in getattr(table, "weekend_workdays", ())
                         if first_year <= d.year <= last_year))
    return days, extra
