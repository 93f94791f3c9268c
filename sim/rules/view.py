"""How rule-set league tables look in a terminal, and how they are written to disk.

Printing follows `sim.cli.tables`: one rich table per unit kind and period, ranked, rates
as percentages. Writing puts one tidy table per unit kind (all periods, a ``period`` column)
into ``evaluation/<kind>.csv`` and ``.parquet``, plus ``evaluation.json`` saying which rule
set, parameters and periods made them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from sim.i18n import N_, _, format_decimal, format_percent
from sim.i18n.columns import column_label
from sim.outputs.csvcells import safe_frame
from sim.outputs.files import atomic_write, write_frame, write_json
from sim.rules.ruleset import RuleSet

__all__ = ["print_league_tables", "write_league_tables"]

_TITLES = {"departments": N_("Departments"), "subdistricts": N_("Subdistricts"),
           "communities": N_("Communities"), "grids": N_("Grids"),
           "inspectors": N_("Inspectors (beats)"), "acceptors": N_("Acceptors"),
           "shift_leaders": N_("Shift leaders"), "dispatchers": N_("Dispatchers")}


def _formatter(values: pd.Series) -> Callable[[float], str]:
    v = values.to_numpy(dtype=float)
    if len(v) and ((v >= 0) & (v <= 1)).all():
        return lambda x: format_percent(x, 1)
    return lambda x: format_decimal(x, 2)


def _league(console: Console, title: str, df: pd.DataFrame, columns: list[str],
            top: int) -> None:
    t = Table(title=title)
    for c in ["rank", "name", *columns, "score", "grade"]:
        t.add_column(column_label(c), justify="left" if c == "name" else "right")
    fmt = {c: _formatter(df[c]) for c in columns}
    rows = df.sort_values(["rank", "unit"])
    hidden = 0
    if top and len(rows) > top:
        hidden = len(rows) - top
        rows = pd.concat([rows.head(top - top // 2), rows.tail(top // 2)])
    for i, (_i, r) in enumerate(rows.iterrows()):
        if hidden and i == top - top // 2:
            t.add_row("…", _("{n} more").format(n=f"{hidden:,}"), *[""] * (len(columns) + 2))
        cells = [str(int(r["rank"])), str(r["name"])]
        cells += [fmt[c](r[c]) for c in columns]
        cells += [format_decimal(r["score"], 1), str(r["grade"])]
        t.add_row(*cells)
    console.print(t)


def print_league_tables(console: Console, tables: dict[str, pd.DataFrame], rules: RuleSet,
                        *, top: int = 10) -> None:
    """Every table of every period: ranked rows (the best and worst `top` when there are
    more; 0 prints all), the indicators that weigh in the score (up to five), score, grade."""
    periods = list(dict.fromkeys(label for t in tables.values() for label in t["period"]))
    for label in periods:
        for kind, table in tables.items():
            unit = rules.units[kind]
            shown = [i.name for i in unit.indicators if i.weight > 0 or unit.score is not None]
            df = table[table["period"] == label]
            if df.empty:
                continue
            title = f"{_(_TITLES[kind]) if kind in _TITLES else kind}: {rules.name}, {label}"
            _league(console, title, df, shown[:5], top)


def write_league_tables(folder: Path, tables: dict[str, pd.DataFrame], rules: RuleSet, *,
                        period: str, horizon: float, start_date: dt.date | None,
                        source: Path) -> dict[str, Path]:
    """Write ``<kind>.csv``, ``<kind>.parquet`` and ``evaluation.json`` into `folder`."""
    paths: dict[str, Path] = {}
    for kind, table in tables.items():
        paths[f"{kind}.csv"] = atomic_write(
            folder / f"{kind}.csv", lambda p, t=table: safe_frame(t).to_csv(p, index=False))
        paths[f"{kind}.parquet"] = write_frame(folder / f"{kind}.parquet", table)
    paths["evaluation.json"] = write_json(folder / "evaluation.json", {
        "rules": rules.name, "rules_file": rules.source,
        "parameters": dict(rules.parameters), "exclude": list(rules.exclude),
        "period": period, "horizon_min": horizon,
        "start_date": start_date.isoformat() if start_date else None,
        "events": str(source),
        "tables": sorted(tables),
        "periods": list(dict.fromkeys(label for t in tables.values()
                                      for label in t["period"])),
    })
    return paths
