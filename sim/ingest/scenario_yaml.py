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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.data.citymap import load_city
from sim.data.scenario import SCENARIO_DIR, Scenario, load_scenario
from sim.data.taxonomy import load_handbook
from sim.errors import InputError
from sim.i18n import _
from sim.ingest.calibrate import (
    Arrivals,
    Estimates,
    arrival_table,
    estimate,
    handling_of,
)
from sim.ingest.caselog import CaseLog, read_caselog, write_rejected
from sim.ingest.citycodes import write_grids_from_codes
from sim.ingest.handbook_csv import handbook_rows, write_handbook_yaml
from sim.ingest.mapping import Mapping, load_mapping
from sim.ingest.pilots import (
    NIGHT_SHARE,
    Fitted,
    correct_waits,
    fit_waits,
    pilot_days,
    pilots,
    plans_of,
)
from sim.ingest.servicefit import ServicePlan
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
    plans: dict[str, ServicePlan] = field(default_factory=dict)
    fitted: Fitted | None = None


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
    say("  " + _("city: {n} grids from the log's codes -> {file}").format(
        n=log.cases["grid"].nunique(), file=path.name))
    return path, ("made from the grid codes in the log (schematic layout, uniform "
                  "residents; pass --grids or --map for the real one)")


def calibrate(log_path: str | Path, out: str | Path, *, handbook: str | Path | None = None,
              grids: str | Path | None = None, map_file: str | Path | None = None,
              arrivals: Arrivals = "auto", min_cases: int = 30, name: str | None = None,
              refine: int | None = None, mapping: str | Path | Mapping | None = None,
              say: Callable[[str], None] = lambda _m: None) -> Calibration:
    """Fit a scenario to a case log and write it (and its handbook, city and tables).

    Args:
        mapping: read ``log_path`` as a city's raw export through this mapping file
            (`sim.ingest.mapping`); the city's taxonomy and grids are written beside ``out``.
        refine: days of each pilot run (None: enough for about 2,500 cases, at least 28 and
            at most the log's span; 0: no pilot, crews and waits from the log alone). Pilots
            set ``problems.rate_scale``, ``inspectors.detection_scale`` and
            ``citizens.propensity_scale`` so a run files as many cases a day and as many
            public ones as the log, then measure what queueing adds to each department's time
            to close, so the rest can be fitted as waiting no crew controls.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    fitted = Fitted()
    if mapping is not None:
        from sim.ingest.cityimport import import_city
        m = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
        say(_("reading {log} with the mapping {mapping}").format(
            log=log_path, mapping=Path(m.source).name if m.source else ""))
        hb_csv = handbook if handbook and str(handbook).lower().endswith(".csv") else None
        city = import_city(log_path, m, out.parent, prefix=out.stem + ".", handbook_csv=hb_csv,
                           write_cases=False)
        log = city.log
        for note in city.notes:
            say("  " + _("note: {note}").format(note=note))
        paths["rejected"] = city.paths["rejected"]
        paths["handbook_csv"] = city.paths["handbook_csv"]
        hb_name, classes, subs = base_handbook(city.paths["handbook"])
        grids_path, district = city.grids_file, city.district_code
        paths["grids"] = grids_path
        city_note = "; ".join(n for n in city.notes if "grid" in n) or "made from the log"
        fitted.timezone = m.timezone
        fitted.holiday_country, fitted.holiday_subdivision = (m.holiday_country,
                                                              m.holiday_subdivision)
        handbook = None if hb_csv is None else handbook
        from_mapping = True
    else:
        hb_name, classes, subs = base_handbook(handbook)
        listed = {s["code"]: s["department"] for s in subs}
        say(_("reading {log}").format(log=log_path))
        log = read_caselog(log_path, subclasses=listed)
        if log.rejected:
            paths["rejected"] = write_rejected(log, out.with_suffix(".rejected.csv"))
            say("  " + _("{n} rows rejected -> {file}").format(
                n=len(log.rejected), file=paths["rejected"].name))
        grids_path, city_note = _city(log, out, grids, map_file, say)
        district = log.cases["grid"].iloc[0][:6]
        from_mapping = False
    say("  " + _("{cases} cases over {days} days from {start}").format(
        cases=f"{len(log.cases):,}", days=log.days, start=log.start_date))
    listed = {s["code"]: s["department"] for s in subs}
    city_map = load_city(grids_path, district)
    known = set(city_map.codes)
    unknown = log.cases[~log.cases["grid"].isin(known)]
    if len(unknown):
        first = unknown.iloc[0]
        raise InputError(str(log_path), int(first["line"]), "grid_code",
                         _("expected a grid of the city in {file}, got {grid}").format(
                             file=grids_path.name, grid=first["grid"]))
    department_of = dict(listed)
    moved: dict[str, str] = {}
    if handbook is None and not from_mapping:  # the bundled handbook is a default
        modal = log.cases[log.cases["department"] != ""].groupby("subclass")["department"] \
            .agg(lambda s: s.value_counts().index[0])
        for code, dep in modal.items():
            if department_of.get(str(code)) != dep:
                moved[str(code)] = f"{department_of.get(str(code))} -> {dep}"
                department_of[str(code)] = str(dep)
    base = np.sqrt(np.maximum(city_map.residents, 1.0))  # residents ** residents_exponent
    say(_("fitting arrivals, crews and work"))
    est = estimate(log, city_map, base, department_of=department_of, arrivals=arrivals,
                   min_cases=min_cases)
    c = log.cases
    fitted.voided_share = float((c["status"] == "voided").mean())
    hour = c["requested_datetime"].dt.hour
    fitted.night_share = float(((hour >= 23) | (hour < 7)).mean())
    fitted.checks = bool(c["checked_datetime"].notna().any())
    plans = plans_of(c, est)
    paths["arrivals"] = atomic_write(out.with_suffix(".arrivals.csv"), lambda p: safe_frame(
        arrival_table(log, city_map, base, est)).to_csv(p, index=False))
    paths["handling"] = atomic_write(out.with_suffix(".handling.csv"),
                                     lambda p: safe_frame(_fits_frame(est)).to_csv(p, index=False))
    hb_path = out.with_suffix(".handbook.yaml")
    paths["handbook"] = _write_handbook(hb_path, hb_name, classes, subs, est, moved,
                                        Path(log_path).name, plans)
    args = (out, name or out.stem, est, log, grids_path, city_note, district, city_map.n_grids,
            hb_path, plans)

    def write() -> Scenario:
        text = _scenario_text(*args, fitted)
        paths["scenario"] = atomic_write(out, lambda p: p.write_text(text, encoding="utf-8"))
        return load_scenario(out)

    scenario = write()
    days = pilot_days(est, refine)
    cases, deps = pilots(out, est, fitted, days, write, say) if days else (None, [])
    targets = fit_waits(c, est, plans, fitted, cases, deps, days, say)
    scenario = write()
    if days:
        correct_waits(out, fitted, targets, days, write, say)
        scenario = load_scenario(out)
    return Calibration(scenario, est, log, paths, plans, fitted)


def _fits_frame(est: Estimates) -> pd.DataFrame:
    groups = [*est.fits.items(), *(((dep, "*"), f) for dep, f in est.department_fits.items())]
    rows = [{"department": dep, "subclass": sub, "n": f.n, "family": f.family,
             "mean_hours": f.dist.mean, "cv": f.dist.cv, "shape": f.dist.shape,
             **{f"aic_{k}": round(v, 2) for k, v in f.aic.items()}, "ks": round(f.ks, 4)}
            for (dep, sub), f in groups]
    return pd.DataFrame(rows)


def _write_handbook(path: Path, name: str, classes: list[dict], subs: list[dict],
                    est: Estimates, moved: dict[str, str], source: str,
                    plans: dict[str, ServicePlan]) -> Path:
    notes: dict[str, str] = {}
    rows = []
    for s in subs:
        s = dict(s)
        code = s["code"]
        seen = est.shares.get(code, 0)
        s["share"] = seen if seen else 0.5
        s["department"] = est.department_of[code]
        plan = plans.get(s["department"])
        if plan is not None:
            s["handling_hours"] = {"dist": "lognormal", "mean": plan.work_hours, "cv": 0.8}
        fit, where = handling_of(est, code)
        note = [f"share: {seen} cases in the log" if seen else
                "share: not in the log (half a case, so the subclass stays possible)",
                f"handling_hours: the crew's work, {plan.note}; cv 0.8 (judgement)" if plan
                else "handling_hours: the base handbook's"]
        if fit is not None:
            note.append(f"(dispatch to handling in the log, waiting included: {where}: "
                        f"{fit.describe()})")
        if code in moved:
            note.append(f"department: the log's usual one ({moved[code]})")
        notes[code] = "\n".join(note)
        rows.append(s)
    header = (f"Calibrated from the case log {source} by `gridloop calibrate`.\n"
              "share = cases of the subclass in the log (normalised by the engine).\n"
              "handling_hours = the crew's work on site only; waiting for a crew comes from "
              "the\nsimulated queue, and waiting no crew controls from the department's "
              "intake_hours\nin the scenario (docs/import.md). Other fields come from the "
              "base handbook.")
    return write_handbook_yaml(path, f"{name} (calibrated)", classes, rows, header=header,
                               notes=notes)


def _scenario_text(out: Path, name: str, est: Estimates, log: CaseLog, grids: Path,
                   city_note: str, district: str, n_grids: int, hb_path: Path,
                   plans: dict[str, ServicePlan], fit: Fitted) -> str:
    d = est.dispersion
    rel = os.path.relpath(grids.resolve(), out.parent.resolve())
    g = {k: f"G={v[0]:.1f}, df={v[1]}, p={v[2]:.3g}" for k, v in est.tests.items()}
    pilot = fit.pilots[-1] if fit.pilots else "no pilot run"
    steered = f"{len(fit.pilots)} pilot run(s); the last: {pilot}" if fit.pilots else \
        "no pilot run (--refine 0): not steered"
    holidays = ""
    if fit.holiday_country:
        holidays = (f"\n  holiday_country: {fit.holiday_country}   # public holidays from the "
                    "holidays library (the mapping's)")
        if fit.holiday_subdivision:
            holidays += f"\n  holiday_subdivision: {fit.holiday_subdivision}"
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
        "calendar:                       # limits of the city's own types count clock hours",
        f"  timezone: {_flow(fit.timezone)}   # the mapping's (times were read in it)"
        + holidays,
        "",
        "city:",
        f"  grids_file: {_flow(rel)}   # {city_note}",
        f"  district_code: {_flow(district)}          # digits 1-6 of the grid codes",
        "",
        "handbook:",
        f"  file: {_flow(hb_path.name)}   # shares and work fitted; see its comments",
        "",
        "problems:",
        f"  # {est.cases:,} cases / {est.days} days. Each logged case counts as one problem.",
        f"  per_day: {est.per_day:g}",
        f"  rate_scale: {fit.rate_scale:g}   # {steered}",
        "  # Hour-of-day and day-of-week margins of the hour-of-week counts (mean 1); the "
        "interaction",
        f"  # they leave out: {g['hour_of_day x day_of_week']}.",
        f"  hourly_profile: {_flow(est.hourly_profile)}",
        f"  weekly_profile: {_flow(est.weekly_profile)}   # Mon..Sun, per day of each kind",
        "  holiday_factor: 1.0             # not fitted",
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
        f"  count: {max(3, round(n_grids / 5.4))}    # judgement: Dongcheng 2015's ratio, "
        "one per ~5.4 grids (docs/domain.md §2)",
        (f"  shifts: 3   # {fit.night_share:.0%} of the log's reports come 23:00-07:00: "
         "verification round the clock" if fit.night_share >= NIGHT_SHARE else
         f"  shifts: 2   # {fit.night_share:.0%} of the log's reports come 23:00-07:00"),
        f"  detection_scale: {fit.detection_scale:g}   # the log's inspector share "
        f"{1 - est.public_share:.1%}: {steered}",
        "",
        "citizens:",
        f"  propensity_scale: {fit.propensity:g}   # the log's public share "
        f"{est.public_share:.1%}: {steered}",
        "  repeat_factor: 0.0   # judgement: the log holds one request per case; repeat "
        "calls are not in it",
        f"  false_report_share: {min(fit.voided_share, 0.5):.4g}   # the log's voided share",
        "",
        "centre:                  # judgement: Dongcheng 2015's cases per person a day",
        ("  independent_checks: true   # the log records checks" if fit.checks else
         "  independent_checks: false  # the log has no check times: the department's own "
         "word closes a case"),
        f"  acceptors: {max(1, math.ceil(est.per_day / 110))}           # ~110 cases each",
        f"  shift_leaders: {max(1, math.ceil(est.per_day / 330))}       # ~330 cases each",
        f"  dispatchers: {max(1, math.ceil(est.per_day / 270))}         # ~270 cases each",
        "",
        "# Per department: crews and work from sim/ingest/servicefit.py (no department has "
        "more",
        "# crews than max(1, its cases a day); each states its utilisation); duty hours from "
        "when",
        "# the log's closures fall; intake_hours: the waiting no crew controls.",
        "departments:",
    ]
    for dep in sorted(plans):
        p = plans[dep]
        hours = est.department_hours.get(dep)
        days = est.department_days.get(dep, "all")
        lines.append(f"  {_flow(dep)}:")
        lines.append(f"    crews: {p.crews}   # {p.note}")
        if hours:
            lines.append(f"    hours: {_flow(list(hours))}   # when the log's closures fall "
                         "(1% trimmed each end)")
        lines.append(f"    days: {days}   # " + ("weekend closures under a quarter of a "
                                                 "weekday's" if days == "workdays" else
                                                 "closures every day of the week"))
        intake = fit.intake.get(dep)
        if intake and intake[0]:
            lines.append(f"    # {intake[1]}")
            lines.append(f"    intake_hours: {{dist: empirical, values: {_flow(intake[0])}}}")
        elif intake:
            lines.append(f"    # intake_hours: none ({intake[1]})")
    return "\n".join(lines) + "\n"
