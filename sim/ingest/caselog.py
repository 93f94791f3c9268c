"""A city's case log (案卷), read from CSV with the columns of Open311 GeoReport v2.

One row per case. Columns (any order; others, such as Open311's ``description`` or
``address``, are kept out of the way and ignored):

    service_request_id    required; the case's id in the city's platform, unique
    service_code          required; handbook subclass code (``E05-01``)
    requested_datetime    required; when the report reached the platform (ISO 8601)
    grid_code             required; 15-digit unit-grid code (docs/domain.md §2)
    status                ``open``, ``closed`` or ``voided`` (default: closed if
                          ``closed_datetime`` is given, else open)
    agency_responsible    the department it was dispatched to (scenario key, e.g.
                          ``sanitation``); default: the handbook's department
    channel               ``inspector`` or ``public`` (synonyms below; default public, as
                          Open311 logs are citizens' requests)
    updated_datetime, lat, long          checked when given, not used further
    filed_datetime, dispatched_datetime, handled_datetime, checked_datetime, closed_datetime
                          lifecycle times; each must not come before the one above it

Every bad row is recorded with its line number (the header is line 1), the column and what
was expected; nothing is dropped silently. `read_caselog` returns the good rows and the
rejected ones; `write_rejected` writes the latter to a CSV with the reasons.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.errors import InputError, reading
from sim.ingest.csvtable import DateOutOfRange, checked_header, local_time, open_csv
from sim.outputs.csvcells import safe_row
from sim.outputs.files import atomic_write

__all__ = ["CaseLog", "Rejection", "read_caselog", "write_rejected", "REQUIRED_COLUMNS",
           "LIFECYCLE_COLUMNS", "CASELOG_COLUMNS"]

REQUIRED_COLUMNS = ("service_request_id", "service_code", "requested_datetime", "grid_code")
LIFECYCLE_COLUMNS = ("requested_datetime", "filed_datetime", "dispatched_datetime",
                     "handled_datetime", "checked_datetime", "closed_datetime")
CASELOG_COLUMNS = ("service_request_id", "service_code", "requested_datetime",
                   "updated_datetime", "status", "agency_responsible", "lat", "long",
                   "grid_code", "channel", "filed_datetime", "dispatched_datetime",
                   "handled_datetime", "checked_datetime", "closed_datetime")
"""The columns this module reads, in the order `sim.ingest.fromrun` writes them."""

_CODE = re.compile(r"[CE]\d{2}-\d{2}")
_GRID = re.compile(r"\d{15}")
_STATUS = {"open": "open", "closed": "closed", "voided": "voided", "void": "voided",
           "invalid": "voided"}
_CHANNEL = {"inspector": "inspector", "grid": "inspector", "patrol": "inspector",
            "public": "public", "citizen": "public", "hotline": "public", "12345": "public",
            "phone": "public", "app": "public", "web": "public", "online": "public"}


@dataclass(frozen=True)
class Rejection:
    """One bad row: its line in the file, the column at fault and why."""

    line: int
    column: str
    reason: str
    row: dict[str, str]


@dataclass(frozen=True)
class CaseLog:
    """The good rows of a case log, typed, and the rows turned away.

    ``cases`` has one row per case with columns ``id``, ``subclass``, ``grid``, ``status``,
    ``department`` (``""``: not given), ``channel``, ``line`` and the lifecycle times as
    pandas datetimes (``NaT``: not given), sorted by ``requested_datetime``.
    """

    source: str
    cases: pd.DataFrame
    rejected: list[Rejection] = field(default_factory=list)
    ignored_columns: tuple[str, ...] = ()

    @property
    def start_date(self) -> dt.date:
        """The first day of the log (time 0 of its event log)."""
        return self.cases["requested_datetime"].min().date()

    @property
    def days(self) -> int:
        """Whole days from the first day to the last report's day, inclusive."""
        last = self.cases["requested_datetime"].max().date()
        return (last - self.start_date).days + 1


def _time(text: str, zone: dt.tzinfo) -> dt.datetime:
    """An ISO 8601 date-time as local wall-clock time of ``zone``: one written with an offset
    (``Z``, ``+08:00``) is converted into the zone, one without is taken to be in it; within
    `sim.data.limits`' date range (`local_time`)."""
    return local_time(text, zone)


