"""Write the bundled grid tables, scenarios/cities/<name>.csv, from fixed seeds.

    python scripts/make_cities.py           # (re)write every city
    python scripts/make_cities.py --check   # exit 1 if a file differs from a fresh generation

The output depends only on the parameters below (and numpy's seeded generators), so running it
twice gives identical files; tests/test_citymap.py checks the committed files against it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, str(ROOT))

from sim.data.citygen import generate_city  # noqa: E402
from sim.data.citymap import CityMap, write_city_csv  # noqa: E402

OUT_DIR = ROOT / "scenarios" / "cities"

# Dongcheng's 17 subdistricts (街道) in the order of their GB/T 2260 codes 001-017.
DONGCHENG_SUBDISTRICTS = (
    "Donghuamen", "Jingshan", "Jiaodaokou", "Andingmen", "Beixinqiao", "Dongsi", "Chaoyangmen",
    "Jianguomen", "Dongzhimen", "Hepingli", "Qianmen", "Chongwenmenwai", "Donghuashi",
    "Longtan", "Tiyuguan Road", "Tiantan", "Yongdingmenwai",
)

CITIES: dict[str, dict[str, Any]] = {
    # docs/domain.md §2: 17 subdistricts, 182 communities, 2,322 unit grids; ~0.7 M residents.
    "dongcheng": dict(
        district_code="110101", n_subdistricts=17, n_communities=182, n_grids=2322,
        seed=2004, residents_total=700_000, subdistrict_names=DONGCHENG_SUBDISTRICTS,
        hotspot_shares={"road": 0.12, "market": 0.04, "school": 0.03, "park": 0.06,
                        "residential": 0.75},
    ),
    # An ordinary pilot city's central district (fictional code 990201): Xuchang-scale load,
    # ~470 due cases a day (docs/domain.md §11), about 0.6 M residents.
    "typical-city": dict(
        district_code="990201", n_subdistricts=8, n_communities=80, n_grids=1200,
        seed=2011, residents_total=600_000,
        subdistrict_names=("Gulou", "Nanguan", "Beiguan", "Xiguan", "Wenfeng", "Dingxiang",
                           "Xinhua", "Jianshe"),
        hotspot_shares={"road": 0.1, "market": 0.04, "school": 0.03, "park": 0.04,
                        "residential": 0.75},
    ),
    # A fictional city ten times Dongcheng (district 990301), for long and large runs:
    # 170 subdistricts, 1,820 communities, 23,220 unit grids, 7 M residents (docs/speed.md).
    "metropolis": dict(
        district_code="990301", n_subdistricts=170, n_communities=1820, n_grids=23220,
        seed=2014, residents_total=7_000_000,
        hotspot_shares={"road": 0.12, "market": 0.04, "school": 0.03, "park": 0.06,
                        "residential": 0.75},
    ),
    # A fictional town (district 990101) small enough for tests and the trainee sandbox.
    "small-town": dict(
        district_code="990101", n_subdistricts=3, n_communities=12, n_grids=120,
        seed=7, residents_total=40_000, subdistrict_names=("Old Town", "Riverside", "Station"),
        hotspot_shares={"road": 0.1, "market": 0.04, "school": 0.03, "park": 0.05,
                        "residential": 0.75},
    ),
}


def build(name: str) -> CityMap:
    """The city ``name`` of `CITIES`, freshly generated."""
    return generate_city(**CITIES[name])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the files on disk instead of writing them")
    args = parser.parse_args(argv)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    stale = []
    for name in CITIES:
        city = build(name)
        path = OUT_DIR / f"{name}.csv"
        summary = (f"{city.n_subdistricts} subdistricts, {city.n_communities} communities, "
                   f"{city.n_grids} grids, {int(city.residents.sum()):,} residents")
        if args.check:
            with tempfile.TemporaryDirectory() as tmp:
                fresh = write_city_csv(city, Path(tmp) / path.name).read_bytes()
            same = path.exists() and path.read_bytes() == fresh
            print(f"{'up to date' if same else 'STALE'}: {path} ({summary})")
            stale += [] if same else [path]
        else:
            write_city_csv(city, path)
            print(f"wrote {path} ({summary})")
    if stale:
        print("run `python scripts/make_cities.py` to regenerate", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
