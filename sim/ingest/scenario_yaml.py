"""`gridloop calibrate`: a case log in, a commented scenario (and its handbook and city) out.

For ``--out city.yaml`` it writes, next to it:

    city.yaml            the scenario; every fitted number says where it came from
    city.handbook.yaml   the handbook with fitted shares and handling hours
    city.grids.csv       the city's grid table (unless ``--grids`` or ``--map`` gives one)
    city.arrivals.csv    cases per subclass x subdistrict x hour of week, observed and fitted
    city.handling.csv    every handling-time fit (department x subclass, and pooled)
    city.rejected.csv    rows of the log that were turned away, with reasons (if any)
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.data.citymap import load_city
from sim.data.scenario import SCENARIO_DIR, Scenario, load_scenario
from sim.data.taxonomy import load_handbook
from sim.errors import InputError
from sim.ingest.calibrate import (
    Arrivals,
    Estimates,
    arrival_table,
    crews_for,
    estimate,
    handling_of,
)
from sim.ingest.caselog import CaseLog, read_caselog, write_rejected
from sim.ingest.citycodes import write_grids_from_codes
from sim.ingest.handbook_csv import handbook_rows, write_handbook_yaml
from sim.outputs.csvcells import safe_frame
from sim.outputs.files import atomic_write

__all__ = ["Calibration", "calibrate", "base_handbook"]


@dataclass(frozen=True)
class Calibration:
    """What `calibrate` wrote and found."""

    scenario: Scenario
    estimates: Estimates
    log: CaseLog
    paths: dict[str, Path]


def _flow(obj: Any) -> str:
    """``obj`` as one line of YAML (a string as a JSON string, which YAML reads back)."""
    if isinstance(obj, str):
        return json.dumps(obj, ensure_ascii=False)
    return yaml.safe_dump(obj, default_flow_style=True, width=math.inf,
                          allow_unicode=True).strip()


def base_handbook(path: str | Path | None) -> tuple[str, list[dict], list[dict]]:
    """(name, classes, subclasses) of a handbook CSV or YAML (default: the bundled one)."""
    p = Path(path) if path else SCENARIO_DIR / "handbook" / "standard.yaml"
    if p.suffix.lower() == ".csv":
        classes, subs = handbook_rows(p)
        return f"Handbook imported from {p.name}", classes, subs
    hb = load_handbook(p)
    classes = [c.model_dump(mode="json", exclude_defaults=True) | {"kind": c.kind, "code": c.code}
               for c in hb.classes]
    subs = [s.model_dump(mode="json", exclude_none=True) for s in hb.subclasses]
    return hb.name, classes, subs


def _city(log: CaseLog, out: Path, grids: str | Path | None, map_file: str | Path | None,
          say: Callable[[str], None]) -> tuple[Path, str]:
    district = log.cases["grid"].iloc[0][:6]
    if map_file is not None:
        from sim.geo import import_geojson

        path = Path(import_geojson(map_file, out.parent, district_code=district))
        return path, f"imported from the map {Path(map_file).name}"
    if grids is not None:
        return Path(grids), f"the grid table {Path(grids).name}"
    path = out.with_suffix(".grids.csv")
    write_grids_from_codes(log.cases["grid"], path)
    say(f"  city: {log.cases['grid'].nunique()} grids from the log's codes -> {path.name}")
    return path, ("made from the grid codes in the log (schematic layout, uniform "
                  "residents; pass --grids or --map for the real one)")


def calibrate(log_path: str | Path, out: str | Path, *, handbook: str | Path | None = None,
              grids: str | Path | None = None, map_file: str | Path | None = None,
              arrivals: Arrivals = "auto", min_cases: int = 30, name: str | None = None,
              refine: int = 0, say: Callable[[str], None] = lambda _m: None) -> Calibration:
    """Fit a scenario to a case log and write it (and its handbook, city and tables).

    ``refine`` > 0 runs the fitted scenario for that many days (at most the log's) and sets
    ``problems.rate_scale`` so the run files as many cases a day as the log.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    hb_name, classes, subs = base_handbook(handbook)
    listed = {s["code"]: s["department"] for s in subs}
    say(f"reading {log_path}")
    log = read_caselog(log_path, subclasses=listed)
    paths: dict[str, Path] = {}
    if log.rejected:
        paths["rejected"] = write_rejected(log, out.with_suffix(".rejected.csv"))
        say(f"  {len(log.rejected)} rows rejected -> {paths['rejected'].name}")
    say(f"  {len(log.cases):,} cases over {log.days} days from {log.start_date}")
    grids_path, city_note = _city(log, out, grids, map_file, say)
    district = log.cases["grid"].iloc[0][:6]
    city = load_city(grids_path, district)
    known = set(city.codes)
    unknown = log.cases[~log.cases["grid"].isin(known)]
    if len(unknown):
        first = unknown.iloc[0]
        raise InputError(str(log_path), int(first["line"]), "grid_code",
                         f"expected a grid of the city in {grids_path.name}, got {first['grid']}")
    department_of = dict(listed)
    moved: dict[str, str] = {}
    if handbook is None:  # the bundled handbook is a default: the log says who handles what
        modal = log.cases[log.cases["department"] != ""].groupby("subclass")["department"] \
            .agg(lambda s: s.value_counts().index[0])
        for code, dep in modal.items():
            if department_of.get(str(code)) != dep:
                moved[str(code)] = f"{department_of.get(str(code))} -> {dep}"
                department_of[str(code)] = str(dep)
    base = np.sqrt(np.maximum(city.residents, 1.0))  # residents ** residents_exponent (0.5)
    say("fitting arrivals and handling times")
    est = estimate(log, city, base, department_of=department_of, arrivals=arrivals,
                   min_cases=min_cases)
    paths["arrivals"] = atomic_write(out.with_suffix(".arrivals.csv"), lambda p: safe_frame(
        arrival_table(log, city, base, est)).to_csv(p, index=False))
    paths["handling"] = atomic_write(out.with_suffix(".handling.csv"),
                                     lambda p: safe_frame(_fits_frame(est)).to_csv(p, index=False))
    hb_path = out.with_suffix(".handbook.yaml")
    paths["handbook"] = _write_handbook(hb_path, hb_name, classes, subs, est, moved,
                                        Path(log_path).name)
    text = _scenario_text(out, name or out.stem, est, log, grids_path, city_note, district,
                          city.n_grids, hb_path)
    paths["scenario"] = atomic_write(out, lambda p: p.write_text(text, encoding="utf-8"))
    scenario = load_scenario(out)
    if refine:
        lines = _refine(out, est, refine, say)   # whole lines, by their key and value
        text = "".join(next((v for k, v in lines.items() if line.split("#")[0].rstrip() == k),
                            line) + "\n" for line in text.splitlines())
        atomic_write(out, lambda p: p.write_text(text, encoding="utf-8"))
        scenario = load_scenario(out)
    return Calibration(scenario, est, log, paths)


_RATE_LINE = "  rate_scale: 1.0"
_PROPENSITY_LINE = "  propensity_scale: 1.0"


def _refine(out: Path, est: Estimates, days: int, say: Callable[[str], None],
            rounds: int = 3, min_public: int = 200) -> dict[str, str]:
    """Pilot runs of the fitted scenario, and the lines that make it file as many cases a day
    as the log and with the log's public share. Each round multiplies ``problems.rate_scale``
    by log / run filed cases a day and ``citizens.propensity_scale`` by log / run public share
    (both grow about in proportion; the latter only from ``min_public`` public reports up,
    as fewer are too noisy to steer by); it stops when both are within 2%."""
    from sim.run import simulate

    days = min(days, est.days)
    rate, propensity = 1.0, 1.0
    per_day = public = 0.0
    for k in range(rounds):
        say(f"pilot run {k + 1}: {days} days at rate_scale {rate:g}, "
            f"propensity_scale {propensity:g}")
        sc = load_scenario(out, days=days, overrides=[f"problems.rate_scale={rate}",
                                                      f"citizens.propensity_scale={propensity}"])
        cases = simulate(sc).cases
        filed = cases[cases["t_file"].notna()]
        per_day = len(filed) / days
        public = float((filed["channel"] == 2).mean()) if len(filed) else 0.0
        say(f"  filed {per_day:.1f} cases a day (log {est.per_day:g}), public share "
            f"{public:.1%} (log {est.public_share:.1%})")
        close = abs(per_day / est.per_day - 1) < 0.02 and (
            est.public_share == 0 or public == 0 or abs(public / est.public_share - 1) < 0.02)
        if close or k == rounds - 1:
            break
        if per_day > 0:
            rate = round(rate * est.per_day / per_day, 3)
        if int(public * len(filed)) >= min_public and est.public_share > 0:
            propensity = round(propensity * est.public_share / public, 3)
    pilot = f"{k + 1} pilot run(s) of {days} days: the last filed"
    return {_RATE_LINE: f"  rate_scale: {rate:g}   # {pilot} {per_day:.1f} cases a day; the "
                        f"log has {est.per_day:g}",
            _PROPENSITY_LINE: f"  propensity_scale: {propensity:g}   # {pilot} {public:.1%} "
                              f"public reports; the log has {est.public_share:.1%}"
                              + ("" if propensity != 1.0 else
                                 f" (fewer than {min_public} in a pilot: not steered)")}


def _fits_frame(est: Estimates) -> pd.DataFrame:
    groups = [*est.fits.items(), *(((dep, "*"), f) for dep, f in est.department_fits.items())]
    rows = [{"department": dep, "subclass": sub, "n": f.n, "family": f.family,
             "mean_hours": f.dist.mean, "cv": f.dist.cv, "shape": f.dist.shape,
             **{f"aic_{k}": round(v, 2) for k, v in f.aic.items()}, "ks": round(f.ks, 4)}
            for (dep, sub), f in groups]
    return pd.DataFrame(rows)


def _write_handbook(path: Path, name: str, classes: list[dict], subs: list[dict],
                    est: Estimates, moved: dict[str, str], source: str) -> Path:
    notes: dict[str, str] = {}
    rows = []
    for s in subs:
        s = dict(s)
        code = s["code"]
        seen = est.shares.get(code, 0)
        s["share"] = seen if seen else 0.5
        s["department"] = est.department_of[code]
        fit, where = handling_of(est, code)
        if fit is not None:
            s["handling_hours"] = fit.dist.model_dump(mode="json", exclude_none=True)
        note = [f"share: {seen} cases in the log" if seen else
                "share: not in the log (half a case, so the subclass stays possible)",
                f"handling_hours: {where}" + (f": {fit.describe()}" if fit else "")]
        if code in moved:
            note.append(f"department: the log's usual one ({moved[code]})")
        notes[code] = "\n".join(note)
        rows.append(s)
    header = (f"Calibrated from the case log {source} by `gridloop calibrate`.\n"
              "share = cases of the subclass in the log (normalised by the engine).\n"
              "handling_hours = hours from dispatch to handling (else check, else close) of "
              "closed cases,\nfitted as lognormal, gamma and Weibull, lowest AIC kept. They "
              "include waiting for a crew\nand travel, so a run adds its own queueing on top: "
              "compare with `gridloop validate-against`.\nOther fields come from the base "
              "handbook (or docs/import.md defaults for a CSV).")
    return write_handbook_yaml(path, f"{name} (calibrated)", classes, rows, header=header,
                               notes=notes)


def _scenario_text(out: Path, name: str, est: Estimates, log: CaseLog, grids: Path,
                   city_note: str, district: str, n_grids: int, hb_path: Path) -> str:
    d = est.dispersion
    rel = os.path.relpath(grids.resolve(), out.parent.resolve())
    g = {k: f"G={v[0]:.1f}, df={v[1]}, p={v[2]:.3g}" for k, v in est.tests.items()}
    per_day_dep = {dep: n / est.days for dep, n in est.department_cases.items()}
    deps = sorted(set(est.department_of.values()) | set(per_day_dep))
    lines = [
        f"# Calibrated by `gridloop calibrate` from the case log {Path(log.source).name}:",
        f"# {est.cases:,} cases ({est.voided} voided left out) over {est.days} days from "
        f"{est.start_date}; {len(log.rejected)} rows rejected.",
        "# Each number below says where it came from. Check the fit with",
        f"#   gridloop run {out.name} --out runs/calibrated && "
        f"gridloop validate-against {Path(log.source).name} runs/calibrated",
        f"name: {_flow(name)}",
        f"description: {_flow('Calibrated from ' + Path(log.source).name)}",
        "seed: 1",
        f"days: {est.days}                       # the log's span",
        f"start_date: {est.start_date}           # the log's first day",
        "",
        "calendar: {}                    # default working calendar (Mon-Fri, 8 h from 08:30): "
        "set the city's holidays",
        "",
        "city:",
        f"  grids_file: {_flow(rel)}   # {city_note}",
        f"  district_code: {_flow(district)}          # digits 1-6 of the log's grid codes",
        "",
        "handbook:",
        f"  file: {_flow(hb_path.name)}   # shares and handling hours fitted; see its comments",
        "",
        "problems:",
        f"  # {est.cases:,} cases / {est.days} days. Each logged case counts as one problem; "
        "problems nobody",
        "  # reports, on-the-spot fixes and merges make a run file fewer: tune rate_scale with",
        "  # validate-against.",
        f"  per_day: {est.per_day:g}",
        _RATE_LINE,
        "  # Hour-of-day and day-of-week margins of the hour-of-week counts (mean 1); the "
        "interaction",
        f"  # they leave out: {g['hour_of_day x day_of_week']}.",
        f"  hourly_profile: {_flow(est.hourly_profile)}",
        f"  weekly_profile: {_flow(est.weekly_profile)}   # Mon..Sun, per day of each kind",
        "  holiday_factor: 1.0             # the log's holidays are not known",
        "  hotspot_weight: {}",
        "  residents_exponent: 0.5",
        "  # Cases per unit of grid weight in each subdistrict, relative to the whole city. "
        "Left out:",
        f"  # subclass x subdistrict {g['subclass x subdistrict']}; subclass x hour of day "
        f"{g['subclass x hour_of_day']}.",
        f"  # The full subclass x subdistrict x hour-of-week table: "
        f"{out.with_suffix('.arrivals.csv').name}.",
        f"  subdistrict_weight: {_flow(est.subdistrict_weight)}",
        f"  # Daily counts around their weekday means: variance/mean {d.index:.2f} over "
        f"{d.days} days",
        f"  # (chi-square p={d.p_value:.3g}); negative binomial vs Poisson: "
        f"LR={d.lr_statistic:.1f}, p={d.lr_p_value:.3g}.",
        f"  # Arrivals: {est.arrivals}"
        + (f" (gamma day multiplier, variance {est.day_dispersion:g})." if est.day_dispersion
           else " (day_dispersion 0)."),
        f"  day_dispersion: {est.day_dispersion:g}",
        "  recurrence: 0.0",
        "",
        "inspectors:",
        f"  count: {max(2, round(n_grids / 5.4))}    # judgement: Dongcheng 2015's ratio, "
        "one per ~5.4 grids (DOMAIN §2)",
        "  shifts: 2",
        "",
        "citizens:",
        f"{_PROPENSITY_LINE}   # the log's public share is {est.public_share:.1%}; compare "
        "a run's with validate-against",
        "",
        "centre:                  # judgement: Dongcheng 2015's cases per person a day",
        f"  acceptors: {max(1, math.ceil(est.per_day / 110))}           # ~110 cases each",
        f"  shift_leaders: {max(1, math.ceil(est.per_day / 330))}       # ~330 cases each",
        f"  dispatchers: {max(1, math.ceil(est.per_day / 270))}         # ~270 cases each",
        "",
        "# Crews: the log's cases a day x mean handling hours / (12 open hours x 70% utilisation).",
        "departments:",
    ]
    mean_h: dict[str, float] = {}
    for dep in deps:
        fit = est.department_fits.get(dep)
        mean_h[dep] = float(fit.dist.mean) if fit is not None and fit.dist.mean else 2.0
        n = per_day_dep.get(dep, 0.0)
        crews = crews_for(n, mean_h[dep])
        src = f"{n:.1f} cases/day x {mean_h[dep]:.2g} h" if n else "no cases in the log"
        hours = est.department_hours.get(dep)
        spec = f"crews: {crews}" + (f", hours: {_flow(list(hours))}" if hours else "")
        src += ("; hours: when the log's handling times fall" if hours else
                "; hours: default (too few cases)")
        lines.append(f"  {_flow(dep)}: {{{spec}}}   # {src}")
    return "\n".join(lines) + "\n"
