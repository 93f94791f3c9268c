"""Synthetic cities: unit grids on a raster, carved into nested subdistricts and communities.

`generate_city` lays ``n_grids`` cells on a near-rectangular raster, grows 4-connected
subdistricts of similar size from k-means seeds, grows the communities inside each subdistrict
the same way, numbers everything as the grid code standard does (docs/domain.md §2), and places
residents and hotspots. The result depends only on the arguments (seeded numpy streams).
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Mapping, Sequence

import numpy as np

from sim.data.citymap import HOTSPOT_KINDS, CityMap
from sim.errors import GridLoopError

__all__ = ["generate_city"]

# Cluster sizes (grids) of the clustered hotspot kinds: a school is a grid or two, a park more.
_CLUSTER = {"park": (2, 8), "market": (1, 4), "school": (1, 2)}
# Relative resident density by what a grid is (residential grids hold most people).
_DENSITY_RESIDENTIAL, _DENSITY_OTHER, _DENSITY_PARK = 1.0, 0.25, 0.05


def generate_city(district_code: str, n_subdistricts: int, n_communities: int, n_grids: int,
                  seed: int, residents_total: float, hotspot_shares: Mapping[str, float], *,
                  subdistrict_names: Sequence[str] | None = None,
                  aspect: float = 1.25) -> CityMap:
    """A synthetic district with the given counts, deterministic in ``seed``.

    Args:
        district_code: 6 digits (GB/T 2260), the prefix of every grid code.
        n_subdistricts, n_communities, n_grids: counts, with
            1 <= n_subdistricts <= n_communities <= n_grids.
        seed: seeds three independent streams (layout, hotspots, residents), so changing
            hotspot shares or the population leaves the map itself unchanged.
        residents_total: rounded to whole people; the grids' residents sum to it exactly.
        hotspot_shares: kind -> share of grids (0..1); roads come as full raster rows and
            columns, parks/markets/schools as small clusters, residential among the rest.
        subdistrict_names: one per subdistrict in code order (default ``Subdistrict 01``...);
            communities are named ``<subdistrict> 01``, ``<subdistrict> 02``...
        aspect: raster rows / columns wanted (the raster is the near-fullest shape near it).

    Raises:
        GridLoopError: if the arguments cannot make such a city.
    """
    names = _check(district_code, n_subdistricts, n_communities, n_grids, residents_total,
                   hotspot_shares, subdistrict_names, aspect)
    layout, hot_rng, people_rng = (np.random.default_rng(s)
                                   for s in np.random.SeedSequence(seed).spawn(3))
    height, width = _raster_shape(n_grids, aspect)
    cells = np.arange(n_grids)
    rows, cols = cells // width, cells % width

    sub = _grow_regions(cells, n_subdistricts, rows, cols, width, layout)
    sizes = np.bincount(sub, minlength=n_subdistricts)
    per_sub = _apportion_counts(n_communities, sizes)
    comm = np.empty(n_grids, dtype=np.int64)
    offset = 0
    for s in range(n_subdistricts):
        inside = np.flatnonzero(sub == s)
        comm[inside] = offset + _grow_regions(inside, int(per_sub[s]), rows, cols, width, layout)
        offset += int(per_sub[s])
    if np.bincount(comm).max() > 999:
        raise GridLoopError(f"generate_city: a community got more than 999 grids (the code has "
                            f"3 sequence digits); ask for more than {n_communities} communities")

    order = np.lexsort((cols, rows, comm))  # code order: community, then north->south, west->east
    rows, cols, sub, comm = rows[order], cols[order], sub[order], comm[order]
    first = np.searchsorted(comm, comm)  # comm is sorted: first grid of each community
    seq = np.arange(n_grids) - first + 1
    comm_sub = np.zeros(n_communities, dtype=np.int64)
    comm_sub[comm] = sub
    comm_local = np.arange(n_communities) - np.searchsorted(comm_sub, comm_sub) + 1
    sub_codes = tuple(f"{s + 1:03d}" for s in range(n_subdistricts))
    comm_codes = tuple(f"{sub_codes[comm_sub[c]]}{comm_local[c]:03d}"
                       for c in range(n_communities))
    codes = tuple(f"{district_code}{comm_codes[c]}{q:03d}" for c, q in zip(comm, seq, strict=True))

    hotspots = _place_hotspots(rows, cols, height, width, hotspot_shares, hot_rng)
    return CityMap(
        district_code=district_code, codes=codes, row=rows, col=cols,
        subdistrict=sub, community=comm,
        subdistrict_names=names, subdistrict_codes=sub_codes,
        community_names=tuple(f"{names[comm_sub[c]]} {comm_local[c]:02d}"
                              for c in range(n_communities)),
        community_codes=comm_codes,
        residents=_place_residents(hotspots, residents_total, people_rng),
        hotspots=hotspots,
    )


def _check(district_code: str, n_subdistricts: int, n_communities: int, n_grids: int,
           residents_total: float, hotspot_shares: Mapping[str, float],
           subdistrict_names: Sequence[str] | None, aspect: float) -> tuple[str, ...]:
    """Validate the arguments; return the subdistrict names to use."""
    def bad(what: str) -> GridLoopError:
        return GridLoopError(f"generate_city: expected {what}")

    if not re.fullmatch(r"[0-9]{6}", district_code):
        raise bad(f"a 6-digit district code, got {district_code!r}")
    if not 1 <= n_subdistricts <= min(n_communities, 999):
        raise bad(f"1 <= n_subdistricts <= min(n_communities, 999), got {n_subdistricts} "
                  f"subdistricts for {n_communities} communities")
    if n_communities > n_grids:
        raise bad(f"n_communities <= n_grids, got {n_communities} > {n_grids}")
    if not (math.isfinite(residents_total) and residents_total >= 0):
        raise bad(f"residents_total >= 0, got {residents_total}")
    if not aspect > 0:
        raise bad(f"aspect > 0, got {aspect}")
    for kind, share in hotspot_shares.items():
        if kind not in HOTSPOT_KINDS:
            raise bad(f"hotspot kinds from {', '.join(HOTSPOT_KINDS)}, got {kind!r}")
        if not 0 <= share <= 1:
            raise bad(f"hotspot share of {kind!r} in [0, 1], got {share}")
    if subdistrict_names is None:
        return tuple(f"Subdistrict {i + 1:02d}" for i in range(n_subdistricts))
    names = tuple(subdistrict_names)
    if len(names) != n_subdistricts or len(set(names)) != len(names) or not all(
            n.strip() == n and n for n in names):
        raise bad(f"{n_subdistricts} distinct, non-empty, unpadded subdistrict names, "
                  f"got {names!r}")
    return names


def _raster_shape(n: int, aspect: float) -> tuple[int, int]:
    """(rows, cols) holding ``n`` cells filled row by row, as full and as near ``aspect`` as
    possible; a last, partial row is filled from the west."""
    target = math.sqrt(n / aspect)
    best: tuple[float, int, int] | None = None
    for width in range(max(1, int(target * 0.8)), int(math.ceil(target * 1.25)) + 1):
        height = -(-n // width)
        key = (height * width - n, abs(math.log(height / width / aspect)), width)
        if best is None or key < best:
            best = key
    assert best is not None
    width = best[2]
    return -(-n // width), width


def _grow_regions(cells: np.ndarray, k: int, rows: np.ndarray, cols: np.ndarray, width: int,
                  rng: np.random.Generator) -> np.ndarray:
    """Split a 4-connected set of raster cells into ``k`` 4-connected regions of similar size.

    k-means on the cell positions gives ``k`` centres; each region starts at the cell nearest
    its centre and, smallest region first, takes its frontier cell nearest its centre (plus a
    little noise, for organic borders). A region only ever takes a cell next to one it has, so
    every region is connected; all cells are taken because the set is connected. Regions are
    numbered in reading order of their centroids (bands north to south, west to east in each).
    Returns the region of each cell of ``cells``, in ``cells`` order.
    """
    m = len(cells)
    xy = np.column_stack([rows[cells], cols[cells]]).astype(np.float64)
    centres = _kmeans(xy, k, rng)
    noise = rng.random(m)
    # local index of each raster position, then the 4 neighbours of every cell (-1: none)
    pos = rows[cells] * width + cols[cells]
    local = np.full(int(pos.max()) + width + 2, -1, dtype=np.int64)
    local[pos] = np.arange(m)
    r, c = rows[cells], cols[cells]
    nbrs = np.full((m, 4), -1, dtype=np.int64)
    nbrs[r > 0, 0] = local[pos[r > 0] - width]
    nbrs[:, 1] = local[pos + width]
    nbrs[c > 0, 2] = local[pos[c > 0] - 1]
    nbrs[c < width - 1, 3] = local[pos[c < width - 1] + 1]
    neighbours = [[int(j) for j in row if j >= 0] for row in nbrs]

    label = [-1] * m
    size = [0] * k
    frontier: list[list[tuple[float, int]]] = [[] for _ in range(k)]

    def take(region: int, cell: int) -> None:
        label[cell] = region
        size[region] += 1
        cy, cx = centres[region]
        for j in neighbours[cell]:
            if label[j] < 0:
                d = math.hypot(xy[j, 0] - cy, xy[j, 1] - cx) + noise[j]
                heapq.heappush(frontier[region], (d, j))

    dist = ((xy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    for region in range(k):  # seed: the free cell nearest each centre
        d = np.where(np.array(label) < 0, dist[:, region], np.inf)
        take(region, int(d.argmin()))
    queue = [(1, region) for region in range(k)]
    taken = k
    while taken < m:
        if not queue:
            raise GridLoopError("generate_city: the raster cells are not 4-connected")
        _, region = heapq.heappop(queue)
        heap = frontier[region]
        while heap and label[heap[0][1]] >= 0:
            heapq.heappop(heap)
        if not heap:
            continue  # enclosed by other regions: stays at its size
        take(region, heapq.heappop(heap)[1])
        taken += 1
        heapq.heappush(queue, (size[region], region))
    return _reading_order(np.array(label), xy, k)


def _kmeans(xy: np.ndarray, k: int, rng: np.random.Generator, rounds: int = 15) -> np.ndarray:
    """``k`` centres of the points ``xy`` (Lloyd's algorithm from ``k`` random points)."""
    centres = xy[rng.choice(len(xy), size=k, replace=False)].copy()
    for _ in range(rounds):
        near = ((xy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
        count = np.bincount(near, minlength=k)
        for axis in (0, 1):
            total = np.bincount(near, weights=xy[:, axis], minlength=k)
            centres[:, axis] = np.where(count > 0, total / np.maximum(count, 1), centres[:, axis])
    return centres


def _reading_order(label: np.ndarray, xy: np.ndarray, k: int) -> np.ndarray:
    """Renumber regions by centroid: bands of about one region's height, north to south,
    and west to east inside a band."""
    count = np.bincount(label, minlength=k)
    cy = np.bincount(label, weights=xy[:, 0], minlength=k) / count
    cx = np.bincount(label, weights=xy[:, 1], minlength=k) / count
    band = np.floor(cy / max(1.0, math.sqrt(len(label) / k)))
    rank = np.empty(k, dtype=np.int64)
    rank[np.lexsort((cx, band))] = np.arange(k)
    return rank[label]


def _apportion_counts(total: int, sizes: np.ndarray) -> np.ndarray:
    """Split ``total`` units over parts in proportion to ``sizes``: each gets at least 1 and
    at most its size, largest remainder first."""
    quota = total * sizes / sizes.sum()
    alloc = np.ones(len(sizes), dtype=np.int64)
    for _ in range(total - len(sizes)):
        gap = np.where(alloc < sizes, quota - alloc, -np.inf)
        alloc[int(gap.argmax())] += 1
    return alloc


def _place_hotspots(rows: np.ndarray, cols: np.ndarray, height: int, width: int,
                    shares: Mapping[str, float], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Roads as full rows/columns, parks/markets/schools as small clusters that do not overlap
    each other, residential on other grids first."""
    n = len(rows)
    raster = np.full((height, width), -1, dtype=np.int64)
    raster[rows, cols] = np.arange(n)
    out = {k: np.zeros(n, dtype=bool) for k in HOTSPOT_KINDS}
    out["road"] = _roads(rows, cols, height, width, round(shares.get("road", 0.0) * n), rng)
    clustered = np.zeros(n, dtype=bool)
    for kind in ("park", "market", "school"):
        out[kind] = _clusters(raster, rows, cols, clustered,
                              round(shares.get(kind, 0.0) * n), _CLUSTER[kind], rng)
        clustered |= out[kind]
    want = round(shares.get("residential", 0.0) * n)
    pick = np.concatenate([rng.permutation(np.flatnonzero(~clustered)),
                           rng.permutation(np.flatnonzero(clustered & ~out["park"]))])
    out["residential"][pick[:want]] = True
    return out


def _roads(rows: np.ndarray, cols: np.ndarray, height: int, width: int, target: int,
           rng: np.random.Generator) -> np.ndarray:
    """Full raster rows and columns, evenly spread with jitter, covering about ``target`` grids."""
    def cover(h: int, v: int) -> int:
        return h * width + v * height - h * v

    h = v = 0
    best = (abs(target), 0, 0)
    while cover(h, v) < target and (h < height or v < width):
        if v >= width or (h < height and height / (h + 1) >= width / (v + 1)):
            h += 1
        else:
            v += 1
        best = min(best, (abs(cover(h, v) - target), h, v))
    _, h, v = best

    def spread(count: int, span: int) -> np.ndarray:
        if not count:
            return np.zeros(0, dtype=np.int64)
        step = span / count
        jitter = int(step // 4)
        at = np.floor((np.arange(count) + 0.5) * step).astype(np.int64)
        return np.clip(at + rng.integers(-jitter, jitter + 1, size=count), 0, span - 1)

    return np.isin(rows, spread(h, height)) | np.isin(cols, spread(v, width))


def _clusters(raster: np.ndarray, rows: np.ndarray, cols: np.ndarray, avoid: np.ndarray,
              target: int, size_range: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """About ``target`` grids in 4-connected clusters of ``size_range`` grids, off ``avoid``."""
    n = len(rows)
    mask = np.zeros(n, dtype=bool)
    height, width = raster.shape
    count = 0
    while count < target:
        free = np.flatnonzero(~mask & ~avoid)
        if not len(free):
            break
        start = int(rng.choice(free))
        want = min(int(rng.integers(size_range[0], size_range[1] + 1)), target - count)
        cluster = [start]
        mask[start] = True
        while len(cluster) < want:
            edge = []
            for g in cluster:
                for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                    r, c = rows[g] + dr, cols[g] + dc
                    if 0 <= r < height and 0 <= c < width:
                        j = raster[r, c]
                        if j >= 0 and not mask[j] and not avoid[j]:
                            edge.append(int(j))
            if not edge:
                break
            j = edge[int(rng.integers(len(edge)))]
            mask[j] = True
            cluster.append(j)
        count += len(cluster)
    return mask


def _place_residents(hotspots: Mapping[str, np.ndarray], total: float,
                     rng: np.random.Generator) -> np.ndarray:
    """Whole residents per grid, lognormal around a density set by the grid's kind, summing
    to ``round(total)`` exactly (largest remainder)."""
    people = int(round(total))
    density = np.where(hotspots["residential"], _DENSITY_RESIDENTIAL, _DENSITY_OTHER)
    density = np.where(hotspots["park"], _DENSITY_PARK, density)
    weight = density * rng.lognormal(0.0, 0.6, size=len(density))
    quota = people * weight / weight.sum()
    whole = np.floor(quota)
    short = people - int(whole.sum())
    whole[np.argsort(-(quota - whole), kind="stable")[:short]] += 1
    return whole
