"""`gridloop sweep`, `gridloop compare` and `gridloop report`: experiments from the shell.

    gridloop sweep SCENARIO --vary key=v1,v2 [--vary ...] --reps N --out DIR
    gridloop sweep SCENARIO --design lhs --samples M --vary key=lo:hi --reps N --out DIR
    gridloop compare A B [C ...] --reps N --out DIR        (A is the baseline)
    gridloop report DIR [--out FILE]

Sweep and compare run on local worker processes (``--workers K``) or a Dask scheduler
(``--scheduler tcp://HOST:PORT``), show a progress bar on a terminal, and print the KPIs
with their intervals when done.
"""

from __future__ import annotations

import argparse
from typing import Any

from sim.cli.commands import add_format, add_set
from sim.i18n import _

__all__ = ["register", "print_results"]

HEADLINE = ("cases_filed", "closure_rate", "on_time_handling_rate", "discovery_rate",
            "share_found_by_inspectors", "hours_to_close.mean", "cases_open_at_end",
            "three_rates.satisfaction")


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("expected a whole number, got {text}").format(
            text=repr(text))) from None
    if n < 1:
        raise argparse.ArgumentTypeError(_("expected at least 1, got {n}").format(n=n))
    return n


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reps", type=_positive, default=10,
                   help=_("replications per scenario or design point, e.g. 20 (default 10)"))
    p.add_argument("--out", required=True,
                   help=_("experiment folder, e.g. runs/insp: new, empty, or one to continue "
                        "(a rerun skips finished tasks)"))
    p.add_argument("--days", type=_positive,
                   help=_("simulated days of every scenario, e.g. 28 (default: each "
                        "scenario's; a comparison needs them equal)"))
    add_set(p, _("override a value in every scenario, e.g. inspectors.count=300 (repeatable)"))
    p.add_argument("--seed", type=int, default=None,
                   help=_("root seed of the experiment, e.g. 7 (default: fresh, kept in the "
                        "manifest)"))
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive, default=None,
                       help=_("local worker processes, e.g. 2 (default: the CPUs available)"))
    where.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                       help=_("run on a Dask distributed scheduler, e.g. tcp://10.0.0.5:8786 "
                            "(pip install 'gridloop[dask]')"))
    p.add_argument("--precision", type=float, default=None, metavar="REL",
                   help=_("add replications until every KPI's 95%% interval is within +-REL of "
                        "its mean, e.g. 0.05"))
    p.add_argument("--precision-kpi", dest="precision_kpis", action="append", default=[],
                   metavar="KPI", help=_("KPI the precision applies to, e.g. "
                                       "hours_to_close.mean (repeatable; default all)"))
    p.add_argument("--max-reps", type=_positive, default=100,
                   help=_("cap on replications with --precision, e.g. 50 (default 100)"))
    p.add_argument("--quiet", action="store_true", help=_("print only where results went"))
    add_format(p, _("the KPI table"))


