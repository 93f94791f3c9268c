"""The city as unit grids (单元网格) on a raster, and the beats and routes inspectors walk.

A `CityMap` is plain data: per unit grid its 15-digit code, raster cell, subdistrict, community,
residents and hotspot kinds (docs/domain.md §2). `load_city` reads and checks a grid table (CSV),
`make_beats` groups grids into inspector beats (监督网格), and `patrol_order` with
`route_travel_minutes` give the default patrol route and its walking times. Synthetic cities
are made by `sim.data.citygen`; cities imported from a real map (`sim.geo`) also carry a
`GridGeometry` (centroids, areas, neighbours), and walking times then come from it.
"""

from __future__ import annotations

import _csv
import csv
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.data.limits import CSV_BYTES
from sim.data.textfile import read_text
from sim.errors import GridLoopError, InputError, reading
from sim.outputs.csvcells import restore_cell, safe_row

__all__ = [
    "CityMap", "GridGeometry", "HOTSPOT_KINDS", "CSV_COLUMNS", "GEOMETRY_COLUMNS", "load_city",
    "write_city_csv", "make_beats", "patrol_order", "travel_minutes", "route_travel_minutes",
]

HOTSPOT_KINDS: tuple[str, ...] = ("road", "market", "school", "residential", "park")
"""Kinds of place that attract problems; a grid may be several at once, or none."""

CSV_COLUMNS: tuple[str, ...] = (
    "code", "subdistrict", "community", "row", "col", "residents", "hotspots")
"""Header of a grid table, in the order `write_city_csv` writes it (any order loads)."""

GEOMETRY_COLUMNS: tuple[str, ...] = ("x_m", "y_m", "area_m2", "neighbours")
"""Optional columns of a grid table imported from a map, all or none: the centroid in metres
(x east, y north, any origin), the area in m^2 and the ``;``-separated codes of the grids
sharing an edge with this one."""

_CODE = re.compile(r"[0-9]{15}")
_WHOLE = re.compile(r"[0-9]+")
_INT_ARRAYS = ("row", "col", "subdistrict", "community")


