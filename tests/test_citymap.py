"""Tests of the city map: generated structure, grid codes, the CSV boundary, beats and routes."""

from __future__ import annotations

import importlib.util
from collections import deque
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.data.citygen import generate_city
from sim.data.citymap import (
    CSV_COLUMNS,
    HOTSPOT_KINDS,
    CityMap,
    load_city,
    make_beats,
    patrol_order,
    route_travel_minutes,
    travel_minutes,
    write_city_csv,
)
from sim.errors import GridLoopError, InputError

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("make_cities", ROOT / "scripts" / "make_cities.py")
assert _spec is not None and _spec.loader is not None
make_cities = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_cities)

SHARES = {"road": 0.1, "market": 0.04, "school": 0.03, "park": 0.05, "residential": 0.75}


@pytest.fixture(scope="module")
def dongcheng() -> CityMap:
    return make_cities.build("dongcheng")


@pytest.fixture(scope="module")
def town() -> CityMap:
    return make_cities.build("small-town")


def small_city(n_sub: int, n_comm: int, n_grids: int, seed: int) -> CityMap:
    return generate_city("990101", n_sub, n_comm, n_grids, seed, 5000, SHARES)


small_cities = st.builds(
    lambda s, extra_c, extra_g, seed: small_city(s, s + extra_c, s + extra_c + extra_g, seed),
    st.integers(1, 4), st.integers(0, 6), st.integers(0, 60), st.integers(0, 2**32 - 1))


# --- helpers: independent re-implementations of what the tests check ---------------------------

def is_connected(city: CityMap, grids: np.ndarray) -> bool:
    """4-connectivity of a set of grids by BFS over raster neighbours."""
    cells = {(int(city.row[g]), int(city.col[g])) for g in grids}
    start = next(iter(cells))
    seen, todo = {start}, deque([start])
    while todo:
        r, c = todo.popleft()
        for nb in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if nb in cells and nb not in seen:
                seen.add(nb)
                todo.append(nb)
    return len(seen) == len(cells)


def check_structure(city: CityMap) -> None:
    """Every invariant the grid-code standard and the map promise."""
    assert all(is_connected(city, np.flatnonzero(city.subdistrict == s))
               for s in range(city.n_subdistricts))
    assert all(is_connected(city, np.flatnonzero(city.community == c))
               for c in range(city.n_communities))
    # communities nest: all grids of a community are in one subdistrict, the one its code names
    for c in range(city.n_communities):
        subs = set(city.subdistrict[city.community == c].tolist())
        assert subs == {int(city.community_subdistrict[c])}
    codes = city.codes
    assert len(set(codes)) == len(codes) == city.n_grids
    assert all(len(x) == 15 and x.isdigit() and x[:6] == city.district_code for x in codes)
    for i, x in enumerate(codes):
        assert x[6:9] == city.subdistrict_codes[city.subdistrict[i]]
        assert x[6:12] == city.community_codes[city.community[i]]
    # sequence: 001, 002, ... west to east along a row, rows north to south, per community
    for c in range(city.n_communities):
        grids = np.flatnonzero(city.community == c)
        reading = grids[np.lexsort((city.col[grids], city.row[grids]))]
        assert [int(codes[g][12:]) for g in reading] == list(range(1, len(grids) + 1))
    # one grid per raster cell
    assert len(set(zip(city.row.tolist(), city.col.tolist(), strict=True))) == city.n_grids


# --- generation --------------------------------------------------------------------------------

def test_dongcheng_has_the_published_counts(dongcheng: CityMap) -> None:
    assert (dongcheng.n_subdistricts, dongcheng.n_communities, dongcheng.n_grids) == (17, 182, 2322)
    assert dongcheng.district_code == "110101"
    assert dongcheng.subdistrict_names == make_cities.DONGCHENG_SUBDISTRICTS
    assert dongcheng.subdistrict_codes == tuple(f"{i:03d}" for i in range(1, 18))
    assert dongcheng.residents.sum() == 700_000