def register(sub: Any) -> None:
    s = sub.add_parser("sweep", help=_("run a scenario over a grid (or Latin hypercube) of "
                       "values, with replications"),
                       epilog=_("e.g. gridloop sweep small-town --vary inspectors.count=15,20,30 "
                              "--reps 10 --out runs/insp"))
    s.add_argument("scenario", help=_("scenario file or bundled name, e.g. small-town"))
    s.add_argument("--vary", action="append", default=[], required=True,
                   metavar="KEY=V1,V2|KEY=LO:HI",
                   help=_("a dotted scenario key and its values for a factorial design, e.g. "
                        "inspectors.count=15,20,30, or its range for --design lhs, e.g. "
                        "inspectors.count=10:40 (repeatable)"))
    s.add_argument("--design", choices=["factorial", "lhs"], default="factorial",
                   help=_("every combination of the values (factorial, default) or a Latin "
                        "hypercube over the ranges (lhs)"))
    s.add_argument("--samples", type=_positive, default=None,
                   help=_("design points of a Latin hypercube (--design lhs), e.g. 12"))
    _common(s)
    s.set_defaults(handler=_cmd_sweep)

    c = sub.add_parser("compare", help=_("compare scenarios on common random numbers (the first "
                       "is the baseline)"),
                       epilog=_("e.g. gridloop compare governance/complaint-driven "
                              "governance/grid-2004 --reps 10 --out runs/models"))
    c.add_argument("scenarios", nargs="+", metavar="SCENARIO",
                   help=_("scenario files or bundled names, the first the baseline, e.g. "
                        "small-town my-town.yaml"))
    _common(c)
    c.set_defaults(handler=_cmd_compare)

    r = sub.add_parser("report", help=_("write an experiment's self-contained HTML report"),
                       epilog=_("e.g. gridloop report runs/insp --kpi closure_rate"))
    r.add_argument("folder", help=_("experiment folder (from sweep or compare), e.g. runs/insp"))
    r.add_argument("--out", default=None,
                   help=_("HTML file, e.g. insp.html (default: FOLDER/report.html)"))
    r.add_argument("--kpi", dest="kpis", action="append", default=[], metavar="KPI",
                   help=_("KPI for the sweep's curves and heatmap, e.g. closure_rate "
                        "(repeatable; default a few headline KPIs)"))
    r.set_defaults(handler=_cmd_report)


