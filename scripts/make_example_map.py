"""Write the synthetic GeoJSON map scenarios/examples/synthetic-district.geojson.

    python scripts/make_example_map.py           # (re)write the map
    python scripts/make_example_map.py --check   # exit 1 if the file differs from a fresh one

A fictional district (code 990102: 3 subdistricts, 10 communities, 100 unit grids) laid out
by `sim.data.citygen` on a 10 x 10 raster, then given irregular outlines: the corners of a
100 m lattice, the district's edge included, are jittered (by up to 28 m, so every cell stays
a simple polygon), some edges
get a bent middle vertex shared by both sides, and a few get a straight middle vertex on one
side only (a T-junction, which real maps have). Coordinates are longitude/latitude (RFC
7946), placed on a fictional site; the output depends only on the seed.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, str(ROOT))

from sim.data.citygen import generate_city  # noqa: E402
from sim.data.citymap import HOTSPOT_KINDS  # noqa: E402

OUT = ROOT / "scenarios" / "examples" / "synthetic-district.geojson"
SEED = 2026
SIDE_M = 100.0
JITTER_M = 28.0
SITE_LONLAT = (116.0, 40.0)  # fictional; only fixes the lon/lat frame
SUBDISTRICTS = ("North Gate", "Canal", "Market Hill")


def build() -> dict:
    """The GeoJSON FeatureCollection, freshly made."""
    city = generate_city("990102", 3, 10, 100, SEED, 30_000,
                         {"road": 0.1, "market": 0.04, "school": 0.03, "park": 0.05,
                          "residential": 0.75}, subdistrict_names=SUBDISTRICTS, aspect=1.0)
    rng = np.random.default_rng(SEED)
    height, width = int(city.row.max()) + 1, int(city.col.max()) + 1
    # corners: (height+1) x (width+1), x east, y north (row 0 is the north edge)
    gx, gy = np.meshgrid(np.arange(width + 1) * SIDE_M, (height - np.arange(height + 1)) * SIDE_M)
    gx = gx + rng.uniform(-JITTER_M, JITTER_M, gx.shape)
    gy = gy + rng.uniform(-JITTER_M, JITTER_M, gy.shape)
    corner = np.stack([gx, gy], axis=-1)

    # Middle vertices on inner edges: bent and shared, or straight on one side only.
    middle: dict[tuple, tuple[np.ndarray, str]] = {}
    for r in range(height + 1):
        for c in range(width + 1):
            for dr, dc in ((0, 1), (1, 0)):
                r2, c2 = r + dr, c + dc
                if r2 > height or c2 > width:
                    continue
                on_border = (dr == 0 and r in (0, height)) or (dc == 0 and c in (0, width))
                if on_border:
                    continue
                u = rng.random()
                a, b = corner[r, c], corner[r2, c2]
                if u < 0.25:
                    bend = rng.uniform(-10.0, 10.0, 2)
                    middle[((r, c), (r2, c2))] = ((a + b) / 2 + bend, "both")
                elif u < 0.30:
                    middle[((r, c), (r2, c2))] = ((a + b) / 2, "first" if rng.random() < .5
                                                  else "second")

    def edge(p: tuple[int, int], q: tuple[int, int], side: str) -> list[np.ndarray]:
        """Vertices after p on the way to q; ``side`` says which cell walks it."""
        key = (p, q) if (p, q) in middle else (q, p)
        if key in middle:
            point, who = middle[key]
            if who in ("both", side):
                return [point]
        return []

    features = []
    lon0, lat0 = SITE_LONLAT
    k = math.pi / 180.0 * 6_371_008.8
    for i in range(city.n_grids):
        r, c = int(city.row[i]), int(city.col[i])
        # counter-clockwise: south-west, south-east, north-east, north-west
        loop = [(r + 1, c), (r + 1, c + 1), (r, c + 1), (r, c)]
        ring: list[np.ndarray] = []
        for j, p in enumerate(loop):
            q = loop[(j + 1) % 4]
            ring.append(corner[p])
            # The cell on the right/top of an edge is "first", the other "second".
            side = "first" if j in (0, 3) else "second"
            ring.extend(edge(p, q, side))
        ring.append(ring[0])
        lonlat = [[round(lon0 + x / (k * math.cos(math.radians(lat0))), 7),
                   round(lat0 + y / k, 7)] for x, y in ring]
        features.append({
            "type": "Feature",
            "properties": {
                "code": city.codes[i],
                "subdistrict": city.subdistrict_names[city.subdistrict[i]],
                "community": city.community_names[city.community[i]],
                "residents": int(city.residents[i]),
                "hotspots": ";".join(h for h in HOTSPOT_KINDS if city.hotspots[h][i]),
            },
            "geometry": {"type": "Polygon", "coordinates": [lonlat]},
        })
    return {"type": "FeatureCollection",
            "name": "synthetic-district (fictional; made by scripts/make_example_map.py)",
            "features": features}


def write(path: Path) -> Path:
    doc = build()
    lines = [json.dumps(f, separators=(",", ":")) for f in doc["features"]]
    head = json.dumps({"type": doc["type"], "name": doc["name"]})[:-1]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head + ', "features": [\n' + ",\n".join(lines) + "\n]}\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the file on disk instead of writing it")
    args = parser.parse_args(argv)
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            fresh = write(Path(tmp) / OUT.name).read_text(encoding="utf-8")
        same = OUT.exists() and OUT.read_text(encoding="utf-8") == fresh
        print(f"{OUT.relative_to(ROOT)}: {'up to date' if same else 'DIFFERS'}")
        return 0 if same else 1
    print(f"wrote {write(OUT).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
