"""Speed of map import (run with `make bench`; never part of `make test`).

A Dongcheng-size map (2,304 grids) against one a quarter of its size, both jittered lattices
made here and imported in this run: what is asserted is how time grows with the number of
grids (near-linear: shared edges are tested only between grids whose boxes touch), never a
wall time.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from sim.geo import read_geojson


def _jittered_map(path: Path, side: int, seed: int = 1) -> Path:
    rng = np.random.default_rng(seed)
    gx, gy = np.meshgrid(np.arange(side + 1) * 100.0, (side - np.arange(side + 1)) * 100.0)
    gx = gx + rng.uniform(-25, 25, gx.shape)
    gy = gy + rng.uniform(-25, 25, gy.shape)
    features = []
    for k in range(side * side):
        r, c = divmod(k, side)
        ring = [[gx[r + 1, c], gy[r + 1, c]], [gx[r + 1, c + 1], gy[r + 1, c + 1]],
                [gx[r, c + 1], gy[r, c + 1]], [gx[r, c], gy[r, c]]]
        ring.append(ring[0])
        comm, seq = divmod(k, 24)
        code = f"990101{1 + comm // 10:03d}{comm:03d}{seq + 1:03d}"
        features.append({"type": "Feature", "properties": {"code": code},
                         "geometry": {"type": "Polygon", "coordinates": [ring]}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_import_time_grows_near_linearly(tmp_path: Path) -> None:
    """Bar: 4x the grids costs at most 8x the time (quadratic would be 16x)."""
    small = _jittered_map(tmp_path / "small.geojson", 24)
    large = _jittered_map(tmp_path / "large.geojson", 48)
    seconds = {}
    for name, path in (("small", small), ("large", large)):
        t0 = time.perf_counter()
        grid_map = read_geojson(path)
        seconds[name] = time.perf_counter() - t0
        side = int(round(grid_map.n_grids ** 0.5))
        assert len(grid_map.neighbours) == 2 * side * (side - 1)
    ratio = seconds["large"] / seconds["small"]
    print(f"\nimport: 576 grids {seconds['small']:.2f} s, 2,304 grids {seconds['large']:.2f} s, "
          f"ratio {ratio:.1f} for 4x the grids")
    assert ratio <= 8.0


def shapely_shared_boundaries(shapes: list, tol: float = 0.5) -> dict[tuple[int, int], float]:
    """Shared edges the shapely way: boundaries of nearby grids (an STRtree), one snapped to
    the other within ``tol``, intersected; the shared stretch must be longer than ``tol``."""
    import shapely

    from sim.geo.geometry import to_shapely

    geoms = np.array([to_shapely(s) for s in shapes])
    i, j = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=tol)
    keep = i < j
    i, j = i[keep], j[keep]
    bounds = shapely.boundary(geoms)
    snapped = shapely.snap(bounds[i], bounds[j], tol)
    length = shapely.length(shapely.intersection(snapped, bounds[j]))
    return {(int(a), int(b)): float(x) for a, b, x in zip(i, j, length, strict=True)
            if x > tol}


def test_shared_edges_ours_against_shapely(tmp_path: Path) -> None:
    """Issue 13, point 8: polygon geometry comes from shapely unless a benchmark shows our
    own is needed. Areas, centroids, point-in-polygon and ring checks do; shared edges are
    timed here both ways on the Dongcheng-size map (same neighbours asserted, times
    printed)."""
    from sim.geo.geometry import shared_boundaries

    grid_map = read_geojson(_jittered_map(tmp_path / "large.geojson", 48))
    shapes = list(grid_map.shapes)
    t0 = time.perf_counter()
    ours = shared_boundaries(shapes, 0.5)
    t1 = time.perf_counter()
    theirs = shapely_shared_boundaries(shapes, 0.5)
    t2 = time.perf_counter()
    print(f"\nshared edges of 2,304 grids: ours {t1 - t0:.2f} s, shapely {t2 - t1:.2f} s "
          f"({len(ours)} and {len(theirs)} pairs)")
    assert set(ours) == set(theirs)
