"""A starting mapping for a raw export: the columns, time format and words it recognises.

`template` reads a raw file's header and first rows and writes the mapping file
(`sim.ingest.mapping`) an analyst then checks: columns recognised by their usual names in
311 and 12345 exports (English and Chinese), the first format of `DATETIME_FORMATS` the
opening times fit (none when they read as ISO 8601), and the status and channel words sorted
by the built-in synonyms, with the ones it could not place listed in a comment.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

from sim.errors import InputError, reading
from sim.ingest.mapping import CHANNEL_WORDS, STATUS_WORDS

__all__ = ["template", "DATETIME_FORMATS"]

DATETIME_FORMATS: tuple[str, ...] = (
    "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
    "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M")
"""Formats `template` tries on a time column that is not ISO 8601."""


_ROLES: dict[str, tuple[str, ...]] = {
    "id": ("caseid", "case_enquiry_id", "servicerequestid", "service_request_id",
           "srnumber", "unique key", "uniquekey", "requestid", "ticketid", "id", "工单编号",
           "工单号", "案卷号", "案卷编号", "编号"),
    "opened": ("opened", "requested_datetime", "requesteddatetime", "createddate", "open_dt",
               "opendt", "creationdate", "createddatetime", "datecreated", "reporteddate",
               "创建时间", "受理时间", "来电时间", "立案时间", "上报时间", "登记时间"),
    "closed": ("closed", "closeddate", "closed_dt", "closeddt", "closed_datetime",
               "closeddatetime", "dateclosed", "resolutiondate", "办结时间", "结案时间",
               "完成时间"),
    "due": ("due", "duedate", "target_dt", "targetdt", "expected_datetime",
            "expecteddatetime", "deadline", "处置时限", "截止时间", "办理时限"),
    "type": ("requesttype", "request_type", "complainttype", "servicerequesttype",
             "service_name", "servicename", "type", "case_title", "issuetype", "问题类型",
             "诉求类型", "小类", "问题小类", "事项类型"),
    "class": ("category", "servicecategory", "reason", "大类", "问题大类"),
    "agency": ("responsibleagency", "responsible_agency", "agency_responsible",
               "agencyresponsible", "agency", "agencyname", "department", "division", "queue",
               "承办单位", "处置部门", "责任单位", "处置单位", "办理单位"),
    "status": ("status", "case_status", "casestatus", "state", "状态", "办理状态"),
    "channel": ("source", "channel", "opendatachanneltype", "origin", "来源", "渠道",
                "问题来源", "上报渠道"),
    "lat": ("latitude", "lat", "纬度"),
    "lon": ("longitude", "long", "lon", "lng", "经度"),
    "point": ("point", "location", "geom", "coordinates", "坐标"),
    "area": ("supervisordistrict", "district", "ward", "borough", "council district",
             "councildistrict", "街道", "区县", "所属街道"),
    "grid": ("grid_code", "gridcode", "网格编码", "网格号", "单元网格"),
}


def _key(name: str) -> str:
    return re.sub(r"[\s._\-()]+", "", name.strip().lower())


def _recognise(header: list[str]) -> dict[str, str]:
    """Role -> raw column, for the columns whose names are known synonyms."""
    keys = {_key(h): h for h in header}
    found: dict[str, str] = {}
    used: set[str] = set()
    for role, names in _ROLES.items():
        for n in names:
            col = keys.get(_key(n))
            if col is not None and col not in used:
                found[role] = col
                used.add(col)
                break
    if "lat" in found and "lon" in found:
        found.pop("point", None)
    elif "point" in found:
        found.pop("lat", None)
        found.pop("lon", None)
    return found


def _guess_format(values: list[str]) -> str | None:
    """None when the values read as ISO 8601, else the first known format they all fit."""
    sample = [v for v in values if v.strip()][:200]
    if not sample:
        return None
    try:
        for v in sample:
            dt.datetime.fromisoformat(v.strip().replace("Z", "+00:00"))
        return None
    except ValueError:
        pass
    for fmt in DATETIME_FORMATS:
        try:
            for v in sample:
                dt.datetime.strptime(v.strip(), fmt)
            return fmt
        except ValueError:
            continue
    return None


def _q(text: str) -> str:
    """A YAML double-quoted scalar."""
    import json
    return json.dumps(text, ensure_ascii=False)


def template(raw: str | Path, *, rows: int = 5000, encoding: str = "utf-8-sig") -> str:
    """A starting mapping for the raw export ``raw``: the columns it recognised, the time
    format its first rows fit, and its status and channel words sorted by the built-in
    synonyms (words it could not place are listed in comments). Edit, then pass it to
    ``--mapping``."""
    file = str(raw)
    with reading(file, "a CSV export"), open(raw, encoding=encoding, newline="") as f:
        head = f.read(1 << 16)
        try:
            delimiter = csv.Sniffer().sniff(head.split("\n", 1)[0], ",;\t|").delimiter
        except csv.Error:
            delimiter = ","
        f.seek(0)
        reader = csv.reader(f, delimiter=delimiter)
        header = [h.strip() for h in next(reader, [])]
        if not header:
            raise InputError(file, 1, "", "expected a header row, got an empty file")
        sample = [r for _, r in zip(range(rows), reader, strict=False)]
    found = _recognise(header)
    col = {h: i for i, h in enumerate(header)}

    def values(role: str) -> list[str]:
        if role not in found:
            return []
        i = col[found[role]]
        return [r[i] for r in sample if i < len(r)]

    fmt = _guess_format(values("opened"))
    out = io.StringIO()
    w = out.write
    w(f"# Mapping for {Path(raw).name}, written by `gridloop import-log --mapping-template`.\n"
      "# Check every line, fill what is missing, then:\n"
      f"#   gridloop import-log {Path(raw).name} --mapping THIS.yaml --out DIR\n"
      "# Keys left out keep the defaults of docs/import.md.\n")
    w(f"# Columns of the file: {', '.join(header)}\n")
    w("columns:\n")
    for role in ("id", "opened", "closed", "due", "type", "class", "agency", "status",
                 "channel", "lat", "lon", "point", "area", "grid"):
        if role in found:
            w(f"  {role}: {_q(found[role])}\n")
        elif role in ("opened", "type"):
            w(f"  {role}: null   # REQUIRED: name the column ({role})\n")
        else:
            w(f"  # {role}: (not recognised)\n")
    if fmt:
        w(f"datetime_format: {_q(fmt)}   # fits the first {len(values('opened'))} rows\n")
    else:
        w("# datetime_format: ISO 8601 (the first rows read as ISO 8601)\n")
    w("timezone: UTC   # CHECK: the city's IANA zone, e.g. America/Los_Angeles, Asia/Shanghai\n")
    if delimiter != ",":
        w(f"delimiter: {_q(delimiter)}\n")
    if encoding != "utf-8-sig":
        w(f"encoding: {_q(encoding)}\n")
    for role, kinds, words in (("status", ("open", "closed", "voided"), STATUS_WORDS),
                               ("channel", ("inspector", "public"), CHANNEL_WORDS)):
        seen = _counts(values(role))
        if not seen:
            continue
        known = {w_: k for k, ws in words.items() for w_ in ws}
        w(f"{role}:   # the {role} words of the first rows, by count\n")
        for kind in kinds:
            mine = [v for v in seen if known.get(v.strip().lower()) == kind]
            if mine:
                w(f"  {kind}: [{', '.join(_q(v) for v in mine)}]\n")
        unplaced = [v for v in seen if v.strip().lower() not in known]
        if unplaced:
            w(f"  # not placed (add each to one list): "
              f"{', '.join(_q(v) for v in unplaced[:40])}\n")
    if "grid" in found:
        w(f"grid: {{column: {_q(found['grid'])}}}\n")
    elif any(r in found for r in ("lat", "point")):
        w("grid: {cell_m: 250}   # unit grids: 250 m squares over the points\n")
    else:
        w("# grid: no locations recognised: one grid per area (or name lat/lon or a point)\n")
    return out.getvalue()


def _counts(vals: list[str]) -> list[str]:
    from collections import Counter
    return [v for v, _ in Counter(v.strip() for v in vals if v.strip()).most_common()]
