"""How rule-set league tables are written to disk (`sim.cli.tables` prints them).

One tidy table per unit kind (all periods, a ``period`` column) goes into
``evaluation/<kind>.csv`` and ``.parquet``, plus ``evaluation.json`` saying which rule set,
parameters and periods made them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from sim.outputs.csvcells import safe_frame
from sim.outputs.files import atomic_write, write_frame, write_json
from sim.rules.ruleset import RuleSet

__all__ = ["write_league_tables"]


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
