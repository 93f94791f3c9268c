"""Unit grids made from the points of a case log: square cells laid over the city.

A city without a grid map still has where each case was. `grid_from_points` lays square
cells of ``cell_m`` metres over the points (projected around their median, `project_lonlat`)
and keeps the cells that hold at least one case. Each cell becomes a unit grid with a
15-digit code (docs/domain.md §2): the district digits, then a subdistrict (the log's area column
where the cell's cases mostly lie, else a block of ``block`` x ``block`` cells), a community
(a block of 4 x 4 cells inside it) and a sequence number. The grid table carries the cells'
centres, areas and edge neighbours (`sim.data.citymap.GEOMETRY_COLUMNS`), so walking times
come from real distances.

`grid_from_areas` makes one grid per area when the log has no locations at all.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.data.citymap import CSV_COLUMNS, GEOMETRY_COLUMNS
from sim.errors import GridLoopError
from sim.geo.geometry import project_lonlat
from sim.outputs.files import atomic_write

__all__ = ["PointGrid", "modal_value", "grid_from_points", "grid_from_areas", "write_grid_table"]

COMMUNITY_CELLS = 4
"""A community is a block of 4 x 4 cells (1 km square at 250 m cells)."""


@dataclass(frozen=True)
class PointGrid:
    """Each point's grid code and the grid table (one row per grid, in code order)."""

    codes: np.ndarray
    table: pd.DataFrame
    origin: tuple[float, float] | None
    cell_m: float
    notes: tuple[str, ...] = ()

    @property
    def n_grids(self) -> int:
        return len(self.table)


def modal_value(frame: pd.DataFrame, by: list[str], value: str) -> pd.Series:
    """The most common ``value`` of each group (ties: the smallest value), vectorised."""
    counts = frame.groupby([*by, value], sort=True).size().rename("_n").reset_index()
    counts = counts.sort_values([*by, "_n", value], ascending=[*([True] * len(by)), False,
                                                               True], kind="stable")
    return counts.drop_duplicates(by).set_index(by)[value]


def _numbering(keys: pd.Series) -> dict:
    """1-based numbers for distinct keys in sorted order."""
    return {k: i + 1 for i, k in enumerate(sorted(set(keys)))}


