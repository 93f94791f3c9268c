"""Tests of map import: polygon geometry, GeoJSON checks, the grid table it writes, walking
times from the geometry, and the full path from a map to a simulated run's figure."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.data.citymap import CityMap, load_city, route_travel_minutes, travel_minutes
from sim.errors import InputError
from sim.geo import city_of, import_geojson, read_geojson, read_shapes, shapes_path
from sim.geo.geometry import (
    boundary_segments,
    lattice_cells,
    point_in_shape,
    project_lonlat,
    ring_problem,
    shape_area_centroid,
    shared_boundaries,
    unproject_lonlat,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "scenarios" / "examples" / "synthetic-district.geojson"
_spec = importlib.util.spec_from_file_location("make_example_map",
                                               ROOT / "scripts" / "make_example_map.py")
assert _spec is not None and _spec.loader is not None
make_example_map = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_example_map)


def square(x0: float, y0: float, side: float = 100.0) -> np.ndarray:
    return np.array([[x0, y0], [x0 + side, y0], [x0 + side, y0 + side], [x0, y0 + side],
                     [x0, y0]], dtype=float)


def feature(code: object, rings: list, kind: str = "Polygon", **props: object) -> dict:
    return {"type": "Feature", "properties": {"code": code, **props},
            "geometry": {"type": kind, "coordinates": rings}}


def lattice_map(rows: int, cols: int, *, side: float = 100.0, district: str = "990101",
                per_community: int = 6) -> dict:
    """A FeatureCollection of square grids in metres, numbered in reading order."""
    feats = []
    for k in range(rows * cols):
        r, c = divmod(k, cols)
        comm, seq = divmod(k, per_community)
        code = f"{district}001{comm + 1:03d}{seq + 1:03d}"
        ring = square(1000 + c * side, 5000 - (r + 1) * side, side)  # row 0 is the north
        feats.append(feature(code, [ring.tolist()]))
    return {"type": "FeatureCollection", "features": feats}


def write_map(tmp_path: Path, doc: object, name: str = "map.geojson") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


# --- geometry ---------------------------------------------------------------------------------

def test_area_and_centroid_of_an_l_shape_and_a_hole() -> None:
    ell = np.array([[0, 0], [2, 0], [2, 1], [1, 1], [1, 2], [0, 2], [0, 0]], dtype=float)
    area, cx, cy = shape_area_centroid([[ell]])
    assert area == pytest.approx(3.0)
    assert (cx, cy) == pytest.approx((5 / 6, 5 / 6))  # three unit squares' centres averaged
    clockwise = ell[::-1]
    assert shape_area_centroid([[clockwise]]) == pytest.approx((3.0, 5 / 6, 5 / 6))
    outer, hole = square(0, 0, 4), square(0, 0, 2)  # hole in the south-west corner
    area, cx, cy = shape_area_centroid([[outer, hole]])
    assert area == pytest.approx(12.0)
    assert (cx, cy) == pytest.approx(((16 * 2 - 4 * 1) / 12,) * 2)
    assert not point_in_shape(1.0, 1.0, [[outer, hole]])
    assert point_in_shape(3.0, 3.0, [[outer, hole]])


@pytest.mark.parametrize("ring, expected", [
    ([[0, 0], [1, 0], [0, 0]], "at least 4 positions"),
    ([[0, 0], [1, 0], [1, 1], [0, 1]], "closed ring"),
    ([[0, 0], [1, 0], [2, 0], [0, 0]], "area 0"),
    ([[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]], "do not cross"),  # a bow-tie
])
def test_ring_problems_are_named(ring: list, expected: str) -> None:
    problem = ring_problem(np.array(ring, dtype=float))
    assert problem is not None and expected in problem


def test_a_good_ring_has_no_problem() -> None:
    assert ring_problem(square(0, 0)) is None


def test_shared_edges_count_t_junctions_but_not_corners() -> None:
    big = square(0, 0, 200)                                            # 0: west, 200 m tall
    top = np.array([[200, 100], [300, 100], [300, 200], [200, 200], [200, 100]], float)
    bottom = np.array([[200, 0], [300, 0], [300, 100], [200, 100], [200, 0]], float)
    corner = square(300, 200)                                          # touches top at a point
    shared = shared_boundaries([[[big]], [[top]], [[bottom]], [[corner]]])
    assert shared == pytest.approx({(0, 1): 100.0, (0, 2): 100.0, (1, 2): 100.0})


def test_boundary_segments_keep_only_group_borders_and_the_outline() -> None:
    shapes = [[[square(c * 100.0, 0)]] for c in range(3)]  # three squares in a row
    segments = boundary_segments(shapes, np.array([0, 0, 1]))
    length = np.hypot(*(segments[:, 1] - segments[:, 0]).T).sum()
    assert length == pytest.approx(2 * 300 + 2 * 100 + 100)  # outline + the one border


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 6), st.integers(2, 6), st.integers(0, 2**32 - 1))
def test_jittered_lattices_tile_and_touch_their_four_neighbours(rows: int, cols: int,
                                                                seed: int) -> None:
    rng = np.random.default_rng(seed)
    gx, gy = np.meshgrid(np.arange(cols + 1) * 100.0, np.arange(rows + 1) * 100.0)
    inner = np.zeros(gx.shape, bool)
    inner[1:-1, 1:-1] = True
    gx = gx + np.where(inner, rng.uniform(-30, 30, gx.shape), 0)
    gy = gy + np.where(inner, rng.uniform(-30, 30, gy.shape), 0)
    shapes = []
    for r in range(rows):
        for c in range(cols):
            ring = np.array([[gx[r, c], gy[r, c]], [gx[r, c + 1], gy[r, c + 1]],
                             [gx[r + 1, c + 1], gy[r + 1, c + 1]], [gx[r + 1, c], gy[r + 1, c]],
                             [gx[r, c], gy[r, c]]])
            assert ring_problem(ring) is None
            shapes.append([[ring]])
    areas = [shape_area_centroid(s)[0] for s in shapes]
    assert sum(areas) == pytest.approx(rows * cols * 100.0 ** 2)  # a seamless tiling
    expected = {(r * cols + c, r * cols + c + 1) for r in range(rows) for c in range(cols - 1)}
    expected |= {(r * cols + c, (r + 1) * cols + c) for r in range(rows - 1) for c in range(cols)}
    assert set(shared_boundaries(shapes)) == expected


def test_lattice_cells_are_distinct_and_exact_on_a_square_grid() -> None:
    r, c = np.divmod(np.arange(12), 4)
    rows, cols = lattice_cells(c * 100.0 + 50, (2 - r) * 100.0 + 50, 100.0)
    assert rows.tolist() == r.tolist() and cols.tolist() == c.tolist()
    crowded = lattice_cells(np.zeros(5), np.zeros(5), 100.0)  # five grids on one spot
    assert len(set(zip(*crowded, strict=True))) == 5


def test_projection_round_trips_and_measures_metres() -> None:
    x, y = project_lonlat(np.array([116.01]), np.array([40.0]), 116.0, 40.0)
    assert x[0] == pytest.approx(0.01 * 111_195 * np.cos(np.radians(40)), rel=1e-3)
    assert y[0] == pytest.approx(0.0)
    lon, lat = unproject_lonlat(x, y, 116.0, 40.0)
    assert (lon[0], lat[0]) == pytest.approx((116.01, 40.0))


# --- importing a map ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def example():
    return read_geojson(EXAMPLE)


def test_committed_example_map_matches_its_script(tmp_path: Path) -> None:
    fresh = make_example_map.write(tmp_path / "fresh.geojson")
    assert fresh.read_text(encoding="utf-8") == EXAMPLE.read_text(encoding="utf-8")


def test_example_map_imports_with_its_layout(example) -> None:
    layout = make_example_map.build()
    assert example.n_grids == 100 and example.units == "degrees"
    assert len(example.subdistrict_names) == 3 and len(example.community_names) == 10
    assert list(example.codes) == sorted(f["properties"]["code"] for f in layout["features"])
    # The map was drawn from a raster: the import must find exactly its 4-neighbours.
    from sim.data.citygen import generate_city  # the layout the script started from
    city = generate_city("990102", 3, 10, 100, make_example_map.SEED, 30_000,
                         {"road": 0.1, "market": 0.04, "school": 0.03, "park": 0.05,
                          "residential": 0.75}, aspect=1.0)
    where = {code: (int(city.row[i]), int(city.col[i])) for i, code in enumerate(city.codes)}
    cell = [where[c] for c in example.codes]
    expected = {(i, j) for i in range(100) for j in range(i + 1, 100)
                if abs(cell[i][0] - cell[j][0]) + abs(cell[i][1] - cell[j][1]) == 1}
    assert set(example.neighbours) == expected
    # jitter moves centroids by well under half a cell, so the raster comes back as drawn
    assert [(int(r), int(c)) for r, c in zip(example.row, example.col, strict=True)] == cell
    assert example.area_m2.sum() == pytest.approx(1000 * 1000, rel=0.05)
    assert example.grid_side_m == pytest.approx(100, rel=0.05)


def test_import_writes_a_table_that_loads_back_equal(example, tmp_path: Path) -> None:
    table = import_geojson(EXAMPLE, tmp_path / "cities")
    assert table == tmp_path / "cities" / "synthetic-district.csv"
    loaded = load_city(table, "990102")
    assert loaded == city_of(example)
    assert loaded.geometry is not None
    assert loaded.subdistrict_names == ("North Gate", "Canal", "Market Hill")
    shapes = read_shapes(shapes_path(table), loaded.codes)
    areas = np.array([shape_area_centroid(s)[0] for s in shapes])
    assert areas == pytest.approx(loaded.geometry.area_m2, rel=1e-3)  # centimetre rounding


def test_walking_times_from_a_square_map_match_the_raster(tmp_path: Path) -> None:
    table = import_geojson(write_map(tmp_path, lattice_map(3, 4, side=150.0)), tmp_path)
    city = load_city(table, "990101")
    raster_twin = CityMap(**{k: getattr(city, k) for k in (
        "district_code", "codes", "row", "col", "subdistrict", "community",
        "subdistrict_names", "subdistrict_codes", "community_names", "community_codes",
        "residents", "hotspots")})
    route = [0, 5, 11, 3, 8]
    assert route_travel_minutes(city, route, 999.0, 5.0) == pytest.approx(
        route_travel_minutes(raster_twin, route, 150.0, 5.0))
    assert travel_minutes(city, 0, 11, 999.0, 5.0) == pytest.approx((3 + 2) * 150 * 60 / 5000)


def test_residents_from_density_when_the_map_has_none(tmp_path: Path) -> None:
    grid_map = read_geojson(write_map(tmp_path, lattice_map(2, 2)), residents_per_ha=250)
    assert grid_map.residents.tolist() == [250.0] * 4
    assert any("per hectare" in note for note in grid_map.notes)
    assert grid_map.units == "metres"


def test_other_property_names_and_multipolygons(tmp_path: Path) -> None:
    doc = lattice_map(1, 2)
    for f in doc["features"]:
        f["properties"] = {"GRID_ID": int(f["properties"]["code"]), "jd": "East Gate"}
    polygon = doc["features"][1]["geometry"]["coordinates"]
    doc["features"][1]["geometry"] = {"type": "MultiPolygon", "coordinates": [polygon]}
    grid_map = read_geojson(write_map(tmp_path, doc), code_property="GRID_ID",
                            subdistrict_property="jd")
    assert grid_map.codes == ("990101001001001", "990101001001002")
    assert grid_map.subdistrict_names == {"001": "East Gate"}
    assert grid_map.community_names == {"001001": "Community 001-001"}


def _bad(doc: dict, edit) -> dict:
    edit(doc)
    return doc


BAD_MAPS = [
    (lambda: {"type": "Feature"}, "type", "expected a GeoJSON FeatureCollection, got 'Feature'"),
    (lambda: {"type": "FeatureCollection", "features": []}, "features", "at least one feature"),
    (lambda: _bad(lattice_map(2, 2), lambda d: d["features"][2]["geometry"].update(
        type="Point", coordinates=[0, 0])), "features[2].geometry.type",
     "expected Polygon or MultiPolygon, got 'Point'"),
    (lambda: _bad(lattice_map(2, 2), lambda d: d["features"][1]["properties"].pop("code")),
     "features[1].properties.code", "got no such property"),
    (lambda: _bad(lattice_map(2, 2), lambda d: d["features"][3]["properties"].update(
        code="99010100100100")), "features[3].properties.code", "expected 15 digits"),
    (lambda: _bad(lattice_map(2, 2), lambda d: d["features"][3]["properties"].update(
        code="990101001001001")), "features[3].properties.code",
     "got 990101001001001 again (first on features[0])"),
    (lambda: _bad(lattice_map(2, 2), lambda d: d["features"][2]["properties"].update(
        code="110101001001003")), "features[2].properties.code",
     "expected the district prefix 990101"),
    (lambda: _bad(lattice_map(2, 2), lambda d: d["features"][1]["geometry"].update(
        coordinates=[square(1100, 4900).tolist()[:-1]])),
     "features[1].geometry.coordinates[0]", "closed ring (last position equal to the first), "
     "got first [1100.0, 4900.0] and last [1100.0, 5000.0]"),
    (lambda: _bad(lattice_map(2, 2), lambda d: d["features"][0]["geometry"].update(
        coordinates=[[[1000, 4900], [1100, 5000], [1100, 4900], [1000, 5000], [1000, 4900]]])),
     "features[0].geometry", "do not cross"),
    (lambda: _bad(lattice_map(2, 2), lambda d: d["features"][3]["geometry"].update(
        coordinates=d["features"][2]["geometry"]["coordinates"])), "features[",
     "do not overlap"),
    (lambda: _bad(lattice_map(2, 2, side=0.001), lambda d: None), "features",
     "median area of 1e-06 m^2 with the coordinates read as metres"),
    (lambda: _bad(lattice_map(2, 2), lambda d: d["features"][0]["properties"].update(
        residents=12)), "features[1].properties.residents", "on every feature or on none"),
    (lambda: _bad(lattice_map(2, 2), lambda d: d["features"][2]["properties"].update(
        residents=-3)), "features[2].properties.residents", "residents >= 0, got -3"),
    (lambda: _bad(lattice_map(2, 2), lambda d: (
        d["features"][0]["properties"].update(subdistrict="A"),
        d["features"][1]["properties"].update(subdistrict="B"))),
     "features[1].properties.subdistrict", "expected 'A' for code digits 001"),
    (lambda: _bad(lattice_map(2, 2), lambda d: d["features"][0]["properties"].update(
        hotspots="river")), "features[0].properties.hotspots", "got 'river'"),
]


@pytest.mark.parametrize("make, where, message", BAD_MAPS)
def test_bad_maps_name_the_feature_property_and_problem(tmp_path: Path, make, where: str,
                                                        message: str) -> None:
    path = write_map(tmp_path, make())
    with pytest.raises(InputError) as err:
        read_geojson(path)
    assert str(err.value).startswith(f"{path}: {where}")
    assert message in str(err.value)


def test_a_map_in_several_parts_is_accepted_and_its_parts_listed(tmp_path: Path) -> None:
    doc = _bad(lattice_map(2, 2), lambda d: d["features"][3]["geometry"].update(
        coordinates=[square(3000, 3000).tolist()]))   # one grid across the harbour
    grid_map = read_geojson(write_map(tmp_path, doc))
    assert grid_map.n_grids == 4
    note = next(n for n in grid_map.notes if "separate parts" in n)
    assert note.startswith("the map has 2 separate parts") and "3 grids from" in note \
        and "1 grid from" in note
    city = city_of(grid_map)
    assert sum(len(n) for n in city.geometry.neighbours) == 2 * len(grid_map.neighbours)


def test_degrees_crs_with_metre_numbers_is_refused(tmp_path: Path) -> None:
    doc = lattice_map(2, 2)
    doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    with pytest.raises(InputError, match="expected longitude/latitude in degrees"):
        read_geojson(write_map(tmp_path, doc))


def test_units_can_be_forced(tmp_path: Path) -> None:
    doc = lattice_map(2, 2, side=40.0)
    for f in doc["features"]:  # a local survey in metres near the origin looks like degrees
        ring = np.array(f["geometry"]["coordinates"][0]) - [1000, 4920]
        f["geometry"]["coordinates"] = [ring.tolist()]
    path = write_map(tmp_path, doc)
    with pytest.raises(InputError, match="read as degrees; are they lon/lat degrees or "
                                         r"projected metres\? \(--units\)"):
        read_geojson(path)
    grid_map = read_geojson(path, units="metres")
    assert grid_map.area_m2.tolist() == [1600.0] * 4 and grid_map.origin is None


def test_web_mercator_is_read_as_metres_with_a_warning(tmp_path: Path) -> None:
    doc = lattice_map(2, 2)
    doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}
    grid_map = read_geojson(write_map(tmp_path, doc))
    assert grid_map.units == "metres"
    assert any("Web Mercator" in note for note in grid_map.notes)
    doc["crs"] = "EPSG:4326"  # not a crs object: ignored, the numbers decide
    assert read_geojson(write_map(tmp_path, doc)).units == "metres"


def test_not_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection",\n "features": [\n}', encoding="utf-8")
    with pytest.raises(InputError, match=r"broken.geojson:3: expected JSON"):
        read_geojson(path)


# --- the full path: map -> scenario -> run -> figure --------------------------------------------

def test_import_map_cli_then_simulate_and_draw_the_real_shapes(tmp_path: Path,
                                                               capsys) -> None:
    from sim.data.scenario import load_scenario
    from sim.run import simulate, write_run

    out = tmp_path / "pilot"
    assert main(["import-map", str(EXAMPLE), "--out", str(out), "--name", "pilot"]) == 0
    printed = capsys.readouterr().out
    assert "100 grids (3 subdistricts, 10 communities" in printed
    scenario = load_scenario(out / "pilot.yaml", days=2)
    assert scenario.city.district_code == "990102"
    assert scenario.inspectors.count == 2 * 9  # one beat per 12 grids, two shifts
    town = load_scenario("small-town")  # the base, scaled by 100 / 120 grids
    assert scenario.problems.per_day == pytest.approx(town.problems.per_day * 100 / 120,
                                                      abs=0.05)
    assert scenario.departments["sanitation"].crews == round(
        town.departments["sanitation"].crews * 100 / 120)
    assert scenario.departments["gas"].crews == 1  # at least one crew each
    assert scenario.city.grid_side_m == pytest.approx(100, rel=0.05)
    result = simulate(scenario)
    assert result.city.geometry is not None
    filed = result.cases["t_file"].notna().sum()
    assert filed > 50
    paths = write_run(result, tmp_path / "run")
    svg = paths["overview"].with_suffix(".svg").read_text(encoding="utf-8")
    # the real outlines (one polygon a grid), where a generated city gets a raster image
    group = svg.split('id="PolyCollection_1"')[1].split("</g>")[0]
    assert group.count("<path") == 100
    # a second import into the same folder needs --force
    assert main(["import-map", str(EXAMPLE), "--out", str(out), "--name", "pilot"]) == 2
    assert "--force" in capsys.readouterr().err


def test_import_map_cli_reports_a_bad_map_in_one_line(tmp_path: Path, capsys) -> None:
    path = write_map(tmp_path, _bad(lattice_map(2, 2), lambda d: d["features"][1][
        "properties"].update(code="12")))
    assert main(["import-map", str(path), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "features[1].properties.code: expected 15 digits" in err


# --- the grid table's geometry columns ---------------------------------------------------------

GEO_HEADER = "code,subdistrict,community,row,col,residents,hotspots,x_m,y_m,area_m2,neighbours\n"
GEO_ROWS = ("990101001001001,A,A1,0,0,10,,0,0,10000,990101001001002\n"
            "990101001001002,A,A1,0,1,10,road,100,0,10000,990101001001001\n")


@pytest.mark.parametrize("text, where, message", [
    (GEO_HEADER.replace(",area_m2,neighbours", "") + "", ":1: area_m2:",
     "expected the geometry columns x_m,y_m,area_m2,neighbours together, got only x_m,y_m"),
    (GEO_HEADER + GEO_ROWS.replace(",0,0,10000,", ",0,0,-5,"), ":2: area_m2:",
     "expected an area > 0 number (metres), got '-5'"),
    (GEO_HEADER + GEO_ROWS.replace(",100,0,", ",east,0,"), ":3: x_m:", "got 'east'"),
    (GEO_HEADER + GEO_ROWS.replace("10000,990101001001002", "10000,990101001001009"),
     ":2: neighbours:", "expected codes of other grids in this table"),
    (GEO_HEADER + GEO_ROWS.replace("road,100,0,10000,990101001001001", "road,100,0,10000,"),
     ":3: neighbours:", "expected 990101001001001 among the neighbours of 990101001001002"),
])
def test_geometry_columns_are_checked(tmp_path: Path, text: str, where: str,
                                      message: str) -> None:
    path = tmp_path / "city.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_city(path, "990101")
    assert where in str(err.value) and message in str(err.value)


def test_geometry_columns_load(tmp_path: Path) -> None:
    path = tmp_path / "city.csv"
    path.write_text(GEO_HEADER + GEO_ROWS, encoding="utf-8")
    city = load_city(path, "990101")
    assert city.geometry is not None
    assert city.geometry.neighbours == ((1,), (0,))
    assert travel_minutes(city, 0, 1, 1.0, 6.0) == pytest.approx(1.0)  # 100 m at 6 km/h
    plain = tmp_path / "plain.csv"
    plain.write_text("".join(line.rsplit(",", 4)[0] + "\n"
                             for line in (GEO_HEADER + GEO_ROWS).splitlines()),
                     encoding="utf-8")
    assert load_city(plain, "990101").geometry is None
    assert load_city(plain, "990101") != city


def test_overview_figure_wants_one_shape_per_grid(tmp_path: Path) -> None:
    from sim.engine.eventlog import EVENT_DTYPE
    from sim.errors import GridLoopError
    from sim.outputs.figures import overview_figure

    with pytest.raises(GridLoopError, match="one entry per grid"):
        overview_figure(np.zeros(0, dtype=EVENT_DTYPE), row=np.zeros(2), col=np.arange(2),
                        subdistrict=np.zeros(2), horizon=60.0, title="t",
                        path=tmp_path / "o.png", shapes=[[[square(0, 0)]]])


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 5), st.integers(2, 5), st.booleans(), st.integers(0, 2**32 - 1))
def test_import_does_not_depend_on_feature_order_or_units(rows: int, cols: int, lonlat: bool,
                                                         seed: int) -> None:
    import tempfile

    doc = lattice_map(rows, cols)
    if lonlat:  # the same squares in degrees near Beijing
        for f in doc["features"]:
            ring = np.array(f["geometry"]["coordinates"][0])
            lon, lat = unproject_lonlat(ring[:, 0] - 1000, ring[:, 1] - 5000, 116.4, 39.9)
            f["geometry"]["coordinates"] = [np.column_stack([lon, lat]).tolist()]
    shuffled = dict(doc, features=list(np.random.default_rng(seed).permutation(
        np.array(doc["features"], dtype=object))))
    with tempfile.TemporaryDirectory() as tmp:
        a = read_geojson(write_map(Path(tmp), doc, "a.geojson"))
        b = read_geojson(write_map(Path(tmp), shuffled, "b.geojson"))
    assert a.codes == b.codes == tuple(sorted(a.codes))
    assert a.neighbours == b.neighbours
    assert len(a.neighbours) == rows * (cols - 1) + cols * (rows - 1)
    assert a.area_m2 == pytest.approx(np.full(rows * cols, 10_000.0), rel=1e-4)  # projection
    assert a.units == ("degrees" if lonlat else "metres")
    assert len(set(zip(a.row.tolist(), a.col.tolist(), strict=True))) == rows * cols
