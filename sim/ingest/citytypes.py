"""The city's own taxonomy: its type names as handbook subclasses, its agencies as departments.

`city_taxonomy` numbers the classes (the mapping's ``class`` column, largest first) and the
types inside each (largest first) into handbook codes ``E01-01`` ...; a class or type past the
98th is pooled into code 99 of its level ("other"). Each type goes to the department that
handled most of its cases (agencies become scenario keys with `sim.ingest.mapping.slug`).
Each type's time limit is the median of ``due - opened`` over its cases where the log has a
``due`` column; a type with fewer than `MIN_DUE` due dates takes its class's, then the whole
log's. Without a ``due`` column the limit is the time within which the city closed three in
four of the type's cases (so on-time rates compare the run with the city's own pace).

The analyst overrides any of it with a handbook CSV (`sim.ingest.handbook_csv` format) whose
optional ``types`` column lists the city type names each row takes (``a | b``; default: its
``name``): `apply_handbook_csv`. `import-log` writes ``handbook.csv`` in that format to edit.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import InputError, reading
from sim.geo.pointgrid import modal_value
from sim.ingest.handbook_csv import DEFAULTS, handbook_rows
from sim.ingest.mapping import slug
from sim.outputs.files import atomic_write

__all__ = ["CityTaxonomy", "city_taxonomy", "apply_handbook_csv", "MIN_DUE", "TYPE_SEP",
           "write_taxonomy_csv", "read_types_table"]

MIN_DUE = 5
"""Fewest due dates a type needs for a time limit of its own."""
TYPE_SEP = " | "
"""Separates city type names in the ``types`` column of a handbook CSV."""
CITIZEN_RATE = 1.0
"""Public reports per hour a new problem draws (judgement): a city's request is made when
someone notices the problem, so the report comes soon after it appears; calibration then
scales it against the inspectors' share (``citizens.propensity_scale``)."""


@dataclass
class CityTaxonomy:
    """Types -> subclass codes, codes -> handbook rows, departments -> agency names.

    ``types`` has one row per (class, type) of the log: ``class``, ``type``, ``code``,
    ``department``, ``cases`` and ``limit_source``.
    """

    types: pd.DataFrame
    classes: list[dict[str, Any]]
    subclasses: list[dict[str, Any]]
    departments: dict[str, str]
    notes: list[str] = field(default_factory=list)

    def code_of(self) -> dict[tuple[str, str], str]:
        return {(c, t): k for c, t, k in zip(self.types["class"], self.types["type"],
                                             self.types["code"], strict=True)}


def _departments(agencies: pd.Series) -> dict[str, str]:
    """Agency name -> a distinct scenario key."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for name in sorted(set(agencies)):
        key = slug(name) if name else "unassigned"
        base, k = key, 2
        while key in used:
            key, k = f"{base}-{k}", k + 1
        used.add(key)
        out[name] = key
    return out


def _hours(a: pd.Series, b: pd.Series) -> pd.Series:
    return (b - a) / pd.Timedelta(hours=1)


def _limit(hours: float) -> float:
    """A limit in whole hours (at least 1), or to 0.1 h below 10 h."""
    return max(1.0, float(round(hours))) if hours >= 10 else max(0.1, round(hours, 1))


def city_taxonomy(rows: pd.DataFrame, *, has_due: bool, has_agency: bool) -> CityTaxonomy:
    """Build the taxonomy from a raw log's good rows (`sim.ingest.rawlog.RawLog.rows`)."""
    r = rows
    cls = r["class"].where(r["class"] != "", "(all types)")
    counts = pd.DataFrame({"class": cls, "type": r["type"]}).value_counts().rename("cases")
    counts = counts.reset_index()
    class_size = counts.groupby("class")["cases"].sum().sort_values(ascending=False,
                                                                     kind="stable")
    class_no = {c: min(i + 1, 99) for i, c in enumerate(
        sorted(class_size.index, key=lambda c: (-class_size[c], c)))}
    counts["class_no"] = counts["class"].map(class_no)
    counts = counts.sort_values(["class_no", "cases", "type"], ascending=[True, False, True],
                                kind="stable")
    counts["sub_no"] = (counts.groupby("class_no").cumcount() + 1).clip(upper=99)
    counts["code"] = [f"E{c:02d}-{s:02d}" for c, s in zip(counts["class_no"], counts["sub_no"],
                                                          strict=True)]
    agency = r["agency"] if has_agency else cls.map(lambda c: c)
    deps = _departments(agency)
    key = pd.DataFrame({"class": cls, "type": r["type"], "agency": agency})
    modal = modal_value(key, ["class", "type"], "agency").to_dict()
    counts["agency"] = [modal[(c, t)] for c, t in zip(counts["class"], counts["type"],
                                                      strict=True)]
    counts["department"] = counts["agency"].map(deps)
    limits, sources = _limits(r, cls, has_due)
    counts["limit_h"] = [limits[(c, t)] for c, t in zip(counts["class"], counts["type"],
                                                        strict=True)]
    counts["limit_source"] = [sources[(c, t)] for c, t in zip(counts["class"], counts["type"],
                                                              strict=True)]
    notes = []
    pooled = counts[(counts["class_no"] == 99) | (counts["sub_no"] == 99)]
    if len(pooled) > 1:
        notes.append(f"{len(pooled)} small types pooled into 'other' codes (99): at most 98 "
                     "classes and 98 types a class have codes of their own")
    usual = [modal[k] for k in zip(key["class"], key["type"], strict=True)]
    share_modal = float((key["agency"] == pd.Series(usual, index=key.index)).mean()) \
        if len(key) else 1.0
    if has_agency:
        notes.append(f"{share_modal:.1%} of cases went to their type's usual agency (the "
                     "department each type is dispatched to)")
    classes, subs = _handbook(counts)
    types = counts[["class", "type", "code", "department", "agency", "cases", "limit_h",
                    "limit_source"]].reset_index(drop=True)
    return CityTaxonomy(types, classes, subs, {v: k for k, v in deps.items()}, notes)


