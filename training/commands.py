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

__all__ = ["register"]


def register(sub: Any) -> None:
    e = sub.add_parser("exercises", help="list the training exercises, or show one")
    e.add_argument("exercise", nargs="?", help="exercise id or file to show, e.g. "
                                                           "rainstorm-dispatch")
    e.add_argument("--dir", default=None, help="folder of exercise files, e.g. "
                                                       "my-exercises (default: bundled)")
    e.set_defaults(handler=_cmd_exercises)

    p = sub.add_parser("play", help="play an exercise by the handbook and write its record")
    p.add_argument("exercise", help="exercise id or file, e.g. rainstorm-dispatch or "
                                    "storm-night.yaml")
    p.add_argument("--out", required=True, help="session record to write (JSON), e.g. "
                                                 "class/handbook.json")
    p.add_argument("--seed", type=int, default=None, help="seed, e.g. 5 (default: the "
                                                                  "exercise's)")
    p.add_argument("--trainee", default="handbook", help="name kept in the record, e.g. ada "
                                                             "(default: handbook)")
    p.set_defaults(handler=_cmd_play)

    g = sub.add_parser("grade", help="grade (or regrade) a training session record")
    g.add_argument("session", help="session record (JSON), e.g. class/ada.json")
    g.add_argument("--rubric", default=None, help="rubric YAML to grade by instead, e.g. "
                                                    "new-rubric.yaml")
    g.add_argument("--exercise", default=None,
                   help="exercise id or file, e.g. storm-night.yaml (default: the record's "
                        "exercise, bundled)")
    g.add_argument("--json", dest="json_out", default=None, help="also write the grade here, "
                                                                   "e.g. ada-grade.json")
    g.add_argument("--all", action="store_true", help="list every decision, not only faults")
    g.set_defaults(handler=_cmd_grade)

    c = sub.add_parser("cohort", help="grade every session in a folder: report and gradebook")
    c.add_argument("sessions", help="folder of session records (*.json), e.g. class/")
    c.add_argument("--csv", default=None, help="gradebook CSV to write, e.g. gradebook.csv")
    c.add_argument("--rubric", default=None, help="rubric YAML to grade by instead, e.g. "
                                                    "new-rubric.yaml")
    c.add_argument("--exercises", default=None,
                   help="folder of exercise files the records name, e.g. . (default: bundled)")
    c.set_defaults(handler=_cmd_cohort)


def _exercise(name: str, folder: str | None = None) -> Any:
    from training.exercises import load_exercise

    if folder is not None and not name.endswith((".yaml", ".yml")):
        return load_exercise(Path(folder) / f"{name}.yaml")
    return load_exercise(name)


def _minutes(t: float) -> str:
    m = int(t % 1440)
    return f"day {int(t // 1440)} {m // 60:02d}:{m % 60:02d}"


def _cmd_exercises(args: argparse.Namespace) -> int:
    from training.exercises import list_exercises

    if args.exercise:
        ex = _exercise(args.exercise, args.dir)
        w = ex.window
        print(f"{ex.id}: {ex.title}\n  level {ex.level}, role {ex.role}, scenario "
              f"{ex.scenario}, seed {ex.seed}\n  window day {w.day} {w.start} for {w.hours:g} h, "
              f"pace {ex.pace:g} sim min/s{' (step by step)' if ex.pace == 0 else ''}\n")
        print(ex.briefing.rstrip())
        if ex.injects:
            print("\ninjects:")
            for i in ex.injects:
                extra = f" (claimed {i.claimed})" if i.claimed else ""
                rep = f", {i.repeats} repeats" if i.repeats else ""
                print(f"  +{i.at:g} min  {i.kind}: {i.count}x {i.subclass}{extra}{rep}"
                      f"{'' if i.real else ', not real'}")
        r = ex.rubric
        a, t, o = r.weights.normalised()
        print(f"\nrubric: accuracy {a:.0%}, timeliness {t:.0%}, outcome {o:.0%}; severity "
              f"minor {r.severity.minor:g}, major {r.severity.major:g}, critical "
              f"{r.severity.critical:g}")
        return 0
    for ex in list_exercises(args.dir):
        w = ex.window
        print(f"{ex.id:<28} {ex.level:<12} {ex.role:<10} {w.start} +{w.hours:g}h  {ex.title}")
    return 0


def _cmd_play(args: argparse.Namespace) -> int:
    from training.baseline import play_handbook
    from training.records import save_record
    from training.session import Session

    ex = _exercise(args.exercise)
    s = play_handbook(Session(ex, args.seed, args.trainee))
    path = save_record(s.record, args.out)
    print(f"played {ex.id} by the handbook: {len(s.decisions)} decisions, to "
          f"{s.clock_text}; wrote {path}")
    return 0


def _print_grade(g: Any, show_all: bool) -> None:
    print(f"{g.exercise_id} (seed {g.seed}): score {g.score:g}, grade {g.grade}")
    for line in g.summary:
        print(f"  {line}")
    for fb in g.decisions:
        if fb.deviations or show_all:
            what = fb.action or "no decision"
            if fb.fields:
                what += " " + ", ".join(f"{k}={v}" for k, v in fb.fields.items())
            print(f"\n  {fb.card_id} at {_minutes(fb.received_at)}: {what}; expected "
                  f"{fb.expected}")
            for d in fb.deviations:
                print(f"    [{d.severity}] {d.rule}: {d.message}")


def _cmd_grade(args: argparse.Namespace) -> int:
    from training.grading import grade
    from training.records import load_record, load_rubric

    rubric = load_rubric(args.rubric) if args.rubric else None  # a bad rubric fails first
    record = load_record(args.session)
    ex = _exercise(args.exercise or record.exercise_id)
    g = grade(record, ex, rubric)
    _print_grade(g, args.all)
    if args.json_out:
        from sim.outputs.files import write_json

        path = write_json(Path(args.json_out), json.loads(g.model_dump_json()))
        print(f"\nwrote {path}")
    return 0


def _cmd_cohort(args: argparse.Namespace) -> int:
    from sim.errors import InputError
    from training.cohort import cohort_report, write_gradebook_csv
    from training.grading import grade
    from training.records import load_record, load_rubric

    folder = Path(args.sessions)
    files = sorted(folder.glob("*.json"))
    if not files:
        raise InputError(str(folder), None, "", "expected a folder of session records "
                         "(*.json), found none")
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
        print(f"[{i}/{len(files)}] {trainee}: {g.exercise_id} {g.score:g} ({g.grade})")
        graded.append((trainee, g))
    report = cohort_report(graded)
    print()
    print(report.text())
    if args.csv:
        print(f"\nwrote {write_gradebook_csv(report, args.csv)}")
    return 0