def _frozen(values: object, dtype: type) -> np.ndarray:
    a = np.array(values, dtype=dtype)  # always a copy, so the caller's array stays writable
    a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class GridGeometry:
    """Where the grids of an imported map really lie (`sim.geo`), indexed like the city.

    ``x_m``/``y_m`` are centroids in metres (x east, y north, any origin), ``area_m2`` the
    areas, ``neighbours[i]`` the indices of the grids sharing an edge with grid ``i``
    (ascending; symmetric). Arrays are read-only.
    """

    x_m: np.ndarray
    y_m: np.ndarray
    area_m2: np.ndarray
    neighbours: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        for name in ("x_m", "y_m", "area_m2"):
            object.__setattr__(self, name, _frozen(getattr(self, name), np.float64))
        object.__setattr__(self, "neighbours",
                           tuple(tuple(sorted(int(j) for j in n)) for n in self.neighbours))
        n = len(self.x_m)
        for name in ("y_m", "area_m2"):
            if getattr(self, name).shape != (n,):
                raise GridLoopError(f"GridGeometry: expected {name} of length {n}, "
                                    f"got shape {getattr(self, name).shape}")
        if len(self.neighbours) != n:
            raise GridLoopError(f"GridGeometry: expected {n} neighbour lists, "
                                f"got {len(self.neighbours)}")
        for i, near in enumerate(self.neighbours):
            for j in near:
                if not 0 <= j < n or j == i or i not in self.neighbours[j]:
                    raise GridLoopError(f"GridGeometry: expected symmetric neighbour lists of "
                                        f"other grids in [0, {n}), got {j} beside {i}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GridGeometry):
            return NotImplemented
        return self.neighbours == other.neighbours and all(
            np.array_equal(getattr(self, a), getattr(other, a)) for a in ("x_m", "y_m", "area_m2"))

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, eq=False)
class CityMap:
    """The unit grids of one district: where each lies, whose it is, who lives there.

    Grid ``i`` sits in raster cell (``row[i]``, ``col[i]``); row 0 is the northernmost row and
    col 0 the westernmost column, every cell is one grid of the scenario's ``grid_side_m``.
    Its code is 6 district + 3 subdistrict + 3 community + 3 sequence digits, the sequence
    counting west to east, then north to south inside the community. ``subdistrict`` and
    ``community`` index the name/code tuples, which are sorted by code; ``community_codes`` are
    the 9 digits subdistrict + community. Arrays are read-only; equality compares contents.
    ``geometry`` is set for a city imported from a map (its raster cells then only order
    patrols and beats; walking times come from the centroids), None for a generated one.
    """

    district_code: str
    codes: tuple[str, ...]
    row: np.ndarray
    col: np.ndarray
    subdistrict: np.ndarray
    community: np.ndarray
    subdistrict_names: tuple[str, ...]
    subdistrict_codes: tuple[str, ...]
    community_names: tuple[str, ...]
    community_codes: tuple[str, ...]
    residents: np.ndarray
    hotspots: dict[str, np.ndarray]
    geometry: GridGeometry | None = None

    def __post_init__(self) -> None:
        put = object.__setattr__
        n = len(self.codes)
        if self.geometry is not None and len(self.geometry.x_m) != n:
            raise GridLoopError(f"CityMap: expected geometry of {n} grids, "
                                f"got {len(self.geometry.x_m)}")
        for name in _INT_ARRAYS:
            put(self, name, _frozen(getattr(self, name), np.int32))
        put(self, "residents", _frozen(self.residents, np.float64))
        unknown = set(self.hotspots) - set(HOTSPOT_KINDS)
        if unknown:
            raise GridLoopError(f"CityMap: expected hotspot kinds from {', '.join(HOTSPOT_KINDS)},"
                                f" got {', '.join(sorted(unknown))}")
        put(self, "hotspots", {k: _frozen(self.hotspots.get(k, np.zeros(n, bool)), np.bool_)
                               for k in HOTSPOT_KINDS})
        for name in (*_INT_ARRAYS, "residents"):
            if getattr(self, name).shape != (n,):
                raise GridLoopError(f"CityMap: expected {name} of length {n}, "
                                    f"got shape {getattr(self, name).shape}")
        for kind, mask in self.hotspots.items():
            if mask.shape != (n,):
                raise GridLoopError(f"CityMap: expected hotspots[{kind!r}] of length {n}, "
                                    f"got shape {mask.shape}")
        for name, size in (("subdistrict", len(self.subdistrict_codes)),
                           ("community", len(self.community_codes))):
            a = getattr(self, name)
            if n and (a.min() < 0 or a.max() >= size):
                raise GridLoopError(f"CityMap: expected {name} indices in [0, {size}), "
                                    f"got [{a.min()}, {a.max()}]")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CityMap):
            return NotImplemented
        same = (self.district_code == other.district_code and self.codes == other.codes
                and self.subdistrict_names == other.subdistrict_names
                and self.subdistrict_codes == other.subdistrict_codes
                and self.community_names == other.community_names
                and self.community_codes == other.community_codes)
        return same and all(
            np.array_equal(getattr(self, a), getattr(other, a)) for a in (*_INT_ARRAYS, "residents")
        ) and all(np.array_equal(self.hotspots[k], other.hotspots[k]) for k in HOTSPOT_KINDS
                  ) and self.geometry == other.geometry

    __hash__ = None  # type: ignore[assignment]  # equal by content, like the arrays it holds

    @property
    def n_grids(self) -> int:
        return len(self.codes)

    @property
    def n_subdistricts(self) -> int:
        return len(self.subdistrict_codes)

    @property
    def n_communities(self) -> int:
        return len(self.community_codes)

    @property
    def community_subdistrict(self) -> np.ndarray:
        """Index of the subdistrict each community belongs to (from its 9-digit code)."""
        index = {c: i for i, c in enumerate(self.subdistrict_codes)}
        return np.array([index[c[:3]] for c in self.community_codes], dtype=np.int32)

    def raster(self) -> np.ndarray:
        """2-D array (rows x cols) of grid indices; -1 where no grid lies."""
        if not self.n_grids:
            return np.full((0, 0), -1, dtype=np.int64)
        grid = np.full((int(self.row.max()) + 1, int(self.col.max()) + 1), -1, dtype=np.int64)
        grid[self.row, self.col] = np.arange(self.n_grids)
        return grid


# ---------------------------------------------------------------------------------------------
# Grid tables (CSV)


