"""Unit grids from a GeoJSON map: read, check and measure the polygons of a district.

`read_geojson` turns a FeatureCollection of Polygon/MultiPolygon features, each with a
15-digit grid code, into a `GridMap`: the grids in code order with their shapes in metres,
areas, centroids, neighbours (shared edges) and the raster cells that order patrols. Every
problem raises `InputError` naming the file, the feature (``features[12]``), the property,
what was expected and what was given.

Coordinates are longitude/latitude (RFC 7946) unless the file's ``crs`` member names a
projected system or the numbers cannot be degrees; degrees are projected to metres around
the map's centre (`project_lonlat`). Projected coordinates are taken to be metres.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import sim.geo.properties as fields
from sim.data.limits import GEOJSON_BYTES
from sim.data.textfile import read_text
from sim.errors import InputError
from sim.geo.geometry import (
    Shape,
    components,
    lattice_cells,
    point_in_shape,
    project_lonlat,
    ring_problem,
    shape_area_centroid,
    shared_boundaries,
)
from sim.geo.properties import MapReader, short

__all__ = ["GridMap", "read_geojson", "AREA_RANGE_M2"]

_GEOGRAPHIC_CRS = ("CRS84", "4326", "4490", "4326H")  # WGS 84 and CGCS2000 (China) lon/lat
AREA_RANGE_M2 = (100.0, 1_000_000.0)
"""Median grid area accepted (0.01 ha to 100 ha; docs/domain.md §2: real grids are 1-2 ha)."""


@dataclass(frozen=True)
class GridMap:
    """The unit grids of one map, in code order, measured in metres.

    ``shapes[i]`` is grid ``i``'s polygons (rings of x east, y north metres from ``origin``);
    ``neighbours`` maps each pair ``(i, j)``, i < j, of grids sharing an edge to the metres
    of boundary they share; ``row``/``col`` are distinct raster cells near the centroids.
    ``units`` says how the file's coordinates were read: ``"degrees"`` (projected around
    ``origin``, lon/lat) or ``"metres"``.
    """

    source: str
    district_code: str
    codes: tuple[str, ...]
    subdistrict_names: dict[str, str]
    community_names: dict[str, str]
    residents: np.ndarray
    hotspots: tuple[tuple[str, ...], ...]
    shapes: tuple[Shape, ...]
    area_m2: np.ndarray
    x_m: np.ndarray
    y_m: np.ndarray
    neighbours: dict[tuple[int, int], float]
    row: np.ndarray
    col: np.ndarray
    units: str
    origin: tuple[float, float] | None
    notes: list[str] = field(default_factory=list)

    @property
    def n_grids(self) -> int:
        return len(self.codes)

    @property
    def grid_side_m(self) -> float:
        """Side of a square of the median grid area: the scenario's ``city.grid_side_m``."""
        return float(np.sqrt(np.median(self.area_m2)))


def _load(path: Path) -> Any:
    file = str(path)
    text = read_text(path, "a GeoJSON map", GEOJSON_BYTES)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(file, e.lineno, "", f"expected JSON, got {e.msg} (column {e.colno})"
                         ) from None
    except RecursionError:      # Python's reader stops near 1,000 levels; GeoJSON needs 6
        raise InputError(file, None, "", "expected GeoJSON, got JSON nested deeper than "
                         "Python's JSON reader can follow") from None


def _rings(r: MapReader, where: str, coords: Any) -> list[np.ndarray]:
    """A GeoJSON Polygon's coordinates as float rings, each checked."""
    if not isinstance(coords, list) or not coords:
        raise r.fail(where, f"expected a list of rings (lists of [x, y] positions), "
                     f"got {short(coords)}")
    rings = []
    for k, ring in enumerate(coords):
        at = f"{where}[{k}]"
        if not isinstance(ring, list) or not all(
                isinstance(p, list) and len(p) >= 2 and all(
                    isinstance(v, int | float) and not isinstance(v, bool) for v in p[:2])
                for p in ring):
            raise r.fail(at, f"expected a ring of [x, y] number positions, got {short(ring)}")
        a = np.array([p[:2] for p in ring], dtype=np.float64).reshape(-1, 2)
        if not np.isfinite(a).all():
            raise r.fail(at, "expected finite coordinates, got NaN or infinity")
        if len(a) < 4 or not np.array_equal(a[0], a[-1]):  # in the file's own coordinates
            raise r.fail(at, f"expected {ring_problem(a)}")
        rings.append(a)
    return rings


