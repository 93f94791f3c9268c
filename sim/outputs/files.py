"""Writing a run to disk, and reading it back, in formats other tools read.

A run folder holds ``events.parquet`` (the event log with names, not codes),
``cases.parquet`` (one row a case), ``problems.parquet`` (ground truth), ``summary.json`` and
``overview.png``/``.svg``. Every file is written under a temporary name and renamed into
place, so a crash leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.engine.eventlog import EVENT_DTYPE, ActorKind, Outcome, Step
from sim.errors import InputError

__all__ = ["atomic_write", "events_frame", "write_events", "read_events", "write_json",
           "write_frame"]


def _file_mode() -> int:
    """The mode a plain ``open(path, "w")`` would give: 0o666 less the umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: Path, write: Callable[[Path], Any]) -> Path:
    """Call ``write(tmp)`` then rename ``tmp`` to ``path`` (same folder, atomic on POSIX).

    The file gets the usual permissions (mkstemp's private 0600 would hide results from
    colleagues and from services reading a shared folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _names(enum: type, codes: np.ndarray) -> pa.DictionaryArray:
    labels = {int(e): e.name.lower() for e in enum}
    cats = sorted(labels)
    lookup = np.full(max(cats) + 1, -1, dtype=np.int32)
    lookup[cats] = np.arange(len(cats))
    return pa.DictionaryArray.from_arrays(pa.array(lookup[codes.astype(np.int64)]),
                                          pa.array([labels[c] for c in cats]))


def _lookup(codes: np.ndarray, names: Sequence[str]) -> pa.DictionaryArray:
    idx = codes.astype(np.int32)
    return pa.DictionaryArray.from_arrays(
        pa.array(np.where(idx < 0, 0, idx), mask=idx < 0), pa.array(list(names)))


def events_frame(events: np.ndarray, *, departments: Sequence[str], grid_codes: Sequence[str],
                 subclass_codes: Sequence[str]) -> pa.Table:
    """The event log as an Arrow table with readable names (schema in docs/event-log.md)."""
    return pa.table({
        "case": events["case"], "problem": events["problem"], "time_min": events["time"],
        "step": _names(Step, events["step"]), "actor_kind": _names(ActorKind, events["actor_kind"]),
        "actor": events["actor"], "department": _lookup(events["department"], departments),
        "deadline_min": pa.array(events["deadline"], from_pandas=True),  # NaN -> null
        "outcome": _names(Outcome, events["outcome"]),
        "grid": _lookup(events["grid"], grid_codes),
        "subclass": _lookup(events["subclass"], subclass_codes),
    })


def write_events(path: Path, table: pa.Table) -> Path:
    return atomic_write(path, lambda p: pq.write_table(table, p, compression="zstd"))


def write_frame(path: Path, frame: pd.DataFrame) -> Path:
    return atomic_write(path, lambda p: frame.to_parquet(p, index=False, compression="zstd"))


def write_json(path: Path, data: Any) -> Path:
    def w(p: Path) -> None:
        p.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return atomic_write(path, w)


def read_events(path: str | Path, *, departments: Sequence[str], grid_codes: Sequence[str],
                subclass_codes: Sequence[str]) -> np.ndarray:
    """Read an ``events.parquet`` back into the engine's record array.

    Raises:
        InputError: a step, outcome, department, grid or subclass name that is not known.
    """
    p = Path(path)
    t = pq.read_table(p).to_pandas()
    out = np.zeros(len(t), dtype=EVENT_DTYPE)
    out["case"], out["problem"] = t["case"], t["problem"]
    out["time"], out["actor"] = t["time_min"], t["actor"]
    out["deadline"] = t["deadline_min"].astype(float).fillna(np.nan)

    def codes(column: str, mapping: dict[str, int], missing: int | None = None) -> np.ndarray:
        s = t[column].astype(object)
        vals = s.map(lambda v: missing if v is None or v != v else mapping.get(v, -999))
        bad = vals == -999
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(str(p), None, f"row {i}.{column}",
                             f"expected one of {sorted(mapping)[:12]}..., got {s.iloc[i]!r}")
        return vals.to_numpy(dtype=np.int64)

    out["step"] = codes("step", {e.name.lower(): int(e) for e in Step})
    out["actor_kind"] = codes("actor_kind", {e.name.lower(): int(e) for e in ActorKind})
    out["outcome"] = codes("outcome", {e.name.lower(): int(e) for e in Outcome})
    out["department"] = codes("department", {n: i for i, n in enumerate(departments)}, -1)
    out["grid"] = codes("grid", {n: i for i, n in enumerate(grid_codes)}, -1)
    out["subclass"] = codes("subclass", {n: i for i, n in enumerate(subclass_codes)}, -1)
    return out