def load_city(path: str | Path, district_code: str) -> CityMap:
    """Read a grid table: header ``code,subdistrict,community,row,col,residents,hotspots``.

    ``subdistrict`` and ``community`` are names, ``hotspots`` a ``;``-separated list of
    `HOTSPOT_KINDS` (may be empty). Grids keep the file's order; subdistricts and communities
    are indexed in code order. A table imported from a map (`sim.geo`) also has the
    `GEOMETRY_COLUMNS`, read into ``CityMap.geometry``.

    Raises:
        InputError: ``FILE:LINE: column: expected ..., got ...`` for the first bad value
            (lines count from the header, line 1).
    """
    if not re.fullmatch(r"[0-9]{6}", district_code):
        raise GridLoopError(f"load_city: expected a 6-digit district code, got {district_code!r}")
    file = str(path)
    text = read_text(path, "a grid table (CSV)", CSV_BYTES)
    with reading(file, "a grid table (CSV)"):
        return _parse(csv.reader(io.StringIO(text, newline="")), file, district_code)


class _Table:
    """Parsing state for one grid table: the columns seen so far and where each was first seen."""

    def __init__(self, file: str, district_code: str) -> None:
        self.file, self.district_code = file, district_code
        self.code_line: dict[str, int] = {}
        self.cell_line: dict[tuple[int, int], tuple[int, str]] = {}
        self.sub_of_name: dict[str, tuple[str, int]] = {}
        self.name_of_sub: dict[str, tuple[str, int]] = {}
        self.comm_of_name: dict[tuple[str, str], tuple[str, int]] = {}
        self.name_of_comm: dict[str, tuple[tuple[str, str], int]] = {}

    def fail(self, line: int, column: str, message: str) -> InputError:
        return InputError(self.file, line, column, message)

    def code(self, text: str, line: int) -> str:
        code = text.strip()
        if not _CODE.fullmatch(code):
            raise self.fail(line, "code", "expected 15 digits (6 district + 3 subdistrict + "
                            f"3 community + 3 sequence), got {text!r}")
        if code[:6] != self.district_code:
            raise self.fail(line, "code", f"expected the district prefix {self.district_code} "
                            f"(the scenario's city.district_code), got {code[:6]} in {code}")
        if code in self.code_line:
            raise self.fail(line, "code", f"expected a unique code, got {code} again "
                            f"(first on line {self.code_line[code]})")
        self.code_line[code] = line
        return code

    def names(self, code: str, sub: str, comm: str, line: int) -> None:
        """Subdistrict digits <-> name, and community digits <-> (subdistrict, name), 1:1."""
        for column, name in (("subdistrict", sub), ("community", comm)):
            if not name:
                raise self.fail(line, column, f"expected a {column} name, got ''")
        digits = code[6:9]
        seen = self.sub_of_name.setdefault(sub, (digits, line))
        if seen[0] != digits:
            raise self.fail(line, "code", f"expected subdistrict digits {seen[0]} for subdistrict "
                            f"{sub!r} (as on line {seen[1]}), got {digits} in {code}")
        other = self.name_of_sub.setdefault(digits, (sub, line))
        if other[0] != sub:
            raise self.fail(line, "subdistrict", f"expected {other[0]!r} for subdistrict digits "
                            f"{digits} (as on line {other[1]}), got {sub!r}")
        digits = code[6:12]
        seen2 = self.comm_of_name.setdefault((sub, comm), (digits, line))
        if seen2[0] != digits:
            raise self.fail(line, "code", f"expected community digits {seen2[0][3:]} for "
                            f"community {comm!r} of {sub!r} (as on line {seen2[1]}), "
                            f"got {digits[3:]} in {code}")
        other2 = self.name_of_comm.setdefault(digits, ((sub, comm), line))
        if other2[0] != (sub, comm):
            raise self.fail(line, "community", f"expected {other2[0][1]!r} for community digits "
                            f"{digits[3:]} of {sub!r} (as on line {other2[1]}), got {comm!r}")

    def cell(self, row: str, col: str, code: str, line: int) -> tuple[int, int]:
        rc = (self.whole(row, "row", line), self.whole(col, "col", line))
        first = self.cell_line.setdefault(rc, (line, code))
        if first[0] != line:
            raise self.fail(line, "row", f"expected one grid per raster cell, got (row {rc[0]}, "
                            f"col {rc[1]}) again (first on line {first[0]}, {first[1]})")
        return rc

    def whole(self, text: str, column: str, line: int) -> int:
        if not _WHOLE.fullmatch(text.strip()):
            raise self.fail(line, column, f"expected a whole number >= 0, got {text!r}")
        return int(text)

    def residents(self, text: str, line: int) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value >= 0):
            raise self.fail(line, "residents", f"expected a number of residents >= 0, got {text!r}")
        return value

    def hotspots(self, text: str, line: int) -> list[str]:
        kinds = [k.strip() for k in text.split(";") if k.strip()]
        for k in kinds:
            if k not in HOTSPOT_KINDS:
                raise self.fail(line, "hotspots", f"expected hotspot kinds from "
                                f"{', '.join(HOTSPOT_KINDS)} separated by ';', got {k!r}")
        return kinds


