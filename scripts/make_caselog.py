"""Write the example case log and handbook CSV, scenarios/examples/, from a simulation.

    python scripts/make_caselog.py           # (re)write the examples
    python scripts/make_caselog.py --check   # exit 1 if a file differs from a fresh generation

The case log is four weeks of the bundled small town (seed 2026) exported as a city's
platform would (sim.ingest.fromrun), plus two rows with mistakes a real export has, so the
tutorial (docs/import.md) shows how rejected rows are reported. The handbook CSV is the
bundled handbook's dispatch columns. Nothing is copied from elsewhere; the same command
gives the same files.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, str(ROOT))

from sim.data.scenario import SCENARIO_DIR, load_scenario  # noqa: E402
from sim.data.taxonomy import load_handbook  # noqa: E402
from sim.ingest.fromrun import run_caselog  # noqa: E402
from sim.run import simulate, write_run  # noqa: E402

OUT_DIR = ROOT / "scenarios" / "examples"
SCENARIO, DAYS, SEED = "small-town", 28, 2026
HANDBOOK_COLUMNS = ("code", "name", "name_zh", "class", "department", "urgency", "limit",
                    "limit_unit", "closing_criterion", "filing_criterion")


def caselog_text() -> str:
    scenario = load_scenario(SCENARIO, days=DAYS, seed=SEED)
    with tempfile.TemporaryDirectory() as tmp:
        write_run(simulate(scenario), tmp, figure=False)
        log = run_caselog(tmp, id_prefix="ST")
    buf = io.StringIO()
    log.to_csv(buf, index=False, lineterminator="\n")
    rows = buf.getvalue()
    first = log.iloc[10]
    bad_grid = first.copy()
    bad_grid["service_request_id"] = "ST-BAD-1"
    bad_grid["grid_code"] = str(first["grid_code"])[:14]            # a digit lost in export
    bad_time = log.iloc[11].copy()
    bad_time["service_request_id"] = "ST-BAD-2"
    bad_time["closed_datetime"] = "2026-03-01T09:00:00"             # closed before reported
    bad_time["status"] = "closed"
    extra = io.StringIO()
    bad = type(log)([bad_grid, bad_time])
    bad.to_csv(extra, index=False, header=False, lineterminator="\n")
    return rows + extra.getvalue()


def handbook_text() -> str:
    hb = load_handbook(SCENARIO_DIR / "handbook" / "standard.yaml")
    classes = {(c.kind, c.code): c.name for c in hb.classes}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HANDBOOK_COLUMNS)
    for s in hb.subclasses:
        w.writerow((s.code, s.name, s.name_zh, classes[(s.kind, s.class_code)], s.department,
                    s.urgency, f"{s.time_limit.value:g}", s.time_limit.unit,
                    s.closing_criterion, s.filing_criterion))
    return buf.getvalue()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="compare instead of writing")
    args = p.parse_args()
    files = {OUT_DIR / "caselog.csv": caselog_text(), OUT_DIR / "handbook.csv": handbook_text()}
    stale = []
    for path, text in files.items():
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)} ({text.count(chr(10)) - 1} rows)")
    for path in stale:
        print(f"{path.relative_to(ROOT)} differs from a fresh generation", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
