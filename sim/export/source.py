"""A run folder read for export: its cases and event rows, with clock times and places.

Times in a run are minutes since ``start_date`` 00:00 local (docs/event-log.md); exports
write them as ISO 8601 date-times with the city's UTC offset (Open311 and OCEL both want one;
Beijing's +08:00 by default). The scenario that wrote the run (``summary.json``'s
``scenario_file``, or one given) names subclasses and areas and, for an imported map with a
shapes file in lon/lat, gives every grid a latitude and longitude.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import GridLoopError, InputError
from sim.i18n import _
from sim.rules.runlog import read_summary

__all__ = ["RunSource", "read_run", "clock_times"]

_OFFSET = re.compile(r"(Z|[+-](0\d|1[0-4]):[0-5]\d)")


@dataclass(frozen=True)
class RunSource:
    """What an export needs from one run.

    ``cases`` is cases.parquet, ``events`` events.parquet (file order), ``problems``
    problems.parquet or None. ``subclass_names`` and ``time_limits`` map subclass codes to
    handbook names and limits (``"4 wh"``) when the scenario is known; ``grid_places`` maps
    a grid code to ``(address, lat, long)`` (lat/long NaN when the map is not geographic).
    """

    folder: Path
    cases: pd.DataFrame
    events: pd.DataFrame
    problems: pd.DataFrame | None
    start: dt.datetime
    utc_offset: str
    days: float | None
    subclass_names: dict[str, str]
    time_limits: dict[str, str]
    grid_places: dict[str, tuple[str, float, float]]
    notes: list[str]

    def times(self, minutes: np.ndarray | pd.Series) -> np.ndarray:
        """ISO 8601 date-times with the offset; ``""`` where the minute is NaN."""
        return clock_times(np.asarray(minutes, dtype=np.float64), self.start, self.utc_offset)


def clock_times(minutes: np.ndarray, start: dt.datetime, utc_offset: str) -> np.ndarray:
    """Minutes since ``start`` as ``YYYY-MM-DDTHH:MM:SS+HH:MM`` text (whole seconds).

    ``utc_offset`` is a fixed offset (``+08:00``, ``Z``) or an IANA zone (``America/New_York``):
    then each time gets the zone's offset at that moment, daylight saving included (a local
    time that a spring-forward skips is moved forward, one a fall-back repeats is read as the
    first)."""
    out = np.full(len(minutes), "", dtype=object)
    ok = np.isfinite(minutes)
    stamps = pd.Timestamp(start) + pd.to_timedelta(np.rint(minutes[ok] * 60.0), unit="s")
    if _OFFSET.fullmatch(utc_offset):
        out[ok] = np.asarray(stamps.strftime("%Y-%m-%dT%H:%M:%S"), dtype=object) + utc_offset
        return out
    zoned = pd.DatetimeIndex(stamps).tz_localize(utc_offset, ambiguous=np.ones(ok.sum(), bool),
                                                 nonexistent="shift_forward")
    text = pd.Series(zoned.strftime("%Y-%m-%dT%H:%M:%S%z"))
    out[ok] = (text.str[:-2] + ":" + text.str[-2:]).to_numpy(dtype=object)
    return out


def read_run(run_dir: str | Path, *, scenario: str | Path | None = None,
             start_date: dt.date | None = None, utc_offset: str | None = None) -> RunSource:
    """Read a run folder written by ``gridloop run`` for export.

    Args:
        scenario: the scenario that wrote the run (default: ``summary.json``'s, if it exists).
        start_date: the day time 0 falls on (default: ``summary.json``'s ``start_date``).
        utc_offset: a fixed offset from UTC, ``+08:00`` or ``Z`` (default: the scenario's
            ``calendar.timezone``, else ``+08:00``).

    Raises:
        InputError: no cases/events files, or no start date.
        GridLoopError: a bad offset, or a scenario whose city is not the run's.
    """
    folder = Path(run_dir)
    if utc_offset is not None and not _OFFSET.fullmatch(utc_offset):
        raise GridLoopError("export: " + _("expected a UTC offset such as +08:00 or Z, got "
                                           "{got}").format(got=repr(utc_offset)))
    for name in ("cases.parquet", "events.parquet"):
        if not (folder / name).exists():
            raise InputError(str(folder / name), None, "", _(
                "no such file; expected a run folder written by `gridloop run` "
                "(docs/event-log.md)"))
    summary = read_summary(folder)
    notes: list[str] = []
    if start_date is None:
        if not isinstance(summary.get("start_date"), str):
            raise InputError(str(folder / "summary.json"), None, "start_date",
                             _("expected the day time 0 falls on; pass --start-date"))
        start_date = dt.date.fromisoformat(summary["start_date"])
    if scenario is None and isinstance(summary.get("scenario_file"), str) \
            and Path(summary["scenario_file"]).exists():
        scenario = summary["scenario_file"]
    cases = pd.read_parquet(folder / "cases.parquet")
    events = pd.read_parquet(folder / "events.parquet")
    problems = pd.read_parquet(folder / "problems.parquet") \
        if (folder / "problems.parquet").exists() else None
    names: dict[str, str] = {}
    limits: dict[str, str] = {}
    places: dict[str, tuple[str, float, float]] = {}
    if scenario is None:
        notes.append(_("no scenario: service names, addresses and lat/long left empty"))
    else:
        names, limits, places = _from_scenario(scenario, set(cases["grid_code"]), notes)
    if utc_offset is None:
        zone = summary.get("timezone") if isinstance(summary.get("timezone"), str) else None
        if scenario is not None:
            from sim.data.scenario import load_scenario
            zone = load_scenario(scenario).calendar.timezone
        utc_offset = zone or "+08:00"
        notes.append(_("times carry the offsets of {zone}").format(zone=zone) if zone else
                     _("no scenario: times carry +08:00 (pass --utc-offset)"))
    days = summary.get("days")
    return RunSource(folder, cases, events, problems,
                     dt.datetime.combine(start_date, dt.time()), utc_offset,
                     float(days) if isinstance(days, int | float) else None,
                     names, limits, places, notes)


def _from_scenario(name: str | Path, grid_codes: set[str], notes: list[str]
                   ) -> tuple[dict[str, str], dict[str, str], dict[str, tuple[str, float, float]]]:
    from sim.data.citymap import load_city
    from sim.data.scenario import load_scenario
    from sim.data.taxonomy import load_handbook
    from sim.geo.geometry import unproject_lonlat
    from sim.geo.shapes import shapes_path

    sc = load_scenario(name)
    handbook = load_handbook(sc.resolve(sc.handbook.file))
    names = {s.code: s.name for s in handbook.subclasses}
    limits = {s.code: f"{s.time_limit.value:g} {s.time_limit.unit}" for s in handbook.subclasses}
    grids_file = sc.resolve(sc.city.grids_file)
    city = load_city(grids_file, sc.city.district_code)
    missing = grid_codes - set(city.codes)
    if missing:
        raise GridLoopError(f"export: the scenario {sc.name!r} has another city than the run "
                            f"(grid {sorted(missing)[0]} is not in {grids_file.name}); pass the "
                            f"scenario that wrote the run, or none")
    lat = lon = np.full(city.n_grids, np.nan)
    origin = _origin(shapes_path(grids_file))
    if city.geometry is not None and origin is not None:
        lon, lat = unproject_lonlat(city.geometry.x_m, city.geometry.y_m, *origin)
        notes.append(_("lat/long: grid centroids of the imported map"))
    else:
        notes.append(_("lat/long left empty: the city has no lon/lat map (generated or "
                       "projected)"))
    places = {code: (f"grid {code}, {city.community_names[city.community[i]]}, "
                     f"{city.subdistrict_names[city.subdistrict[i]]}",
                     float(lat[i]), float(lon[i])) for i, code in enumerate(city.codes)}
    return names, limits, places


def _origin(path: Path) -> tuple[float, float] | None:
    """The lon/lat a shapes file's metres are measured from, if it has one."""
    if not path.exists():
        return None
    try:
        origin = json.loads(path.read_text(encoding="utf-8")).get("origin_lonlat")
    except (OSError, ValueError, AttributeError):
        return None
    return (float(origin[0]), float(origin[1])) if isinstance(origin, list) else None
