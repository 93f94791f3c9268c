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
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from sim.errors import GridLoopError, did_you_mean
from sim.i18n import N_, _

if TYPE_CHECKING:
    from sim.data.resources import Estimate

__all__ = ["main"]

# Further subcommands live in their own modules. Each module has ``register(subparsers)``,
# which adds its parser and sets ``handler=<function(args) -> int>`` as a default; the
# module should import its heavy dependencies inside the handler, so `gridloop --help`
# stays quick.
COMMAND_MODULES: tuple[str, ...] = ("sim.ingest.cli", "sim.geo.cli", "sim.export.cli",
                                   "sim.experiment.cli", "training.commands",
                                   "training.console.cli")


class Parser(argparse.ArgumentParser):
    """argparse with suggestions: a mistyped command, choice or option gets "did you mean".
    It speaks the language in force where it is built (`sim.cli.language`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from sim.cli.language import Formatter, localise

        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, **kwargs)
        localise(self)

    def error(self, message: str) -> NoReturn:
        from sim.cli.language import argparse_message

        hint = ""
        if m := re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message):
            hint = did_you_mean(m.group(1), re.findall(r"'([^']*)'", m.group(2)))
        self.print_usage(sys.stderr)
        self.exit(2, _("{prog}: error: {message}").format(
            prog=self.prog, message=argparse_message(message) + hint) + "\n")

    def parse_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                   namespace: argparse.Namespace | None = None) -> argparse.Namespace:
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            sub = _innermost(self, parsed)
            options = [o for a in sub._actions for o in a.option_strings]
            flag = next((w.split("=", 1)[0] for w in extras if w.startswith("-")), "")
            sub.error(_("unrecognized arguments: {words}").format(words=' '.join(extras))
                      + (did_you_mean(flag, options) if flag else ""))
        return parsed


def _innermost(parser: argparse.ArgumentParser,
               parsed: argparse.Namespace) -> argparse.ArgumentParser:
    """The (sub)parser of the command ``parsed`` holds (``users add`` for ``users add``)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            chosen = getattr(parsed, action.dest, None)
            if chosen in action.choices:
                return _innermost(action.choices[chosen], parsed)
    return parser