def test_small_town_has_its_counts(town: CityMap) -> None:
    assert (town.n_subdistricts, town.n_communities, town.n_grids) == (3, 12, 120)
    assert town.residents.sum() == 40_000


@pytest.mark.parametrize("name", ["dongcheng", "small-town", "typical-city"])
def test_bundled_cities_are_connected_nested_and_numbered(name: str) -> None:
    check_structure(make_cities.build(name))


@settings(max_examples=40, deadline=None)
@given(small_cities)
def test_any_generated_city_keeps_the_invariants(city: CityMap) -> None:
    check_structure(city)


def test_regions_are_roughly_balanced(dongcheng: CityMap) -> None:
    sub = np.bincount(dongcheng.subdistrict)
    comm = np.bincount(dongcheng.community)
    assert sub.max() <= 2 * sub.min()
    assert comm.max() <= 3 * comm.min()


def test_generation_is_deterministic_and_seeded() -> None:
    a, b = small_city(3, 9, 80, seed=5), small_city(3, 9, 80, seed=5)
    assert a == b
    assert a != small_city(3, 9, 80, seed=6)


def test_hotspots_follow_their_shapes(dongcheng: CityMap) -> None:
    hot, n = dongcheng.hotspots, dongcheng.n_grids
    assert set(hot) == set(HOTSPOT_KINDS)
    raster = dongcheng.raster()
    road = np.zeros(raster.shape, dtype=bool)
    road[dongcheng.row, dongcheng.col] = hot["road"]
    full_rows, full_cols = road.all(axis=1), road.all(axis=0)
    # every road grid lies on a road line that crosses the whole raster
    assert np.all(full_rows[dongcheng.row[hot["road"]]] | full_cols[dongcheng.col[hot["road"]]])
    assert 0 < full_rows.sum() + full_cols.sum() <= 10
    for kind, share in make_cities.CITIES["dongcheng"]["hotspot_shares"].items():
        assert abs(hot[kind].sum() / n - share) < 0.02, kind
    assert not np.any(hot["park"] & (hot["market"] | hot["school"]))
    # residents concentrate where people live
    assert dongcheng.residents[hot["residential"]].mean() > 2 * dongcheng.residents[
        ~hot["residential"]].mean()
    assert np.all(dongcheng.residents >= 0) and np.all(dongcheng.residents % 1 == 0)


@pytest.mark.parametrize("args", [
    ("11010", 1, 1, 1), ("110101", 0, 1, 1), ("110101", 3, 2, 5), ("110101", 1, 5, 4),
])
def test_generate_rejects_impossible_cities(args: tuple[str, int, int, int]) -> None:
    with pytest.raises(GridLoopError, match="expected"):
        generate_city(*args, seed=1, residents_total=10, hotspot_shares={})


def test_generate_rejects_bad_shares_and_names() -> None:
    with pytest.raises(GridLoopError, match="'mall'"):
        generate_city("110101", 1, 1, 4, 1, 10, {"mall": 0.1})
    with pytest.raises(GridLoopError, match="in \\[0, 1\\]"):
        generate_city("110101", 1, 1, 4, 1, 10, {"road": 1.5})
    with pytest.raises(GridLoopError, match="distinct"):
        generate_city("110101", 2, 2, 4, 1, 10, {}, subdistrict_names=("A", "A"))


# --- CSV boundary ------------------------------------------------------------------------------

def test_csv_round_trip(town: CityMap, tmp_path: Path) -> None:
    path = write_city_csv(town, tmp_path / "town.csv")
    assert load_city(path, "990101") == town
    again = write_city_csv(load_city(path, "990101"), tmp_path / "again.csv")
    assert again.read_bytes() == path.read_bytes()


@settings(max_examples=15, deadline=None)
@given(small_cities)
def test_csv_round_trip_any_city(city: CityMap) -> None:
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        assert load_city(write_city_csv(city, Path(tmp) / "c.csv"), "990101") == city


