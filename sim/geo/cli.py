"""``gridloop import-map MAP.geojson --out DIR``: a real map as a city, and a scenario to run it.

Writes ``DIR/cities/<name>.csv`` and ``DIR/cities/<name>.shapes.json`` (`sim.geo`), a copy of
the bundled dispatch handbook in ``DIR/handbook/standard.yaml`` and a starter scenario
``DIR/<name>.yaml``: small-town's settings with the load and staff scaled by the number of
grids, ready for ``gridloop run DIR/<name>.yaml``.
"""

from __future__ import annotations

import argparse
import math
import shutil
from pathlib import Path
from typing import Any

from sim.i18n import _

__all__ = ["register", "starter_scenario"]

BASE = "small-town"
BASE_GRIDS = 120  # grids of the base scenario's city
GRIDS_PER_BEAT = 12  # small-town: 20 inspectors, 2 shifts, 10 beats of 12 grids


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "import-map", help=_("import unit grids from a GeoJSON map and write a starter scenario"),
        description=_("Import unit grids (Polygon/MultiPolygon features with a 15-digit grid "
                    "code) from a GeoJSON map: writes the grid table, the shapes and a starter "
                    "scenario into --out."))
    p.add_argument("map", help=_("GeoJSON FeatureCollection of unit-grid polygons, e.g. "
                               "scenarios/examples/synthetic-district.geojson"))
    p.add_argument("--out", required=True, help=_("folder for the scenario, cities/ and "
                                                 "handbook/, e.g. my-city"))
    p.add_argument("--name", default=None, help=_("city and scenario name, e.g. pilot "
                                                "(default: the map's file name)"))
    p.add_argument("--district-code", default=None, help=_("6 digits every grid code must start "
                                                         "with, e.g. 110101 (default: the "
                                                         "first code's)"))
    p.add_argument("--code-property", default="code", help=_("property holding the grid code, e.g. "
                                                                "GRID_CODE (default: code)"))
    p.add_argument("--subdistrict-property", default="subdistrict",
                   help=_("property holding the subdistrict's name, e.g. STREET "
                        "(default: subdistrict)"))
    p.add_argument("--community-property", default="community",
                   help=_("property holding the community's name, e.g. SHEQU (default: community)"))
    p.add_argument("--residents-property", default="residents",
                   help=_("property holding the residents, e.g. POP (default: residents)"))
    p.add_argument("--residents-per-ha", type=float, default=300.0,
                   help=_("residents per hectare when the map has no residents property, e.g. "
                        "150 (default 300)"))
    p.add_argument("--tolerance-m", type=float, default=0.5,
                   help=_("how far apart (m) two grid boundaries may lie and still be one edge, "
                        "e.g. 2 (default 0.5)"))
    p.add_argument("--units", choices=["auto", "degrees", "metres"], default="auto",
                   help=_("coordinates: lon/lat degrees, projected metres, or auto (the crs "
                        "member, else degrees when every number could be one)"))
    p.add_argument("--force", action="store_true", help=_("overwrite an existing scenario file"))
    p.set_defaults(handler=_cmd_import_map)


def _dumper() -> type:
    import yaml

    class ScenarioDumper(yaml.SafeDumper):
        """Block mappings, with lists of plain values on one line, as the bundled files."""

    def flow_lists(dumper: yaml.SafeDumper, items: list) -> yaml.Node:
        inline = all(not isinstance(x, dict | list) for x in items)
        return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=inline)

    ScenarioDumper.add_representer(list, flow_lists)
    return ScenarioDumper


def _scaled(value: float, factor: float, low: int = 1) -> int:
    return max(low, int(round(value * factor)))