def _shape(r: MapReader, i: int, feature: Any) -> Shape:
    where = f"features[{i}]"
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        got = feature.get("type") if isinstance(feature, dict) else short(feature)
        raise r.fail(where, f"expected a Feature, got {got!r}")
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict):
        raise r.fail(f"{where}.geometry", f"expected a Polygon or MultiPolygon geometry, got "
                     f"{short(geometry)}")
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon":
        return [_rings(r, f"{where}.geometry.coordinates", coords)]
    if kind == "MultiPolygon":
        if not isinstance(coords, list) or not coords:
            raise r.fail(f"{where}.geometry.coordinates", f"expected a list of polygons, "
                         f"got {short(coords)}")
        return [_rings(r, f"{where}.geometry.coordinates[{k}]", p) for k, p in enumerate(coords)]
    raise r.fail(f"{where}.geometry.type", f"expected Polygon or MultiPolygon, got {kind!r}")


def _crs_name(doc: Mapping[str, Any]) -> str:
    """The name in a (pre-RFC 7946) ``crs`` member, or ``""``."""
    crs = doc.get("crs")
    if isinstance(crs, dict) and isinstance(crs.get("properties"), dict):
        return str(crs["properties"].get("name", ""))
    return ""


def _units(r: MapReader, doc: Mapping[str, Any], shapes: list[Shape]) -> str:
    """``degrees`` or ``metres``: the crs member if it names one, else the numbers' range."""
    named = _crs_name(doc)
    xy = np.concatenate([ring for s in shapes for p in s for ring in p])
    degrees_range = bool((np.abs(xy[:, 0]) <= 180).all() and (np.abs(xy[:, 1]) <= 90).all())
    if named:
        geographic = any(named.upper().endswith(c) for c in _GEOGRAPHIC_CRS)
        if geographic and not degrees_range:
            raise r.fail("crs", f"expected longitude/latitude in degrees, as crs {named!r} says, "
                         f"got x from {xy[:, 0].min():g} to {xy[:, 0].max():g} and y from "
                         f"{xy[:, 1].min():g} to {xy[:, 1].max():g}")
        return "degrees" if geographic else "metres"
    return "degrees" if degrees_range else "metres"