def test_round_trip_keeps_fractional_residents(town: CityMap, tmp_path: Path) -> None:
    odd = CityMap(**{**town.__dict__, "residents": town.residents + 1 / 3})
    assert load_city(write_city_csv(odd, tmp_path / "odd.csv"), "990101") == odd


@pytest.mark.parametrize("name", ["dongcheng", "small-town", "typical-city"])
def test_committed_csv_matches_a_fresh_generation(name: str, tmp_path: Path) -> None:
    committed = ROOT / "scenarios" / "cities" / f"{name}.csv"
    fresh = write_city_csv(make_cities.build(name), tmp_path / f"{name}.csv")
    assert committed.read_bytes() == fresh.read_bytes(), "run scripts/make_cities.py"
    assert load_city(committed, make_cities.CITIES[name]["district_code"]) == make_cities.build(
        name)


def test_load_accepts_any_column_order_blank_lines_and_padding(tmp_path: Path) -> None:
    p = tmp_path / "c.csv"
    p.write_text("hotspots,residents,col,row,community,subdistrict,code\n"
                 "road; market ,12.5,1,0,C1,S1,110101001001002\n\n"
                 ",0,0,0,C1,S1,110101001001001\n", encoding="utf-8")
    city = load_city(p, "110101")
    assert city.codes == ("110101001001002", "110101001001001")
    assert city.residents.tolist() == [12.5, 0.0]
    assert city.hotspots["market"].tolist() == [True, False]
    assert city.community_codes == ("001001",) and city.subdistrict_names == ("S1",)


HEADER = ",".join(CSV_COLUMNS)
GOOD = ["110101001001001,S1,C1,0,0,10,road", "110101001001002,S1,C1,0,1,20,",
        "110101002001001,S2,C2,1,0,5,park;school"]


