"""`gridloop` subcommands that bring a city's own data in (docs/import.md).

    gridloop import-handbook HANDBOOK.csv --out HANDBOOK.yaml
    gridloop import-log LOG.csv --out DIR [--scenario S | --handbook H] [--strict]
    gridloop calibrate LOG.csv --out SCENARIO.yaml [--handbook H.csv] [--grids G.csv | --map M]
                       [--arrivals poisson|negbin|auto]
    gridloop validate-against LOG.csv RUN_DIR [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.i18n import _

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    h = sub.add_parser("import-handbook", help=_("convert a handbook CSV to handbook YAML"))
    h.add_argument("csv", help=_("handbook CSV (code, name, class, department, urgency, limit, "
                               "limit_unit, closing_criterion), e.g. "
                               "scenarios/examples/handbook.csv"))
    h.add_argument("--out", required=True, help=_("handbook YAML to write, e.g. my/handbook.yaml"))
    h.add_argument("--name", default=None, help=_("the handbook's name, e.g. 'Pilot city 2026'"))
    h.set_defaults(handler=_cmd_import_handbook)

    i = sub.add_parser("import-log", help=_("turn a case log (CSV) into an event log that "
                                          "`gridloop evaluate` reads"))
    i.add_argument("log", nargs="?", help=_("case log CSV: a city's raw export with --mapping, "
                                          "else Open311 GeoReport v2 columns + grid_code ..., "
                                          "e.g. scenarios/examples/caselog.csv"))
    i.add_argument("--out", default=None, help=_("folder for events.parquet and summary.json, "
                   "e.g. my/log (with --mapping-template: the mapping file to write, default: "
                   "print it)"))
    i.add_argument("--mapping", default=None, metavar="MAP.yaml",
                   help=_("how the raw export's columns, times and words read (docs/import.md), "
                        "e.g. my/mapping.yaml"))
    i.add_argument("--mapping-template", default=None, metavar="RAW.csv",
                   help=_("write a starting mapping for this raw export and stop, e.g. "
                        "export.csv"))
    i.add_argument("--scenario", default=None,
                   help=_("scenario whose handbook and calendar set the deadlines, e.g. "
                        "my/town.yaml"))
    i.add_argument("--handbook", default=None,
                   help=_("handbook YAML or CSV, e.g. my/handbook.yaml (default: the "
                        "scenario's, else the bundled one)"))
    i.add_argument("--strict", action="store_true", help=_("stop at the first bad row"))
    i.set_defaults(handler=_cmd_import_log)

    c = sub.add_parser("calibrate", help=_("fit a scenario to a case log"))
    c.add_argument("log", help=_("case log CSV, e.g. scenarios/examples/caselog.csv"))
    c.add_argument("--out", required=True, help=_("scenario YAML to write (files go beside it), "
                                                 "e.g. my/town.yaml"))
    c.add_argument("--handbook", default=None,
                   help=_("the city's handbook, CSV or YAML, e.g. scenarios/examples/handbook.csv "
                        "(default: the bundled one, with the log's departments)"))
    c.add_argument("--grids", default=None, help=_("the city's grid table (CSV), e.g. "
                                                      "my-city/cities/synthetic-district.csv"))
    c.add_argument("--map", dest="map_file", default=None,
                   help=_("GeoJSON of unit grids (needs the map import, sim.geo), e.g. "
                        "scenarios/examples/synthetic-district.geojson"))
    c.add_argument("--arrivals", choices=["poisson", "negbin", "auto"], default="auto",
                   help=_("daily counts: Poisson, negative binomial, or whichever the "
                        "likelihood-ratio test picks at 1%% (default)"))
    c.add_argument("--min-cases", type=int, default=30,
                   help=_("fewest cases to fit a handling time on, e.g. 50 (default 30)"))
    c.add_argument("--mapping", default=None, metavar="MAP.yaml",
                   help=_("read LOG as a city's raw export through this mapping "
                        "(docs/import.md), e.g. my/mapping.yaml"))
    c.add_argument("--refine", type=int, default=None, metavar="DAYS",
                   help=_("days of each pilot run of the fitted scenario (default: about 2,500 "
                        "cases' worth, 28 days at least, the log's span at most; 0: none), "
                        "e.g. 28. Pilots steer the load and the public share and measure "
                        "queueing"))
    c.add_argument("--name", default=None,
                   help=_("scenario name, e.g. pilot-city (default: the file's stem)"))
    c.add_argument("--quiet", action="store_true", help=_("print only where results went"))
    c.set_defaults(handler=_cmd_calibrate)

    v = sub.add_parser("validate-against", help=_("compare a run with a case log in an HTML "
                                                "report"))
    v.add_argument("log", help=_("case log CSV, e.g. scenarios/examples/caselog.csv"))
    v.add_argument("run_dir", help=_("run folder written by `gridloop run`, e.g. runs/calibrated"))
    v.add_argument("--out", default=None, help=_("report folder, e.g. reports/validation "
                                                  "(default: RUN_DIR/validation)"))
    v.add_argument("--mapping", default=None, metavar="MAP.yaml",
                   help=_("read LOG as a city's raw export through this mapping "
                        "(docs/import.md), e.g. my/mapping.yaml"))
    v.set_defaults(handler=_cmd_validate_against)


def _handbook(path: str | None, scenario: str | None):  # -> (Handbook, CalendarSpec | None)
    from sim.data.scenario import SCENARIO_DIR, load_scenario
    from sim.data.taxonomy import load_handbook

    calendar = None
    if scenario is not None:
        sc = load_scenario(scenario)
        calendar = sc.calendar
        if path is None:
            return load_handbook(sc.resolve(sc.handbook.file)), calendar
    if path is not None and Path(path).suffix.lower() == ".csv":
        import tempfile

        from sim.ingest.handbook_csv import import_handbook
        with tempfile.TemporaryDirectory() as tmp:
            return import_handbook(path, Path(tmp) / "handbook.yaml"), calendar
    return load_handbook(path or SCENARIO_DIR / "handbook" / "standard.yaml"), calendar


def _cmd_import_handbook(args: argparse.Namespace) -> int:
    from sim.ingest.handbook_csv import import_handbook

    hb = import_handbook(args.csv, args.out, name=args.name)
    deps = sorted({s.department for s in hb.subclasses})
    print(_("wrote {file}: {subclasses} subclasses in {classes} classes, departments "
            "{departments}").format(file=args.out, subclasses=len(hb.subclasses),
                                    classes=len(hb.classes), departments=", ".join(deps)))
    return 0


def _cmd_import_log(args: argparse.Namespace) -> int:
    from sim.errors import GridLoopError
    from sim.ingest.caselog import read_caselog, write_rejected
    from sim.ingest.convert import caselog_events, write_event_log

    if args.mapping_template:
        return _write_template(args.mapping_template, args.out)
    if not args.log or not args.out:
        raise GridLoopError("import-log: " + _(
            "expected LOG and --out DIR (or --mapping-template RAW.csv), got {got}").format(
            got=_("no LOG") if not args.log else _("no --out")))
    if args.mapping:
        return _import_with_mapping(args)
    handbook, calendar = _handbook(args.handbook, args.scenario)
    log = read_caselog(args.log, subclasses={s.code: s.department for s in handbook.subclasses},
                       strict=args.strict,
                       timezone=calendar.timezone if calendar else "Asia/Shanghai")
    out = Path(args.out)
    _report_rejected(log, out / "rejected.csv", write_rejected)
    imported = caselog_events(log, handbook, calendar=calendar)
    write_event_log(imported, out, source=str(args.log))
    print(_("{cases} cases over {days} days from {start} -> {rows} event rows in {file}").format(
        cases=f"{len(log.cases):,}", days=log.days, start=log.start_date,
        rows=f"{len(imported.events):,}", file=out / "events.parquet"))
    if log.ignored_columns:
        print("  " + _("columns not used: {columns}").format(
            columns=", ".join(log.ignored_columns)))
    print("  " + _("next: {command}").format(command=f"gridloop evaluate {out}"))
    return 0


def _write_template(raw: str, out: str | None) -> int:
    from sim.errors import GridLoopError
    from sim.ingest.mappingtemplate import template
    from sim.outputs.files import atomic_write

    text = template(raw)
    if out is None:
        print(text, end="")
        return 0
    target = Path(out)
    if target.exists():
        raise GridLoopError(f"import-log: {target}: " + _(
            "exists; a template never overwrites a mapping (remove it or pick another name)"))
    atomic_write(target, lambda p: p.write_text(text, encoding="utf-8"))
    print(_("wrote {file}: check it, then {command}").format(
        file=target, command=f"gridloop import-log {raw} --mapping {target} --out DIR"))
    return 0


def _import_with_mapping(args: argparse.Namespace) -> int:
    """import-log RAW --mapping MAP --out DIR: the city's files and its event log."""
    from sim.data.scenario import CalendarSpec
    from sim.ingest.cityimport import import_city
    from sim.ingest.convert import caselog_events, write_event_log
    from sim.ingest.mapping import load_mapping

    mapping = load_mapping(args.mapping)
    out = Path(args.out)
    hb_csv = args.handbook if args.handbook and args.handbook.lower().endswith(".csv") else None
    city = import_city(args.log, mapping, out, handbook_csv=hb_csv)
    _say_rejected(city.raw.rejected, args.log, out / "rejected.csv")
    for note in city.notes:
        print("  " + _("note: {note}").format(note=note))
    calendar = CalendarSpec(timezone=mapping.timezone)
    imported = caselog_events(city.log, city.handbook, calendar=calendar)
    write_event_log(imported, out, source=str(args.log), timezone=mapping.timezone)
    log = city.log
    c = log.cases
    print(_("{cases} cases ({open} open) over {days} days from {start}, {departments} "
            "departments, {subclasses} subclasses -> {rows} event rows").format(
        cases=f"{len(c):,}", open=f"{int((c['status'] == 'open').sum()):,}",
        days=f"{log.days:,}", start=log.start_date, departments=c["department"].nunique(),
        subclasses=len(city.handbook.subclasses), rows=f"{len(imported.events):,}"))
    print(_("wrote {files} to {folder}").format(
        files=", ".join([*(p.name for p in city.paths.values()), "events.parquet",
                         "summary.json"]), folder=out))
    print("  " + _("next: {command}   (edit {file} and pass it back with --handbook to change "
                   "types, departments or limits)").format(
        command=f"gridloop evaluate {out}", file=out / "handbook.csv"))
    return 0