def _header(reader: _csv.Reader, file: str) -> dict[str, int]:
    first = next(reader, None)
    if not first:
        raise InputError(file, 1, "", f"expected a header {','.join(CSV_COLUMNS)}, got "
                         f"{'an empty file' if first is None else 'an empty line'}")
    names = [h.strip() for h in first]
    for name in names:
        if name not in CSV_COLUMNS + GEOMETRY_COLUMNS:
            raise InputError(file, 1, name, f"expected columns {','.join(CSV_COLUMNS)} (and "
                             f"optionally {','.join(GEOMETRY_COLUMNS)}), got unknown column "
                             f"{name!r}")
        if names.count(name) > 1:
            raise InputError(file, 1, name, "expected each column once, got it twice")
    for name in CSV_COLUMNS:
        if name not in names:
            raise InputError(file, 1, name, f"expected columns {','.join(CSV_COLUMNS)}, "
                             f"got no {name!r} column")
    geometry = [g for g in GEOMETRY_COLUMNS if g in names]
    if geometry and len(geometry) < len(GEOMETRY_COLUMNS):
        missing = next(g for g in GEOMETRY_COLUMNS if g not in names)
        raise InputError(file, 1, missing, f"expected the geometry columns "
                         f"{','.join(GEOMETRY_COLUMNS)} together, got only {','.join(geometry)}")
    return {name: names.index(name) for name in names}


def _geometry(fields: list[str], col: dict[str, int], t: _Table, line: int
              ) -> tuple[float, float, float, list[str]]:
    """The geometry columns of one row: centroid, area and neighbour codes."""
    values = []
    for name in ("x_m", "y_m", "area_m2"):
        text = fields[col[name]]
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or (name == "area_m2" and value <= 0):
            raise t.fail(line, name, f"expected {'an area > 0' if name == 'area_m2' else 'a'} "
                         f"number (metres), got {text!r}")
        values.append(value)
    near = [c.strip() for c in fields[col["neighbours"]].split(";") if c.strip()]
    return values[0], values[1], values[2], near


def _parse(reader: _csv.Reader, file: str, district_code: str) -> CityMap:
    col = _header(reader, file)
    n_columns = len(col)
    has_geometry = "x_m" in col
    t = _Table(file, district_code)
    codes: list[str] = []
    subs: list[str] = []
    comms: list[str] = []
    cells: list[tuple[int, int]] = []
    residents: list[float] = []
    kinds: list[list[str]] = []
    shapes: list[tuple[float, float, float, list[str]]] = []
    for fields in reader:
        line = reader.line_num
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue  # blank line
        if len(fields) != n_columns:
            raise t.fail(line, "", f"expected {n_columns} fields "
                         f"({','.join(sorted(col, key=col.__getitem__))}), got {len(fields)}")
        code = t.code(fields[col["code"]], line)
        sub, comm = (restore_cell(fields[col[k]].strip()) for k in ("subdistrict", "community"))
        t.names(code, sub, comm, line)
        cells.append(t.cell(fields[col["row"]], fields[col["col"]], code, line))
        residents.append(t.residents(fields[col["residents"]], line))
        kinds.append(t.hotspots(fields[col["hotspots"]], line))
        if has_geometry:
            shapes.append(_geometry(fields, col, t, line))
        codes.append(code)
        subs.append(sub)
        comms.append(comm)
    if not codes:
        raise InputError(file, reader.line_num + 1, "", "expected at least one grid, got none")
    sub_codes = sorted(t.name_of_sub)
    comm_codes = sorted(t.name_of_comm)
    sub_index = {t.name_of_sub[c][0]: i for i, c in enumerate(sub_codes)}
    comm_index = {t.name_of_comm[c][0]: i for i, c in enumerate(comm_codes)}
    rc = np.array(cells, dtype=np.int32).reshape(-1, 2)
    return CityMap(
        district_code=district_code,
        codes=tuple(codes),
        row=rc[:, 0], col=rc[:, 1],
        subdistrict=np.array([sub_index[s] for s in subs], dtype=np.int32),
        community=np.array([comm_index[k] for k in zip(subs, comms, strict=True)],
                           dtype=np.int32),
        subdistrict_names=tuple(t.name_of_sub[c][0] for c in sub_codes),
        subdistrict_codes=tuple(sub_codes),
        community_names=tuple(t.name_of_comm[c][0][1] for c in comm_codes),
        community_codes=tuple(comm_codes),
        residents=np.array(residents, dtype=np.float64),
        hotspots={k: np.array([k in g for g in kinds], dtype=bool) for k in HOTSPOT_KINDS},
        geometry=_grid_geometry(shapes, codes, t) if has_geometry else None,
    )


