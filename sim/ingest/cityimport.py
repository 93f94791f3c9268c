"""A raw export and its mapping in; a checked case log, the city's handbook and grids out.

`import_city` chains the steps every command with ``--mapping`` shares (import-log, calibrate
and validate-against):

1. `sim.ingest.rawlog.read_raw`: every row typed, or set aside with its line, column and reason;
2. the taxonomy (`sim.ingest.citytypes`): types -> subclasses, agencies -> departments, time
   limits from the ``due`` column; or the run's own handbook when validating against a run;
3. unit grids: a grid column, cells over the points (`sim.geo.pointgrid`), a GeoJSON map's
   polygons the points fall in, or one grid per area;
4. the `CaseLog` the rest of `sim.ingest` reads: open cases are filed and dispatched like
   closed ones (at their opening time when the log has no filing or dispatch times).

Files are written with a ``prefix`` into ``folder``: ``handbook.yaml`` (and ``handbook.csv``,
the editable override with the ``types`` column), ``grids.csv``, ``cases.csv`` (the case log in
GridLoop's import format) and ``rejected.csv``. Nothing else in the folder is touched.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.data.taxonomy import Handbook, load_handbook
from sim.errors import GridLoopError, InputError
from sim.ingest.caselog import CASELOG_COLUMNS, CaseLog, Rejection
from sim.ingest.citytypes import (
    CityTaxonomy,
    apply_handbook_csv,
    city_taxonomy,
    read_types_table,
    write_taxonomy_csv,
)
from sim.ingest.handbook_csv import write_handbook_yaml
from sim.ingest.mapping import Mapping, slug
from sim.ingest.rawlog import RawLog, read_raw
from sim.outputs.files import atomic_write

__all__ = ["CityImport", "import_city", "write_rejected_rows", "REJECTED_COLUMNS"]

REJECTED_COLUMNS = ("line", "column", "reason")


@dataclass
class CityImport:
    """What `import_city` read and wrote."""

    raw: RawLog
    log: CaseLog
    handbook: Handbook
    grids_file: Path
    district_code: str
    taxonomy: CityTaxonomy | None
    paths: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def write_rejected_rows(rejected: list[Rejection], header: list[str], path: str | Path
                        ) -> Path:
    """``line, column, reason`` and then the row as read, one rejected row a line (a header
    alone when none was rejected)."""
    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow([*REJECTED_COLUMNS, *header])
            for j in rejected:
                w.writerow([j.line, j.column, j.reason, *(j.row.get(h, "") for h in header)])
    return atomic_write(Path(path), write)


def _grids(raw: RawLog, mapping: Mapping, folder: Path, prefix: str,
           city_file: Path | None) -> tuple[np.ndarray, Path, str, list[str]]:
    """Each good row's grid code, the grid table's path, the district code and notes."""
    from sim.geo.pointgrid import grid_from_areas, grid_from_points, write_grid_table

    r = raw.rows
    rule = mapping.grid
    column = rule.column or mapping.columns.grid
    if city_file is not None:  # validating against a run: its grid table, codes as they are
        from sim.data.citymap import load_city
        district = _district_of(city_file)
        city = load_city(city_file, district)
        raw.grids_file = city_file
        codes = _codes_in_city(raw, mapping, city, column)
        return codes, city_file, district, []
    if column is not None:
        bad = ~r["grid"].str.fullmatch(r"\d{15}")
        raw.reject(bad.to_numpy(), column, "expected a 15-digit grid code (6 district + 3 "
                   "subdistrict + 3 community + 3 sequence), got " + r["grid"].map(repr))
        r = raw.rows
        district = r["grid"].str[:6].mode().iloc[0] if len(r) else rule.district_code
        other = (r["grid"].str[:6] != district).to_numpy()
        raw.reject(other, column, f"expected a grid of district {district} (the log's), got " +
                   r["grid"])
        from sim.ingest.citycodes import write_grids_from_codes
        path = write_grids_from_codes(raw.rows["grid"], folder / f"{prefix}grids.csv")
        return raw.rows["grid"].to_numpy(dtype=object), path, district, [
            "grids: the log's grid codes (schematic layout)"]
    if rule.map is not None:
        return _grids_from_map(raw, mapping, folder, prefix)
    if np.isfinite(r["lat"].to_numpy()).any():
        pg = grid_from_points(r["lat"].to_numpy(), r["lon"].to_numpy(),
                              cell_m=rule.cell_m or 250.0, area=r["area"],
                              district_code=rule.district_code)
    else:
        pg = grid_from_areas(r["area"], district_code=rule.district_code)
    path = write_grid_table(pg, folder / f"{prefix}grids.csv", source=Path(raw.source).name)
    return pg.codes, path, rule.district_code, list(pg.notes)


def _district_of(grids_file: Path) -> str:
    with open(grids_file, encoding="utf-8") as f:
        next(f)
        first = f.readline().split(",", 1)[0].strip()
    return first[:6]


def _codes_in_city(raw: RawLog, mapping: Mapping, city, column: str | None  # noqa: ANN001
                   ) -> np.ndarray:
    """Grid codes of the rows in a run's city: the log's own codes where it has them; else
    each point's nearest grid centre (the city's shapes file says where its metres start);
    else the cells or areas made again the calibration's way (a code the city lacks goes to
    its first grid)."""
    r = raw.rows
    if column is not None:
        bad = ~r["grid"].isin(list(city.codes)).to_numpy()
        raw.reject(bad, column, "expected a grid of the run's city, got " + r["grid"])
        return raw.rows["grid"].to_numpy(dtype=object)
    from sim.geo.pointgrid import grid_from_areas, grid_from_points
    from sim.geo.shapes import shapes_path

    origin = _origin_of(shapes_path(raw.grids_file)) if raw.grids_file else None
    if np.isfinite(r["lat"].to_numpy()).any() and city.geometry is not None and origin:
        from scipy.spatial import cKDTree

        from sim.geo.geometry import project_lonlat
        x, y = project_lonlat(r["lon"].to_numpy(), r["lat"].to_numpy(), *origin)
        tree = cKDTree(np.column_stack([city.geometry.x_m, city.geometry.y_m]))
        _, nearest = tree.query(np.column_stack([x, y]))
        return np.asarray(city.codes, dtype=object)[nearest]
    if np.isfinite(r["lat"].to_numpy()).any():  # no shapes file: cells made again
        codes = grid_from_points(r["lat"].to_numpy(), r["lon"].to_numpy(),
                                 cell_m=mapping.grid.cell_m or 250.0, area=r["area"],
                                 district_code=mapping.grid.district_code).codes
    else:
        codes = grid_from_areas(r["area"], district_code=mapping.grid.district_code).codes
    known = set(city.codes)
    return np.array([c if c in known else city.codes[0] for c in codes], dtype=object)


def _origin_of(path: Path) -> tuple[float, float] | None:
    import json
    try:
        origin = json.loads(path.read_text(encoding="utf-8")).get("origin_lonlat")
    except (OSError, ValueError, AttributeError):
        return None
    return (float(origin[0]), float(origin[1])) if isinstance(origin, list) else None


def _grids_from_map(raw: RawLog, mapping: Mapping, folder: Path | None, prefix: str
                    ) -> tuple[np.ndarray, Path, str, list[str]]:
    """Grids from a GeoJSON map of unit grids: the polygon each point falls in."""
    from sim.geo import read_geojson, write_city
    from sim.geo.geometry import locate_points, project_lonlat

    rule = mapping.grid
    assert rule.map is not None
    grid_map = read_geojson(mapping.resolve(rule.map), code_property=rule.code_property)
    r = raw.rows
    lat, lon = r["lat"].to_numpy(), r["lon"].to_numpy()
    if grid_map.origin is None:
        raise GridLoopError(f"grid.map {rule.map}: expected a map in longitude/latitude to "
                            f"place the log's points, got projected metres")
    x, y = project_lonlat(lon, lat, *grid_map.origin)
    at = locate_points(grid_map.shapes, x, y)
    outside = at < 0
    where = mapping.columns.point or mapping.columns.lat or "lat"
    raw.reject(outside, where, f"expected a point inside one of the grids of {rule.map}, got "
               + r["lat"].round(6).astype(str) + ", " + r["lon"].round(6).astype(str))
    codes = np.asarray(grid_map.codes, dtype=object)[at[~outside]]
    notes = [f"grids: the polygons of {rule.map} ({grid_map.n_grids} grids)"]
    if folder is None:
        return codes, Path(), grid_map.district_code, notes
    path = write_city(grid_map, folder / f"{prefix}grids.csv")
    return codes, path, grid_map.district_code, notes


def import_city(raw_path: str | Path, mapping: Mapping, folder: str | Path, *,
                prefix: str = "", handbook_csv: str | Path | None = None,
                run_handbook: str | Path | None = None, run_grids: str | Path | None = None,
                write_cases: bool = True) -> CityImport:
    """Read ``raw_path`` with ``mapping`` and write the city's files into ``folder``.

    Args:
        prefix: put before each file name (``town.`` -> ``town.handbook.yaml``).
        handbook_csv: the analyst's handbook CSV over the derived taxonomy.
        run_handbook, run_grids: validating against a run: its handbook (with the handbook
            CSV beside it, ``H.csv`` for ``H.yaml``, mapping city types to codes) and its grid
            table, instead of deriving new ones.

    Raises:
        InputError: a bad file, a mapping naming a missing column, or no good row (after
            ``rejected.csv`` is written, so every reason is there to read).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    raw = read_raw(raw_path, mapping)
    notes = list(raw.notes)
    paths: dict[str, Path] = {}
    taxonomy: CityTaxonomy | None = None
    if run_handbook is None:
        if len(raw.rows):
            taxonomy = city_taxonomy(raw.rows, has_due="due" in mapping.columns.named(),
                                     has_agency="agency" in mapping.columns.named())
            if handbook_csv is not None:
                taxonomy = apply_handbook_csv(taxonomy, handbook_csv)
            notes += taxonomy.notes
    grid_codes, grids_file, district, grid_notes = (
        _grids(raw, mapping, folder, prefix, Path(run_grids) if run_grids else None)
        if len(raw.rows) else (np.zeros(0, dtype=object), folder / f"{prefix}grids.csv",
                               mapping.grid.district_code, []))
    notes += grid_notes
    if run_handbook is not None:
        handbook = load_handbook(run_handbook)
        code_of = _run_codes(handbook, Path(run_handbook))
        cls = raw.rows["class"].where(raw.rows["class"] != "", "(all types)")
        keys = list(zip(cls, raw.rows["type"], strict=True))
        by_type = {t: c for (_, t), c in code_of.items()}
        codes = np.array([code_of.get(k) or by_type.get(k[1]) or "" for k in keys],
                         dtype=object)
        unknown = codes == ""
        raw.reject(unknown, mapping.columns.type, "expected a type of the run's handbook "
                   f"{Path(run_handbook).name}, got " + raw.rows["type"].map(repr))
        grid_codes = grid_codes[~unknown]
        codes = codes[~unknown]
    elif len(raw.rows):
        assert taxonomy is not None
        cls = raw.rows["class"].where(raw.rows["class"] != "", "(all types)")
        code_of = taxonomy.code_of()
        codes = np.array([code_of[k] for k in zip(cls, raw.rows["type"], strict=True)],
                         dtype=object)
    else:
        codes = np.zeros(0, dtype=object)
    paths["rejected"] = write_rejected_rows(raw.rejected, raw.header,
                                            folder / f"{prefix}rejected.csv")
    if not len(raw.rows):
        first = f" (line {raw.rejected[0].line}, {raw.rejected[0].column}: " \
                f"{raw.rejected[0].reason})" if raw.rejected else ""
        raise InputError(str(raw_path), None, "", f"expected at least one good case row, got "
                         f"{len(raw.rejected)} bad and none good{first}; every reason is in "
                         f"{paths['rejected']}")
    if run_handbook is None:
        assert taxonomy is not None
        hb_path = folder / f"{prefix}handbook.yaml"
        header = (f"The city's own taxonomy, derived from {Path(raw_path).name} by GridLoop "
                  "(docs/import.md):\none subclass per type of the log, its department the "
                  "agency that handled most of its\ncases, its time limit from the log "
                  "(limit_source in handbook.csv). Edit handbook.csv\nand pass it back with "
                  "--handbook to override any of it.")
        write_handbook_yaml(hb_path, f"Handbook of {Path(raw_path).stem}", taxonomy.classes,
                            taxonomy.subclasses, header=header)
        paths["handbook"] = hb_path
        paths["handbook_csv"] = write_taxonomy_csv(taxonomy, hb_path.with_suffix(".csv"))
        handbook = load_handbook(hb_path)
    paths["grids"] = grids_file
    dep_of = {s.code: s.department for s in handbook.subclasses}
    log = _caselog(raw, codes, grid_codes, dep_of, str(raw_path))
    if write_cases:
        paths["cases"] = write_cases_csv(log, folder / f"{prefix}cases.csv")
    return CityImport(raw, log, handbook, Path(grids_file), district, taxonomy, paths, notes)


