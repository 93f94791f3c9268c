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
mapping's own lists, against the built-in synonyms `STATUS_WORDS` and `CHANNEL_WORDS`; a
channel word none of them names whole is placed by the longest built-in word it contains
("12345热线" -> public, "网格员上报" -> inspector, "Employee Generated" -> inspector).
`sim.ingest.mappingtemplate.template` writes a starting mapping from a raw file's header and
first rows.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.data.holidaysource import check_source, iana_zone
from sim.data.yamlfile import KeyProblem, read_yaml, validate
from sim.errors import InputError

__all__ = ["Mapping", "Columns", "GridRule", "load_mapping", "STATUS_WORDS", "CHANNEL_WORDS",
           "slug"]

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
                  "city worker", "staff", "employee generated", "city worker app",
                  "监督员", "网格员", "巡查", "巡查上报", "监督员上报"),
    "public": ("public", "citizen", "hotline", "12345", "311", "phone", "voice in", "call",
               "web", "web self service", "app", "mobile", "open311", "twitter", "email",
               "e-mail in", "mail in", "walk in", "self service", "citizens connect app",
               "constituent call", "online", "市民", "热线", "电话", "网络", "微信", "市民投诉"),
}
"""Channel words every mapping understands (lower case), after its own lists."""

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
        return iana_zone(v)

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
    def _holidays(self) -> Mapping:
        if self.holiday_country:
            problem = check_source(self.holiday_country, self.holiday_subdivision)
            if problem:
                raise KeyProblem(*problem)
        return self

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


def slug(name: str) -> str:
    """A scenario key for a city's unit name: lower case, runs of other characters -> ``-``
    (letters of any script are kept, so 城管执法局 stays as it is)."""
    s = re.sub(r"[^\w]+", "-", name.strip().lower(), flags=re.UNICODE).strip("-_")
    return s or "unnamed"