class _Row:
    """Checks one CSV row; the first problem raises `_Bad`."""

    def __init__(self, raw: dict[str, str], line: int, zone: dt.tzinfo) -> None:
        self.raw, self.line, self.zone = raw, line, zone

    def get(self, column: str) -> str:
        return (self.raw.get(column) or "").strip()

    def bad(self, column: str, reason: str) -> _Bad:
        return _Bad(Rejection(self.line, column, reason, self.raw))

    def time(self, column: str) -> dt.datetime | None:
        text = self.get(column)
        if not text:
            return None
        try:
            return _time(text, self.zone)
        except DateOutOfRange as e:
            raise self.bad(column, str(e)) from None
        except ValueError:
            raise self.bad(column, f"expected an ISO 8601 date-time such as "
                                   f"2026-03-02T08:15:00, got {text!r}") from None

    def number(self, column: str, lo: float, hi: float) -> float | None:
        text = self.get(column)
        if not text:
            return None
        try:
            x = float(text)
        except ValueError:
            x = float("nan")
        if not lo <= x <= hi:
            raise self.bad(column, f"expected a number in [{lo:g}, {hi:g}], got {text!r}")
        return x


class _Bad(Exception):
    def __init__(self, rejection: Rejection) -> None:
        self.rejection = rejection


def _check_row(r: _Row, subclasses: dict[str, str] | None, seen: dict[str, int]
               ) -> dict[str, object]:
    ident = r.get("service_request_id")
    if not ident:
        raise r.bad("service_request_id", "expected the case's id, got an empty value")
    if ident in seen:
        raise r.bad("service_request_id", f"expected a unique id, got {ident!r} again "
                                          f"(first on line {seen[ident]})")
    code = r.get("service_code")
    if not _CODE.fullmatch(code):
        raise r.bad("service_code", f"expected a subclass code such as E05-01, got {code!r}")
    if subclasses is not None and code not in subclasses:
        raise r.bad("service_code", f"expected a subclass of the handbook, got {code!r}")
    grid = r.get("grid_code")
    if not _GRID.fullmatch(grid):
        raise r.bad("grid_code", "expected 15 digits (6 district + 3 subdistrict + "
                                 f"3 community + 3 sequence), got {grid!r}")
    times = {c: r.time(c) for c in LIFECYCLE_COLUMNS}
    if times["requested_datetime"] is None:
        raise r.bad("requested_datetime", "expected when the report came in, got nothing")
    before, before_col = times["requested_datetime"], "requested_datetime"
    for c in LIFECYCLE_COLUMNS[1:]:
        t = times[c]
        if t is None:
            continue
        if t < before:
            raise r.bad(c, f"expected a time not before {before_col} ({before:%Y-%m-%d %H:%M}),"
                           f" got {t:%Y-%m-%d %H:%M}")
        before, before_col = t, c
    updated = r.time("updated_datetime")
    if updated is not None and updated < times["requested_datetime"]:
        raise r.bad("updated_datetime", "expected a time not before requested_datetime, got "
                                        f"{updated:%Y-%m-%d %H:%M}")
    status_text = r.get("status").lower()
    if status_text:
        status = _STATUS.get(status_text)
        if status is None:
            raise r.bad("status", f"expected open, closed or voided, got {r.get('status')!r}")
    else:
        status = "closed" if times["closed_datetime"] else "open"
    if status == "closed" and times["closed_datetime"] is None:
        raise r.bad("closed_datetime", "expected the closing time of a closed case, got nothing")
    if status != "closed" and times["closed_datetime"] is not None:
        raise r.bad("status", f"expected closed for a case with a closed_datetime, got {status}")
    channel_text = r.get("channel").lower()
    channel = _CHANNEL.get(channel_text or "public")
    if channel is None:
        raise r.bad("channel", f"expected inspector or public (or one of "
                               f"{', '.join(sorted(_CHANNEL))}), got {r.get('channel')!r}")
    department = r.get("agency_responsible")
    if not department and subclasses is not None:
        department = subclasses[code]
    if not department and (times["dispatched_datetime"] or status == "closed"):
        raise r.bad("agency_responsible", "expected the department of a dispatched case "
                                          "(or a handbook that names it), got nothing")
    r.number("lat", -90, 90)
    r.number("long", -180, 180)
    seen[ident] = r.line
    return {"id": ident, "subclass": code, "grid": grid, "status": status,
            "department": department, "channel": channel, "line": r.line, "raw": r.raw,
            **times}


