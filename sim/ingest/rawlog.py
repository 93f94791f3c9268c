"""Reading a city's raw export through a mapping: every row typed, or set aside with a reason.

`read_raw` reads the CSV once with the standard library (so quoted newlines are fine and each
row keeps the line it starts on), then checks and converts whole columns at a time with
pandas: times in the mapping's format and zone (an offset in the text is converted into the
city's zone, never dropped), status and channel words, locations. The first problem of a
row sets it aside as a `Rejection` (line, column, reason, the row as read); nothing is
dropped silently. The good rows come back as a `RawLog` frame with one column per role.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import InputError, reading
from sim.ingest.caselog import Rejection
from sim.ingest.mapping import Mapping

__all__ = ["RawLog", "read_raw", "parse_times", "EARLIEST", "LATEST"]

EARLIEST = pd.Timestamp("1970-01-01")
LATEST = pd.Timestamp("2100-01-01")
"""Times outside [EARLIEST, LATEST) are impossible for a service request and are rejected."""

_OFFSET = re.compile(r"(?:Z|[+-]\d{2}(?::?\d{2})?)$")
_NUM = r"([-+]?\d+(?:\.\d+)?)"
_LATLON = re.compile(rf"^\s*\(?\s*{_NUM}\s*[, ]\s*{_NUM}\s*\)?\s*$")
_WKT = re.compile(rf"^\s*POINT\s*\(\s*{_NUM}\s+{_NUM}\s*\)\s*$", re.IGNORECASE)
_TIME_ROLES = ("opened", "closed", "due", "filed", "dispatched", "handled", "checked")
_ORDER = ("opened", "filed", "dispatched", "handled", "checked", "closed")


@dataclass
class RawLog:
    """The good rows of a raw export, one column per role, and the rows set aside.

    ``rows`` has ``line`` (where the row starts; the header is line 1), ``id``, ``type``,
    ``class`` (``""`` when not mapped), ``agency``, ``status`` (open/closed/voided),
    ``channel`` (inspector/public), ``area``, ``grid`` (codes from a grid column, else
    ``""``), ``lat``/``lon`` (NaN when unknown) and the times ``opened``, ``closed``, ``due``,
    ``filed``, ``dispatched``, ``handled``, ``checked`` as local wall-clock datetimes of the
    mapping's zone (NaT when not given). ``raw`` holds every row as read, by line.
    """

    source: str
    mapping: Mapping
    header: list[str]
    rows: pd.DataFrame
    rejected: list[Rejection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    lines: dict[int, list[str]] = field(default_factory=dict, repr=False)
    grids_file: Path | None = None

    def reject(self, mask: np.ndarray, column: str, reasons: pd.Series | str) -> None:
        """Set aside the rows of ``mask`` (over ``rows``) with a reason each."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        bad = self.rows[mask]
        why = reasons[mask] if isinstance(reasons, pd.Series) else pd.Series(reasons,
                                                                             index=bad.index)
        for line, reason in zip(bad["line"].tolist(), why.tolist(), strict=True):
            self.rejected.append(Rejection(int(line), column, str(reason),
                                           dict(zip(self.header, self.lines[int(line)],
                                                    strict=False))))
        self.rows = self.rows[~mask].reset_index(drop=True)


def parse_times(text: pd.Series, fmt: str | None, zone: str) -> pd.Series:
    """Local wall-clock times of ``zone`` (naive datetimes; NaT where empty or unreadable).

    With ``fmt`` (strptime) the text is read with it; otherwise as ISO 8601. A time written
    with an offset (``Z``, ``-04:00``; or ``%z`` in ``fmt``) is converted into ``zone``; a time
    without one is taken to be ``zone``'s local time already.
    """
    s = text.fillna("").astype(str).str.strip()
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    filled = s != ""
    if not filled.any():
        return out
    if fmt is not None and "%z" not in fmt and "%Z" not in fmt:
        out[filled] = pd.to_datetime(s[filled], format=fmt, errors="coerce")
        return out
    if fmt is None:
        has_offset = filled & s.str.contains(_OFFSET) & s.str.contains(r"\d[T ]\d", regex=True)
        plain = filled & ~has_offset
        if plain.any():
            out[plain] = pd.to_datetime(s[plain], format="ISO8601", errors="coerce")
        aware = has_offset
    else:
        aware = filled
    if aware.any():
        t = pd.to_datetime(s[aware], format=fmt or "ISO8601", errors="coerce", utc=True)
        out[aware] = t.dt.tz_convert(zone).dt.tz_localize(None)
    return out