def _limits(r: pd.DataFrame, cls: pd.Series, has_due: bool
            ) -> tuple[dict[tuple[str, str], float], dict[tuple[str, str], str]]:
    keys = list(zip(cls, r["type"], strict=True))
    if has_due:
        hours = _hours(r["opened"], r["due"])
        what, lo = "median of due - opened over", MIN_DUE
    else:
        closed = r["closed"].notna()
        hours = _hours(r["opened"], r["closed"]).where(closed)
        what, lo = "the time within which the city closed 3 in 4 of", MIN_DUE
    frame = pd.DataFrame({"class": cls, "type": r["type"], "h": hours}).dropna()
    q = 0.5 if has_due else 0.75
    g_type, g_class = frame.groupby(["class", "type"])["h"], frame.groupby("class")["h"]
    by_type = pd.DataFrame({"n": g_type.size(), "h": g_type.quantile(q)})
    by_class = pd.DataFrame({"n": g_class.size(), "h": g_class.quantile(q)})
    overall = float(frame["h"].quantile(q)) if len(frame) else 24.0
    limits: dict[tuple[str, str], float] = {}
    sources: dict[tuple[str, str], str] = {}
    t_n, t_h = by_type["n"].to_dict(), by_type["h"].to_dict()
    c_n, c_h = by_class["n"].to_dict(), by_class["h"].to_dict()
    for k in sorted(set(keys)):
        if t_n.get(k, 0) >= lo:
            n, h, where = t_n[k], t_h[k], "its"
        elif c_n.get(k[0], 0) >= lo:
            n, h, where = c_n[k[0]], c_h[k[0]], "its class's"
        else:
            n, h, where = len(frame), overall, "the whole log's"
        limits[k] = _limit(float(h) if math.isfinite(h) and h > 0 else 24.0)
        sources[k] = f"{what} {where} {int(n)} cases"
    return limits, sources