def starter_scenario(name: str, district_code: str, n_grids: int, grid_side_m: float,
                     source: str) -> tuple[dict[str, Any], str]:
    """The starter scenario's data and its header comment: small-town scaled to ``n_grids``."""
    from sim.data.scenario import scenario_path
    from sim.data.yamlfile import read_yaml

    base, _ = read_yaml(scenario_path(BASE))
    factor = n_grids / BASE_GRIDS
    data: dict[str, Any] = dict(base)
    data["name"] = name
    data["description"] = f"Unit grids imported from {source}; settings from {BASE}, scaled."
    data["city"] = {"grids_file": f"cities/{name}.csv", "district_code": district_code,
                    "grid_side_m": round(grid_side_m, 1),
                    "walk_speed_kmh": base["city"]["walk_speed_kmh"]}
    data["handbook"] = {"file": "handbook/standard.yaml"}
    data["problems"] = {**base["problems"],
                        "per_day": round(base["problems"]["per_day"] * factor, 1)}
    beats = max(1, math.ceil(n_grids / GRIDS_PER_BEAT))
    shifts = base["inspectors"]["shifts"]
    data["inspectors"] = {**base["inspectors"], "count": beats * shifts}
    data["centre"] = {k: _scaled(v, factor) for k, v in base["centre"].items()}
    data["departments"] = {k: {**v, "crews": _scaled(v["crews"], factor)}
                           for k, v in base["departments"].items()}
    header = (
        f"# Starter scenario for {name}: {n_grids} unit grids imported from {source}\n"
        f"# by `gridloop import-map`. Everything else is {BASE}'s ({BASE_GRIDS} grids),\n"
        f"# scaled by {n_grids}/{BASE_GRIDS}: problems.per_day, centre staff and department\n"
        f"# crews (at least 1 each); inspectors: one beat per {GRIDS_PER_BEAT} grids, "
        f"{shifts} shifts.\n"
        f"# city.grid_side_m is the side of a square of the median grid area; walking times\n"
        f"# come from the grid centroids (cities/{name}.csv x_m, y_m). Replace the numbers\n"
        f"# with the city's own (`gridloop calibrate` fits them to a case log).\n")
    return data, header


def _cmd_import_map(args: argparse.Namespace) -> int:
    import yaml

    from sim.data.scenario import SCENARIO_DIR, load_scenario
    from sim.errors import GridLoopError
    from sim.geo import read_geojson, write_city
    from sim.outputs.files import atomic_write

    out = Path(args.out)
    name = args.name or Path(args.map).stem
    scenario_file = out / f"{name}.yaml"
    if scenario_file.exists() and not args.force:
        raise GridLoopError(f"import-map: {scenario_file} exists; pass --force to overwrite it")
    print(f"reading {args.map}")
    grid_map = read_geojson(
        args.map, district_code=args.district_code, code_property=args.code_property,
        subdistrict_property=args.subdistrict_property,
        community_property=args.community_property,
        residents_property=args.residents_property, residents_per_ha=args.residents_per_ha,
        tolerance_m=args.tolerance_m, units=args.units)
    for note in grid_map.notes:
        print(f"  note: {note}")
    grids_file = write_city(grid_map, out / "cities" / f"{name}.csv")
    handbook = out / "handbook" / "standard.yaml"
    if not handbook.exists():
        atomic_write(handbook, lambda tmp: shutil.copyfile(
            SCENARIO_DIR / "handbook" / "standard.yaml", tmp))
    data, header = starter_scenario(name, grid_map.district_code, grid_map.n_grids,
                                    grid_map.grid_side_m, Path(args.map).name)
    text = header + yaml.dump(data, Dumper=_dumper(), sort_keys=False,
                              allow_unicode=True, width=100, default_flow_style=False)
    atomic_write(scenario_file, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    scenario = load_scenario(scenario_file)  # the file names everything it needs
    n_sub = len(grid_map.subdistrict_names)
    n_comm = len(grid_map.community_names)
    print(f"{grid_map.n_grids} grids ({n_sub} subdistricts, {n_comm} communities, "
          f"median {grid_map.grid_side_m ** 2 / 10_000:.2f} ha, {len(grid_map.neighbours)} "
          f"shared edges) in district {grid_map.district_code}")
    print(f"wrote {grids_file}, {grids_file.with_name(name + '.shapes.json').name}, "
          f"{handbook}, {scenario_file}")
    print(f"next: gridloop run {scenario_file} --days 7   "
          f"({scenario.inspectors.count} inspectors, {scenario.problems.per_day:g} problems "
          f"a day)")
    return 0
