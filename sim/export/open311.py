"""A run's cases as an Open311 GeoReport v2-style CSV: the case log a city's platform keeps.

One row per case, in case order (on-the-spot fixes only when asked: a platform counts them
apart from its cases, docs/domain.md §2), with the service request fields of GeoReport v2
(`OPEN311_FIELDS`) filled where the simulation knows them and left empty otherwise, then
GridLoop's case-log columns (`CASELOG_FIELDS`): the grid code, the channel and the
lifecycle date-times, which `gridloop calibrate` and `gridloop validate-against` read back.

``status`` is ``open`` or ``closed`` as in GeoReport v2, plus ``voided`` for reports the
platform voided (作废), duplicates merged into another case included: they never became
work, so a reader must not count them as closed cases (their ``closed_datetime`` is empty;
``updated_datetime`` is when they were voided). ``status_notes`` says how each case ended.
Date-times carry the city's UTC offset.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from sim.export.source import RunSource
from sim.outputs.csvcells import safe_frame
from sim.outputs.files import atomic_write

__all__ = ["OPEN311_FIELDS", "CASELOG_FIELDS", "open311_table", "write_open311"]

OPEN311_FIELDS: tuple[str, ...] = (
    "service_request_id", "status", "status_notes", "service_name", "service_code",
    "description", "agency_responsible", "service_notice", "requested_datetime",
    "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat", "long",
    "media_url")
"""The service request fields of Open311 GeoReport v2 (GET requests), in the spec's order."""

CASELOG_FIELDS: tuple[str, ...] = (
    "grid_code", "channel", "closed_datetime", "filed_datetime", "dispatched_datetime",
    "handled_datetime", "checked_datetime")
"""GridLoop's case-log columns after the Open311 ones (the lifecycle: first occurrence)."""

_CHANNEL = {1: "inspector", 2: "public"}
_NOTES = {
    "closed": "closed after an independent check",
    "voided": "voided: not a case (false report or nothing found on verification)",
    "merged": "voided: a duplicate of a case already open in the grid for the same subclass",
    "self_handled": "fixed on the spot by the inspector who found it (self-handled)",
    "open": "still open when the run ended",
}


def open311_table(run: RunSource, *, self_handled: bool = False) -> pd.DataFrame:
    """The case log as a table of text columns, `OPEN311_FIELDS` + `CASELOG_FIELDS`;
    with ``self_handled``, the inspectors' on-the-spot fixes too (closed, no department)."""
    c = run.cases.sort_values("case", kind="stable")
    if not self_handled:
        c = c[c["state"].astype(str) != "self_handled"]
    c = c.reset_index(drop=True)
    state = c["state"].astype(str).to_numpy()
    status = np.where(np.isin(state, ["voided", "merged"]), "voided",
                      np.where(state == "open", "open", "closed"))
    notes = np.array([_NOTES.get(s, s) for s in state], dtype=object)
    closed_on_time = c["closed_on_time"].astype("boolean")
    checked = c["t_check"].notna().to_numpy()
    how = np.where(checked, " after an independent check", " on the department's word")
    notes = np.where((state == "closed") & closed_on_time.fillna(False).to_numpy(bool),
                     "closed on time" + how, notes)
    notes = np.where((state == "closed") & (~closed_on_time).fillna(False).to_numpy(bool),
                     "closed overdue" + how, notes)
    reworks = c["n_reworks"].to_numpy()
    notes = np.where(reworks > 0, notes + np.char.mod("; reworked %d time(s)", reworks), notes)
    codes = c["subclass_code"].astype(str).to_numpy()
    grids = c["grid_code"].astype(str).to_numpy()
    channel = np.array([_CHANNEL.get(int(k), "") for k in c["channel"]], dtype=object)
    service = np.array([run.subclass_names.get(k, "") for k in codes], dtype=object)
    department = c["final_department_name"].fillna("").astype(str).to_numpy()
    department = np.where(department == "", c["first_department_name"].fillna("").astype(str)
                          .to_numpy(), department)
    ended = np.where(state == "self_handled", c["t_self_handle"].to_numpy(np.float64),
                     c["t_close"].to_numpy(np.float64))
    last = run.events.groupby("case", sort=True)["time_min"].max()
    updated = last.reindex(c["case"]).to_numpy(np.float64)
    handled = c["t_handle"].to_numpy(np.float64)
    handled = np.where(state == "self_handled", c["t_self_handle"].to_numpy(np.float64), handled)
    place = [run.grid_places.get(g, ("", np.nan, np.nan)) for g in grids]
    lat = np.array([p[1] for p in place])
    lon = np.array([p[2] for p in place])
    described = np.where(channel == "inspector", "Found by an inspector on patrol",
                         "Reported by the public")
    notice = np.array([f"handling limit {run.time_limits[k]}" if k in run.time_limits else ""
                       for k in codes], dtype=object)
    return pd.DataFrame({
        "service_request_id": c["case"].astype(str).to_numpy(),
        "status": status,
        "status_notes": notes,
        "service_name": service,
        "service_code": codes,
        "description": np.where(service != "", described + ": " + service, described),
        "agency_responsible": department,
        "service_notice": np.where(department != "", notice, ""),
        "requested_datetime": run.times(c["t_report"]),
        "updated_datetime": run.times(updated),
        "expected_datetime": run.times(c["handle_deadline"]),
        "address": [p[0] for p in place],
        "address_id": grids,
        "zipcode": "",
        "lat": [f"{x:.7f}" if np.isfinite(x) else "" for x in lat],
        "long": [f"{x:.7f}" if np.isfinite(x) else "" for x in lon],
        "media_url": "",
        "grid_code": grids,
        "channel": channel,
        "closed_datetime": run.times(ended),
        "filed_datetime": run.times(c["t_file"]),
        "dispatched_datetime": run.times(c["t_dispatch"]),
        "handled_datetime": run.times(handled),
        "checked_datetime": run.times(c["t_check"]),
    }, columns=[*OPEN311_FIELDS, *CASELOG_FIELDS])


def write_open311(run: RunSource, path: str | Path, *, self_handled: bool = False) -> Path:
    """Write the case log CSV (UTF-8, header first); returns the path."""
    table = open311_table(run, self_handled=self_handled)

    def write(tmp: Path) -> None:
        safe_frame(table).to_csv(tmp, index=False, encoding="utf-8",
                                 quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    return atomic_write(Path(path), write)