def _handbook(counts: pd.DataFrame) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Handbook YAML data: classes and one subclass per code (pooled types share one)."""
    classes: dict[int, dict[str, Any]] = {}
    subs: dict[str, dict[str, Any]] = {}
    for row in counts.itertuples(index=False):
        cname = row[0] if row.class_no < 99 else "Other classes"
        classes.setdefault(row.class_no, {"kind": "event", "code": f"{row.class_no:02d}",
                                          "name": cname})
        if row.code in subs:
            s = subs[row.code]
            s["share"] += int(row.cases)
            s["name"] = f"Other ({row.class_no:02d})"
            continue
        subs[row.code] = {
            "code": row.code, "name": str(row.type), "department": row.department,
            "urgency": "normal",
            "filing_criterion": "Filed as the city's platform filed it.",
            "closing_criterion": "Closed as the city's platform closed it.",
            "time_limit": {"value": row.limit_h, "unit": "h"},
            "handling_hours": {"dist": "lognormal", "mean": DEFAULTS["handling_mean_hours"],
                               "cv": DEFAULTS["handling_cv"]},
            "share": int(row.cases), "detection": DEFAULTS["detection"],
            "citizen_rate": CITIZEN_RATE, "on_spot": 0.0}
    return [classes[k] for k in sorted(classes)], [subs[k] for k in sorted(subs)]


def apply_handbook_csv(tax: CityTaxonomy, path: str | Path) -> CityTaxonomy:
    """The analyst's handbook CSV over the derived taxonomy: its rows replace the derived
    subclasses, and its ``types`` column (default: ``name``) says which city types each
    code takes. Types the CSV does not list keep their derived codes, unless the CSV uses
    that code for something else (then they are reported and pooled into the CSV's row)."""
    classes, subs = handbook_rows(path)
    listed: dict[tuple[str, str], str] = {}
    with reading(str(path), "a handbook (CSV)"), open(path, encoding="utf-8-sig",
                                                      newline="") as f:
        reader = csv.DictReader(f)
        for raw in reader:
            code = (raw.get("code") or "").strip()
            cname = (raw.get("class") or "").strip()
            names = (raw.get("types") or raw.get("name") or "").split(TYPE_SEP.strip())
            for n in names:
                if n.strip():
                    listed[(cname, n.strip())] = code
    known = {s["code"] for s in subs}
    derived = tax.types.copy()
    keys = list(zip(derived["class"], derived["type"], strict=True))
    by_type = {t: code for (_, t), code in listed.items()}
    new_code = [listed.get(k) or by_type.get(k[1]) or c for k, c in zip(keys, derived["code"],
                                                                        strict=True)]
    derived["code"] = new_code
    derived["limit_source"] = np.where(derived["code"].isin(known), f"{Path(path).name}",
                                       derived["limit_source"])
    own = {s["code"]: s for s in subs}
    dep_of = {s["code"]: s["department"] for s in subs}
    derived["department"] = derived["code"].map(dep_of).fillna(derived["department"])
    keep_subs = [own.get(s["code"], s) for s in tax.subclasses if s["code"] not in own]
    keep_subs = [s for s in keep_subs if s["code"] in set(derived["code"])]
    cases = derived.groupby("code")["cases"].sum()
    all_subs = []
    for s in sorted([*subs, *keep_subs], key=lambda s: s["code"]):
        s = dict(s)
        s["share"] = int(cases.get(s["code"], 0)) or 0.5
        all_subs.append(s)
    class_codes = {(c["kind"], c["code"]) for c in classes}
    extra = [c for c in tax.classes if ("event", c["code"]) not in class_codes and any(
        s["code"][1:3] == c["code"] for s in keep_subs)]
    notes = [*tax.notes, f"handbook {Path(path).name}: {len(subs)} subclasses given, "
             f"{len(keep_subs)} derived ones kept for types it does not list"]
    deps = dict(tax.departments)
    for s in subs:
        deps.setdefault(s["department"], s["department"])
    return CityTaxonomy(derived, [*classes, *extra], all_subs, deps, notes)


def write_taxonomy_csv(tax: CityTaxonomy, path: str | Path) -> Path:
    """The taxonomy as an editable handbook CSV (`sim.ingest.handbook_csv` columns plus
    ``types``, ``cases``, ``agency`` and ``limit_source``): pass it back as ``--handbook``."""
    t = tax.types.astype({"type": str, "limit_source": str})
    by_code = t.groupby("code")
    joined = by_code["type"].agg(TYPE_SEP.join).to_dict()
    cases = by_code["cases"].sum().to_dict()
    sources = by_code["limit_source"].agg(lambda s: "; ".join(sorted(set(s)))).to_dict()
    rows = []
    cls_name = {c["code"]: c["name"] for c in tax.classes}
    for s in tax.subclasses:
        code = s["code"]
        rows.append({
            "code": code, "name": s["name"], "class": cls_name.get(code[1:3], ""),
            "department": s["department"], "urgency": s["urgency"],
            "limit": s["time_limit"]["value"], "limit_unit": s["time_limit"]["unit"],
            "closing_criterion": s["closing_criterion"],
            "types": joined.get(code, ""), "cases": int(cases.get(code, 0)),
            "agency": tax.departments.get(s["department"], s["department"]),
            "limit_source": sources.get(code, "")})
    frame = pd.DataFrame(rows)
    return atomic_write(Path(path), lambda p: frame.to_csv(p, index=False, lineterminator="\n"))


def read_types_table(path: str | Path) -> dict[tuple[str, str], str]:
    """(class, type) -> code from a handbook CSV with a ``types`` column (as written by
    `write_taxonomy_csv`); raises InputError when it has none."""
    out: dict[tuple[str, str], str] = {}
    with reading(str(path), "a handbook (CSV)"), open(path, encoding="utf-8-sig",
                                                      newline="") as f:
        reader = csv.DictReader(f)
        if "types" not in (reader.fieldnames or []):
            raise InputError(str(path), 1, "types", "expected a 'types' column listing the "
                             "city's type names of each code, got none")
        for raw in reader:
            for n in (raw.get("types") or "").split(TYPE_SEP.strip()):
                if n.strip():
                    out[((raw.get("class") or "").strip(), n.strip())] = raw["code"].strip()
    return out
