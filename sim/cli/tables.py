"""How results look in a terminal, and the same results for scripts (``--format csv|json``).

Terminal tables fit the terminal's width. A table has row headers (a unit's rank and name, a
design point's varied keys), never shortened, and value columns under short headers, with
the full names in a legend below. When the value columns still do not fit, they are split
over several tables, each repeating the row headers. Nothing is left out silently: a table
that shows only some rows says how many it left out and how to see them all.
"""

from __future__ import annotations

import io
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

__all__ = ["Column", "print_fitted", "print_machine", "print_summary", "print_evaluation",
           "print_league_tables", "flat_summary"]


@dataclass
class Column:
    """One column of a terminal table.

    Attributes:
        name: the full name, shown in the legend when ``header`` differs.
        header: the short header shown above the column.
        cells: the column's text, one per row.
        styles: rich styles per row ("" for none), e.g. green for a better value.
    """

    name: str
    header: str
    cells: list[str]
    styles: list[str] = field(default_factory=list)


def _table(index: Sequence[Column], values: Sequence[Column], gap: int | None = None) -> Table:
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True, show_edge=False)
    for c in index:
        t.add_column(c.header, justify="left", no_wrap=True)
    for c in values:
        t.add_column(c.header, justify="right", no_wrap=True)
    n = len(index[0].cells) if index else len(values[0].cells) if values else 0
    for i in range(n):
        if gap is not None and i == gap:
            t.add_row(*["…"] * (len(index) + len(values)))
        row = [c.cells[i] for c in index]
        for c in values:
            style = c.styles[i] if c.styles else ""
            row.append(f"[{style}]{c.cells[i]}[/]" if style else c.cells[i])
        t.add_row(*row)
    return t


def _width(console: Console, table: Table) -> int:
    """The width ``table`` takes unshrunk (rich's measure is capped at the width it is
    offered, so offer it plenty)."""
    return Measurement.get(console, console.options.update_width(100_000), table).maximum


def print_fitted(console: Console, title: str, index: Sequence[Column],
                 values: Sequence[Column], notes: Sequence[str] = (),
                 gap: int | None = None) -> None:
    """Print a table that fits ``console.width``: the value columns are split over as many
    tables as needed (row headers repeated); a legend gives the full name of every column
    whose header is shortened, then ``notes``. ``gap``: a row of "…" before that row (rows
    left out there; a note should say so)."""
    chunks: list[list[Column]] = [[]]
    for col in values:
        trial = _table(index, [*chunks[-1], col], gap)
        if chunks[-1] and _width(console, trial) > console.width:
            chunks.append([])
        chunks[-1].append(col)
    for k, chunk in enumerate(chunks):
        part = f" ({k + 1} of {len(chunks)})" if len(chunks) > 1 else ""
        console.print(Text(f"{title}{part}", style="bold"))
        console.print(_table(index, chunk, gap))
    legend = [f"{c.header} = {c.name}" for c in values if c.header != c.name]
    for text in (["; ".join(legend)] if legend else []) + list(notes):
        console.print(Padding(Text(text), (0, 0, 0, 2)))


