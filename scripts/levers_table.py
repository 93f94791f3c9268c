"""Print a sweep's response curve as the Markdown table docs/levers.md shows.

    .venv/bin/python scripts/levers_table.py runs/levers-crews-dc hours_to_close.mean
    .venv/bin/python scripts/levers_table.py runs/levers-limits closure_rate=closure

One row per design point (the swept value), one column per KPI: the mean over the
replications and the half-width of its 95 % interval (`sim.experiment.summary.summarize`).
Rates print as percentages, hours with "h", seconds with "s". The tables in docs/levers.md
were printed this way from the sweeps whose commands that page gives; rerun both to refresh it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, str(ROOT))

from sim.experiment.summary import summarize  # noqa: E402

PERCENT = ("_rate", "_share", "on_time", "within_15s", "satisfaction", "resolution", "response")


def cell(kpi: str, mean: float, half: float) -> str:
    """A KPI's mean ± half-width in the unit a planner reads."""
    if kpi.endswith(PERCENT) or kpi.startswith("share_"):
        return f"{100 * mean:.1f} ± {100 * half:.1f} %"
    digits = 2 if abs(mean) < 10 else 1
    if "hours_to" in kpi:
        return f"{mean:.{digits}f} ± {half:.{digits}f} h"
    if kpi.endswith("_seconds"):
        return f"{mean:.1f} ± {half:.1f} s"
    return f"{mean:,.0f} ± {half:,.0f}"


def table(folder: str | Path, columns: list[str]) -> str:
    """The Markdown table of the KPIs in `columns` (``kpi`` or ``kpi=heading``) by the
    sweep's varied key(s)."""
    kpis = [c.split("=", 1)[0] for c in columns]
    headings = [c.split("=", 1)[-1] for c in columns]
    frame = summarize(folder)
    fixed = {"point", "label", "kpi", "n", "mean", "half_width", "low", "high", "rel_half_width"}
    factors = [c for c in frame.columns if c not in fixed]
    missing = sorted(set(kpis) - set(frame["kpi"]))
    if missing:
        raise SystemExit(f"{folder}: no KPI {', '.join(missing)}; it has "
                         f"{', '.join(sorted(frame['kpi'].unique()))}")
    lines = ["| " + " | ".join([f.split(".")[-1] for f in factors] + headings) + " |",
             "|" + "---|" * (len(factors) + len(kpis))]
    for _, rows in frame.groupby("point", sort=True):
        by_kpi = rows.set_index("kpi")
        first = rows.iloc[0]
        values = [str(first[f]) for f in factors]
        values += [cell(k, float(by_kpi.at[k, "mean"]), float(by_kpi.at[k, "half_width"]))
                   for k in kpis]
        lines.append("| " + " | ".join(values) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="a sweep's folder, e.g. runs/levers-crews-dc")
    parser.add_argument("kpi", nargs="+",
                        help="KPIs as in summary.json, each optionally =its column heading, "
                             "e.g. closure_rate=closure")
    args = parser.parse_args(argv)
    print(table(args.folder, args.kpi))
    return 0


if __name__ == "__main__":
    sys.exit(main())
