"""Numbers, percentages and dates as each language writes them (Babel's CLDR data).

Every function takes the language explicitly or uses the one in force (`sim.i18n.current`).
English keeps GridLoop's usual forms (``77.0%``, ``Mon 09:42``, ``28 Nov 2026``); Chinese
writes ``77.0%``, ``周一 09:42``, ``2026年11月28日``.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from babel import Locale
from babel import dates as _dates
from babel import numbers as _numbers

from sim.i18n.catalogue import current

__all__ = ["babel_locale", "format_number", "format_decimal", "format_percent", "format_date",
           "format_datetime", "format_weekday_time"]

_CLDR = {"en": "en_GB", "zh-CN": "zh_Hans_CN"}


def babel_locale(lang: str | None = None) -> Locale:
    """Babel's locale of a GridLoop language (default: the one in force; English is
    British English: day-month-year dates)."""
    return _locale(lang or current())


@lru_cache(maxsize=8)
def _locale(lang: str) -> Locale:
    return Locale.parse(_CLDR.get(lang, "en_GB"))


def format_number(value: float, lang: str | None = None) -> str:
    """A count or quantity with the language's grouping (``12,345``; ``1.5``)."""
    return _numbers.format_decimal(value, locale=babel_locale(lang))


def format_decimal(value: float, digits: int = 1, lang: str | None = None) -> str:
    """``value`` with exactly ``digits`` decimals (``74.3``)."""
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return _numbers.format_decimal(value, format=pattern, locale=babel_locale(lang),
                                   decimal_quantization=True)


def format_percent(value: float, digits: int = 0, lang: str | None = None) -> str:
    """A share (0.774) as a percentage (``77%``, ``77.4%`` with ``digits=1``)."""
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "") + "%"
    return _numbers.format_percent(value, format=pattern, locale=babel_locale(lang),
                                   decimal_quantization=True)


def format_date(day: dt.date, lang: str | None = None) -> str:
    """A date in the language's medium form (``28 Nov 2026``, ``2026年11月28日``)."""
    return _dates.format_date(day, format="medium", locale=babel_locale(lang))


def format_datetime(moment: dt.datetime, lang: str | None = None) -> str:
    """A date and time, minutes only (``28 Nov 2026, 09:42``; ``2026年11月28日 09:42``)."""
    return _dates.format_datetime(moment, format=_datetime_pattern(lang),
                                  locale=babel_locale(lang))


def _datetime_pattern(lang: str | None) -> str:
    return "y年M月d日 HH:mm" if (lang or current()) == "zh-CN" else "d MMM y, HH:mm"


def format_weekday_time(moment: dt.datetime, lang: str | None = None) -> str:
    """The weekday and clock time a desk shows (``Mon 09:42``, ``周一 09:42``)."""
    return _dates.format_datetime(moment, format="EEE HH:mm", locale=babel_locale(lang))