def _run_codes(handbook: Handbook, path: Path) -> dict[tuple[str, str], str]:
    """(class, type) -> code of a run's handbook: its handbook CSV's ``types`` column, else
    the subclasses' names."""
    table = path.with_suffix(".csv")
    if table.exists():
        return read_types_table(table)
    cls = {c.code: c.name for c in handbook.classes if c.kind == "event"}
    return {(cls.get(s.code[1:3], ""), s.name): s.code for s in handbook.subclasses}


def _caselog(raw: RawLog, codes: np.ndarray, grids: np.ndarray, dep_of: dict[str, str],
             source: str) -> CaseLog:
    r = raw.rows
    has_agency = "agency" in raw.mapping.columns.named()
    department = (r["agency"].map(lambda a: slug(a) if a else "") if has_agency
                  else pd.Series([dep_of[c] for c in codes], index=r.index))
    department = department.where(department != "", pd.Series([dep_of[c] for c in codes],
                                                               index=r.index))
    if has_agency:  # the agency's key as the taxonomy made it (disambiguated slugs)
        known = set(dep_of.values())
        department = department.where(department.isin(known),
                                      pd.Series([dep_of[c] for c in codes], index=r.index))
    filed = r["filed"].fillna(r["opened"])
    voided = r["status"] == "voided"
    dispatched = r["dispatched"].fillna(filed).where(~voided)
    cases = pd.DataFrame({
        "id": r["id"].to_numpy(), "subclass": codes, "grid": grids,
        "status": r["status"].to_numpy(), "department": department.to_numpy(),
        "channel": r["channel"].to_numpy(), "line": r["line"].to_numpy(),
        "requested_datetime": r["opened"].to_numpy(), "filed_datetime": filed.to_numpy(),
        "dispatched_datetime": dispatched.to_numpy(),
        "handled_datetime": r["handled"].to_numpy(), "checked_datetime": r["checked"].to_numpy(),
        "closed_datetime": r["closed"].to_numpy(), "due_datetime": r["due"].to_numpy()})
    cases = cases.sort_values(["requested_datetime", "line"], kind="stable").reset_index(drop=True)
    return CaseLog(source, cases, list(raw.rejected), ())


def write_cases_csv(log: CaseLog, path: str | Path) -> Path:
    """The case log in GridLoop's import format (`sim.ingest.caselog`), ISO 8601 local times."""
    c = log.cases
    out = pd.DataFrame({"service_request_id": c["id"], "service_code": c["subclass"]})
    for col in ("requested_datetime", "updated_datetime", "status", "agency_responsible", "lat",
                "long", "grid_code", "channel", "filed_datetime", "dispatched_datetime",
                "handled_datetime", "checked_datetime", "closed_datetime"):
        if col.endswith("_datetime") and col in c:
            out[col] = c[col].dt.strftime("%Y-%m-%dT%H:%M:%S").fillna("")
        else:
            out[col] = ""
    out["status"] = c["status"]
    out["agency_responsible"] = c["department"]
    out["grid_code"] = c["grid"]
    out["channel"] = c["channel"]
    return atomic_write(Path(path), lambda p: out[list(CASELOG_COLUMNS)].to_csv(
        p, index=False, lineterminator="\n"))