def _execute(args: argparse.Namespace, start: Any) -> int:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(quiet=args.quiet, stderr=args.format != "table")
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=True,
                  disable=args.quiet or not console.is_terminal) as bar:
        task = bar.add_task(_("replications"), total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        run = start(progress)
    console.print(_("ran {run} of {total} tasks ({reps} replications per point)").format(
        run=run.tasks_run, total=run.tasks_total, reps=run.reps))
    if run.precision_met:
        console.print(_("precision reached: every chosen KPI within +-{target}").format(
            target=f"{args.precision:.1%}"))
    elif run.precision_met is not None:
        held = ", ".join(_("{kpi} +-{rel} at {label}").format(kpi=kpi, rel=f"{rel:.1%}",
                                                               label=label)
                         for kpi, label, rel in run.precision_short[:4])
        more = _(" and {n} more").format(n=len(run.precision_short) - 4) \
            if len(run.precision_short) > 4 else ""
        console.print(_("precision not reached within --max-reps {max_reps}: {held}{more} "
                        "(target +-{target}); name the KPIs that matter with "
                        "--precision-kpi, or raise --max-reps").format(
            max_reps=args.max_reps, held=held, more=more, target=f"{args.precision:.1%}"),
            highlight=False)
    print_results(console, run.folder, args.format)
    console.print("\n" + _("results in {folder}; `gridloop report {run}` writes the HTML "
                           "report").format(folder=f"[bold]{run.folder}[/]", run=run.folder))
    if args.quiet:
        print(run.folder)
    return 0


MAX_ROWS = 40   # design points printed; the rest are counted and --format csv has them


def _order(value: Any) -> tuple[int, Any]:
    """Sort key of a factor's value: numbers by size, then words alphabetically."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, value)
    return (1, str(value))


def print_results(console: Any, folder: Any, fmt: str = "table") -> None:
    """The experiment's KPIs at every design point: a table that fits the terminal, rows
    sorted by the varied keys, each cell coloured when it differs significantly from the
    baseline, better or worse for that KPI; or for scripts the full `summarize` table."""
    from sim.cli.tables import Column, print_fitted, print_machine
    from sim.experiment.design import short_names
    from sim.experiment.kpi_meaning import direction, short_name
    from sim.experiment.store import read_manifest
    from sim.experiment.summary import differences, summarize

    table = summarize(folder)
    if fmt != "table":
        print_machine(table, fmt)
        return
    manifest = read_manifest(folder)
    points = manifest["points"]
    keys = [f["key"] for f in manifest.get("factors") or []]
    order = sorted(points, key=lambda p: tuple(_order(p["factors"].get(k)) for k in keys)) \
        if keys else list(points)
    shown = order[:MAX_ROWS]
    coloured = manifest["design"] != "lhs" and len(points) > 1
    styles: dict[tuple[int, str], str] = {}
    if coloured:
        for row in differences(folder).itertuples():
            sign = direction(str(row.kpi)) * (1 if row.difference > 0 else -1)
            if row.significant and sign:
                styles[(int(row.point), str(row.kpi))] = "green" if sign > 0 else "red"
    by = table.set_index(["point", "kpi"])
    kpis = [k for k in HEADLINE if k in set(table["kpi"])]
    base = "  " + _("(baseline)")
    if keys:
        short = short_names(keys)
        index = [Column(k, short[k], [str(p["factors"].get(k)) for p in shown]) for k in keys]
    else:
        index = [Column("scenario", _("scenario"), [p["label"] for p in shown])]
    if coloured:
        index[-1].cells = [c + (base if p["point"] == 0 else "")
                           for c, p in zip(index[-1].cells, shown, strict=True)]
    nan = float("nan")    # a KPI one scenario has and another lacks (no hotline: no 12345)
    values = [Column(k, short_name(k),
                     [_fmt(*(by.loc[(p["point"], k), ["mean", "half_width"]]
                             if (p["point"], k) in by.index else (nan, nan)))
                      for p in shown],
                     [styles.get((p["point"], k), "") for p in shown]) for k in kpis]
    n = int(table["n"].max())
    notes = [_("mean ± half-width of the 95% interval over {n} replications").format(n=n)]
    if coloured:
        notes.append(_("green: significantly better than the baseline for that KPI, red: "
                       "significantly worse (paired by replication, Bonferroni); volumes such "
                       "as filed cases have no better direction and stay plain"))
    else:
        notes.append(_("a Latin hypercube has no baseline: the report's response curves show "
                       "how each KPI moves"))
    if len(order) > len(shown):
        notes.append(_("{shown} of {total} design points shown; --format csv prints every "
                       "point and KPI, and gridloop report draws them").format(
            shown=len(shown), total=len(order)))
    title = _("KPIs by {keys}").format(keys=", ".join(keys)) if keys else _("KPIs")
    print_fitted(console, title, index, values, notes)


def _fmt(mean: float, half: float) -> str:
    if mean != mean:
        return "-"
    digits = 3 if abs(mean) < 10 else 1
    return f"{mean:.{digits}f} ±{half:.{digits}f}" if half == half else f"{mean:.{digits}f}"


def _cmd_sweep(args: argparse.Namespace) -> int:
    from sim.experiment.runner import run_sweep

    return _execute(args, lambda progress: run_sweep(
        args.scenario, args.vary, reps=args.reps, out=args.out, design=args.design,
        samples=args.samples, days=args.days, overrides=args.overrides, seed=args.seed,
        workers=args.workers, scheduler=args.scheduler, precision=args.precision,
        precision_kpis=args.precision_kpis, max_reps=args.max_reps, progress=progress))


def _cmd_compare(args: argparse.Namespace) -> int:
    from sim.experiment.runner import run_compare

    return _execute(args, lambda progress: run_compare(
        args.scenarios, reps=args.reps, out=args.out, days=args.days, overrides=args.overrides,
        seed=args.seed, workers=args.workers, scheduler=args.scheduler,
        precision=args.precision, precision_kpis=args.precision_kpis, max_reps=args.max_reps,
        progress=progress))


def _cmd_report(args: argparse.Namespace) -> int:
    from sim.experiment.checks import check_report_out
    from sim.experiment.html import write_report
    from sim.experiment.store import read_manifest

    read_manifest(args.folder)                   # an experiment folder, or a plain error
    if args.out:
        check_report_out(args.out)
    path = write_report(args.folder, args.out, kpis=args.kpis or None)
    print(_("wrote {path}").format(path=path))
    return 0
