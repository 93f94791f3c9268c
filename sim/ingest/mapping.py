"""A mapping file: how the columns of a city's raw service-request export become a case log.

A city's export has its own column names, time format, status and channel words, type names
and agencies. The mapping (YAML, checked like a scenario: ``FILE:LINE: key: expected ...,
got ...``) names them; everything it leaves out keeps the default documented here and in
docs/import.md::

    columns:                        # raw column names (only opened and type are required)
      id: CaseID                    # default: the row's line number
      opened: Opened                # when the request came in
      closed: Closed                # when it was closed (empty: not closed)
      due: null                     # the city's own deadline for the case
      type: Request.Type            # the city's own type names -> handbook subclasses
      class: Category               # optional grouping of types -> handbook classes
      agency: Responsible.Agency    # who handled it -> departments
      status: Status
      channel: Source
      lat: null                     # latitude and longitude columns, or
      lon: null
      point: Point                  # one column "(lat, lon)", "lat, lon" or "POINT (lon lat)"
      area: Supervisor.District     # a district column -> subdistricts (optional)
    datetime_format: "%m/%d/%Y %I:%M:%S %p"   # strptime; default ISO 8601
    timezone: America/Los_Angeles   # IANA zone of times written without an offset
    status:   {closed: [Closed], open: [Open], voided: [Duplicate]}
    channel:  {inspector: [Integrated Agency], public: [Voice In, Web Self Service]}
    grid: {cell_m: 250}             # or {column: GRID_CODE}, or {map: grids.geojson}

Status and channel words are matched without regard to case or surrounding blanks, after the
mapping's own lists, against the built-in synonyms `STATUS_WORDS` and `CHANNEL_WORDS`.
`template` writes a starting mapping from a raw file's header and first rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zoneinfo
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.data.yamlfile import KeyProblem, read_yaml, validate
from sim.errors import InputError, reading

__all__ = ["Mapping", "Columns", "GridRule", "load_mapping", "template", "STATUS_WORDS",
           "CHANNEL_WORDS", "DATETIME_FORMATS", "slug"]

STATUS_WORDS: dict[str, tuple[str, ...]] = {
    "closed": ("closed", "close", "resolved", "completed", "complete", "done", "finished",
               "办结", "已办结", "结案", "已结案", "已完成", "完成", "已处理"),
    "open": ("open", "opened", "new", "assigned", "in progress", "pending", "on hold",
             "started", "待处理", "处理中", "办理中", "已派遣", "待办", "未办结"),
    "voided": ("voided", "void", "invalid", "duplicate", "cancelled", "canceled", "rejected",
               "作废", "无效", "重复", "已作废"),
}
"""Status words every mapping understands (lower case), after its own lists."""

CHANNEL_WORDS: dict[str, tuple[str, ...]] = {
    "inspector": ("inspector", "grid", "patrol", "employee", "internal", "integrated agency",
                  "city worker", "staff", "监督员", "网格员", "巡查", "巡查上报", "监督员上报"),
    "public": ("public", "citizen", "hotline", "12345", "311", "phone", "voice in", "call",
               "web", "web self service", "app", "mobile", "open311", "twitter", "email",
               "e-mail in", "mail in", "walk in", "self service", "citizens connect app",
               "constituent call", "市民", "热线", "电话", "网络", "微信", "市民投诉"),
}
"""Channel words every mapping understands (lower case), after its own lists."""

DATETIME_FORMATS: tuple[str, ...] = (
    "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
    "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M")
"""Formats `template` tries on a time column that is not ISO 8601."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


Column = str | None


class Columns(_Spec):
    """Raw column names. Only ``opened`` and ``type`` are required."""

    id: Column = Field(default=None, description="the case's id (default: its line number)")
    opened: str = Field(description="when the request came in")
    closed: Column = Field(default=None, description="when it was closed")
    due: Column = Field(default=None, description="the city's own deadline for the case")
    type: str = Field(description="the city's own type name: one handbook subclass each")
    class_: Column = Field(default=None, alias="class",
                           description="a grouping of types: one handbook class each")
    agency: Column = Field(default=None, description="who handled it: one department each")
    status: Column = None
    channel: Column = None
    lat: Column = None
    lon: Column = None
    point: Column = Field(default=None, description="one column holding latitude and longitude")
    area: Column = Field(default=None, description="a district column: subdistricts")
    grid: Column = Field(default=None, description="15-digit unit-grid codes, if the log has them")
    filed: Column = None
    dispatched: Column = None
    handled: Column = None
    checked: Column = None

    @model_validator(mode="after")
    def _pairs(self) -> Columns:
        if (self.lat is None) != (self.lon is None):
            raise KeyProblem("lat" if self.lat is None else "lon",
                             "lat and lon named together (or a point column)")
        return self

    def named(self) -> dict[str, str]:
        """The raw column of each role the mapping names."""
        out = {}
        for role in type(self).model_fields:
            col = getattr(self, role)
            if col is not None:
                out["class" if role == "class_" else role] = col
        return out


