"""Writing a run to disk, and reading it back, in formats other tools read.

A run folder holds ``events.parquet`` (the event log with names, not codes),
``cases.parquet`` (one row a case), ``problems.parquet`` (ground truth), ``calls.parquet``
(the hotline's), ``summary.json`` and ``overview.png``/``.svg``. The tables are built in
Arrow straight from the record arrays: names (steps, departments, grid and subclass codes,
fates, units) are dictionary columns, indices into one list of names, so no Python string is
made per row; pandas reads them as categoricals. `TableWriter` appends a table a batch at a
time (one Parquet row group each), so a run's rows need not be held to be written. A run
folder is written whole (`sim.outputs.runfolder`); a single file is written under a
temporary name and renamed into place (`atomic_write`).
"""

from __future__ import annotations

import hashlib
import io
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
           "write_frame", "Names", "TableWriter", "cases_table", "problems_table", "calls_table",
           "FATES"]

FATES = ("open", "fixed", "fixed_on_spot", "vanished")  # `sim.engine.problems.Fate` order


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


def _lookup(codes: np.ndarray, names: Sequence[str] | pa.Array) -> pa.DictionaryArray:
    idx = codes.astype(np.int32)
    none = idx < 0
    return pa.DictionaryArray.from_arrays(
        pa.array(np.where(none, 0, idx), mask=none if none.any() else None),
        names if isinstance(names, pa.Array) else pa.array(list(names), pa.string()))


class Names:
    """The names a run's codes stand for, each list made into an Arrow array once."""

    def __init__(self, departments: Sequence[str], grid_codes: Sequence[str],
                 subclass_codes: Sequence[str]) -> None:
        self.departments = pa.array(list(departments), pa.string())
        self.grid_codes = pa.array([str(c) for c in grid_codes], pa.string())
        self.subclass_codes = pa.array(list(subclass_codes), pa.string())


def events_frame(events: np.ndarray, *, departments: Sequence[str] | pa.Array,
                 grid_codes: Sequence[str] | pa.Array,
                 subclass_codes: Sequence[str] | pa.Array) -> pa.Table:
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


def _column(v: Any) -> Any:
    """A numpy column for Arrow: floats with NaN as null (as pandas writes them)."""
    if isinstance(v, np.ndarray) and v.dtype.kind == "f":
        return pa.array(v, from_pandas=True)
    return v


def _boolean(v: np.ndarray) -> pa.Array:
    """1.0 / 0.0 / NaN as a nullable boolean (pandas: ``boolean``)."""
    missing = np.isnan(v)
    return pa.array(v == 1.0, mask=missing if missing.any() else None)


_CASE_COLUMNS = ("case", "problem", "grid", "subclass", "channel", "first_department",
                 "final_department", "t_report", "t_verify_send", "t_verify", "t_file",
                 "t_void", "t_merge", "t_dispatch", "t_handle_start", "t_handle",
                 "t_check_send", "t_check", "t_close", "t_self_handle", "n_dispatches",
                 "n_returns", "n_reworks", "n_extensions", "suspended", "handle_deadline")


def cases_table(cases: dict[str, np.ndarray], names: Names) -> pa.Table:
    """Cases (`sim.evaluation.CaseRows.cases` columns) as the table of ``cases.parquet``:
    the columns of `sim.evaluation.case_table`, then grid_code, subclass_code,
    first_department_name and final_department_name ("" before any dispatch)."""
    from sim.evaluation.cases import CASE_STATES

    cols: dict[str, Any] = {k: _column(cases[k]) for k in _CASE_COLUMNS}
    cols["handled_on_time"] = _boolean(cases["handled_on_time"])
    cols["closed_on_time"] = _boolean(cases["closed_on_time"])
    cols["state"] = pa.DictionaryArray.from_arrays(pa.array(cases["state"], pa.int8()),
                                                   pa.array(list(CASE_STATES)))
    cols["grid_code"] = _lookup(cases["grid"], names.grid_codes)
    cols["subclass_code"] = _lookup(cases["subclass"], names.subclass_codes)
    with_none = pa.concat_arrays([names.departments, pa.array([""])])  # -1: none yet
    for col in ("first_department", "final_department"):
        idx = cases[col].astype(np.int32)
        cols[f"{col}_name"] = pa.DictionaryArray.from_arrays(
            pa.array(np.where(idx < 0, len(names.departments), idx)), with_none)
    return pa.table(cols)