def print_machine(frame: pd.DataFrame, fmt: str, out: Any = None) -> None:
    """Write ``frame`` to standard output as CSV (with a header row) or as JSON (a list of
    records, NaN as null)."""
    out = out or sys.stdout
    if fmt == "csv":
        buf = io.StringIO()
        frame.to_csv(buf, index=False)
        out.write(buf.getvalue())
    else:
        records = json.loads(frame.to_json(orient="records", force_ascii=False))
        out.write(json.dumps(records, indent=1, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------- a run's summary

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


def flat_summary(s: dict[str, Any]) -> pd.DataFrame:
    """``summary.json`` as rows of ``key, value`` (nested sections joined by dots; lists
    such as ``outputs`` left out)."""
    rows: list[tuple[str, Any]] = []

    def walk(prefix: str, d: dict[str, Any]) -> None:
        for k, v in d.items():
            if isinstance(v, dict):
                walk(f"{prefix}{k}.", v)
            elif not isinstance(v, list):
                rows.append((f"{prefix}{k}", v))
    walk("", s)
    return pd.DataFrame(rows, columns=["key", "value"])


def print_summary(console: Console, s: dict[str, Any], fmt: str = "table") -> None:
    """A run's summary: a table for people, or every number of summary.json for scripts."""
    if fmt != "table":
        if fmt == "json":
            sys.stdout.write(json.dumps(s, indent=1, ensure_ascii=False) + "\n")
        else:
            print_machine(flat_summary(s), fmt)
        return
    t = Table(title=f"{s['scenario']}: {s['days']} days, seed {s['seed']}", show_header=False)
    t.add_column("indicator")
    t.add_column("value", justify="right", no_wrap=True)
    for key, label, fmt_ in _ROWS:
        v = s.get(key)
        t.add_row(label, "n/a" if v is None else fmt_.format(v))
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


# ---------------------------------------------------------------- league tables

# Short headers of the standard evaluation's and the bundled rule sets' indicators; any
# other indicator shows its own name (with underscores as spaces).
_SHORT = {
    "case_count_score": "cases", "closure_rate": "closure", "on_time_handling_rate": "on time",
    "rework_rate": "rework", "public_report_rate": "public", "filed_count_score": "filed",
    "on_time_closure_rate": "on-time close", "valid_report_rate": "valid",
    "missed_report_rate": "missed", "on_time_verification_rate": "verify",
    "on_time_check_rate": "check", "volume_score": "volume",
    "on_time_verify_send_rate": "verify sent", "on_time_check_send_rate": "check sent",
    "on_time_filing_rate": "filing", "accurate_filing_rate": "accurate filing",
    "on_time_closing_rate": "closing", "on_time_dispatch_rate": "dispatch",
    "accurate_dispatch_rate": "accurate dispatch",
}
_MIN_HIDDEN = 5   # never leave out fewer rows than this: print them instead


def _cell(v: Any, percent: bool) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if percent:
        return f"{v:.1%}"
    return f"{v:,.2f}" if isinstance(v, float) and not float(v).is_integer() else f"{v:,.0f}"


def print_league(console: Console, title: str, df: pd.DataFrame, indicators: list[str],
                 top: int = 0, unit: str = "name") -> None:
    """One league table, ranked: rank and unit name in full, the indicators (rates as
    percentages) under short headers, score, grade. With ``top``, the best and worst rows
    when leaving out at least a handful; the table then says how many and how to see all."""
    rows = df.sort_values(["rank", unit], kind="stable")
    left_out = len(rows) - top if top else 0
    if left_out >= _MIN_HIDDEN:
        rows = pd.concat([rows.head(top - top // 2), rows.tail(top // 2)])
    else:
        left_out = 0
    index = [Column("rank", "rank", [str(int(r)) for r in rows["rank"]]),
             Column(unit, unit, [str(n) for n in rows[unit]])]
    values = []
    for c in indicators:
        v = df[c].to_numpy(dtype=float)
        percent = bool(len(v)) and bool(((v >= 0) & (v <= 1) | (v != v)).all())
        values.append(Column(c, _SHORT.get(c, c.replace("_", " ")),
                             [_cell(x, percent) for x in rows[c]]))
    values.append(Column("score", "score", [f"{x:.1f}" for x in rows["score"]]))
    values.append(Column("grade", "grade", [str(g) for g in rows["grade"]]))
    notes = [f"{left_out:,} of {len(df):,} rows left out between rank "
             f"{int(rows['rank'].iloc[top - top // 2 - 1])} and "
             f"{int(rows['rank'].iloc[top - top // 2])}; --top 0 prints all, "
             "and the CSV in the evaluation folder has them"] if left_out else []
    print_fitted(console, title, index, values, notes,
                 gap=top - top // 2 if left_out else None)


def print_evaluation(console: Console, tables: dict[str, pd.DataFrame],
                     fmt: str = "table") -> None:
    """League tables of departments and subdistricts (standard evaluation,
    docs/domain.md §6) after a run; every row, as the standard's four rates."""
    if fmt != "table":
        return  # scripts read the summary; `gridloop evaluate --format` gives the tables
    for key, title in (("departments", "Departments: standard evaluation"),
                       ("subdistricts", "Subdistricts: standard evaluation")):
        df = tables.get(key)
        if df is None or df.empty:
            continue
        unit = "name" if "name" in df.columns else df.columns[0]
        rates = [c for c in df.columns if c.endswith("_rate")][:4]
        print_league(console, title, df, rates, unit=unit)


_TITLES = {"departments": "Departments", "subdistricts": "Subdistricts",
           "communities": "Communities", "grids": "Grids", "inspectors": "Inspectors (beats)",
           "acceptors": "Acceptors", "shift_leaders": "Shift leaders",
           "dispatchers": "Dispatchers"}


def print_league_tables(console: Console, tables: dict[str, pd.DataFrame], rules: Any,
                        *, top: int = 20, fmt: str = "table") -> None:
    """Every table of every period of a rule set's evaluation (`sim.rules`): ranked rows,
    the indicators that weigh in the score (up to five), score, grade. For scripts, one
    long table of every unit kind and period (a ``kind`` column added)."""
    if fmt != "table":
        frames = [t.assign(kind=kind) for kind, t in tables.items()]
        long = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        if len(long):
            long = long[["kind", *[c for c in long.columns if c != "kind"]]]
        print_machine(long, fmt)
        return
    periods = list(dict.fromkeys(label for t in tables.values() for label in t["period"]))
    for label in periods:
        for kind, table in tables.items():
            unit = rules.units[kind]
            shown = [i.name for i in unit.indicators if i.weight > 0 or unit.score is not None]
            df = table[table["period"] == label]
            if df.empty:
                continue
            print_league(console, f"{_TITLES.get(kind, kind)}: {rules.name}, {label}", df,
                         shown[:5], top)
