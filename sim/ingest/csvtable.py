"""Reading an imported CSV file (case logs, handbooks): its text, its header, its times."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path

from sim.data.limits import CSV_BYTES, DATE_MAX, DATE_MIN
from sim.data.textfile import read_text
from sim.errors import InputError

__all__ = ["checked_header", "open_csv", "local_time", "DateOutOfRange"]


def open_csv(path: str | Path, what: str) -> io.StringIO:
    """The text of a CSV file for `csv.reader`: a regular UTF-8 file of at most
    `sim.data.limits.CSV_BYTES`, without NUL or control characters (`sim.data.textfile`).

    Raises:
        InputError: naming the file (and the line of a bad byte).
    """
    return io.StringIO(read_text(path, what, CSV_BYTES), newline="")


class DateOutOfRange(ValueError):
    """A date-time that reads, but lies outside `DATE_MIN`..`DATE_MAX`."""


def local_time(text: str, zone: dt.tzinfo | None = None) -> dt.datetime:
    """An ISO 8601 date-time as local wall-clock time of ``zone``: one written with an offset
    (``Z``, ``+08:00``) is converted into the zone (without a zone: the offset is dropped),
    one without is taken to be in it.

    Raises:
        DateOutOfRange: before `DATE_MIN` or after `DATE_MAX` (no record is that old, and
            pandas' timestamps end in 2262).
        ValueError: not an ISO 8601 date-time, or an impossible one (2026-02-30).
    """
    t = dt.datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    if t.tzinfo is not None:
        if not DATE_MIN <= t.date() <= DATE_MAX:     # before converting: 9999-12-31+08:00
            raise DateOutOfRange(f"expected a date-time from {DATE_MIN} to {DATE_MAX}, got "
                                 f"{text.strip()[:40]!r}")
        t = (t.astimezone(zone) if zone is not None else t).replace(tzinfo=None)
    if not DATE_MIN <= t.date() <= DATE_MAX:
        raise DateOutOfRange(f"expected a date-time from {DATE_MIN} to {DATE_MAX}, got "
                             f"{text.strip()[:40]!r}")
    return t


def checked_header(reader: csv.DictReader, file: str, required: Sequence[str]) -> list[str]:
    """Strip the header's names (the reader's rows use them from then on) and check that the
    ``required`` columns are there; a missing one is an error at ``FILE:1``."""
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(file, 1, missing[0], f"expected a header with the columns "
                         f"{', '.join(required)}, got {', '.join(header) or 'none'}")
    return header
