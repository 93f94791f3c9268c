"""A run folder, or any event log in the documented schema, ready to evaluate.

``events.parquet`` carries names, not codes: its department, grid and subclass columns are
dictionary columns whose dictionaries list every department, grid and subclass of the city
that wrote it, in index order. So the log alone says which units exist: departments by name,
subdistricts and communities from the 15-digit grid codes, inspector beats from the beat
numbers on inspector rows in each grid, centre staff from the highest actor number seen. A
scenario, when given, adds area names, staff who did nothing, handbook urgency and the start
date. Nothing here needs the simulator, so a real city's export evaluates the same way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.data.limits import ceiling_of, check_date
from sim.engine.eventlog import ActorKind
from sim.errors import GridLoopError, InputError
from sim.i18n import _
from sim.outputs.files import read_events
from sim.outputs.runfolder import read_run_summary
from sim.rules.counts import UnitRoster

__all__ = ["RunLog", "read_run_log", "read_summary", "log_names", "infer_beats"]


@dataclass(frozen=True)
class RunLog:
    """An event log with everything its evaluation needs.

    Attributes:
        events: `EVENT_DTYPE` rows.
        roster: the units (`UnitRoster`).
        horizon: when the evaluation is taken, minutes (the run's days, else the last row).
        start_date: the day time 0 falls on, if known (calendar months and weeks).
        calls: the hotline calls table, if the folder has a usable ``calls.parquet``.
        folder: the run folder (or the folder of the events file).
        notes: what was inferred or skipped, for the person at the keyboard.
    """

    events: np.ndarray
    roster: UnitRoster
    horizon: float
    start_date: dt.date | None
    calls: pd.DataFrame | None
    folder: Path
    notes: list[str] = field(default_factory=list)


def _names(column: pa.ChunkedArray) -> list[str]:
    """The names a column can hold: its dictionary (all of the city's, in index order), or
    the sorted distinct values of a plain string column."""
    if pa.types.is_dictionary(column.type):
        chunks = column.unify_dictionaries().chunks if column.num_chunks else []
        if chunks:
            return [str(v) for v in chunks[0].dictionary.to_pylist()]
        return []
    values = {v for v in column.to_pylist() if v is not None}
    return sorted(str(v) for v in values)


def log_names(path: str | Path) -> tuple[list[str], list[str], list[str]]:
    """(department names, grid codes, subclass codes) of an ``events.parquet``.

    Raises:
        InputError: the file cannot be read or lacks one of those columns.
    """
    p = Path(path)
    try:
        table = pq.read_table(p, columns=["department", "grid", "subclass"])
    except (OSError, pa.ArrowInvalid, KeyError) as e:
        raise InputError(str(p), None, "", f"expected an event log in the schema of "
                         f"docs/event-log.md (columns department, grid, subclass...), got: "
                         f"{e}") from None
    return (_names(table.column("department")), _names(table.column("grid")),
            _names(table.column("subclass")))


def infer_beats(events: np.ndarray, n_grids: int) -> tuple[np.ndarray, int]:
    """Per grid, the beat whose inspectors wrote most rows there (-1: none); and n_beats.

    Verify and check rows name the beat of the case's grid and inspectors report in their own
    beat, so on a simulated log this recovers the beat map exactly for every grid an inspector
    ever touched.
    """
    mine = (events["actor_kind"] == ActorKind.INSPECTOR) & (events["actor"] >= 0) \
        & (events["grid"] >= 0) & (events["grid"] < n_grids)
    beat = events["actor"][mine].astype(np.int64)
    n_beats = int(beat.max()) + 1 if beat.size else 0
    out = np.full(n_grids, -1, dtype=np.int64)
    if n_beats:
        grid = events["grid"][mine].astype(np.int64)
        pairs = np.unique(grid * n_beats + beat, return_counts=True)
        g, b, c = pairs[0] // n_beats, pairs[0] % n_beats, pairs[1]
        order = np.lexsort((-c, g))                 # per grid, the busiest beat first
        first = np.ones(order.size, dtype=bool)
        first[1:] = g[order][1:] != g[order][:-1]
        out[g[order][first]] = b[order][first]
    return out, n_beats


def _staff(events: np.ndarray, kind: ActorKind) -> int:
    actor = events["actor"][(events["actor_kind"] == kind) & (events["actor"] >= 0)]
    return int(actor.max()) + 1 if actor.size else 0


def read_summary(folder: Path) -> dict:
    """A run folder's ``summary.json`` as a dict ({} when there is none), after checking that
    every file it lists is there and matches its digest (`read_run_summary`).

    Raises:
        InputError: an unreadable summary, or a folder whose files do not match it.
    """
    return read_run_summary(folder)


_CALL_COLUMNS = ("unit", "responded", "resolved", "satisfied", "closed")


def _calls(folder: Path, notes: list[str]) -> pd.DataFrame | None:
    path = folder / "calls.parquet"
    if not path.exists():
        return None
    calls = pd.read_parquet(path)
    missing = [c for c in _CALL_COLUMNS if c not in calls.columns]
    if missing:
        notes.append(f"{path.name} lacks {', '.join(missing)}: hotline counts are 0")
        return None
    notes.append(f"hotline counts from {path.name} ({len(calls):,} contacts)")
    return calls


# A log spanning more than the longest run (`sim.data.limits`) would be cut into thousands
# of empty months: refused, with where its times lie.
_MOST_MINUTES = float(ceiling_of("days").most) * 1440.0  # type: ignore[union-attr]


def _check_span(path: Path, events: np.ndarray, summary: dict) -> None:
    days = summary.get("days")
    if isinstance(days, int | float) and not isinstance(days, bool) and not (
            0 < days <= _MOST_MINUTES / 1440.0):
        raise InputError(str(path.parent / "summary.json"), None, "days", f"expected 1 to "
                         f"{_MOST_MINUTES / 1440.0:,.0f} days, got {days!r}")
    if not len(events):
        return
    time = events["time"]
    first, last = float(time.min()), float(time.max())
    if not (np.isfinite(first) and np.isfinite(last)) or last - first > _MOST_MINUTES:
        raise InputError(str(path), None, "time", f"expected event times spanning at most "
                         f"{_MOST_MINUTES / 1440.0:,.0f} days (the longest run), got "
                         f"{(last - first) / 1440.0:,.0f} days from minute {first:,.0f} to "
                         f"{last:,.0f}; split the log, or check its dates")


def read_run_log(path: str | Path, *, scenario: str | Path | None = None,
                 start_date: dt.date | None = None) -> RunLog:
    """Read a run folder (or an ``events.parquet``) for evaluation.

    Args:
        path: a folder holding ``events.parquet`` (and optionally ``summary.json``,
            ``calls.parquet``), or the events file itself.
        scenario: a scenario file or bundled name whose city names the areas, whose handbook
            says which subclasses are urgent and whose centre sizes count idle staff.
        start_date: the day time 0 falls on; default: ``summary.json``'s ``start_date``, else
            the scenario's, else unknown (30-day months, 7-day weeks).

    Raises:
        InputError: no events file, or one not in the documented schema.
    """
    p = Path(path)
    events_path = p / "events.parquet" if p.is_dir() else p
    folder = events_path.parent
    if not events_path.exists():
        raise InputError(str(events_path), None, "", _(
            "no such file; expected a run folder written by `gridloop run` or an "
            "events.parquet (docs/event-log.md)"))
    departments, grids, subclasses = log_names(events_path)
    try:
        events = read_events(events_path, departments=departments, grid_codes=grids,
                             subclass_codes=subclasses)
    except KeyError as e:
        raise InputError(str(events_path), None, "", f"expected the columns of "
                         f"docs/event-log.md, got no {e.args[0]!r} column") from None
    summary = read_summary(folder)
    notes: list[str] = []
    last = float(events["time"].max()) if len(events) else 0.0
    _check_span(events_path, events, summary)
    days = summary.get("days")
    horizon = float(days) * 1440.0 if isinstance(days, int | float) else last
    if not isinstance(days, int | float):
        notes.append("no summary.json days: the evaluation is taken at the last row's time")
    given = "--start-date" if start_date is not None else str(folder / "summary.json")
    if start_date is None and isinstance(summary.get("start_date"), str):
        try:
            start_date = dt.date.fromisoformat(summary["start_date"])
        except ValueError:
            raise InputError(str(folder / "summary.json"), None, "start_date", "expected a "
                             f"date YYYY-MM-DD, got {summary['start_date'][:40]!r}") from None
    if start_date is not None and (why := check_date(start_date, "a start date")):
        raise InputError(given, None, "start_date", why)

    if scenario is None and isinstance(summary.get("scenario_file"), str) \
            and Path(summary["scenario_file"]).exists():
        scenario = summary["scenario_file"]
        notes.append(f"scenario from summary.json: {scenario}")
    grid_to_beat, n_beats = infer_beats(events, len(grids))
    staff = {k: _staff(events, k) for k in (ActorKind.ACCEPTOR, ActorKind.SHIFT_LEADER,
                                            ActorKind.DISPATCHER)}
    if scenario is None:
        roster = UnitRoster.from_grid_codes(
            departments, grids, grid_to_beat=grid_to_beat, n_beats=n_beats,
            n_acceptors=staff[ActorKind.ACCEPTOR], n_shift_leaders=staff[ActorKind.SHIFT_LEADER],
            n_dispatchers=staff[ActorKind.DISPATCHER])
        notes.append("areas from grid codes (subdistrict = digits 7-9); pass a scenario for "
                     "their names and handbook urgency")
    else:
        roster, scenario_start = _from_scenario(scenario, departments, grids, subclasses,
                                                grid_to_beat, n_beats, staff)
        start_date = start_date or scenario_start
    return RunLog(events, roster, horizon, start_date, _calls(folder, notes), folder, notes)


def _from_scenario(name: str | Path, departments: list[str], grids: list[str],
                   subclasses: list[str], grid_to_beat: np.ndarray, n_beats: int,
                   staff: dict[ActorKind, int]) -> tuple[UnitRoster, dt.date]:
    from sim.data.citymap import load_city, make_beats
    from sim.data.scenario import load_scenario
    from sim.data.taxonomy import load_handbook

    sc = load_scenario(name)
    city = load_city(sc.resolve(sc.city.grids_file), sc.city.district_code)
    if list(city.codes) != grids:
        raise GridLoopError(f"evaluate: the scenario {sc.name!r} has another city "
                            f"({city.n_grids} grids) than the log ({len(grids)} grids); pass "
                            f"the scenario that wrote the log, or none")
    per_shift = sc.inspectors.count // sc.inspectors.shifts
    if per_shift >= max(n_beats, 1):
        # The scenario's own beat map, if the log agrees with it wherever inspectors wrote.
        planned = np.full(city.n_grids, -1, dtype=np.int64)
        for b, members in enumerate(make_beats(city, per_shift)):
            planned[members] = b
        seen = grid_to_beat >= 0
        if np.array_equal(planned[seen], grid_to_beat[seen]):
            grid_to_beat, n_beats = planned, per_shift
    handbook = load_handbook(sc.resolve(sc.handbook.file))
    urgency = {s.code: s.urgency == "urgent" for s in handbook.subclasses}
    urgent = np.array([urgency.get(code, False) for code in subclasses], dtype=bool)
    roster = UnitRoster.from_city(
        city, departments, grid_to_beat=grid_to_beat, n_beats=n_beats,
        n_acceptors=max(staff[ActorKind.ACCEPTOR], sc.centre.acceptors),
        n_shift_leaders=max(staff[ActorKind.SHIFT_LEADER], sc.centre.shift_leaders),
        n_dispatchers=max(staff[ActorKind.DISPATCHER], sc.centre.dispatchers),
        urgent_subclass=urgent)
    return roster, sc.start_date
