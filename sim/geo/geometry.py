"""Plane geometry of unit-grid polygons, in metres: areas, centroids, shared edges, rasters.

Areas, centroids, point-in-polygon and ring validity come from shapely (GEOS); the shared
edges between grids are found by our own vectorised test of collinear segments, which
`benchmarks/test_geo_speed.py` measures against shapely's (ours is the faster there, see
docs/maps-and-export.md). A *polygon* is a list of rings (``(k, 2)`` float arrays, first
position repeated last), the first ring its outside and the others holes; a grid's *shape* is
a list of polygons (a MultiPolygon has several). Two grids are neighbours when their
boundaries run together for more than a tolerance: segments lying on one line (within
``tol`` metres) and overlapping along it, so T-junctions count, a corner touch does not.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["Shape", "ring_problem", "shape_area_centroid", "shared_boundaries",
           "point_in_shape", "components", "lattice_cells", "project_lonlat", "unproject_lonlat",
           "boundary_segments", "to_shapely", "locate_points"]

Shape = list[list[np.ndarray]]
"""One grid: polygons, each a list of rings, each a (k, 2) array of x, y positions."""

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)


def ring_problem(ring: np.ndarray) -> str | None:
    """What is wrong with a ring as a polygon boundary, or None: fewer than 4 positions,
    not closed, edges that cross each other (shapely's simplicity test), or no area."""
    import shapely

    if len(ring) < 4:
        return f"a ring of at least 4 positions, got {len(ring)}"
    if not np.array_equal(ring[0], ring[-1]):
        return (f"a closed ring (last position equal to the first), got first {ring[0].tolist()} "
                f"and last {ring[-1].tolist()}")
    line = shapely.LinearRing(ring)
    if line.convex_hull.area == 0.0:  # all on one line
        return "a ring enclosing some area, got one of area 0"
    if not line.is_simple:
        reason = shapely.is_valid_reason(shapely.Polygon(ring))
        at = reason[reason.find("[") + 1:reason.find("]")].split() if "[" in reason else []
        near = f" near ({', '.join(at)})" if at else ""
        return f"a ring whose edges do not cross, got one crossing itself{near}"
    return None


def shape_area_centroid(shape: Shape) -> tuple[float, float, float]:
    """Area and centroid of a grid: outsides minus holes, whatever the rings' orientation
    (shapely)."""
    geometry = to_shapely(shape)
    area = float(geometry.area)
    if area <= 0:
        return 0.0, float("nan"), float("nan")
    c = geometry.centroid
    return area, float(c.x), float(c.y)


def point_in_shape(x: float, y: float, shape: Shape) -> bool:
    """Whether (x, y) lies inside a grid (holes are out; shapely)."""
    import shapely

    return bool(shapely.contains_xy(to_shapely(shape), x, y))


def _segments(shapes: Sequence[Shape]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All boundary segments: starts (m, 2), ends (m, 2), and the grid of each."""
    starts, ends, owner = [], [], []
    for g, shape in enumerate(shapes):
        for polygon in shape:
            for ring in polygon:
                starts.append(ring[:-1])
                ends.append(ring[1:])
                owner.append(np.full(len(ring) - 1, g, dtype=np.int64))
    if not starts:
        return np.zeros((0, 2)), np.zeros((0, 2)), np.zeros(0, dtype=np.int64)
    return np.concatenate(starts), np.concatenate(ends), np.concatenate(owner)


def _candidate_pairs(shapes: Sequence[Shape], tol: float) -> np.ndarray:
    """Pairs (i < j) of grids whose bounding boxes, grown by ``tol``, overlap."""
    boxes = np.array([[min(r[:, 0].min() for p in s for r in p), min(r[:, 1].min() for p in s
                       for r in p), max(r[:, 0].max() for p in s for r in p),
                       max(r[:, 1].max() for p in s for r in p)] for s in shapes])
    if not len(boxes):
        return np.zeros((0, 2), dtype=np.int64)
    order = np.argsort(boxes[:, 0], kind="stable")
    xmin = boxes[order, 0]
    pairs = []
    for k, i in enumerate(order):
        stop = np.searchsorted(xmin, boxes[i, 2] + tol, side="right")
        js = order[k + 1:stop]
        near = (boxes[js, 1] <= boxes[i, 3] + tol) & (boxes[js, 3] >= boxes[i, 1] - tol)
        for j in js[near]:
            pairs.append((min(i, j), max(i, j)))
    return np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)


def _overlaps(shapes: Sequence[Shape], tol: float, chunk: int = 1 << 20
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every stretch where the boundaries of two grids run together.

    Returns ``(seg_a, grid_b, length, lengths, owner)``: for each overlapping segment pair,
    the index of a segment of one grid, the other grid, and the length they share (metres);
    plus the length and grid of every segment. Each overlap appears once from each side.
    All segment pairs of all candidate grid pairs are tested at once, ``chunk`` at a time.
    """
    p, q, owner = _segments(shapes)
    d = q - p
    lengths = np.hypot(d[:, 0], d[:, 1])
    first = np.searchsorted(owner, np.arange(len(shapes)))
    count = np.bincount(owner, minlength=len(shapes))
    pairs = _candidate_pairs(shapes, tol)
    per_pair = count[pairs[:, 0]] * count[pairs[:, 1]]
    ends = np.cumsum(per_pair)
    found_a, found_b, found_len = [], [], []
    lo = 0
    while lo < len(pairs):
        hi = int(np.searchsorted(ends, (ends[lo - 1] if lo else 0) + chunk, side="right"))
        hi = max(hi, lo + 1)
        i, j, n = pairs[lo:hi, 0], pairs[lo:hi, 1], per_pair[lo:hi]
        local = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
        nb = np.repeat(count[j], n)
        sa = np.repeat(first[i], n) + local // nb
        sb = np.repeat(first[j], n) + local % nb
        for s, t, other in ((sa, sb, np.repeat(j, n)), (sb, sa, np.repeat(i, n))):
            length = _collinear_overlap(p[s], d[s], lengths[s], p[t], q[t], tol)
            hit = length > tol
            found_a.append(s[hit])
            found_b.append(other[hit])
            found_len.append(length[hit])
        lo = hi
    if not found_a:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0), lengths, owner
    return (np.concatenate(found_a), np.concatenate(found_b), np.concatenate(found_len),
            lengths, owner)


def _collinear_overlap(p: np.ndarray, d: np.ndarray, length: np.ndarray, r: np.ndarray,
                       s: np.ndarray, tol: float) -> np.ndarray:
    """Per pair, the length along segment p + t d covered by segment r -> s, counting only
    segments lying on the same line within ``tol`` metres (0 otherwise)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        u = d / length[:, None]
    ur, us = r - p, s - p
    off_r = np.abs(u[:, 0] * ur[:, 1] - u[:, 1] * ur[:, 0])
    off_s = np.abs(u[:, 0] * us[:, 1] - u[:, 1] * us[:, 0])
    tr = u[:, 0] * ur[:, 0] + u[:, 1] * ur[:, 1]
    ts = u[:, 0] * us[:, 0] + u[:, 1] * us[:, 1]
    cover = np.minimum(length, np.maximum(tr, ts)) - np.maximum(0.0, np.minimum(tr, ts))
    on_line = (off_r <= tol) & (off_s <= tol) & (length > 0)
    return np.where(on_line, np.maximum(cover, 0.0), 0.0)


def shared_boundaries(shapes: Sequence[Shape], tol: float = 0.5) -> dict[tuple[int, int], float]:
    """Grids sharing an edge: ``{(i, j): metres of boundary they share}`` for i < j.

    ``tol`` is how far apart (metres) two boundaries may lie and still count as one line;
    only a shared stretch longer than ``tol`` makes neighbours.
    """
    seg_a, grid_b, length, _, owner = _overlaps(shapes, tol)
    out: dict[tuple[int, int], float] = {}
    for a, b, x in zip(owner[seg_a].tolist(), grid_b.tolist(), length.tolist(), strict=True):
        if a < b:
            out[(a, b)] = out.get((a, b), 0.0) + x
    return {k: v for k, v in out.items() if v > tol}


def boundary_segments(shapes: Sequence[Shape], group: np.ndarray, tol: float = 0.5
                      ) -> np.ndarray:
    """Segments where one group meets another or the outside, (m, 2, 2) x-y: the lines to
    draw between subdistricts and around the city, each once. A segment counts as inside
    its group when grids of the same group cover at least half of it."""
    seg_a, grid_b, length, lengths, owner = _overlaps(shapes, tol)
    p, q, _ = _segments(shapes)
    same = group[owner[seg_a]] == group[grid_b]
    covered = np.bincount(seg_a[same], weights=length[same], minlength=len(lengths))
    # a border between groups is drawn once, from the grid with the lower index
    drawn = ~same & (grid_b < owner[seg_a])
    twice = np.bincount(seg_a[drawn], weights=length[drawn], minlength=len(lengths))
    keep = (covered < 0.5 * lengths) & (twice < 0.5 * lengths)
    return np.stack([p[keep], q[keep]], axis=1)


def components(n: int, pairs: Sequence[tuple[int, int]]) -> list[list[int]]:
    """Connected components of ``n`` grids joined by ``pairs``, largest first."""
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in pairs:
        ri, rj = root(i), root(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]))


def lattice_cells(x: np.ndarray, y: np.ndarray, side: float) -> tuple[np.ndarray, np.ndarray]:
    """A distinct raster cell (row from the north, col from the west) for each centroid.

    Each grid takes the free cell nearest its centroid on a lattice of ``side`` metres,
    grids in order of their distance to their ideal cell (the best placed first), so the
    raster keeps the map's layout; it orders patrols and beats, never distances.
    """
    n = len(x)
    fr = (float(y.max()) - y) / side if n else y
    fc = (x - float(x.min())) / side if n else x
    ideal = np.rint(np.column_stack([fr, fc])).astype(np.int64)
    miss = np.hypot(fr - ideal[:, 0], fc - ideal[:, 1])
    taken: set[tuple[int, int]] = set()
    rows = np.empty(n, dtype=np.int64)
    cols = np.empty(n, dtype=np.int64)
    for g in np.argsort(miss, kind="stable"):
        r0, c0 = int(ideal[g, 0]), int(ideal[g, 1])
        best: tuple[float, int, int] | None = None
        radius = 0
        while best is None or radius <= np.ceil(best[0]) + 1:
            for dr in range(-radius, radius + 1):
                for dc in range(-radius, radius + 1):
                    if max(abs(dr), abs(dc)) != radius:
                        continue
                    r, c = r0 + dr, c0 + dc
                    if r < 0 or c < 0 or (r, c) in taken:
                        continue
                    key = (float(np.hypot(fr[g] - r, fc[g] - c)), r, c)
                    if best is None or key < best:
                        best = key
            radius += 1
        assert best is not None
        taken.add((best[1], best[2]))
        rows[g], cols[g] = best[1], best[2]
    return rows - rows.min(initial=0), cols - cols.min(initial=0)


def project_lonlat(lon: np.ndarray, lat: np.ndarray, lon0: float, lat0: float
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Longitude/latitude (degrees) to metres east/north of (lon0, lat0): an equirectangular
    projection at the map's centre, within 0.1% over a district of 20 km."""
    k = np.pi / 180.0 * EARTH_RADIUS_M
    return (lon - lon0) * k * np.cos(np.radians(lat0)), (lat - lat0) * k


def unproject_lonlat(x: np.ndarray, y: np.ndarray, lon0: float, lat0: float
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The inverse of `project_lonlat`: metres east/north of (lon0, lat0) to degrees."""
    k = np.pi / 180.0 * EARTH_RADIUS_M
    return lon0 + x / (k * np.cos(np.radians(lat0))), lat0 + y / k


def to_shapely(shape: Shape):  # noqa: ANN201 - shapely.MultiPolygon
    """A grid's shape as a shapely MultiPolygon (outside ring first, then holes)."""
    import shapely

    return shapely.MultiPolygon([shapely.Polygon(p[0], p[1:]) for p in shape]) \
        if len(shape) > 1 else shapely.Polygon(shape[0][0], shape[0][1:])


def locate_points(shapes: Sequence[Shape], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The index of the grid each point (x, y metres) lies in, -1 for none (shapely's
    STRtree; a point on a shared edge goes to the lower index)."""
    import shapely

    tree = shapely.STRtree([to_shapely(s) for s in shapes])
    points = shapely.points(np.asarray(x, float), np.asarray(y, float))
    pi, gi = tree.query(points, predicate="intersects")
    out = np.full(len(points), -1, dtype=np.int64)
    order = np.lexsort((gi, pi))[::-1]  # for each point the lowest grid index is set last
    out[pi[order]] = gi[order]
    return out
