"""`gridloop exercises`, `gridloop play`, `gridloop grade` and `gridloop cohort`.

    gridloop exercises [ID]                         list the exercises, or show one
    gridloop play EXERCISE --out SESSION.json       play it by the handbook (a reference record)
    gridloop grade SESSION.json [--rubric FILE]     grade (or regrade) one session
    gridloop cohort SESSIONS_DIR [--csv FILE]       grade a class; gradebook CSV

Grading is a pure function of the record: regrading after a rubric change is one command.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from sim.i18n import _

__all__ = ["register"]


def register(sub: Any) -> None:
    e = sub.add_parser("exercises", help=_("list the training exercises, or show one"))
    e.add_argument("exercise", nargs="?", help=_("exercise id or file to show, e.g. "
                                                           "rainstorm-dispatch"))
    e.add_argument("--dir", default=None, help=_("folder of exercise files, e.g. "
                                                       "my-exercises (default: bundled)"))
    e.set_defaults(handler=_cmd_exercises)

    p = sub.add_parser("play", help=_("play an exercise by the handbook and write its record"))
    p.add_argument("exercise", help=_("exercise id or file, e.g. rainstorm-dispatch or "
                                    "storm-night.yaml"))
    p.add_argument("--out", required=True, help=_("session record to write (JSON), e.g. "
                                                 "class/handbook.json"))
    p.add_argument("--seed", type=int, default=None, help=_("seed, e.g. 5 (default: the "
                                                                  "exercise's)"))
    p.add_argument("--trainee", default="handbook", help=_("name kept in the record, e.g. ada "
                                                             "(default: handbook)"))
    p.set_defaults(handler=_cmd_play)

    g = sub.add_parser("grade", help=_("grade (or regrade) a training session record"))
    g.add_argument("session", help=_("session record (JSON), e.g. class/ada.json"))
    g.add_argument("--rubric", default=None, help=_("rubric YAML to grade by instead, e.g. "
                                                    "new-rubric.yaml"))
    g.add_argument("--exercise", default=None,
                   help=_("exercise id or file, e.g. storm-night.yaml (default: the record's "
                        "exercise, bundled)"))
    g.add_argument("--json", dest="json_out", default=None, help=_("also write the grade here, "
                                                                   "e.g. ada-grade.json"))
    g.add_argument("--all", action="store_true", help=_("list every decision, not only faults"))
    g.set_defaults(handler=_cmd_grade)

    c = sub.add_parser("cohort", help=_("grade every session in a folder: report and gradebook"))
    c.add_argument("sessions", help=_("folder of session records (*.json), e.g. class/"))
    c.add_argument("--csv", default=None, help=_("gradebook CSV to write, e.g. gradebook.csv"))
    c.add_argument("--rubric", default=None, help=_("rubric YAML to grade by instead, e.g. "
                                                    "new-rubric.yaml"))
    c.add_argument("--exercises", default=None,
                   help=_("folder of exercise files the records name, e.g. . (default: bundled)"))
    c.set_defaults(handler=_cmd_cohort)


def _exercise(name: str, folder: str | None = None) -> Any:
    from training.exercises import load_exercise

    if folder is not None and not name.endswith((".yaml", ".yml")):
        return load_exercise(Path(folder) / f"{name}.yaml")
    return load_exercise(name)


def _minutes(t: float) -> str:
    from sim.i18n import _

    m = int(t % 1440)
    return _("day {day} {time}").format(day=int(t // 1440), time=f"{m // 60:02d}:{m % 60:02d}")


def _cmd_exercises(args: argparse.Namespace) -> int:
    from sim.i18n import _, format_percent
    from training.exercises import list_exercises
    from training.wording import LEVELS, ROLES, label

    if args.exercise:
        ex = _exercise(args.exercise, args.dir)
        w = ex.window
        print(f"{ex.id}: {ex.text('title')}")
        print("  " + _("level {level}, role {role}, scenario {scenario}, seed {seed}").format(
            level=label(LEVELS, ex.level), role=label(ROLES, ex.role), scenario=ex.scenario,
            seed=ex.seed))
        print("  " + _("window day {day} {start} for {hours} h, pace {pace} sim min/s").format(
            day=w.day, start=w.start, hours=f"{w.hours:g}", pace=f"{ex.pace:g}")
            + (_(" (step by step)") if ex.pace == 0 else "") + "\n")
        print(ex.text("briefing").rstrip())
        if ex.injects:
            print("\n" + _("injects:"))
            for i in ex.injects:
                extra = _(" (claimed {code})").format(code=i.claimed) if i.claimed else ""
                rep = _(", {n} repeats").format(n=i.repeats) if i.repeats else ""
                print(f"  +{i.at:g} min  {i.kind}: {i.count}x {i.subclass}{extra}{rep}"
                      f"{'' if i.real else _(', not real')}")
        r = ex.rubric
        a, t, o = r.weights.normalised()
        print("\n" + _("rubric: accuracy {a}, timeliness {t}, outcome {o}; severity minor "
                       "{minor}, major {major}, critical {critical}").format(
            a=format_percent(a), t=format_percent(t), o=format_percent(o),
            minor=f"{r.severity.minor:g}", major=f"{r.severity.major:g}",
            critical=f"{r.severity.critical:g}"))
        return 0
    for ex in list_exercises(args.dir):
        w = ex.window
        print(f"{ex.id:<28} {label(LEVELS, ex.level):<12} {label(ROLES, ex.role):<10} "
              f"{w.start} +{w.hours:g}h  {ex.text('title')}")
    return 0


def _cmd_play(args: argparse.Namespace) -> int:
    from training.baseline import play_handbook
    from training.records import save_record
    from training.session import Session

    ex = _exercise(args.exercise)
    from sim.i18n import _
    from training.describe import minute_text

    s = play_handbook(Session(ex, args.seed, args.trainee))
    path = save_record(s.record, args.out)
    print(_("played {id} by the handbook: {n} decisions, to {clock}; wrote {path}").format(
        id=ex.id, n=len(s.decisions), clock=minute_text(s, s.now), path=path))
    return 0


def _print_grade(g: Any, show_all: bool) -> None:
    from sim.i18n import _, format_number
    from training.wording import ACTIONS, SEVERITY, label

    print(_("{id} (seed {seed}): score {score}, grade {grade}").format(
        id=g.exercise_id, seed=g.seed, score=format_number(g.score), grade=g.grade))
    for line in g.summary:
        print(f"  {line}")
    for fb in g.decisions:
        if fb.deviations or show_all:
            what = label(ACTIONS, fb.action) if fb.action else _("no decision")
            if fb.fields:
                what += " " + ", ".join(f"{k}={v}" for k, v in fb.fields.items())
            print("\n  " + _("{card} at {time}: {what}; expected {expected}").format(
                card=fb.card_id, time=_minutes(fb.received_at), what=what,
                expected=fb.expected))
            for d in fb.deviations:
                print(f"    [{label(SEVERITY, d.severity)}] {d.rule}: {d.message}")


def _cmd_grade(args: argparse.Namespace) -> int:
    from training.grading import grade
    from training.records import load_record, load_rubric

    rubric = load_rubric(args.rubric) if args.rubric else None  # a bad rubric fails first
    record = load_record(args.session)
    ex = _exercise(args.exercise or record.exercise_id)
    g = grade(record, ex, rubric)
    _print_grade(g, args.all)
    if args.json_out:
        from sim.i18n import _
        from sim.outputs.files import write_json

        path = write_json(Path(args.json_out), json.loads(g.model_dump_json()))
        print("\n" + _("wrote {path}").format(path=path))
    return 0


def _cmd_cohort(args: argparse.Namespace) -> int:
    from sim.errors import InputError
    from sim.i18n import _, format_number
    from training.cohort import cohort_report, write_gradebook_csv
    from training.grading import grade
    from training.records import load_record, load_rubric

    folder = Path(args.sessions)
    files = sorted(folder.glob("*.json"))
    if not files:
        raise InputError(str(folder), None, "", _("expected a folder of session records "
                                                  "(*.json), found none"))
    rubric = load_rubric(args.rubric) if args.rubric else None
    graded = []
    exercises: dict[str, Any] = {}
    for i, f in enumerate(files, 1):
        record = load_record(f)
        ex = exercises.get(record.exercise_id)
        if ex is None:
            ex = exercises[record.exercise_id] = _exercise(record.exercise_id, args.exercises)
        g = grade(record, ex, rubric)
        trainee = record.trainee or f.stem
        print(f"[{i}/{len(files)}] {trainee}: {g.exercise_id} {format_number(g.score)} "
              f"({g.grade})")
        graded.append((trainee, g))
    report = cohort_report(graded)
    print()
    print(report.text())
    if args.csv:
        print("\n" + _("wrote {path}").format(path=write_gradebook_csv(report, args.csv)))
    return 0
