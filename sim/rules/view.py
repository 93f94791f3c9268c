"""How rule-set league tables look in a terminal, and how they are written to disk.

Printing follows `sim.cli.tables`: one rich table per unit kind and period, ranked, rates
as percentages. Writing puts one tidy table per unit kind (all periods, a ``period`` column)
into ``evaluation/<kind>.csv`` and ``.parquet``, plus ``evaluation.json`` saying which rule
set, parameters and periods made them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from sim.outputs.csvcells import safe_frame
from sim.outputs.files import atomic_write, write_frame, write_json
from sim.rules.ruleset import RuleSet

__all__ = ["print_league_tables", "write_league_tables"]

_TITLES = {"departments": "Departments", "subdistricts": "Subdistricts",
           "communities": "Communities", "grids": "Grids", "inspectors": "Inspectors (beats)",
           "acceptors": "Acceptors", "shift_leaders": "Shift leaders",
           "dispatchers": "Dispatchers"}


def _formatter(values: pd.Series) -> str:
    v = values.to_numpy(dtype=float)
    return "{:.1%}" if len(v) and ((v >= 0) & (v <= 1)).all() else "{:,.2f}"


def _league(console: Console, title: str, df: pd.DataFrame, columns: list[str],
            top: int) -> None:
    t = Table(title=title)
    for c in ["rank", "name", *columns, "score", "grade"]:
        t.add_column(c.replace("_", " "), justify="left" if c == "name" else "right")
    fmt = {c: _formatter(df[c]) for c in columns}
    rows = df.sort_values(["rank", "unit"])
    hidden = 0
    if top and len(rows) > top:
        hidden = len(rows) - top
        rows = pd.concat([rows.head(top - top // 2), rows.tail(top // 2)])
    for i, (_, r) in enumerate(rows.iterrows()):
        if hidden and i == top - top // 2:
            t.add_row("…", f"{hidden:,} more", *[""] * (len(columns) + 2))
        cells = [str(int(r["rank"])), str(r["name"])]
        cells += [fmt[c].format(r[c]) for c in columns]
        cells += [f"{r['score']:.1f}", str(r["grade"])]
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
            title = f"{_TITLES.get(kind, kind)}: {rules.name}, {label}"
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