class GridRule(_Spec):
    """How unit grids are made: one of ``column`` (codes in the log), ``cell_m`` (square
    cells of that side laid over the points) or ``map`` (GeoJSON unit grids the points fall
    in). Default: ``cell_m: 250`` when the log has locations, else one grid per area."""

    column: Column = None
    cell_m: float | None = Field(default=None, gt=10, le=5000)
    map: str | None = Field(default=None, description="GeoJSON map of unit grids, relative "
                                                      "to the mapping file")
    code_property: str = "code"
    district_code: str = Field(default="999999", pattern=r"^\d{6}$",
                               description="the 6 digits that begin every grid code made "
                                           "from points or areas")
    max_km: float = Field(default=50.0, gt=0, description="points farther than this from "
                                                          "the log's median are rejected")

    @model_validator(mode="after")
    def _one(self) -> GridRule:
        given = [k for k in ("column", "cell_m", "map") if getattr(self, k) is not None]
        if len(given) > 1:
            raise KeyProblem(given[1], f"one way to make grids, got {' and '.join(given)}")
        return self


class Mapping(_Spec):
    """A raw export's columns, formats and words (module docstring)."""

    columns: Columns
    datetime_format: str | None = Field(
        default=None, description="strptime format of the time columns (default: ISO 8601)")
    timezone: str = Field(default="UTC", description="IANA time zone of times written "
                                                     "without an offset (the city's)")
    holiday_country: str = Field(default="", pattern=r"^([A-Z]{2,3})?$",
                                 description="the city's country (ISO 3166) for its public "
                                             "holidays (the `holidays` library)")
    holiday_subdivision: str = Field(default="", description="its state or province (CA)")
    encoding: str = "utf-8-sig"
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    status: dict[Literal["open", "closed", "voided"], tuple[str, ...]] = Field(
        default_factory=dict)
    channel: dict[Literal["inspector", "public"], tuple[str, ...]] = Field(default_factory=dict)
    channel_default: Literal["inspector", "public", "reject"] = Field(
        default="public", description="channel of words in neither list")
    grid: GridRule = GridRule()
    source: str = Field(default="", description="file the mapping was read from")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError("an IANA time zone such as America/Los_Angeles or "
                             "Asia/Shanghai") from None
        return v

    @field_validator("datetime_format")
    @classmethod
    def _format(cls, v: str | None) -> str | None:
        if v is not None and "%" not in v:
            raise ValueError("a strptime format such as %m/%d/%Y %I:%M:%S %p")
        return v

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, v: str) -> str:
        import codecs
        try:
            codecs.lookup(v)
        except LookupError:
            raise ValueError("a text encoding such as utf-8-sig or gb18030") from None
        return v

    @model_validator(mode="after")
    def _words(self) -> Mapping:
        for key, table in (("status", self.status), ("channel", self.channel)):
            seen: dict[str, str] = {}
            for kind, words in table.items():
                for w in words:
                    k = str(w).strip().lower()
                    if k in seen and seen[k] != kind:
                        raise KeyProblem(key, f"each word in one list, got {w!r} under "
                                              f"{seen[k]} and {kind}")
                    seen[k] = kind
        return self

    def status_of(self) -> dict[str, str]:
        """Lower-case status word -> open/closed/voided (the mapping's words first)."""
        return _words(STATUS_WORDS, self.status)

    def channel_of(self) -> dict[str, str]:
        """Lower-case channel word -> inspector/public (the mapping's words first)."""
        return _words(CHANNEL_WORDS, self.channel)

    def resolve(self, relative: str) -> Path:
        """A path named in the mapping, relative to the mapping file's folder."""
        base = Path(self.source).parent if self.source else Path(".")
        return (base / relative).resolve()


def _words(builtin: dict[str, tuple[str, ...]], own: dict[str, tuple[str, ...]]
           ) -> dict[str, str]:
    out = {w: kind for kind, words in builtin.items() for w in words}
    out.update({str(w).strip().lower(): kind for kind, words in own.items() for w in words})
    return out


def load_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping file.

    Raises:
        InputError: ``FILE:LINE: key.path: expected ..., got ...``.
    """
    p = Path(path)
    data, lines = read_yaml(p)
    if not isinstance(data, dict):
        raise InputError(str(p), 1, "", f"expected a mapping with a 'columns' section, got "
                                        f"{type(data).__name__}")
    data = {**data, "source": str(p.resolve())}
    return validate(Mapping, data, str(p), lines)


# -- the starting mapping ----------------------------------------------------------------------

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


def slug(name: str) -> str:
    """A scenario key for a city's unit name: lower case, runs of other characters -> ``-``
    (letters of any script are kept, so 城管执法局 stays as it is)."""
    s = re.sub(r"[^\w]+", "-", name.strip().lower(), flags=re.UNICODE).strip("-_")
    return s or "unnamed"