def _grid_geometry(shapes: list[tuple[float, float, float, list[str]]], codes: list[str],
                   t: _Table) -> GridGeometry:
    """Geometry columns to a `GridGeometry`; neighbour codes must be grids of the table and
    name each other."""
    index = {c: i for i, c in enumerate(codes)}
    near: list[tuple[int, ...]] = []
    for i, (_, _, _, names) in enumerate(shapes):
        line = t.code_line[codes[i]]
        for name in names:
            if name not in index or name == codes[i]:
                raise t.fail(line, "neighbours", f"expected codes of other grids in this table "
                             f"separated by ';', got {name!r}")
        near.append(tuple(index[name] for name in names))
    for i, js in enumerate(near):
        for j in js:
            if i not in near[j]:
                raise t.fail(t.code_line[codes[j]], "neighbours", f"expected {codes[i]} among "
                             f"the neighbours of {codes[j]} (line {t.code_line[codes[i]]} "
                             f"names {codes[j]} as its neighbour), got "
                             f"{';'.join(codes[k] for k in near[j]) or 'none'}")
    x, y, area, _ = zip(*shapes, strict=True)
    return GridGeometry(np.array(x), np.array(y), np.array(area), tuple(near))


def _number(x: float) -> str:
    """Shortest text that reads back as exactly ``x`` (whole numbers without ``.0``)."""
    return str(int(x)) if x.is_integer() else repr(x)


def write_city_csv(city: CityMap, path: str | Path) -> Path:
    """Write ``city`` as a grid table that `load_city` reads back equal; returns the path.

    The geometry columns are written when the city has a `GridGeometry`.
    """
    p = Path(path)
    hot = np.column_stack([city.hotspots[k] for k in HOTSPOT_KINDS])
    geo = city.geometry
    with p.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(CSV_COLUMNS + (GEOMETRY_COLUMNS if geo is not None else ()))
        for i in range(city.n_grids):
            row = [city.codes[i], city.subdistrict_names[city.subdistrict[i]],
                   city.community_names[city.community[i]], int(city.row[i]),
                   int(city.col[i]), _number(float(city.residents[i])),
                   ";".join(k for k, on in zip(HOTSPOT_KINDS, hot[i], strict=True) if on)]
            if geo is not None:
                row += [_number(float(geo.x_m[i])), _number(float(geo.y_m[i])),
                        _number(float(geo.area_m2[i])),
                        ";".join(city.codes[j] for j in geo.neighbours[i])]
            w.writerow(safe_row(row))
    return p


# ---------------------------------------------------------------------------------------------
# Beats, patrol routes and walking times


def _serpentine(group: np.ndarray, row: np.ndarray, col: np.ndarray) -> np.ndarray:
    """Order by group, then row (north to south), alternating west->east and east->west.

    Direction alternates over the rows each group actually occupies, so the walk turns back
    at the end of every row it covers and restarts west to east in every group.
    """
    if not len(row):
        return np.zeros(0, dtype=np.intp)
    span = int(row.max()) + 1
    pairs = group.astype(np.int64) * span + row
    uniq, inv = np.unique(pairs, return_inverse=True)
    ugroup = uniq // span
    rank = (np.arange(len(uniq)) - np.searchsorted(ugroup, ugroup))[inv]
    colkey = np.where(rank % 2 == 0, col, -col.astype(np.int64))
    return np.lexsort((colkey, row, group))


