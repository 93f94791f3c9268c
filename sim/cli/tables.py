"""How a run's summary and league tables look in a terminal (rich tables)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

__all__ = ["print_summary", "print_evaluation"]

_ROWS = [
    ("problems_created", "problems appeared (ground truth)", "{:,}"),
    ("problems_fixed", "problems fixed (incl. on the spot)", "{:,}"),
    ("cases_filed", "cases filed", "{:,}"),
    ("cases_filed_per_day", "cases filed a day", "{:,.1f}"),
    ("cases_closed", "cases closed", "{:,}"),
    ("cases_open_at_end", "cases open at the end", "{:,}"),
    ("share_found_by_inspectors", "found by inspectors", "{:.1%}"),
    ("events_share", "events (事件) among cases", "{:.1%}"),
    ("discovery_rate", "problems that became cases", "{:.1%}"),
    ("mean_hours_to_discovery", "mean hours to discovery", "{:.2f}"),
    ("on_time_handling_rate", "handled on time", "{:.1%}"),
    ("rework_rate", "rework rate", "{:.1%}"),
    ("closure_rate", "closure rate", "{:.1%}"),
]


def print_summary(console: Console, s: dict[str, Any]) -> None:
    t = Table(title=f"{s['scenario']}: {s['days']} days, seed {s['seed']}", show_header=False)
    t.add_column("indicator")
    t.add_column("value", justify="right")
    for key, label, fmt in _ROWS:
        v = s.get(key)
        t.add_row(label, "n/a" if v is None else fmt.format(v))
    h = s["hours_to_close"]
    if h["mean"] is not None:
        t.add_row("hours report -> close (mean / median / p90)",
                  f"{h['mean']:.1f} / {h['median']:.1f} / {h['p90']:.1f}")
    hot, rates = s.get("hotline"), s.get("three_rates")
    if hot:
        t.add_section()
        t.add_row("12345 contacts a day", f"{hot['calls_offered'] / s['days']:,.0f}")
        for key, label in (("connected_rate", "connected"),
                           ("answered_within_15s", "answered within 15 s"),
                           ("abandon_rate", "abandoned")):
            v = hot.get(key)
            t.add_row(label, "n/a" if v is None else f"{v:.1%}")
        w = hot.get("mean_wait_seconds")
        t.add_row("mean wait (s, answered)", "n/a" if w is None else f"{w:.1f}")
        t.add_row("work orders (of which grid)",
                  f"{hot['work_orders']:,} ({hot['grid_work_orders']:,})")
    if rates:
        t.add_row("three rates: response / resolution / satisfaction", " / ".join(
            "n/a" if rates.get(k) is None else f"{rates[k]:.1%}"
            for k in ("response", "resolution", "satisfaction")))
    console.print(t)


def _league(console: Console, title: str, df: pd.DataFrame, unit: str, cols: list[str]) -> None:
    t = Table(title=title)
    for c in ["rank", unit, *cols, "score", "grade"]:
        t.add_column(c.replace("_", " "), justify="left" if c == unit else "right")
    for _, r in df.sort_values("rank").iterrows():
        cells = [str(int(r["rank"])), str(r[unit])]
        for c in cols:
            v = r[c]
            cells.append(f"{v:.1%}" if isinstance(v, float) and v <= 1.0 else f"{v:,}")
        cells += [f"{r['score']:.1f}", str(r["grade"])]
        t.add_row(*cells)
    console.print(t)


def print_evaluation(console: Console, tables: dict[str, pd.DataFrame]) -> None:
    """League tables of departments and subdistricts (standard evaluation, DOMAIN §6)."""
    for key, title in (("departments", "Departments: standard evaluation"),
                       ("subdistricts", "Subdistricts: standard evaluation")):
        df = tables.get(key)
        if df is None or df.empty:
            continue
        unit = "name" if "name" in df.columns else df.columns[0]
        rates = [c for c in df.columns if c.endswith("_rate")][:4]
        _league(console, title, df, unit, rates)