def grid_from_points(lat: np.ndarray, lon: np.ndarray, *, cell_m: float = 250.0,
                     area: pd.Series | None = None, district_code: str = "999999",
                     block: int = 16, residents_per_ha: float = 100.0) -> PointGrid:
    """Grids of ``cell_m`` squares holding the points; see the module docstring.

    Args:
        area: per point, the log's district or area name (``""``: unknown); a cell's
            subdistrict is the area most of its points name.
        block: without areas, subdistricts are blocks of ``block`` x ``block`` cells.
        residents_per_ha: residents given to every grid (uniform: a log does not say).

    Raises:
        GridLoopError: more than 999 subdistricts, communities or grids in one community.
    """
    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    lat0, lon0 = float(np.median(lat)), float(np.median(lon))
    x, y = project_lonlat(lon, lat, lon0, lat0)
    col = np.floor(x / cell_m).astype(np.int64)
    row = np.floor(-y / cell_m).astype(np.int64)  # rows counted from the north
    cells = pd.DataFrame({"row": row, "col": col})
    if area is not None and (np.asarray(area) != "").any():
        cells["area"] = np.asarray(area, dtype=object)
        known = cells[cells["area"] != ""]
        modal = modal_value(known, ["row", "col"], "area")
        grid = cells.drop_duplicates(["row", "col"])[["row", "col"]]
        grid = grid.merge(modal.rename("sub").reset_index(), on=["row", "col"], how="left")
        grid["sub"] = grid["sub"].fillna("(no area)").astype(str)
        names = {k: str(k) for k in grid["sub"]}
    else:
        grid = cells.drop_duplicates(["row", "col"])[["row", "col"]].copy()
        grid["sub"] = list(zip(grid["row"] // block, grid["col"] // block, strict=True))
        names = {}
    sub_no = _numbering(grid["sub"].map(_sortable))
    grid["sub_no"] = grid["sub"].map(_sortable).map(sub_no)
    grid["comm"] = list(zip(grid["sub_no"], grid["row"] // COMMUNITY_CELLS,
                            grid["col"] // COMMUNITY_CELLS, strict=True))
    grid = grid.sort_values(["sub_no", "comm", "row", "col"], kind="stable")
    comms = grid[["sub_no", "comm"]].drop_duplicates().sort_values(["sub_no", "comm"])
    comms["comm_no"] = comms.groupby("sub_no").cumcount() + 1
    grid = grid.merge(comms, on=["sub_no", "comm"], how="left", sort=False)
    grid["seq"] = grid.groupby(["sub_no", "comm_no"]).cumcount() + 1
    worst = {"subdistricts": int(grid["sub_no"].max()),
             "communities in a subdistrict": int(grid["comm_no"].max()),
             "grids in a community": int(grid["seq"].max())}
    for what, n in worst.items():
        if n > 999:
            raise GridLoopError(f"grids from points: expected at most 999 {what}, got {n} "
                                f"(make cell_m larger)")
    grid["code"] = [f"{district_code}{s:03d}{c:03d}{q:03d}" for s, c, q in
                    zip(grid["sub_no"], grid["comm_no"], grid["seq"], strict=True)]
    grid["subdistrict"] = [names.get(s, f"Block {n:03d}") if names else f"Block {n:03d}"
                           for s, n in zip(grid["sub"], grid["sub_no"], strict=True)]
    if names:
        grid["subdistrict"] = [f"Area {names[s]}" for s in grid["sub"]]
    grid["community"] = [f"{s} / {c:03d}" for s, c in zip(grid["subdistrict"],
                                                          grid["comm_no"], strict=True)]
    code_of = dict(zip(zip(grid["row"], grid["col"], strict=True), grid["code"], strict=True))
    codes = np.array([code_of[k] for k in zip(row.tolist(), col.tolist(), strict=True)],
                     dtype=object)
    area_m2 = cell_m * cell_m
    grid["x_m"] = (grid["col"] + 0.5) * cell_m
    grid["y_m"] = -(grid["row"] + 0.5) * cell_m
    grid["area_m2"] = area_m2
    neighbours = []
    for r, c in zip(grid["row"], grid["col"], strict=True):
        near = [code_of[k] for k in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1))
                if k in code_of]
        neighbours.append(";".join(sorted(near)))
    grid["neighbours"] = neighbours
    grid["residents"] = round(residents_per_ha * area_m2 / 10_000)
    grid["hotspots"] = ""
    top, left = int(grid["row"].min()), int(grid["col"].min())
    grid["row"] -= top
    grid["col"] -= left
    table = grid.sort_values("code")[[*CSV_COLUMNS, *GEOMETRY_COLUMNS]].reset_index(drop=True)
    notes = (f"{len(table):,} unit grids of {cell_m:g} m x {cell_m:g} m hold the "
             f"{len(lat):,} points, in {int(grid['sub_no'].max())} subdistricts "
             f"({'the log areas' if names else f'blocks of {block} x {block} cells'})",)
    return PointGrid(codes, table, (lon0, lat0), cell_m, notes)


def _sortable(key: object) -> tuple:
    """Area names sort as numbers when they are numbers ("2" before "10")."""
    if isinstance(key, tuple):
        return key
    s = str(key)
    return (0, int(s), s) if s.isdigit() else (1, 0, s)


def grid_from_areas(area: pd.Series, *, district_code: str = "999999",
                    residents: float = 10_000.0) -> PointGrid:
    """One grid per area of the log (``""``: an unknown area, a grid of its own): a city for
    a log without locations. Grids are laid out in a row, so walking times mean little."""
    names = sorted(set(area.astype(str)), key=_sortable)
    code_of = {a: f"{district_code}{i + 1:03d}001001" for i, a in enumerate(names)}
    table = pd.DataFrame({
        "code": [code_of[a] for a in names],
        "subdistrict": [f"Area {a}" if a else "(no area)" for a in names],
        "community": [f"Area {a}" if a else "(no area)" for a in names],
        "row": 0, "col": np.arange(len(names)), "residents": residents, "hotspots": ""})
    codes = area.astype(str).map(code_of).to_numpy(dtype=object)
    return PointGrid(codes, table, None, 0.0,
                     (f"no locations: one grid per area ({len(names)})",))


def write_grid_table(grid: PointGrid, path: str | Path, source: str = "") -> Path:
    """Write the grid table (`sim.data.citymap.load_city` format) and, for cells over points,
    their squares as the shapes file beside it (`sim.geo.shapes`: figures draw them, exports
    give each grid its centre's latitude and longitude)."""
    from sim.geo.shapes import shapes_path, write_shapes

    def write(tmp: Path) -> None:
        grid.table.to_csv(tmp, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL,
                          float_format="%.2f")
    target = atomic_write(Path(path), write)
    if grid.origin is not None and grid.cell_m:
        h = grid.cell_m / 2
        squares = [[[np.array([[x - h, y - h], [x + h, y - h], [x + h, y + h], [x - h, y + h],
                               [x - h, y - h]])]]
                   for x, y in zip(grid.table["x_m"], grid.table["y_m"], strict=True)]
        write_shapes(shapes_path(target), list(grid.table["code"]), squares, source=source,
                     origin_lonlat=grid.origin)
    return target