class _Version(argparse.Action):
    """``--version``: the package version and, in a git checkout, the commit (looked up only
    when asked, so other commands start no subprocess)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> NoReturn:
        print(f"gridloop {version_text()}")
        parser.exit()


def version_text() -> str:
    """``0.1.0`` or ``0.1.0 (commit 1a2b3c4d5e6f)`` when run from a git checkout."""
    from importlib import metadata

    from sim.experiment.store import git_commit

    try:
        version = metadata.version("gridloop")
    except metadata.PackageNotFoundError:
        version = "unknown (not installed)"
    commit = git_commit()
    return f"{version} (commit {commit[:12]})" if commit else version


def _parser() -> argparse.ArgumentParser:
    p = Parser(prog="gridloop", description=(
        _("GridLoop: simulate grid-based city management (the Dongcheng model).")),
        epilog=_("Every command has its own help with examples, e.g. gridloop run --help."))
    p.add_argument("--version", action=_Version,
                   help=_("print the version (and git commit) and exit, e.g. gridloop --version"))
    p.add_argument("--lang", default=None, metavar="LANG", help=_(LANG_HELP))
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND",
                           title=_("commands"))

    r = sub.add_parser("run", help=_("simulate a scenario and write its results"),
                       epilog=_("e.g. gridloop run small-town --days 7 --seed 3 --out runs/town"))
    r.add_argument("scenario", nargs="?", default="dongcheng",
                   help=_("scenario file or bundled name, e.g. small-town or my/town.yaml "
                        "(default: dongcheng)"))
    r.add_argument("--days", type=int,
                   help=_("simulated days instead of the scenario's, e.g. 7"))
    r.add_argument("--seed", type=int,
                   help=_("random seed instead of the scenario's, e.g. 3"))
    r.add_argument("--out", default=None,
                   help=_("output folder, e.g. runs/town; refused if it holds anything "
                          "unless --force (default: runs/<name>-seed<S>, or -2, -3... beside "
                          "an earlier one)"))
    r.add_argument("--force", action="store_true", help=_(
        "replace the earlier run in --out (or runs/<name>-seed<S>) once the new one is "
        "complete, and run a scenario estimated to need more memory than this machine has, "
        "or more than a day (docs/security.md), e.g. gridloop run --out runs/town --force"))
    add_set(r, _("override a scenario value, e.g. inspectors.count=300 (repeatable)"))
    r.add_argument("--no-figure", action="store_true", help=_("skip overview.png"))
    r.add_argument("--quiet", action="store_true", help=_("print only where results went"))
    add_format(r, _("the summary"))

    v = sub.add_parser("validate", help=_("check a scenario file and everything it names"),
                       epilog=_("e.g. gridloop validate my/town.yaml --set inspectors.count=30"))
    v.add_argument("scenario", help=_("scenario file or bundled name, e.g. my/town.yaml or "
                                    "governance/whistle"))
    add_set(v, _("check with a value overridden, e.g. inspectors.count=300 (repeatable)"))
    v.add_argument("--force", action="store_true", help=_(FORCE_HELP))

    sub.add_parser("schema", help=_("print the scenario JSON Schema"),
                   epilog=_("e.g. gridloop schema > scenario.schema.json"))

    e = sub.add_parser("evaluate", help=_("league tables of a run (or any event log in the "
                       "documented schema) under a rule set"),
                       epilog=_("e.g. gridloop evaluate runs/first --rules points-deduction "
                              "--period week"))
    e.add_argument("run_dir", help=_("run folder holding events.parquet, or the file itself, "
                                   "e.g. runs/first"))
    e.add_argument("--rules", default="standard",
                   help=_("rule set: a bundled name (standard, points-deduction, subdistrict, "
                        "three-rates) or a YAML file, e.g. my-rules.yaml (default: standard)"))
    e.add_argument("--period", choices=["month", "week", "all"], default=None,
                   help=_("evaluation period (default: the rule set's)"))
    e.add_argument("--out", default=None,
                   help=_("folder to write evaluation/ into, e.g. reports (default: RUN_DIR)"))
    add_set(e, _("override a rule-set value, e.g. parameters.w_response=0.4 (repeatable)"))
    e.add_argument("--scenario", default=None,
                   help=_("scenario that wrote the log, e.g. small-town: names areas, marks "
                        "urgent subclasses (default: summary.json's)"))
    e.add_argument("--start-date", type=_date, default=None, metavar="YYYY-MM-DD",
                   help=_("the day time 0 falls on, e.g. 2026-03-02 (default: summary.json's)"))
    e.add_argument("--top", type=int, default=20,
                   help=_("rows printed per table, the best and the worst, e.g. 10 (0: all; "
                        "default 20)"))
    e.add_argument("--quiet", action="store_true", help=_("print only where results went"))
    add_format(e, _("the league tables"))

    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    for command in sub.choices.values():      # every command speaks both languages
        command.add_argument("--lang", default=None, metavar="LANG", help=_(LANG_HELP))
    return p


LANG_HELP = N_("language of the output, e.g. zh-CN (en or zh-CN; default: $GRIDLOOP_LANG, "
               "else en)")
FORCE_HELP = N_("run a scenario estimated to need more memory than this machine has, or more "
              "than a day, e.g. gridloop run my/big.yaml --force (docs/security.md)")


def add_set(p: argparse.ArgumentParser, help_text: str) -> None:
    """``--set KEY=VALUE`` (repeatable), collected in ``overrides``."""
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help=help_text)


def add_format(p: argparse.ArgumentParser, what: str) -> None:
    """``--format table|csv|json``: how a command prints its results."""
    p.add_argument("--format", choices=["table", "csv", "json"], default="table",
                   help=_("print {what} as tables for people (default), or as CSV or JSON on "
                          "standard output for scripts (progress goes to standard error)").format(
                       what=what))


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("expected a date YYYY-MM-DD, got {text}").format(
            text=repr(text))) from None


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
    from sim.data.resources import check_resources
    from sim.data.scenario import load_scenario
    from sim.i18n import _, format_number, local_name
    from sim.outputs.runfolder import RunFolder
    from sim.run import estimate_bytes, record_run

    console = Console(stderr=args.format != "table", quiet=args.quiet)
    if args.out is not None:  # a folder that cannot take the run fails before anything
        RunFolder.prepare(args.out, force=args.force).abandon()
    scenario = load_scenario(args.scenario, args.overrides, days=args.days, seed=args.seed)
    cost = check_resources(scenario, force=args.force)     # before anything is allocated
    out = Path(args.out) if args.out else _default_out(scenario.name, scenario.seed,
                                                       args.force)
    folder = RunFolder.prepare(out, force=args.force, need_bytes=estimate_bytes(scenario))
    for note in _cost_notes(cost):
        console.print(f"[yellow]{note}[/]")
    console.print("[bold]GridLoop[/] " + _("simulating {name} for {days} days, seed {seed}")
                  .format(name=f"[cyan]{scenario.name}[/]", days=scenario.days,
                          seed=scenario.seed))
    with Progress(TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.fields[step]}"), TimeElapsedColumn(),
                  console=console, transient=True,
                  disable=args.quiet or not console.is_terminal) as bar:
        task = bar.add_task(_("simulating"), total=scenario.days, step="")

        def day(d: int) -> None:
            bar.update(task, completed=d + 1, step=_("day {day}/{days}").format(
                day=d + 1, days=scenario.days))

        def writing(what: str) -> None:  # after the simulation: what is being written
            bar.update(task, description=_("writing"), completed=None, total=None, step=what)

        run = record_run(scenario, folder, progress=day, writing=writing,
                         figure=not args.no_figure, command=["gridloop", *args.argv],
                         overrides={"set": list(args.overrides), "days": args.days,
                                    "seed": args.seed})
    console.print(_("simulated {events} events in {seconds} s").format(
        events=format_number(run.sim_events), seconds=f"{run.wall_seconds:.1f}"))
    print_summary(console, run.summary, args.format)
    print_evaluation(console, run.evaluation, {
        name: local_name(name, spec.name_zh) for name, spec in scenario.departments.items()},
        args.format)
    console.print("\n" + _("wrote {files} to {folder}").format(
        files=", ".join(sorted(p.name for p in run.paths.values())), folder=f"[bold]{out}[/]"))
    if args.quiet:
        print(out)
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from sim.data.citymap import load_city
    from sim.data.resources import check_resources
    from sim.data.scenario import load_scenario
    from sim.i18n import _

    scenario = load_scenario(args.scenario, args.overrides)
    cost = check_resources(scenario, force=args.force)
    city = load_city(scenario.resolve(scenario.city.grids_file), scenario.city.district_code)
    print(_("{file}: ok ({name}: {grids} grids, {subdistricts} subdistricts, {departments} "
            "departments)").format(file=args.scenario, name=scenario.name, grids=city.n_grids,
                                   subdistricts=city.n_subdistricts,
                                   departments=len(scenario.departments)))
    from sim.data.scenario import scenario_chain

    chain = scenario_chain(args.scenario)
    if len(chain) > 1:  # an overlay: say what it is laid over
        print("  " + _("overlay: {chain}").format(
            chain=_(" over ").join(str(p) for p in chain)))
    print("  " + _("a run needs ~{memory} of memory and ~{time} ({problems} problems, "
                   "{contacts} other hotline contacts, {staff} staff)").format(
        memory=cost.memory, time=cost.duration, problems=f"{cost.problems:,.0f}",
        contacts=f"{cost.contacts:,.0f}", staff=f"{cost.staff:,}"))
    for note in _cost_notes(cost):
        print("  " + note)
    return 0


def _cost_notes(cost: Estimate) -> list[str]:
    """What is large about a run (`sim.data.resources.Estimate.warnings`), in words."""
    from sim.i18n import _

    words = {"memory": _("note: this run needs ~{memory} of memory"),
             "time": _("note: this run takes ~{time}")}
    return [words[w].format(memory=cost.memory, time=cost.duration) for w in cost.warnings]


def _cmd_schema(_args: argparse.Namespace) -> int:
    from sim.data.scenario import Scenario

    print(json.dumps(Scenario.model_json_schema(), indent=2))
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from rich.console import Console

    from sim.cli.tables import print_league_tables
    from sim.i18n import _, format_number
    from sim.rules import evaluate_periods, load_rules
    from sim.rules.runlog import read_run_log
    from sim.rules.view import write_league_tables

    console = Console(quiet=args.quiet, stderr=args.format != "table")
    rules = load_rules(args.rules, args.overrides)        # a bad rule file fails first
    log = read_run_log(args.run_dir, scenario=args.scenario, start_date=args.start_date)
    period = args.period or rules.period
    console.print("[bold]GridLoop[/] " + _("evaluating {run} ({rows} log rows) under {rules}, "
                                            "by {period}").format(
        run=f"[cyan]{args.run_dir}[/]", rows=format_number(len(log.events)),
        rules=f"[cyan]{rules.name}[/]", period=period))
    for note in log.notes:
        console.print("  " + _("note: {note}").format(note=note))
    tables = evaluate_periods(rules, log.events, log.roster, horizon=log.horizon,
                              period=period, start_date=log.start_date, calls=log.calls)
    print_league_tables(console, tables, rules, top=max(args.top, 0), fmt=args.format)
    folder = (Path(args.out) if args.out else log.folder) / "evaluation"
    paths = write_league_tables(folder, tables, rules, period=period, horizon=log.horizon,
                                start_date=log.start_date, source=log.folder)
    console.print("\n" + _("wrote {files} to {folder}").format(
        files=", ".join(sorted(paths)), folder=f"[bold]{folder}[/]"))
    if args.quiet:
        print(folder)
    return 0


# Environment variables that shrink what commands do (docs/writing-docs.md), and what each says.
REDUCED_SIZE = {"GRIDLOOP_MAX_DAYS": N_("every run lasts at most {} days"),
                "GRIDLOOP_MAX_REPS": N_("every experiment runs at most {} replications a point")}


def _note_reduced_size() -> None:
    """Say on standard error when a reduced-size knob is set: results are not full size."""
    for name, effect in REDUCED_SIZE.items():
        if value := os.environ.get(name, "").strip():
            print("gridloop: " + _("note: {note}").format(
                note=f"{name}={value}: {_(effect).format(value)}"), file=sys.stderr)


def _quiet_closed_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush to the closed pipe does not
    print a second traceback (the Python docs' advice for SIGPIPE)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    from sim import i18n
    from sim.cli.language import language_of

    words = list(sys.argv[1:] if argv is None else argv)

    try:    # the language first: the parser's help and errors speak it too
        lang = language_of(words)
    except GridLoopError as e:
        print(f"gridloop: {e}", file=sys.stderr)
        return 2
    with i18n.use(lang):
        args = _parser().parse_args(words)
        args.argv = words  # recorded in run folders
        handler = getattr(args, "handler", None) or {
            "run": _cmd_run, "validate": _cmd_validate, "schema": _cmd_schema,
            "evaluate": _cmd_evaluate}[args.command]
        try:
            _note_reduced_size()
            return handler(args)
        except GridLoopError as e:
            print(f"gridloop: {e}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("gridloop: " + i18n.gettext("interrupted"), file=sys.stderr)
            return 130
        except BrokenPipeError:  # `gridloop ... | head`: the reader has all it wanted
            _quiet_closed_stdout()
            return 141


if __name__ == "__main__":
    sys.exit(main())
