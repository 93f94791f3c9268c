"""Bring your own map: unit grids from GeoJSON polygons into a scenario's city.

    geometry   areas, centroids, shared edges, rasters (pure numpy, metres)
    geojson    read and check a GeoJSON map (`read_geojson` -> `GridMap`)
    properties read the features' codes, names, residents and hotspots
    shapes     the shapes file next to a grid table, for figures
    command    ``gridloop import-map`` and the starter scenario it writes

`import_geojson` is the one call most users need: it writes the grid table (with the
optional geometry columns of `sim.data.citymap`) and the shapes file, and returns the table's path.
"""

from __future__ import annotations

from pathlib import Path

from sim.data.citymap import HOTSPOT_KINDS, CityMap, GridGeometry, write_city_csv
from sim.geo.geojson import GridMap, read_geojson
from sim.geo.shapes import city_shapes, read_shapes, shapes_path, write_shapes
from sim.outputs.files import atomic_write

__all__ = ["import_geojson", "read_geojson", "city_of", "write_city", "GridMap",
           "read_shapes", "shapes_path", "write_shapes", "city_shapes"]


def city_of(grid_map: GridMap) -> CityMap:
    """The `CityMap` of an imported map: grids in code order, with their `GridGeometry`."""
    sub_codes = tuple(grid_map.subdistrict_names)
    comm_codes = tuple(grid_map.community_names)
    sub_index = {c: i for i, c in enumerate(sub_codes)}
    comm_index = {c: i for i, c in enumerate(comm_codes)}
    n = grid_map.n_grids
    near: list[list[int]] = [[] for _ in range(n)]
    for i, j in grid_map.neighbours:
        near[i].append(j)
        near[j].append(i)
    return CityMap(
        district_code=grid_map.district_code, codes=grid_map.codes,
        row=grid_map.row, col=grid_map.col,
        subdistrict=[sub_index[c[6:9]] for c in grid_map.codes],
        community=[comm_index[c[6:12]] for c in grid_map.codes],
        subdistrict_names=tuple(grid_map.subdistrict_names.values()),
        subdistrict_codes=sub_codes,
        community_names=tuple(grid_map.community_names.values()),
        community_codes=comm_codes,
        residents=grid_map.residents,
        hotspots={k: [k in h for h in grid_map.hotspots] for k in HOTSPOT_KINDS},
        geometry=GridGeometry(grid_map.x_m.round(2), grid_map.y_m.round(2),
                              grid_map.area_m2.round(2), tuple(tuple(n) for n in near)),
    )


def write_city(grid_map: GridMap, grids_file: str | Path) -> Path:
    """Write the grid table ``grids_file`` and its shapes file beside it; returns the table."""
    target = Path(grids_file)
    city = city_of(grid_map)
    atomic_write(target, lambda tmp: write_city_csv(city, tmp))
    write_shapes(shapes_path(target), grid_map.codes, grid_map.shapes,
                 source=Path(grid_map.source).name, origin_lonlat=grid_map.origin)
    return target


def import_geojson(src: str | Path, dest_dir: str | Path, *, district_code: str | None = None,
                   code_property: str = "code", name: str | None = None,
                   **options: object) -> Path:
    """Import a GeoJSON map of unit grids as a city a scenario can name.

    Writes ``dest_dir/<name>.csv`` (the grid table `sim.data.citymap.load_city` reads, with the
    geometry columns ``x_m, y_m, area_m2, neighbours``) and ``dest_dir/<name>.shapes.json``
    (the polygons, for figures). ``name`` defaults to the map file's stem.

    Args:
        src: a GeoJSON FeatureCollection of Polygon/MultiPolygon features.
        dest_dir: folder to write into (created if needed).
        district_code: the 6 digits every code must start with (default: the first code's).
        code_property: the feature property holding the 15-digit grid code.
        options: passed to `read_geojson` (``subdistrict_property``, ``community_property``,
            ``residents_property``, ``hotspots_property``, ``residents_per_ha``,
            ``tolerance_m``, ``units``).

    Returns:
        The grid table's path; a scenario names it as ``city.grids_file`` with
        ``city.district_code`` set to the map's district code.

    Raises:
        InputError: a bad map, naming the feature, the property, what was expected and got.
    """
    grid_map = read_geojson(src, district_code=district_code, code_property=code_property,
                            **options)  # type: ignore[arg-type]
    stem = name or Path(src).stem
    return write_city(grid_map, Path(dest_dir) / f"{stem}.csv")