def read_caselog(path: str | Path, *, subclasses: dict[str, str] | None = None,
                 district_code: str | None = None, strict: bool = False,
                 timezone: str = "Asia/Shanghai") -> CaseLog:
    """Read and check a case log.

    Args:
        subclasses: the handbook's subclass codes and their departments; when given, codes
            must be among them and a missing ``agency_responsible`` takes the handbook's one.
        district_code: the 6-digit district every grid code must start with (default: the
            most common one in the log; rows of other districts are set aside).
        strict: the first bad row raises instead of being set aside.
        timezone: the city's IANA zone: times with an offset are converted into it.

    Raises:
        InputError: the file cannot be read, lacks a required column, has no good row, or
            (``strict``) has a bad row: ``FILE:LINE: column: expected ..., got ...``.
    """
    import zoneinfo

    p = Path(path)
    zone = zoneinfo.ZoneInfo(timezone)
    good: list[dict[str, object]] = []
    rejected: list[Rejection] = []
    with reading(str(p), "a case log (CSV)"), open_csv(p, "a case log (CSV)") as f:
        reader = csv.DictReader(f)
        header = checked_header(reader, str(p), REQUIRED_COLUMNS)
        seen: dict[str, int] = {}
        for raw in reader:
            line = reader.line_num
            row = {k: v for k, v in raw.items() if k is not None}
            if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue  # a blank line is not a case
            try:
                good.append(_check_row(_Row(row, line, zone), subclasses, seen))
            except _Bad as e:
                if strict:
                    j = e.rejection
                    raise InputError(str(p), j.line, j.column, j.reason) from None
                rejected.append(e.rejection)
    if not good:
        first = f" (line {rejected[0].line}, {rejected[0].column}: {rejected[0].reason})" \
            if rejected else ""
        raise InputError(str(p), None, "", f"expected at least one good case row, got "
                         f"{len(rejected)} bad and none good{first}")
    good, rejected = _one_district(good, rejected, district_code)
    cases = pd.DataFrame(good).drop(columns="raw")
    for c in LIFECYCLE_COLUMNS:
        cases[c] = pd.to_datetime(cases[c])
    cases = cases.sort_values(["requested_datetime", "line"], kind="stable")
    ignored = tuple(h for h in header if h not in CASELOG_COLUMNS)
    return CaseLog(str(p), cases.reset_index(drop=True), rejected, ignored)


def _one_district(good: list[dict[str, object]], rejected: list[Rejection],
                  district_code: str | None) -> tuple[list[dict[str, object]], list[Rejection]]:
    """Set aside rows whose grid lies in another district than the log's."""
    if not good:
        return good, rejected
    if district_code is None:
        district_code = Counter(str(g["grid"])[:6] for g in good).most_common(1)[0][0]
    keep = [g for g in good if str(g["grid"]).startswith(district_code)]
    if len(keep) == len(good):
        return good, rejected
    extra = [Rejection(g["line"], "grid_code",  # type: ignore[arg-type]
                       f"expected a grid of district {district_code} (the log's), "
                       f"got {g['grid']}", g["raw"])  # type: ignore[arg-type]
             for g in good if not str(g["grid"]).startswith(district_code)]
    return keep, sorted(rejected + extra, key=lambda j: j.line)


def write_rejected(log: CaseLog, path: str | Path) -> Path:
    """The rejected rows as CSV: ``line``, ``column``, ``reason``, then the row as read."""
    columns: list[str] = []
    for j in log.rejected:
        columns.extend(k for k in j.row if k not in columns)

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["line", "column", "reason", *columns])
            for j in log.rejected:
                w.writerow(safe_row([j.line, j.column, j.reason,
                                     *(j.row.get(c, "") for c in columns)]))
    return atomic_write(Path(path), write)
