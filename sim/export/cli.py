"""``gridloop export RUN_DIR --format open311|ocel [--out FILE]``: a run for other tools.

``open311`` writes the cases as a GeoReport v2-style CSV (``RUN_DIR/open311.csv``), the case
log `gridloop calibrate` and `gridloop validate-against` read; ``ocel`` writes the event log
as OCEL 2.0 JSON (``RUN_DIR/ocel.json``) for process-mining tools (PM4Py and others).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path

from sim.i18n import _

__all__ = ["register"]

_DEFAULT_NAME = {"open311": "open311.csv", "ocel": "ocel.json"}


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("expected a date YYYY-MM-DD, got {text}").format(
            text=repr(text))) from None


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "export", help=_("write a run as an Open311 case log (CSV) or an OCEL 2.0 event log"),
        description=_("Write a run folder's cases as an Open311 GeoReport v2-style CSV, or its "
                    "event log as OCEL 2.0 JSON (objects: cases, problems, departments, "
                    "inspectors)."))
    p.add_argument("run_dir", help=_("run folder written by `gridloop run`, e.g. runs/my-city"))
    p.add_argument("--format", required=True, choices=sorted(_DEFAULT_NAME),
                   help=_("open311 (CSV, one row a case) or ocel (OCEL 2.0 JSON)"))
    p.add_argument("--out", default=None,
                   help=_("file to write, e.g. dongcheng-cases.csv (default: RUN_DIR/open311.csv "
                        "or RUN_DIR/ocel.json)"))
    p.add_argument("--scenario", default=None,
                   help=_("scenario that wrote the run, e.g. small-town (default: "
                        "summary.json's): names services and places"))
    p.add_argument("--start-date", type=_date, default=None, metavar="YYYY-MM-DD",
                   help=_("the day time 0 falls on, e.g. 2026-03-02 (default: summary.json's)"))
    p.add_argument("--utc-offset", default=None, metavar="OFFSET",
                   help=_("a fixed offset from UTC for date-times, e.g. -04:00 or Z (default: "
                        "the scenario's calendar.timezone, daylight saving included; +08:00 "
                        "when the run names no scenario)"))
    p.add_argument("--self-handled", action="store_true",
                   help=_("open311: also write the inspectors' on-the-spot fixes (left out by "
                        "default: platforms count them apart from cases)"))
    p.set_defaults(handler=_cmd_export)
    # "-04:00" is a value, not an option: let it stand as its own word after --utc-offset
    p._negative_number_matcher = re.compile(r"^-\d+$|^-\d*\.\d+$|^-\d{2}:?\d{2}$")


def _cmd_export(args: argparse.Namespace) -> int:
    from sim.export.source import read_run

    run = read_run(args.run_dir, scenario=args.scenario, start_date=args.start_date,
                   utc_offset=args.utc_offset)
    out = Path(args.out) if args.out else Path(args.run_dir) / _DEFAULT_NAME[args.format]
    print(_("exporting {run} ({cases} cases, {rows} log rows) as {format}").format(
        run=args.run_dir, cases=f"{len(run.cases):,}", rows=f"{len(run.events):,}",
        format=args.format))
    for note in run.notes:
        print("  " + _("note: {note}").format(note=note))
    if args.format == "open311":
        from sim.export.open311 import write_open311
        write_open311(run, out, self_handled=args.self_handled)
    else:
        from rich.progress import Progress

        from sim.export.ocel import write_ocel
        with Progress(transient=True, disable=not sys.stdout.isatty()) as bar:
            task = bar.add_task(_("writing events"), total=len(run.events))
            write_ocel(run, out, progress=lambda done, _total: bar.update(task, completed=done))
    print(_("wrote {path}").format(path=out))
    return 0