def read_geojson(src: str | Path, *, district_code: str | None = None,
                 code_property: str = "code", subdistrict_property: str = "subdistrict",
                 community_property: str = "community", residents_property: str = "residents",
                 hotspots_property: str = "hotspots", residents_per_ha: float = 300.0,
                 tolerance_m: float = 0.5, units: str = "auto") -> GridMap:
    """Read and check a GeoJSON map of unit grids.

    Args:
        src: a GeoJSON FeatureCollection of Polygon/MultiPolygon features.
        district_code: the 6 digits every code must start with (default: the first code's).
        code_property: the property holding each grid's 15-digit code.
        subdistrict_property, community_property: properties naming the grid's subdistrict
            and community (optional; default names come from the code digits).
        residents_property: residents of the grid (optional, on every feature or none;
            without it, ``residents_per_ha`` times the area).
        hotspots_property: hotspot kinds (``"road;market"`` or a list; optional).
        tolerance_m: how far apart two boundaries may lie and still be one shared edge.
        units: ``"degrees"`` (lon/lat), ``"metres"`` (projected), or ``"auto"``: the file's
            ``crs`` member if it names one, else degrees when every number could be one.

    Raises:
        InputError: ``FILE: features[i].properties.code: expected ..., got ...`` and the like
            for bad JSON, geometry, codes, names, values or overlapping grids. A map in
            several parts (grids that share no edge with the rest) is accepted and its
            parts are listed in ``notes``.
    """
    path = Path(src)
    r = MapReader(str(path))
    doc = _load(path)
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        got = doc.get("type") if isinstance(doc, dict) else type(doc).__name__
        raise r.fail("type", f"expected a GeoJSON FeatureCollection, got {got!r}")
    features = doc.get("features")
    if not isinstance(features, list) or not features:
        raise r.fail("features", f"expected a list of at least one feature, got "
                     f"{short(features)}")
    if units not in ("auto", "degrees", "metres"):
        raise r.fail("", f"expected units auto, degrees or metres, got {units!r}")
    if district_code is not None and not re.fullmatch(r"[0-9]{6}", district_code):
        raise r.fail("", f"expected a 6-digit district code, got {district_code!r}")
    shapes: list[Shape] = []
    codes: list[str] = []
    seen: dict[str, int] = {}
    subs: dict[str, tuple[str, int]] = {}
    comms: dict[str, tuple[str, int]] = {}
    people: list[float | None] = []
    kinds: list[tuple[str, ...]] = []
    for i, feature in enumerate(features):
        shape = _shape(r, i, feature)
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            raise r.fail(f"features[{i}].properties", f"expected an object, got {short(props)}")
        code = fields.grid_code(r, i, props, code_property, seen, district_code)
        district_code = district_code or code[:6]
        fields.area_name(r, i, props, subdistrict_property, code[6:9],
                         f"Subdistrict {code[6:9]}", subs)
        fields.area_name(r, i, props, community_property, code[6:12],
                         f"Community {code[6:9]}-{code[9:12]}", comms)
        people.append(fields.residents(r, i, props, residents_property))
        kinds.append(fields.hotspots(r, i, props, hotspots_property))
        shapes.append(shape)
        codes.append(code)
    return _measure(r, doc, shapes, codes, subs, comms, people, kinds, district_code or "",
                    residents_property, residents_per_ha, tolerance_m, units)


