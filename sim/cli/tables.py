"""How results look in a terminal, and the same results for scripts (``--format csv|json``).

Terminal tables fit the terminal's width. A table has row headers (a unit's rank and name, a
design point's varied keys), never shortened, and value columns whose headers wrap at spaces
(league tables, in the language in force) or are short, with the full names in a legend
below (an experiment's KPIs). When the value columns still do not fit, they are split
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
from rich.cells import cell_len
from rich.console import Console
from rich.measure import Measurement
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from sim.i18n import N_, _, format_decimal, format_number, format_percent
from sim.i18n.columns import column_label

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
        wrap: the header may wrap at spaces (a long name shown whole, no legend needed).
    """

    name: str
    header: str
    cells: list[str]
    styles: list[str] = field(default_factory=list)
    wrap: bool = False


def _table(index: Sequence[Column], values: Sequence[Column], gap: int | None = None) -> Table:
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True, show_edge=False)
    for c in index:   # text, never markup: names may hold brackets
        t.add_column(Text(c.header), justify="left", no_wrap=True)
    for c in values:
        if c.wrap:  # as wide as its widest cell or the header's longest word
            width = max([cell_len(x) for x in c.cells] + [cell_len(w) for w in c.header.split()])
            t.add_column(Text(c.header), justify="right", width=width)
        else:
            t.add_column(Text(c.header), justify="right", no_wrap=True)
    n = len(index[0].cells) if index else len(values[0].cells) if values else 0
    for i in range(n):
        if gap is not None and i == gap:
            t.add_row(*["…"] * (len(index) + len(values)))
        t.add_row(*[Text(c.cells[i]) for c in index],
                  *[Text(c.cells[i], style=c.styles[i] if c.styles else "") for c in values])
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
        part = _(" ({k} of {n})").format(k=k + 1, n=len(chunks)) if len(chunks) > 1 else ""
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
    na = _("n/a")
    t = Table(title=_("{name}: {days} days, seed {seed}").format(
        name=s["scenario"], days=s["days"], seed=s["seed"]), show_header=False)
    t.add_column("indicator")
    t.add_column("value", justify="right", no_wrap=True)
    for key, label, fmt_ in _ROWS:
        v = s.get(key)
        t.add_row(_(label), na if v is None else fmt_(v))
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


# ---------------------------------------------------------------- league tables

_MIN_HIDDEN = 5   # never leave out fewer rows than this: print them instead


def _cell(v: Any, percent: bool) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if percent:
        return _share(v)
    return format_decimal(v, 2) if isinstance(v, float) and not float(v).is_integer() \
        else _count(v)


def print_league(console: Console, title: str, df: pd.DataFrame, indicators: list[str],
                 top: int = 0, unit: str = "name", names: dict[str, str] | None = None) -> None:
    """One league table, ranked: rank and unit name in full (``names`` shows units under
    other names), the indicators (rates as percentages) under their names wrapped to fit,
    score, grade. With ``top``, the best and worst rows when that leaves out at least a
    handful; the table then says how many and how to see them all."""
    rows = df.sort_values(["rank", unit], kind="stable")
    left_out = len(rows) - top if top else 0
    if left_out >= _MIN_HIDDEN:
        rows = pd.concat([rows.head(top - top // 2), rows.tail(top // 2)])
    else:
        left_out = 0
    names = names or {}
    index = [Column("rank", column_label("rank"), [str(int(r)) for r in rows["rank"]]),
             Column(unit, column_label("name"), [names.get(str(n), str(n)) for n in rows[unit]])]
    values = []
    for c in indicators:
        v = df[c].to_numpy(dtype=float)
        percent = bool(len(v)) and bool(((v >= 0) & (v <= 1) | (v != v)).all())
        label = column_label(c)
        values.append(Column(label, label, [_cell(x, percent) for x in rows[c]], wrap=True))
    values.append(Column(column_label("score"), column_label("score"),
                         [format_decimal(x, 1) for x in rows["score"]]))
    values.append(Column(column_label("grade"), column_label("grade"),
                         [str(g) for g in rows["grade"]]))
    notes = [_("{left_out} of {rows} rows left out between rank {first} and {last}; --top 0 "
               "prints all, and the CSV in the evaluation folder has them").format(
        left_out=f"{left_out:,}", rows=f"{len(df):,}",
        first=int(rows['rank'].iloc[top - top // 2 - 1]),
        last=int(rows['rank'].iloc[top - top // 2]))] if left_out else []
    print_fitted(console, title, index, values, notes,
                 gap=top - top // 2 if left_out else None)


def print_evaluation(console: Console, tables: dict[str, pd.DataFrame],
                     names: dict[str, str] | None = None, fmt: str = "table") -> None:
    """League tables of departments and subdistricts (standard evaluation,
    docs/domain.md §6) after a run, every row; ``names`` shows units under other names (the
    departments' Chinese names). Scripts read the summary; `gridloop evaluate --format` gives
    the tables."""
    if fmt != "table":
        return
    for key, title in (("departments", N_("Departments: standard evaluation")),
                       ("subdistricts", N_("Subdistricts: standard evaluation"))):
        df = tables.get(key)
        if df is None or df.empty:
            continue
        unit = "name" if "name" in df.columns else df.columns[0]
        rates = [c for c in df.columns if c.endswith("_rate")][:4]
        print_league(console, _(title), df, rates, unit=unit, names=names)


_TITLES = {"departments": N_("Departments"), "subdistricts": N_("Subdistricts"),
           "communities": N_("Communities"), "grids": N_("Grids"),
           "inspectors": N_("Inspectors (beats)"), "acceptors": N_("Acceptors"),
           "shift_leaders": N_("Shift leaders"), "dispatchers": N_("Dispatchers")}


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
            kind_title = _(_TITLES[kind]) if kind in _TITLES else kind
            print_league(console, f"{kind_title}: {rules.name}, {label}", df, shown[:5], top)