def _read_rows(path: Path, mapping: Mapping) -> tuple[list[str], list[int], list[list[str]],
                                                       list[Rejection]]:
    """Header, start line and fields of every non-blank record; ragged records set aside."""
    file = str(path)
    lines: list[int] = []
    records: list[list[str]] = []
    ragged: list[Rejection] = []
    with reading(file, "a CSV export"), open(path, encoding=mapping.encoding,
                                             newline="") as f:
        reader = csv.reader(f, delimiter=mapping.delimiter)
        header = [h.strip() for h in next(reader, [])]
        if not header or not any(header):
            raise InputError(file, 1, "", "expected a header row naming the columns, got an "
                                          "empty line")
        n = len(header)
        end = reader.line_num
        for rec in reader:
            start, end = end + 1, reader.line_num
            if len(rec) != n:
                if not any(x.strip() for x in rec):
                    continue  # a blank line is not a case
                ragged.append(Rejection(start, "", f"expected {n} fields as in the header, "
                                                   f"got {len(rec)}",
                                        dict(zip(header, rec, strict=False))))
                continue
            lines.append(start)
            records.append(rec)
    return header, lines, records, ragged


def read_raw(path: str | Path, mapping: Mapping) -> RawLog:
    """Read and check a raw export with ``mapping`` (see the module docstring).

    Raises:
        InputError: the file cannot be read, or lacks a column the mapping names
            (``MAPPING:LINE: columns.type: expected a column of RAW, got 'X'``).
    """
    p = Path(path)
    header, lines, records, ragged = _read_rows(p, mapping)
    named = mapping.columns.named()
    index = {h: i for i, h in enumerate(header)}
    for role, col in named.items():
        if col not in index:
            from sim.data.yamlfile import line_of, read_yaml
            line = None
            if mapping.source:
                _, where = read_yaml(mapping.source)
                line = line_of(where, ("columns", role))
            raise InputError(mapping.source or "mapping", line, f"columns.{role}",
                             f"expected a column of {p.name} ({', '.join(header)}), "
                             f"got {col!r}")
    raw = dict(zip(lines, records, strict=True))
    columns = list(zip(*records, strict=True)) if records else [()] * len(header)

    def column(role: str) -> pd.Series:
        if role not in named:
            return pd.Series("", index=range(len(records)), dtype=object)
        return pd.Series(columns[index[named[role]]], dtype=object).str.strip()

    frame = pd.DataFrame({"line": np.asarray(lines, dtype=np.int64)})
    for role in ("id", "type", "class", "agency", "status", "channel", "area", "grid"):
        frame[role] = column(role)
    if "id" not in named:
        frame["id"] = frame["line"].astype(str)
    no_type = (frame["type"] == "") & (frame["class"] != "")
    frame.loc[no_type, "type"] = frame.loc[no_type, "class"]  # a row's class stands for it
    for role in _TIME_ROLES:
        text = column(role)
        frame[role] = parse_times(text, mapping.datetime_format, mapping.timezone)
        frame[f"_text_{role}"] = text
    frame["lat"], frame["lon"], frame["_where"] = _locations(column, named)
    log = RawLog(str(p), mapping, header, frame, list(ragged), lines=raw)
    _check(log)
    log.rejected.sort(key=lambda j: j.line)
    log.rows = log.rows.drop(columns=[c for c in log.rows.columns if c.startswith("_")])
    return log