def problems_table(problems: np.ndarray, names: Names) -> pa.Table:
    """Ground-truth rows (`PROBLEM_DTYPE`) as the table of ``problems.parquet``: its columns
    with ``fate`` named, then grid_code and subclass_code."""
    cols: dict[str, Any] = {k: _column(problems[k]) for k in problems.dtype.names or ()}
    cols["fate"] = pa.DictionaryArray.from_arrays(pa.array(problems["fate"], pa.int8()),
                                                  pa.array(list(FATES)))
    cols["grid_code"] = _lookup(problems["grid"], names.grid_codes)
    cols["subclass_code"] = _lookup(problems["subclass"], names.subclass_codes)
    return pa.table(cols)


def calls_table(calls: dict[str, np.ndarray], unit_names: Sequence[str]) -> pa.Table:
    """Hotline calls (numpy columns, ``unit`` an index into ``unit_names``, -1 none) as the
    table of ``calls.parquet``; ``unit`` is named ("" for none)."""
    cols: dict[str, Any] = {k: _column(np.asarray(v)) for k, v in calls.items()}
    idx = np.asarray(calls["unit"]).astype(np.int32)
    cols["unit"] = pa.DictionaryArray.from_arrays(
        pa.array(np.where(idx < 0, len(unit_names), idx)),
        pa.array([*unit_names, ""], pa.string()))
    return pa.table(cols)


def _pandas_metadata(schema: pa.Schema, nullable: Sequence[str]) -> dict[bytes, bytes]:
    """pandas' schema metadata: the boolean columns ``nullable`` read back as ``boolean``,
    dictionary columns as categoricals, no index."""
    empty: dict[str, Any] = {}
    for field in schema:
        if pa.types.is_dictionary(field.type):
            empty[field.name] = pd.Categorical([])
        elif field.name in nullable:
            empty[field.name] = pd.array([], dtype="boolean")
        else:
            empty[field.name] = pd.Series([], dtype=field.type.to_pandas_dtype())
    meta = pa.Schema.from_pandas(pd.DataFrame(empty), preserve_index=False).metadata
    return {b"pandas": meta[b"pandas"]}


class _Digesting(io.RawIOBase):
    """A file written through: its SHA-256 and size are known when it is closed."""

    def __init__(self, path: Path) -> None:
        self._file = open(path, "wb")  # noqa: SIM115 - closed in close()
        self.sha256 = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self._file.write(data)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        if not self._file.closed:
            self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()
        super().close()


class TableWriter:
    """One Parquet file written a batch at a time (a row group per batch, zstd).

    The schema is the first batch's (later batches are cast to it); boolean columns that may
    hold nulls are named in ``nullable`` so that pandas reads them as ``boolean`` whatever the
    first batch held. `close` writes an empty table of ``empty`` when no batch came. The
    file's SHA-256 is taken as it is written (`digest`), so the run folder's list of files
    needs no second reading.
    """

    def __init__(self, path: Path, empty: Callable[[], pa.Table],
                 nullable: Sequence[str] = ()) -> None:
        self.path = path
        self._empty = empty
        self._nullable = tuple(nullable)
        self._writer: pq.ParquetWriter | None = None
        self._file: _Digesting | None = None
        self.rows = 0
        self.digest: dict[str, Any] | None = None

    def write(self, table: pa.Table) -> None:
        if self._writer is None:
            meta = _pandas_metadata(table.schema, self._nullable)
            self._schema = table.schema.with_metadata(meta)
            # Parquet dictionaries for the name columns only (trying them on ids and times
            # costs a third of the writing and makes the file larger); min/max statistics
            # for the numbers, which readers use to skip row groups.
            fields = list(self._schema)
            names = [f.name for f in fields if pa.types.is_dictionary(f.type)]
            numbers = [f.name for f in fields
                       if pa.types.is_integer(f.type) or pa.types.is_floating(f.type)]
            self._file = _Digesting(self.path)
            self._writer = pq.ParquetWriter(self._file, self._schema, compression="zstd",
                                            use_dictionary=names, write_statistics=numbers)
        elif table.schema != self._schema:
            table = pa.Table.from_arrays(table.columns, schema=self._schema)
        if table.num_rows or self.rows == 0:
            self._writer.write_table(table, row_group_size=max(table.num_rows, 1))
        self.rows += table.num_rows

    def close(self) -> Path:
        if self._writer is None:
            self.write(self._empty())
        assert self._writer is not None and self._file is not None
        self._writer.close()
        self._file.close()
        self.digest = {"bytes": self._file.size, "sha256": self._file.sha256.hexdigest()}
        return self.path


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