def make_beats(city: CityMap, n_beats: int) -> list[np.ndarray]:
    """Split the grids into ``n_beats`` inspector beats (监督网格) of similar size.

    The grids are walked community by community (in code order), serpentine inside each
    community, and the walk is cut into ``n_beats`` runs; a cut moves to a nearby community
    boundary when that keeps every beat within a factor 2 of every other. Each grid is in
    exactly one beat; each beat lists grid indices in walk order. With more beats than grids,
    every grid is a beat of its own.

    Raises:
        GridLoopError: if ``n_beats`` < 1.
    """
    if n_beats < 1:
        raise GridLoopError(f"make_beats: expected at least 1 beat, got {n_beats}")
    walk = _serpentine(city.community, city.row, city.col)
    n = city.n_grids
    if n_beats >= n:
        return [walk[i:i + 1] for i in range(n)]
    ideal = np.rint(np.arange(1, n_beats) * n / n_beats).astype(np.intp)
    starts = np.flatnonzero(np.diff(city.community[walk])) + 1  # where a new community begins
    reach = int(n / n_beats / 6)  # +-1/6 of a beat: sizes stay in [2/3, 4/3] of the mean
    cuts = ideal
    if reach and len(starts):
        j = np.searchsorted(starts, ideal)  # starts[j-1] < ideal <= starts[j]
        lo = starts[np.maximum(j - 1, 0)]
        hi = starts[np.minimum(j, len(starts) - 1)]
        near = np.where(np.abs(lo - ideal) <= np.abs(hi - ideal), lo, hi)
        snapped = np.where(np.abs(near - ideal) <= reach, near, ideal)
        sizes = np.diff(np.concatenate(([0], snapped, [n])))
        if sizes.min() > 0 and sizes.max() <= 2 * sizes.min():
            cuts = snapped
    return np.split(walk, cuts)


def patrol_order(city: CityMap, grids: Sequence[int] | np.ndarray) -> np.ndarray:
    """The default patrol route over ``grids``: boustrophedon by row, north to south.

    Returns the same grid indices reordered (a permutation of the input).
    """
    g = np.asarray(grids, dtype=np.intp).reshape(-1)
    order = _serpentine(np.zeros(len(g), dtype=np.int64), city.row[g], city.col[g])
    return g[order]


def _minutes_per_cell(side_m: float, speed_kmh: float) -> float:
    if not side_m >= 0:
        raise GridLoopError(f"expected a grid side >= 0 metres, got {side_m}")
    if not speed_kmh > 0:
        raise GridLoopError(f"expected a walking speed > 0 km/h, got {speed_kmh}")
    return side_m * 60.0 / (speed_kmh * 1000.0)


def travel_minutes(city: CityMap, a: int, b: int, side_m: float, speed_kmh: float) -> float:
    """Minutes to walk from grid ``a`` to grid ``b``: Manhattan cells x side / speed, or, for a
    city with a `GridGeometry`, the Manhattan distance between the centroids / speed (the
    same on a map of square grids; ``side_m`` is then unused)."""
    return float(route_travel_minutes(city, [a, b], side_m, speed_kmh)[0])


def route_travel_minutes(city: CityMap, route: Sequence[int] | np.ndarray, side_m: float,
                         speed_kmh: float) -> np.ndarray:
    """Minutes of each leg of a closed route: leg ``i`` goes ``route[i]`` -> ``route[i+1]``,
    the last leg back to ``route[0]`` (so a one-grid route has one leg of 0 minutes).
    Distances as in `travel_minutes`."""
    per_cell = _minutes_per_cell(side_m, speed_kmh)
    r = np.asarray(route, dtype=np.intp).reshape(-1)
    nxt = np.roll(r, -1)
    if city.geometry is not None:
        x, y = city.geometry.x_m, city.geometry.y_m
        metres = np.abs(x[r] - x[nxt]) + np.abs(y[r] - y[nxt])
        return metres * _minutes_per_cell(1.0, speed_kmh)
    row, col = city.row.astype(np.int64), city.col.astype(np.int64)
    cells = np.abs(row[r] - row[nxt]) + np.abs(col[r] - col[nxt])
    return cells * per_cell