def _locations(column, named: dict[str, str]) -> tuple[np.ndarray, np.ndarray, pd.Series]:  # noqa: ANN001
    """Latitude, longitude (NaN: none) and the text they came from (for reasons)."""
    if "lat" in named:
        lat_t, lon_t = column("lat"), column("lon")
        lat = pd.to_numeric(lat_t, errors="coerce").to_numpy(float, copy=True)
        lon = pd.to_numeric(lon_t, errors="coerce").to_numpy(float, copy=True)
        bad = ((lat_t != "") & np.isnan(lat)) | ((lon_t != "") & np.isnan(lon))
        lat[bad] = lon[bad] = np.inf  # present but unreadable
        return lat, lon, lat_t + ", " + lon_t
    if "point" in named:
        text = column("point")
        pair = text.str.extract(_LATLON)
        wkt = text.str.extract(_WKT)
        lat = pd.to_numeric(pair[0], errors="coerce").fillna(
            pd.to_numeric(wkt[1], errors="coerce")).to_numpy(float, copy=True)
        lon = pd.to_numeric(pair[1], errors="coerce").fillna(
            pd.to_numeric(wkt[0], errors="coerce")).to_numpy(float, copy=True)
        bad = ((text != "") & np.isnan(lat)).to_numpy()
        lat[bad] = lon[bad] = np.inf
        return lat, lon, text
    n = len(column("type"))
    return np.full(n, np.nan), np.full(n, np.nan), pd.Series("", index=range(n))


def _check(log: RawLog) -> None:
    """Set aside every bad row, first problem first, in the order of the columns' roles."""
    m = log.mapping
    fmt = m.datetime_format or "ISO 8601 (2015-07-01T08:15:00, an offset such as -04:00 " \
                               "converted)"
    named = m.columns.named()

    def col(role: str) -> str:
        return named.get(role, role)

    r = log.rows
    log.reject((r["id"] == "").to_numpy(), col("id"), "expected the case's id, got an empty "
               "value")
    r = log.rows
    dup = r["id"].duplicated(keep="first")
    if dup.any():
        first = r.drop_duplicates("id").set_index("id")["line"]
        why = "expected a unique id, got " + r["id"].map(repr) + " again (first on line " + \
            r["id"].map(first).astype(str) + ")"
        log.reject(dup.to_numpy(), col("id"), why)
    for role in _TIME_ROLES:
        r = log.rows
        given, t = r[f"_text_{role}"], r[role]
        missing = (given == "").to_numpy() if role == "opened" else np.zeros(len(r), bool)
        unreadable = ((given != "") & t.isna()).to_numpy()
        impossible = (t.notna() & ((t < EARLIEST) | (t >= LATEST))).to_numpy()
        why = pd.Series("", index=r.index, dtype=object)
        why[missing] = "expected when the request came in, got nothing"
        why[unreadable] = ("expected a date-time in " + fmt + ", got " + given.map(repr))[
            unreadable]
        why[impossible] = ("expected a date-time between 1970 and 2100, got " +
                           given.map(repr))[impossible]
        log.reject(missing | unreadable | impossible, col(role), why)
    r = log.rows
    log.reject((r["type"] == "").to_numpy(), col("type"),
               "expected the request's type, got an empty value")
    given = [x for x in _ORDER if x == "opened" or x in named]
    for k, role in enumerate(given[1:], start=1):
        r = log.rows
        before = r[given[:k]].max(axis=1)
        last = pd.Series(col("opened"), index=r.index)
        for x in given[1:k]:
            last = last.where(r[x].isna(), col(x))
        t = r[role]
        bad = (t.notna() & (t < before)).to_numpy()
        if bad.any():
            why = ("expected a time not before " + last + " (" +
                   before.dt.strftime("%Y-%m-%d %H:%M") + "), got " +
                   t.dt.strftime("%Y-%m-%d %H:%M"))
            log.reject(bad, col(role), why)
    r = log.rows
    bad = (r["due"].notna() & (r["due"] < r["opened"])).to_numpy()
    log.reject(bad, col("due"), "expected a deadline not before " + col("opened") + ", got " +
               r["due"].dt.strftime("%Y-%m-%d %H:%M"))
    _status(log, col)
    _channel(log, col)
    _where(log, col)