def _say_rejected(rejected: list, source: str, path: Path) -> None:
    if not rejected:
        print(_("0 rows rejected ({file} has the header only)").format(file=path))
        return
    print(_("{n} rows rejected (line, column and reason in {file}); the first:").format(
        n=f"{len(rejected):,}", file=path))
    for j in rejected[:5]:
        print(f"  {source}:{j.line}: {j.column}: {j.reason}")


def _report_rejected(log, path: Path, write) -> None:  # noqa: ANN001
    if not log.rejected:
        print(_("0 rows rejected"))
        return
    write(log, path)
    print(_("{n} rows rejected (reasons in {file}); the first:").format(
        n=len(log.rejected), file=path))
    for j in log.rejected[:5]:
        print(f"  {log.source}:{j.line}: {j.column}: {j.reason}")


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from sim.ingest.scenario_yaml import calibrate

    say = (lambda _m: None) if args.quiet else print
    cal = calibrate(args.log, args.out, handbook=args.handbook, grids=args.grids,
                    map_file=args.map_file, arrivals=args.arrivals, min_cases=args.min_cases,
                    name=args.name, refine=args.refine, mapping=args.mapping, say=say)
    est, d = cal.estimates, cal.estimates.dispersion
    if cal.log.rejected:
        first = cal.log.rejected[0]
        print(_("{n} rows rejected (reasons in {file}); the first: line {line}, {column}: "
                "{reason}").format(n=len(cal.log.rejected), file=cal.paths["rejected"],
                                   line=first.line, column=first.column, reason=first.reason))
    else:
        print(_("0 rows rejected"))
    say(_("arrivals: {per_day} cases a day; variance/mean of daily counts {index} (p={p}); "
          "negative binomial LR p={lr_p} -> {model}").format(
        per_day=f"{est.per_day:g}", index=f"{d.index:.2f}", p=f"{d.p_value:.3g}",
        lr_p=f"{d.lr_p_value:.3g}", model=est.arrivals))
    busiest = sorted(cal.plans.values(), key=lambda p: -p.cases_per_day)[:5]
    say(_("departments: {n}; the busiest: {busiest}").format(n=len(cal.plans), busiest="; ".join(
        _("{department} {crews} crew(s), utilisation {utilisation}").format(
            department=p.department, crews=p.crews, utilisation=f"{p.utilisation:.0%}")
        for p in busiest)))
    print(_("wrote {files} to {folder}").format(
        files=", ".join(p.name for p in cal.paths.values()), folder=Path(args.out).parent))
    say("  " + _("next: {command}").format(
        command=f"gridloop run {args.out} --out runs/calibrated"))
    return 0


def _cmd_validate_against(args: argparse.Namespace) -> int:
    from sim.ingest.report_html import number, shown, write_report
    from sim.ingest.validate import compare

    out = Path(args.out) if args.out else Path(args.run_dir) / "validation"
    print(_("comparing {run} with {log}").format(run=args.run_dir, log=args.log))
    c = compare(args.log, args.run_dir, out, mapping=args.mapping)
    for n in c.notes:
        print("  " + _("note: {note}").format(note=n))
    print(shown(c.headline).to_string(index=False, float_format=number, na_rep=""))
    if c.verdicts is not None:
        print(_("verdicts (tolerances in docs/import.md):"))
        for v in shown(c.verdicts, columns=False).itertuples(index=False):
            print(f"  {v.verdict}  {v.measure}, {v.scope}: {v.difference} ({v.tolerance})")
        failed = int((c.verdicts["verdict"] == "FAIL").sum())
        print(_("{n} of {total} measures within tolerance").format(
            n=len(c.verdicts) - failed, total=len(c.verdicts)))
    paths = write_report(c, out)
    print(_("wrote {file} and {n} CSV tables").format(file=paths["report"], n=len(paths) - 1))
    return 0