def _measure(r: MapReader, doc: Mapping[str, Any], shapes: list[Shape], codes: list[str],
             subs: dict[str, tuple[str, int]], comms: dict[str, tuple[str, int]],
             people: list[float | None], kinds: list[tuple[str, ...]], district: str,
             residents_property: str, residents_per_ha: float, tol: float,
             units: str) -> GridMap:
    """Project, check the geometry, and measure: areas, centroids, neighbours, raster."""
    notes: list[str] = []
    units = _units(r, doc, shapes) if units == "auto" else units
    origin = None
    if units == "degrees":
        xy = np.concatenate([ring for s in shapes for p in s for ring in p])
        origin = (float(xy[:, 0].min() + xy[:, 0].max()) / 2,
                  float(xy[:, 1].min() + xy[:, 1].max()) / 2)
        shapes = [[[np.column_stack(project_lonlat(ring[:, 0], ring[:, 1], *origin))
                    for ring in p] for p in s] for s in shapes]
        notes.append(f"coordinates read as longitude/latitude (degrees), projected to metres "
                     f"around {origin[0]:.5f}, {origin[1]:.5f}")
    else:
        notes.append("coordinates read as projected metres (x east, y north)")
        if re.search(r"(3857|900913|3785)$", _crs_name(doc)):
            notes.append("Web Mercator metres are stretched by 1/cos(latitude) (1.3 at 40 N): "
                         "areas and walking times come out too large; reproject to UTM or a "
                         "local grid, or export lon/lat")
    sizes = []
    for i, s in enumerate(shapes):
        for k, polygon in enumerate(s):
            for j, ring in enumerate(polygon):
                problem = ring_problem(ring)
                if problem:
                    raise r.fail(f"features[{i}].geometry ({codes[i]}), polygon {k}, ring {j}",
                                 f"expected {problem}")
        sizes.append(shape_area_centroid(s))
    area = np.array([a for a, _, _ in sizes])
    x = np.array([cx for _, cx, _ in sizes])
    y = np.array([cy for _, _, cy in sizes])
    for i in np.flatnonzero(area <= 0):
        raise r.fail(f"features[{i}].geometry ({codes[i]})", "expected a polygon with some "
                     "area, got holes as large as the outside")
    median = float(np.median(area))
    lo, hi = AREA_RANGE_M2
    if not lo <= median <= hi:
        raise r.fail("features", f"expected unit grids of {lo:g} to {hi:g} m^2 (0.01 ha to "
                     f"100 ha), got a median area of {median:.4g} m^2 with the coordinates read "
                     f"as {units}; are they lon/lat degrees or projected metres? (--units)")
    order = sorted(range(len(codes)), key=codes.__getitem__)
    shapes = [shapes[i] for i in order]
    neighbours = shared_boundaries(shapes, tol)
    _check_overlaps(r, shapes, [codes[i] for i in order], order, x[order], y[order], neighbours)
    parts = components(len(shapes), list(neighbours))
    if len(parts) > 1:  # a district across a river or a harbour, or with exclaves
        listed = "; ".join(f"{len(p)} grid{'s' if len(p) > 1 else ''} from "
                           f"{codes[order[p[0]]]}" for p in parts[:8])
        notes.append(f"the map has {len(parts)} separate parts (grids that share no edge "
                     f"with the rest, within {tol:g} m): {listed}"
                     f"{'; ...' if len(parts) > 8 else ''}")
    fields.check_names(r, subs, "subdistrict")
    fields.check_names(r, comms, "community")
    given = [p for p in people if p is not None]
    if given and len(given) < len(people):
        i = next(k for k, p in enumerate(people) if p is None)
        raise r.fail(f"features[{i}].properties.{residents_property}", "expected residents "
                     "on every feature or on none, got none here")
    area_o = area[order]
    residents = (np.array([people[i] for i in order], dtype=np.float64) if given
                 else np.rint(area_o / 10_000.0 * residents_per_ha))
    if not given:
        notes.append(f"no {residents_property!r} property: residents = {residents_per_ha:g} "
                     f"per hectare of each grid")
    rows, cols = lattice_cells(x[order], y[order], float(np.sqrt(median)))
    return GridMap(
        source=r.file, district_code=district, codes=tuple(codes[i] for i in order),
        subdistrict_names={k: v[0] for k, v in sorted(subs.items())},
        community_names={k: v[0] for k, v in sorted(comms.items())},
        residents=residents, hotspots=tuple(kinds[i] for i in order), shapes=tuple(shapes),
        area_m2=area_o, x_m=x[order], y_m=y[order], neighbours=neighbours, row=rows,
        col=cols, units=units, origin=origin, notes=notes)


def _check_overlaps(r: MapReader, shapes: list[Shape], codes: list[str], order: list[int],
                    x: np.ndarray, y: np.ndarray, neighbours: Mapping[tuple[int, int], float]
                    ) -> None:
    """No grid's centroid may lie inside another grid (duplicated or overlapping polygons).
    Checked against the grids it shares an edge with and the grid with the nearest
    centroid, which covers copies and shifted duplicates."""
    near: dict[int, set[int]] = {}
    for i, j in neighbours:
        near.setdefault(i, set()).add(j)
        near.setdefault(j, set()).add(i)
    for i in range(len(shapes) if len(shapes) > 1 else 0):
        d = np.hypot(x - x[i], y - y[i])
        d[i] = np.inf
        for j in near.get(i, set()) | {int(d.argmin())}:
            if point_in_shape(float(x[i]), float(y[i]), shapes[j]) and point_in_shape(
                    float(x[i]), float(y[i]), shapes[i]):
                raise r.fail(f"features[{order[i]}].geometry ({codes[i]})",
                             f"expected grids that do not overlap, got its centre inside "
                             f"features[{order[j]}] ({codes[j]})")