def _status(log: RawLog, col: Callable[[str], str]) -> None:
    m = log.mapping
    r = log.rows
    words = m.status_of()
    word = r["status"].str.lower()
    status = word.map(words)
    closed_t = r["closed"].notna()
    if "status" not in m.columns.named():
        status = pd.Series(np.where(closed_t, "closed", "open"), index=r.index)
    unknown = status.isna() & (word != "")
    status = status.where(word != "", np.where(closed_t, "closed", "open"))
    if unknown.any():
        listed = ", ".join(sorted({w for ws in m.status.values() for w in ws})) or \
            "the built-in words"
        log.reject(unknown.to_numpy(), col("status"),
                   "expected a status word of the mapping (" + listed + "; add it under "
                   "status: open, closed or voided), got " + r["status"].map(repr))
        status = status[~unknown.to_numpy()].reset_index(drop=True)
        r = log.rows
        closed_t = r["closed"].notna()
    reopened = ((status == "open") & closed_t).to_numpy()
    log.reject(reopened, col("status"), "expected a closed status for a case with a closing "
               "time, got " + r["status"].map(repr))
    status = status[~reopened].reset_index(drop=True)
    log.rows["status"] = status.to_numpy()
    closed_unknown = int(((status == "closed") & log.rows["closed"].isna()).sum())
    if closed_unknown:
        log.notes.append(f"{closed_unknown} closed cases have no closing time: counted as "
                         f"cases, left out of time-to-close fits")


def _channel(log: RawLog, col: Callable[[str], str]) -> None:
    m = log.mapping
    r = log.rows
    if "channel" not in m.columns.named():
        log.rows["channel"] = "public" if m.channel_default == "reject" else m.channel_default
        log.notes.append("no channel column: every case counts as "
                         f"{log.rows['channel'].iloc[0] if len(r) else 'public'}")
        return
    words = m.channel_of()
    word = r["channel"].str.lower()
    channel = word.map(words)
    if channel.isna().any():  # the longest built-in word a value contains places it
        found = {w: _contained(w, words) for w in word[channel.isna()].unique()}
        channel = channel.fillna(word.map(found))
    unknown = channel.isna()
    if m.channel_default == "reject":
        log.reject(unknown.to_numpy(), col("channel"), "expected a channel word of the "
                   "mapping (inspector or public), got " + r["channel"].map(repr))
        channel = channel[~unknown.to_numpy()].reset_index(drop=True)
    elif unknown.any():
        counts = r.loc[unknown, "channel"].value_counts()
        log.notes.append(f"channel words in neither list counted as {m.channel_default}: " +
                         ", ".join(f"{w!r} ({n})" for w, n in counts.head(8).items()))
        channel = channel.fillna(m.channel_default)
    log.rows["channel"] = channel.to_numpy()


def _contained(value: str, words: dict[str, str]) -> str | None:
    """The kind of the longest word (of at least 2 characters) that ``value`` contains."""
    hits = [w for w in words if len(w) >= 2 and w in value]
    return words[max(hits, key=len)] if hits else None


def _where(log: RawLog, col: Callable[[str], str]) -> None:
    """Locations: readable, on the globe, and (for grids from points) present."""
    m = log.mapping
    r = log.rows
    named = m.columns.named()
    loc_col = named.get("point") or named.get("lat", "")
    if not loc_col:
        return
    lat, lon = r["lat"].to_numpy(), r["lon"].to_numpy()
    text = r["_where"]
    bad = np.isinf(lat) | (np.abs(lat) > 90) | (np.abs(lon) > 180)
    log.reject(bad, loc_col, "expected a latitude and longitude in degrees, got " +
               text.map(repr))
    r = log.rows
    needs_points = m.grid.column is None and m.columns.grid is None
    if needs_points:
        lat, lon = r["lat"].to_numpy(), r["lon"].to_numpy()
        none = np.isnan(lat) | np.isnan(lon) | ((lat == 0) & (lon == 0))
        log.reject(none, loc_col, "expected a location (the unit grid is made from it), got " +
                   r["_where"].map(repr))
        r = log.rows
        if len(r):
            lat, lon = r["lat"].to_numpy(), r["lon"].to_numpy()
            lat0, lon0 = float(np.median(lat)), float(np.median(lon))
            k = np.pi / 180.0 * 6_371_008.8
            km = np.hypot((lon - lon0) * k * np.cos(np.radians(lat0)), (lat - lat0) * k) / 1000
            far = km > m.grid.max_km
            log.reject(far, loc_col, "expected a point within " + f"{m.grid.max_km:g} km of "
                       f"the log's median ({lat0:.5f}, {lon0:.5f}), got " +
                       pd.Series(km, index=r.index).map(lambda x: f"{x:,.0f} km"))