def table(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


@pytest.mark.parametrize("text, where, fragment", [
    ("", ":1: ", "got an empty file"),
    ("code,subdistrict,community,row,col,residents\n" + GOOD[0] + "\n",
     ":1: hotspots:", "got no 'hotspots' column"),
    (HEADER + ",area\n", ":1: area:", "unknown column 'area'"),
    (HEADER + "\n", ":2: ", "expected at least one grid, got none"),
    (table(GOOD[0], "11010100100100,S1,C1,0,1,20,"), ":3: code:", "expected 15 digits"),
    (table(GOOD[0], "11010100100100x,S1,C1,0,1,20,"), ":3: code:", "expected 15 digits"),
    (table(GOOD[0], GOOD[1], "110102001001003,S1,C1,0,2,20,"), ":4: code:",
     "expected the district prefix 110101 (the scenario's city.district_code), got 110102"),
    (table(GOOD[0], "110101002001002,S1,C1,0,1,20,"), ":3: code:",
     "expected subdistrict digits 001 for subdistrict 'S1' (as on line 2), got 002"),
    (table(GOOD[0], "110101001002002,S9,C1,0,1,20,"), ":3: subdistrict:",
     "expected 'S1' for subdistrict digits 001 (as on line 2), got 'S9'"),
    (table(GOOD[0], "110101001002002,S1,C1,0,1,20,"), ":3: code:",
     "expected community digits 001 for community 'C1' of 'S1' (as on line 2), got 002"),
    (table(GOOD[0], GOOD[1], "110101001001003,S1,C7,0,2,1,"), ":4: community:",
     "expected 'C1' for community digits 001 of 'S1' (as on line 2), got 'C7'"),
    (table(GOOD[0], GOOD[1], GOOD[0].replace(",0,0,", ",5,5,")), ":4: code:",
     "expected a unique code, got 110101001001001 again (first on line 2)"),
    (table(*GOOD, "110101002001002,S2,C2,0,1,5,"), ":5: row:",
     "got (row 0, col 1) again (first on line 3, 110101001001002)"),
    (table(GOOD[0], "110101001001002,S1,C1,0,1,-3,"), ":3: residents:",
     "expected a number of residents >= 0, got '-3'"),
    (table(GOOD[0], "110101001001002,S1,C1,0,1,many,"), ":3: residents:", "got 'many'"),
    (table(GOOD[0], "110101001001002,S1,C1,0,1,nan,"), ":3: residents:", "got 'nan'"),
    (table(*GOOD, "110101002001002,S2,C2,1,1,5,park;mall"), ":5: hotspots:",
     "expected hotspot kinds from road, market, school, residential, park separated by ';', "
     "got 'mall'"),
    (table(GOOD[0], "110101001001002,S1,C1,-1,1,20,"), ":3: row:",
     "expected a whole number >= 0, got '-1'"),
    (table(GOOD[0], "110101001001002,S1,C1,0,1.5,20,"), ":3: col:", "got '1.5'"),
    (table(GOOD[0], "110101001001002,S1,C1,0,1,20"), ":3: ", "expected 7 fields"),
    (table(GOOD[0], "110101001001002,,C1,0,1,20,"), ":3: subdistrict:", "got ''"),
    # a blank line still counts: the bad row is on file line 4
    (table(GOOD[0], "", "110101001001002,S1,C1,0,1,-1,"), ":4: residents:", "got '-1'"),
])
def test_load_errors_name_file_line_and_column(tmp_path: Path, text: str, where: str,
                                                fragment: str) -> None:
    path = tmp_path / "grids.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_city(path, "110101")
    message = str(err.value)
    assert message.startswith(str(path) + where), message
    assert fragment in message


def test_the_good_table_itself_loads(tmp_path: Path) -> None:
    path = tmp_path / "grids.csv"
    path.write_text(table(*GOOD), encoding="utf-8")
    city = load_city(path, "110101")
    assert city.n_grids == 3 and city.subdistrict.tolist() == [0, 0, 1]
    assert city.community_codes == ("001001", "002001")
    assert city.hotspots["school"].tolist() == [False, False, True]


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file") as err:
        load_city(tmp_path / "nope.csv", "110101")
    assert err.value.file == str(tmp_path / "nope.csv") and err.value.line is None


# --- beats, patrol routes, travel --------------------------------------------------------------

def check_beats(city: CityMap, beats: list[np.ndarray], n: int) -> None:
    assert len(beats) == min(n, city.n_grids)
    every = np.concatenate(beats)
    assert np.array_equal(np.sort(every), np.arange(city.n_grids))  # each grid exactly once
    sizes = [len(b) for b in beats]
    assert min(sizes) >= 1 and max(sizes) <= 2 * min(sizes)
    # the walk goes community by community, so beats follow community order
    assert np.all(np.diff(city.community[every]) >= 0)


@settings(max_examples=60, deadline=None)
@given(small_cities, st.integers(1, 80))
def test_beats_partition_the_city_evenly(city: CityMap, n: int) -> None:
    check_beats(city, make_beats(city, n), n)


@pytest.mark.parametrize("n", [1, 17, 129, 230, 432, 2322, 5000])
def test_dongcheng_beats(dongcheng: CityMap, n: int) -> None:
    check_beats(dongcheng, make_beats(dongcheng, n), n)


def test_beats_snap_to_community_boundaries(dongcheng: CityMap) -> None:
    beats = make_beats(dongcheng, 129)  # ~18 grids a beat (docs/domain.md §2, 2009)
    on_boundary = sum(int(dongcheng.community[a[-1]] != dongcheng.community[b[0]])
                      for a, b in zip(beats, beats[1:], strict=False))
    assert on_boundary > len(beats) // 3  # unsnapped, about 1 cut in 13 would be


def test_make_beats_rejects_zero(town: CityMap) -> None:
    with pytest.raises(GridLoopError, match="at least 1 beat, got 0"):
        make_beats(town, 0)


@settings(max_examples=40, deadline=None)
@given(small_cities, st.data())
def test_patrol_order_is_a_permutation(city: CityMap, data: st.DataObject) -> None:
    grids = data.draw(st.lists(st.integers(0, city.n_grids - 1), unique=True))
    route = patrol_order(city, grids)
    assert sorted(route.tolist()) == sorted(grids)


def test_patrol_order_snakes_over_a_rectangle(town: CityMap) -> None:
    raster = town.raster()
    block = raster[2:6, 1:5].ravel()  # 4 x 4 block of grids
    route = patrol_order(town, block[::-1])
    assert town.row[route].tolist() == [2] * 4 + [3] * 4 + [4] * 4 + [5] * 4
    assert town.col[route].tolist() == [1, 2, 3, 4, 4, 3, 2, 1] * 2
    legs = route_travel_minutes(town, route, side_m=100, speed_kmh=12)
    assert legs.tolist() == [0.5] * 15 + [1.5]  # 0.5 min per cell; closing leg 3 cells


@pytest.mark.parametrize("a_rc, b_rc, side, speed, minutes", [
    ((0, 0), (0, 0), 100, 12, 0.0),
    ((0, 0), (0, 3), 100, 12, 1.5),
    ((0, 0), (2, 1), 100, 12, 1.5),
    ((1, 4), (3, 0), 150, 5, 6 * 150 * 60 / 5000),
])
def test_travel_minutes_is_manhattan(town: CityMap, a_rc: tuple[int, int],
                                     b_rc: tuple[int, int], side: float, speed: float,
                                     minutes: float) -> None:
    raster = town.raster()
    a, b = int(raster[a_rc]), int(raster[b_rc])
    assert travel_minutes(town, a, b, side, speed) == pytest.approx(minutes)
    assert travel_minutes(town, b, a, side, speed) == pytest.approx(minutes)


def test_route_travel_minutes_edges(town: CityMap) -> None:
    assert route_travel_minutes(town, [], 100, 12).shape == (0,)
    assert route_travel_minutes(town, [7], 100, 12).tolist() == [0.0]
    with pytest.raises(GridLoopError, match="speed > 0"):
        route_travel_minutes(town, [1, 2], 100, 0)


def test_citymap_arrays_are_read_only(town: CityMap) -> None:
    with pytest.raises(ValueError):
        town.residents[0] = 1.0
    with pytest.raises(ValueError):
        town.hotspots["road"][0] = True


def test_metropolis_is_ten_dongchengs_and_committed_fresh(tmp_path: Path) -> None:
    """The large city of `make bench` (scenarios/metropolis.yaml): ten times Dongcheng's
    counts, every invariant of the standard, and the committed file is the generator's."""
    city = make_cities.build("metropolis")
    assert (city.n_subdistricts, city.n_communities, city.n_grids) == (170, 1820, 23220)
    assert city.residents.sum() == 7_000_000
    check_structure(city)
    committed = ROOT / "scenarios" / "cities" / "metropolis.csv"
    assert committed.read_bytes() == write_city_csv(city, tmp_path / "m.csv").read_bytes()


def test_metropolis_is_staffed_and_loaded_ten_times_dongcheng() -> None:
    from sim.data.scenario import load_scenario

    big, base = load_scenario("metropolis"), load_scenario("dongcheng")
    assert big.problems.per_day == 10 * base.problems.per_day
    assert big.inspectors.count == 10 * base.inspectors.count
    for role in ("acceptors", "shift_leaders", "dispatchers"):
        assert getattr(big.centre, role) == 10 * getattr(base.centre, role), role
    for name, dept in base.departments.items():
        assert big.departments[name].crews == 10 * dept.crews, name
        assert big.departments[name].hours == dept.hours, name
    assert big.hotline.call_takers == 10 * base.hotline.call_takers
    assert big.hotline.background_per_day == 10 * base.hotline.background_per_day
