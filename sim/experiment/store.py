"""An experiment folder on disk: its manifest and its task files, and reading them back.

    DIR/manifest.json          what was asked (design points, scenario hashes, overrides,
                               root entropy, replications, days), package versions, git commit
    DIR/tasks/pNNN-rKKKK.parquet   one file per finished task (point NNN, replication KKKK)
    DIR/tasks/damaged/         task files found unreadable, moved aside (their tasks rerun)
    DIR/report.html            written by `gridloop report`

The manifest pins what makes results comparable: rerunning with the same arguments skips
finished tasks; other arguments into the same folder are refused, naming what differs.
Asking for more replications extends an experiment (replication k always has the same seed).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.errors import GridLoopError
from sim.experiment.tasks import TASK_SCHEMA
from sim.i18n import _
from sim.outputs.files import write_json

__all__ = ["MANIFEST", "read_manifest", "write_manifest", "check_same_experiment",
           "finished_tasks", "task_file_problem", "load_table", "load_results",
           "package_versions", "git_commit"]

log = logging.getLogger("sim.experiment")

MANIFEST = "manifest.json"
FORMAT = 1
# Manifest entries that must match for a rerun to continue an experiment.
IDENTITY = ("kind", "design", "factors", "samples", "entropy", "days", "overrides", "points")
_PACKAGES = ("gridloop", "numpy", "scipy", "pandas", "pyarrow", "simpy", "pydantic")


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def git_commit() -> str | None:
    """The commit of the GridLoop checkout the code runs from, when it is a git checkout."""
    root = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and len(commit) == 40 else None


def read_manifest(folder: str | Path) -> dict[str, Any]:
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise GridLoopError(f"{folder}: " + _(
            "not an experiment folder (no {manifest}); run `gridloop sweep` or `gridloop "
            "compare` with --out first").format(manifest=MANIFEST))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise GridLoopError(f"{path}:{e.lineno}: " + _(
            "expected a JSON manifest, got unreadable JSON ({error})").format(
            error=e.msg)) from None
    if data.get("format") != FORMAT:
        raise GridLoopError(f"{path}: format: expected {FORMAT}, got {data.get('format')!r}")
    return data


def write_manifest(folder: str | Path, manifest: dict[str, Any]) -> Path:
    manifest = dict(manifest, format=FORMAT,
                    updated=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    return write_json(Path(folder) / MANIFEST, manifest)


def check_same_experiment(folder: str | Path, old: dict[str, Any], new: dict[str, Any]) -> None:
    """Refuse to mix two experiments in one folder, naming the first entry that differs."""
    for key in IDENTITY:
        a, b = old.get(key), new.get(key)
        if json.dumps(a, sort_keys=True) != json.dumps(b, sort_keys=True):
            detail = ""
            if key == "points" and isinstance(a, list) and isinstance(b, list):
                if len(a) != len(b):
                    detail = f" ({len(a)} design points before, {len(b)} now)"
                else:
                    for pa_, pb in zip(a, b, strict=True):
                        if pa_ != pb:
                            what = "scenario content" if pa_.get("digest") != pb.get("digest") \
                                and pa_.get("settings") == pb.get("settings") else "settings"
                            detail = f" (point {pa_.get('label')!r}: {what} changed)"
                            break
            elif key == "entropy":
                detail = " (the root seed; pass the manifest's --seed or leave it out)"
            else:
                detail = f" ({json.dumps(a)} before, {json.dumps(b)} now)"
            raise GridLoopError(
                f"{Path(folder) / MANIFEST}: {key}: expected the same experiment as the one "
                f"already in this folder, got different arguments{detail}; use another --out "
                "or delete the folder")


def remove_partial_writes(folder: str | Path) -> int:
    """Delete task files left half-written by a killed worker (the temporary names
    ``.pNNN-rKKKK.parquet.*`` of `sim.outputs.files.atomic_write`); finished files are untouched.
    Call when no task of the experiment is running. Returns how many were removed."""
    tasks = Path(folder) / "tasks"
    if not tasks.is_dir():
        return 0
    stale = list(tasks.glob(".p*-r*.parquet.*"))
    for p in stale:
        p.unlink(missing_ok=True)
    return len(stale)


def task_file_problem(path: Path) -> str | None:
    """Why a task file cannot be used (None: it reads whole, in the task layout). Files are
    written whole and renamed, so this finds damage done after: a disk error, a copy cut
    short, an edit."""
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as e:
        return f"unreadable Parquet ({str(e).splitlines()[0][:120]})"
    missing = [n for n in TASK_SCHEMA.names if n not in table.column_names]
    if missing:
        return f"not a task table (no {', '.join(missing)} column)"
    return None


def finished_tasks(folder: str | Path) -> set[str]:
    """Names (``pNNN-rKKKK``) of the tasks whose file is in place and reads whole.

    A damaged task file is reported by name (a warning on the ``sim.experiment`` logger),
    moved aside to ``tasks/damaged/`` and left out, so the task is run again."""
    tasks = Path(folder) / "tasks"
    if not tasks.is_dir():
        return set()
    done = set()
    for p in sorted(tasks.glob("p*-r*.parquet")):
        problem = task_file_problem(p)
        if problem is None:
            done.add(p.stem)
            continue
        aside = tasks / "damaged" / p.name
        aside.parent.mkdir(exist_ok=True)
        os.replace(p, aside)
        log.warning("task file %s is damaged: %s; moved to %s, the task runs again", p,
                    problem, aside)
    return done


def load_table(folder: str | Path, table: str = "kpi") -> pd.DataFrame:
    """Rows of one table of every finished task: ``kpi``, ``daily``, ``grid``, ``league``
    or ``run`` (columns point, label, rep, seed, name, key, day, value; docs/experiments.md)."""
    import pyarrow.dataset as ds

    files = sorted((Path(folder) / "tasks").glob("p*-r*.parquet"))
    if not files:
        raise GridLoopError(f"{folder}: no finished tasks in {Path(folder) / 'tasks'}")
    try:
        data = ds.dataset([str(f) for f in files], format="parquet")
        frame = data.to_table(filter=ds.field("table") == table).to_pandas()
    except (OSError, pa.ArrowException):
        for f in files:                      # which one: say it, and how to redo it
            if (problem := task_file_problem(f)) is not None:
                raise GridLoopError(f"{f}: expected a task file, got {problem}; run the "
                                    "experiment again with the same arguments to redo "
                                    "it") from None
        raise
    frame = frame.drop(columns="table").sort_values(["point", "rep", "name", "key", "day"],
                                                    na_position="first", kind="stable")
    return frame.reset_index(drop=True)


def load_results(folder: str | Path) -> pd.DataFrame:
    """The tidy KPI table: one row per design point x replication x KPI.

    Columns: point (index), label, scenario (as given), rep, seed, kpi, value, then one
    column per varied key of a sweep (its value at the point).
    """
    manifest = read_manifest(folder)
    frame = load_table(folder, "kpi").drop(columns=["key", "day"]).rename(columns={"name": "kpi"})
    points = manifest["points"]
    frame.insert(2, "scenario", frame["point"].map({p["point"]: p["scenario"] for p in points}))
    for factor in manifest.get("factors") or []:
        key = factor["key"]
        frame[key] = frame["point"].map({p["point"]: p["factors"].get(key) for p in points})
    return frame.reset_index(drop=True)
