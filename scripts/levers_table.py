"""Print a sweep's response curve as the Markdown table docs/levers.md shows.

    python scripts/levers_table.py runs/levers-crews-dc hours_to_close.mean on_time_handling_rate
    python scripts/levers_table.py runs/levers-calls-dc hotline.mean_wait_seconds closure_rate

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

PERCENT = ("_rate", "_share", "within_15s", "satisfaction", "resolution", "response")


def cell(kpi: str, mean: float, half: float) -> str:
    """A KPI's mean ± half-width in the unit a planner reads."""
    if kpi.endswith(PERCENT):
        return f"{100 * mean:.1f} ± {100 * half:.1f} %"
    if kpi.startswith("hours_") or "hours_to" in kpi:
        return f"{mean:.1f} ± {half:.1f} h"
    if kpi.endswith("_seconds"):
        return f"{mean:.1f} ± {half:.1f} s"
    return f"{mean:.0f} ± {half:.0f}"


def table(folder: str | Path, kpis: list[str]) -> str:
    """The Markdown table of `kpis` by the sweep's varied key(s)."""
    frame = summarize(folder)
    fixed = {"point", "label", "kpi", "n", "mean", "half_width", "low", "high", "rel_half_width"}
    factors = [c for c in frame.columns if c not in fixed]
    missing = sorted(set(kpis) - set(frame["kpi"]))
    if missing:
        raise SystemExit(f"{folder}: no KPI {', '.join(missing)}; it has "
                         f"{', '.join(sorted(frame['kpi'].unique()))}")
    lines = ["| " + " | ".join(factors + kpis) + " |",
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
    parser.add_argument("kpi", nargs="+", help="KPIs as in summary.json, e.g. closure_rate")
    args = parser.parse_args(argv)
    print(table(args.folder, args.kpi))
    return 0


if __name__ == "__main__":
    sys.exit(main())
