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

__all__ = ["register"]

HEADLINE = ("cases_filed", "closure_rate", "on_time_handling_rate", "discovery_rate",
            "share_found_by_inspectors", "hours_to_close.mean", "cases_open_at_end",
            "three_rates.satisfaction")


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {n}")
    return n


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reps", type=_positive, default=10,
                   help="replications per scenario or design point (default 10)")
    p.add_argument("--out", required=True, help="experiment folder (reruns skip finished tasks)")
    p.add_argument("--days", type=_positive, help="simulated days (overrides the scenarios)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a value in every scenario, e.g. inspectors.count=300")
    p.add_argument("--seed", type=int, default=None,
                   help="root seed of the experiment (default: fresh, kept in the manifest)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive, default=None,
                       help="local worker processes (default: the CPUs available)")
    where.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                       help="run on a Dask distributed scheduler (pip install 'gridloop[dask]')")
    p.add_argument("--precision", type=float, default=None, metavar="REL",
                   help="add replications until every KPI's 95%% interval is within +-REL of "
                        "its mean (e.g. 0.05)")
    p.add_argument("--precision-kpi", dest="precision_kpis", action="append", default=[],
                   metavar="KPI", help="KPI the precision applies to (repeatable; default all)")
    p.add_argument("--max-reps", type=_positive, default=100,
                   help="cap on replications with --precision (default 100)")
    p.add_argument("--quiet", action="store_true", help="print only where results went")


def register(sub: Any) -> None:
    s = sub.add_parser("sweep", help="run a scenario over a grid (or Latin hypercube) of "
                       "values, with replications")
    s.add_argument("scenario", help="scenario file or bundled name")
    s.add_argument("--vary", action="append", default=[], required=True,
                   metavar="KEY=V1,V2|KEY=LO:HI",
                   help="a dotted scenario key and its values (factorial) or range (lhs)")
    s.add_argument("--design", choices=["factorial", "lhs"], default="factorial")
    s.add_argument("--samples", type=_positive, default=None,
                   help="design points of a Latin hypercube (--design lhs)")
    _common(s)
    s.set_defaults(handler=_cmd_sweep)

    c = sub.add_parser("compare", help="compare scenarios on common random numbers (the first "
                       "is the baseline)")
    c.add_argument("scenarios", nargs="+", metavar="SCENARIO",
                   help="scenario files or bundled names; the first is the baseline")
    _common(c)
    c.set_defaults(handler=_cmd_compare)

    r = sub.add_parser("report", help="write an experiment's self-contained HTML report")
    r.add_argument("folder", help="experiment folder (from sweep or compare)")
    r.add_argument("--out", default=None, help="HTML file (default: FOLDER/report.html)")
    r.add_argument("--kpi", dest="kpis", action="append", default=[], metavar="KPI",
                   help="KPI for the sweep's curves and heatmap (repeatable; default a few "
                        "headline KPIs)")
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

    console = Console(quiet=args.quiet)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=True,
                  disable=args.quiet or not console.is_terminal) as bar:
        task = bar.add_task("replications", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        run = start(progress)
    console.print(f"ran {run.tasks_run} of {run.tasks_total} tasks ({run.reps} replications "
                  f"per point)")
    if run.precision_met is not None:
        console.print("precision reached" if run.precision_met else
                      f"precision not reached within --max-reps {args.max_reps}")
    _print_table(console, run.folder)
    console.print(f"\nresults in [bold]{run.folder}[/]; `gridloop report {run.folder}` writes "
                  "the HTML report")
    if args.quiet:
        print(run.folder)
    return 0


def _print_table(console: Any, folder: Any, max_points: int = 6) -> None:
    from rich.table import Table

    from sim.experiment.summary import summarize

    table = summarize(folder)
    kpis = [k for k in HEADLINE if k in set(table["kpi"])]
    labels = list(dict.fromkeys(table["label"]))
    shown = labels[:max_points]
    more = f" (first {max_points} of {len(labels)} points)" if len(labels) > max_points else ""
    t = Table(title=f"KPIs: mean ± 95% half-width{more}")
    t.add_column("KPI")
    for label in shown:
        t.add_column(str(label), justify="right")
    by = table.set_index(["kpi", "label"])
    for k in kpis:
        t.add_row(k, *(_fmt(by.loc[(k, lb), "mean"], by.loc[(k, lb), "half_width"])
                       for lb in shown))
    console.print(t)


def _fmt(mean: float, half: float) -> str:
    if mean != mean:
        return "-"
    digits = 3 if abs(mean) < 10 else 1
    return f"{mean:.{digits}f} ± {half:.{digits}f}" if half == half else f"{mean:.{digits}f}"


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
    from sim.experiment.html import write_report

    path = write_report(args.folder, args.out, kpis=args.kpis or None)
    print(f"wrote {path}")
    return 0
