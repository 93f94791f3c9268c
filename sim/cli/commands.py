"""`gridloop`: run, check and describe scenarios from the command line.

    gridloop run [SCENARIO] [--days N] [--seed S] [--out DIR] [--force] [--set key=value ...]
    gridloop validate FILE [--set key=value ...]
    gridloop schema
    gridloop evaluate RUN_DIR [--rules NAME|FILE] [--period month|week|all] [--out DIR]

Errors a user can fix (bad files, bad options) print one clear line and exit 2, no traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from sim.errors import GridLoopError

__all__ = ["main"]

# Further subcommands live in their own modules. Each module has ``register(subparsers)``,
# which adds its parser and sets ``handler=<function(args) -> int>`` as a default; the
# module should import its heavy dependencies inside the handler, so `gridloop --help`
# stays quick.
COMMAND_MODULES: tuple[str, ...] = ("sim.ingest.cli", "sim.geo.cli", "sim.export.cli",
                                   "sim.experiment.cli", "training.commands",
                                   "training.console.cli")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gridloop", description=(
        "GridLoop: simulate grid-based city management (the Dongcheng model)."))
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="simulate a scenario and write its results")
    r.add_argument("scenario", nargs="?", default="dongcheng",
                   help="scenario file or bundled name (dongcheng, small-town); "
                        "default: dongcheng")
    r.add_argument("--days", type=int, help="simulated days (overrides the scenario)")
    r.add_argument("--seed", type=int, help="random seed (overrides the scenario)")
    r.add_argument("--out", default=None,
                   help="output folder, refused if it exists and is not empty unless --force "
                        "(default: runs/<name>-seed<S>, or -2, -3... beside an earlier one)")
    r.add_argument("--force", action="store_true",
                   help="replace the earlier run in --out (or runs/<name>-seed<S>), once the "
                        "new one is complete")
    r.add_argument("--set", dest="overrides", action="append", default=[],
                   metavar="KEY=VALUE", help="override a scenario value, e.g. inspectors.count=300")
    r.add_argument("--no-figure", action="store_true", help="skip overview.png")
    r.add_argument("--quiet", action="store_true", help="print only where results went")

    v = sub.add_parser("validate", help="check a scenario file and everything it names")
    v.add_argument("scenario")
    v.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")

    sub.add_parser("schema", help="print the scenario JSON Schema")

    e = sub.add_parser("evaluate", help="league tables of a run (or any event log in the "
                       "documented schema) under a rule set")
    e.add_argument("run_dir", help="run folder holding events.parquet, or the file itself")
    e.add_argument("--rules", default="standard",
                   help="rule set: bundled name (standard, points-deduction, subdistrict, "
                        "three-rates) or a YAML file; default: standard")
    e.add_argument("--period", choices=["month", "week", "all"], default=None,
                   help="evaluation period (default: the rule set's)")
    e.add_argument("--out", default=None,
                   help="folder to write evaluation/ into (default: RUN_DIR)")
    e.add_argument("--set", dest="overrides", action="append", default=[],
                   metavar="KEY=VALUE",
                   help="override a rule-set value, e.g. parameters.w_response=0.4")
    e.add_argument("--scenario", default=None,
                   help="scenario that wrote the log: names areas, marks urgent subclasses")
    e.add_argument("--start-date", type=_date, default=None, metavar="YYYY-MM-DD",
                   help="the day time 0 falls on (default: summary.json's)")
    e.add_argument("--top", type=int, default=10,
                   help="rows printed per table: the best and worst (0: all)")
    e.add_argument("--quiet", action="store_true", help="print only where results went")

    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return p


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def _default_out(name: str, seed: int, force: bool) -> Path:
    """runs/NAME-seedS, or the first of -2, -3... that is free: a run without --out never
    replaces an earlier one, unless --force says to replace runs/NAME-seedS."""
    base = Path("runs") / f"{name}-seed{seed}"
    out, k = base, 1
    while not force and out.exists() and (not out.is_dir() or any(out.iterdir())):
        k += 1
        out = base.with_name(f"{base.name}-{k}")
    return out


def _cmd_run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from sim.cli.tables import print_evaluation, print_summary
    from sim.data.scenario import load_scenario
    from sim.outputs.runfolder import RunFolder
    from sim.run import estimate_bytes, record_run

    console = Console(stderr=False, quiet=args.quiet)
    if args.out is not None:  # a folder that cannot take the run fails before anything
        RunFolder.prepare(args.out, force=args.force).abandon()
    scenario = load_scenario(args.scenario, args.overrides, days=args.days, seed=args.seed)
    out = Path(args.out) if args.out else _default_out(scenario.name, scenario.seed,
                                                       args.force)
    folder = RunFolder.prepare(out, force=args.force, need_bytes=estimate_bytes(scenario))
    console.print(f"[bold]GridLoop[/] simulating [cyan]{scenario.name}[/] for {scenario.days} "
                  f"days, seed {scenario.seed}")
    days = TextColumn("{task.fields[step]}")
    with Progress(TextColumn("{task.description}"), BarColumn(), days, TimeElapsedColumn(),
                  console=console, transient=True,
                  disable=args.quiet or not console.is_terminal) as bar:
        task = bar.add_task("simulating", total=scenario.days, step="")

        def day(d: int) -> None:
            bar.update(task, completed=d + 1, step=f"day {d + 1}/{scenario.days}")

        def writing(what: str) -> None:
            bar.update(task, description="writing", completed=None, total=None, step=what)

        run = record_run(scenario, folder, progress=day, writing=writing,
                         figure=not args.no_figure, command=["gridloop", *args.argv],
                         overrides={"set": list(args.overrides), "days": args.days,
                                    "seed": args.seed})
    console.print(f"simulated {run.sim_events:,} events in {run.wall_seconds:.1f} s")
    print_summary(console, run.summary)
    print_evaluation(console, run.evaluation)
    console.print(f"\nwrote {', '.join(sorted(p.name for p in run.paths.values()))} to "
                  f"[bold]{out}[/]")
    if args.quiet:
        print(out)
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from sim.data.citymap import load_city
    from sim.data.scenario import load_scenario

    scenario = load_scenario(args.scenario, args.overrides)
    city = load_city(scenario.resolve(scenario.city.grids_file), scenario.city.district_code)
    print(f"{args.scenario}: ok ({scenario.name}: {city.n_grids} grids, "
          f"{city.n_subdistricts} subdistricts, {len(scenario.departments)} departments)")
    from sim.data.scenario import scenario_chain

    chain = scenario_chain(args.scenario)
    if len(chain) > 1:  # an overlay: say what it is laid over
        print("  overlay: " + " over ".join(str(p) for p in chain))
    return 0


def _cmd_schema(_args: argparse.Namespace) -> int:
    from sim.data.scenario import Scenario

    print(json.dumps(Scenario.model_json_schema(), indent=2))
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from rich.console import Console

    from sim.rules import evaluate_periods, load_rules
    from sim.rules.runlog import read_run_log
    from sim.rules.view import print_league_tables, write_league_tables

    console = Console(quiet=args.quiet)
    rules = load_rules(args.rules, args.overrides)        # a bad rule file fails first
    log = read_run_log(args.run_dir, scenario=args.scenario, start_date=args.start_date)
    period = args.period or rules.period
    console.print(f"[bold]GridLoop[/] evaluating [cyan]{args.run_dir}[/] "
                  f"({len(log.events):,} log rows) under [cyan]{rules.name}[/], by {period}")
    for note in log.notes:
        console.print(f"  note: {note}")
    tables = evaluate_periods(rules, log.events, log.roster, horizon=log.horizon,
                              period=period, start_date=log.start_date, calls=log.calls)
    print_league_tables(console, tables, rules, top=max(args.top, 0))
    folder = (Path(args.out) if args.out else log.folder) / "evaluation"
    paths = write_league_tables(folder, tables, rules, period=period, horizon=log.horizon,
                                start_date=log.start_date, source=log.folder)
    console.print(f"\nwrote {', '.join(sorted(paths))} to [bold]{folder}[/]")
    if args.quiet:
        print(folder)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(words)
    args.argv = words  # recorded in run folders
    handler = getattr(args, "handler", None) or {
        "run": _cmd_run, "validate": _cmd_validate, "schema": _cmd_schema,
        "evaluate": _cmd_evaluate}[args.command]
    try:
        return handler(args)
    except GridLoopError as e:
        print(f"gridloop: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gridloop: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
