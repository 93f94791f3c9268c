"""How a run's summary and league tables look in a terminal (rich tables), in the language in
force (`sim.i18n`: words from the catalogue, numbers and percentages per locale)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from sim.i18n import N_, _, format_decimal, format_number, format_percent
from sim.i18n.columns import column_label

__all__ = ["print_summary", "print_evaluation"]

def _count(v: float) -> str:
    return format_number(v)


def _share(v: float) -> str:
    return format_percent(v, 1)


_ROWS = [
    ("problems_created", N_("problems appeared (ground truth)"), _count),
    ("problems_fixed", N_("problems fixed (incl. on the spot)"), _count),
    ("cases_filed", N_("cases filed"), _count),
    ("cases_filed_per_day", N_("cases filed a day"), lambda v: format_decimal(v, 1)),
    ("cases_closed", N_("cases closed"), _count),
    ("cases_open_at_end", N_("cases open at the end"), _count),
    ("share_found_by_inspectors", N_("found by inspectors"), _share),
    ("events_share", N_("events (事件) among cases"), _share),
    ("discovery_rate", N_("problems that became cases"), _share),
    ("mean_hours_to_discovery", N_("mean hours to discovery"), lambda v: format_decimal(v, 2)),
    ("on_time_handling_rate", N_("handled on time"), _share),
    ("rework_rate", N_("rework rate"), _share),
    ("closure_rate", N_("closure rate"), _share),
]


def print_summary(console: Console, s: dict[str, Any]) -> None:
    na = _("n/a")
    t = Table(title=_("{name}: {days} days, seed {seed}").format(
        name=s["scenario"], days=s["days"], seed=s["seed"]), show_header=False)
    t.add_column("indicator")
    t.add_column("value", justify="right")
    for key, label, fmt in _ROWS:
        v = s.get(key)
        t.add_row(_(label), na if v is None else fmt(v))
    h = s["hours_to_close"]
    if h["mean"] is not None:
        t.add_row(_("hours report -> close (mean / median / p90)"),
                  " / ".join(format_decimal(h[k], 1) for k in ("mean", "median", "p90")))
    hot, rates = s.get("hotline"), s.get("three_rates")
    if hot:
        t.add_section()
        t.add_row(_("12345 contacts a day"), format_number(round(hot["calls_offered"] /
                                                               s["days"])))
        for key, label in (("connected_rate", N_("connected")),
                           ("answered_within_15s", N_("answered within 15 s")),
                           ("abandon_rate", N_("abandoned"))):
            v = hot.get(key)
            t.add_row(_(label), na if v is None else _share(v))
        w = hot.get("mean_wait_seconds")
        t.add_row(_("mean wait (s, answered)"), na if w is None else format_decimal(w, 1))
        t.add_row(_("work orders (of which grid)"),
                  f"{_count(hot['work_orders'])} ({_count(hot['grid_work_orders'])})")
    if rates:
        t.add_row(_("three rates: response / resolution / satisfaction"), " / ".join(
            na if rates.get(k) is None else _share(rates[k])
            for k in ("response", "resolution", "satisfaction")))
    console.print(t)


def _league(console: Console, title: str, df: pd.DataFrame, unit: str, cols: list[str],
            names: dict[str, str]) -> None:
    t = Table(title=title)
    for c in ["rank", unit, *cols, "score", "grade"]:
        t.add_column(column_label(c), justify="left" if c == unit else "right")
    for _i, r in df.sort_values("rank").iterrows():
        cells = [str(int(r["rank"])), names.get(str(r[unit]), str(r[unit]))]
        for c in cols:
            v = r[c]
            cells.append(_share(v) if isinstance(v, float) and v <= 1.0 else _count(v))
        cells += [format_decimal(r["score"], 1), str(r["grade"])]
        t.add_row(*cells)
    console.print(t)


def print_evaluation(console: Console, tables: dict[str, pd.DataFrame],
                     names: dict[str, str] | None = None) -> None:
    """League tables of departments and subdistricts (standard evaluation, DOMAIN §6);
    ``names`` shows units under other names (the departments' Chinese names)."""
    for key, title in (("departments", N_("Departments: standard evaluation")),
                       ("subdistricts", N_("Subdistricts: standard evaluation"))):
        df = tables.get(key)
        if df is None or df.empty:
            continue
        unit = "name" if "name" in df.columns else df.columns[0]
        rates = [c for c in df.columns if c.endswith("_rate")][:4]
        _league(console, _(title), df, unit, rates, names or {})
