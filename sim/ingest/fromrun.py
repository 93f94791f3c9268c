"""A simulated run written as a case log in the import format (`sim.ingest.caselog`).

This is how the project makes example logs whose truth is known: simulate, write the cases
as a city's platform would export them, then import, calibrate and validate against them.
Filed cases (closed, open or voided) become rows; merged duplicates and on-the-spot fixes
are not cases a platform exports and are left out. Times are the first occurrence of each
step, as local wall-clock times from the run's start date.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from sim.errors import InputError
from sim.ingest.caselog import CASELOG_COLUMNS
from sim.outputs.csvcells import safe_frame
from sim.outputs.files import atomic_write
from sim.outputs.runfolder import read_run_summary

__all__ = ["run_caselog", "write_caselog"]

_STEP_COLUMNS = {"requested_datetime": "t_report", "filed_datetime": "t_file",
                 "dispatched_datetime": "t_dispatch", "handled_datetime": "t_handle",
                 "checked_datetime": "t_check", "closed_datetime": "t_close"}


def run_caselog(run_dir: str | Path, *, id_prefix: str = "SIM") -> pd.DataFrame:
    """The cases of a run folder (``cases.parquet`` + ``summary.json``) as a case log."""
    folder = Path(run_dir)
    summary = read_run_summary(folder)  # refuses files that do not match the summary's list
    try:
        if not summary:
            raise OSError("no summary.json")
        cases = pd.read_parquet(folder / "cases.parquet").sort_values("case", kind="stable")
    except (OSError, ValueError) as e:
        raise InputError(str(folder), None, "", f"expected a run folder written by `gridloop "
                         f"run` (cases.parquet, summary.json), got: {e}") from None
    origin = pd.Timestamp(dt.date.fromisoformat(summary["start_date"]))
    cases = cases[cases["state"].isin(["closed", "open", "voided"])]
    out = pd.DataFrame({"service_request_id": [f"{id_prefix}-{c:07d}" for c in cases["case"]],
                        "service_code": cases["subclass_code"].to_numpy()})

    def stamp(minutes: pd.Series) -> pd.Series:
        t = origin + pd.to_timedelta(minutes.to_numpy(), unit="min")
        return pd.Series(t.floor("s").strftime("%Y-%m-%dT%H:%M:%S"), index=minutes.index
                         ).where(minutes.notna().to_numpy(), "")

    for col, src in _STEP_COLUMNS.items():
        out[col] = stamp(cases[src]).to_numpy()
    last = cases[list(_STEP_COLUMNS.values())].max(axis=1)
    out["updated_datetime"] = stamp(last).to_numpy()
    out["status"] = cases["state"].astype(str).to_numpy()
    out["agency_responsible"] = cases["final_department_name"].fillna("").to_numpy()
    out["lat"] = ""
    out["long"] = ""
    out["grid_code"] = cases["grid_code"].to_numpy()
    out["channel"] = cases["channel"].map({1: "inspector", 2: "public"}).fillna("").to_numpy()
    voided = out["status"] == "voided"
    out.loc[voided, ["dispatched_datetime", "handled_datetime", "checked_datetime"]] = ""
    return out[list(CASELOG_COLUMNS)]


def write_caselog(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a case log CSV atomically."""
    return atomic_write(Path(path), lambda p: safe_frame(frame).to_csv(p, index=False))
