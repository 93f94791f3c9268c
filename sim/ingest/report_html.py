"""The validation report: one self-contained HTML file (figures as inline SVG) and CSV tables.

Nothing is fetched when the page opens: no scripts, no stylesheets, no fonts from elsewhere,
so it works offline and can be mailed as one file. Its words are in the language in force
(`sim.i18n`); the CSV tables keep their English column names.
"""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sim.i18n import N_, _, current
from sim.i18n.fonts import figure_language
from sim.ingest.validate import Comparison
from sim.outputs.csvcells import safe_frame
from sim.outputs.files import atomic_write

__all__ = ["write_report", "number"]

_COLOURS = {"log": "#1f4e79", "run": "#d9822b"}
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: right; }
th { background: #f0f0f0; } td:first-child, th:first-child { text-align: left; }
.note { color: #555; font-size: 0.9em; } svg { max-width: 100%; height: auto; }
.wide { overflow-x: auto; }
"""


def _svg(fig: Figure) -> str:
    FigureCanvasAgg(fig)
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _arrivals_figure(c: Comparison) -> str:
    fig = Figure(figsize=(10, 3.2), layout="constrained")
    ax = fig.add_subplot()
    for side in ("log", "run"):
        ax.plot(c.arrivals["hour_of_week"], c.arrivals[side], label=_side(side),
                color=_COLOURS[side], lw=1.3)
    ax.set_xticks(np.arange(0, 168, 24) + 12, _days())
    for x in range(24, 168, 24):
        ax.axvline(x, color="#ddd", lw=0.8, zorder=0)
    ax.set_xlim(0, 167)
    ax.set_ylabel(_("filed cases per hour"))
    ax.set_title(_("Arrivals by hour of the week"))
    ax.legend(frameon=False)
    return _svg(fig)


def _close_figure(c: Comparison) -> str:
    fig = Figure(figsize=(6, 3.6), layout="constrained")
    ax = fig.add_subplot()
    for side in ("log", "run"):
        x = np.sort(c.ttc_hours[side])
        if x.size:
            ax.step(np.maximum(x, 1e-2), np.arange(1, x.size + 1) / x.size, where="post",
                    label=f"{_side(side)} (n={x.size:,})", color=_COLOURS[side])
    ax.set_xscale("log")
    ax.set_xlabel(_("hours from report to close"))
    ax.set_ylabel(_("share of closed cases"))
    ax.set_title(_("Time to close (KS distance {d})").format(d=f"{c.ks['statistic']:.3f}"))
    ax.legend(frameon=False)
    return _svg(fig)


def _on_time_figure(c: Comparison) -> str:
    t = c.on_time
    fig = Figure(figsize=(6, 3.6), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(t))
    for k, side in enumerate(("log", "run")):
        ax.barh(y + (k - 0.5) * 0.4, t.get(f"rate_{side}", pd.Series(np.nan, index=t.index)),
                height=0.4, label=_side(side), color=_COLOURS[side])
    ax.set_yticks(y, t["department"])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel(_("on-time handling rate"))
    ax.set_title(_("On time by department"))
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _svg(fig)


def _side(side: str) -> str:
    return _("case log") if side == "log" else _("run")


def _days() -> tuple[str, ...]:
    from sim.i18n import babel_locale

    names = babel_locale().days["format"]["abbreviated"]      # CLDR: 0 = Monday
    return tuple(names[i] for i in range(7))


def number(x: float) -> str:
    """A table number: whole or >= 100 with thousands separators, else 3 significant digits."""
    return f"{x:,.0f}" if float(x).is_integer() or abs(x) >= 100 else f"{x:.3g}"


# the words of the headline and verdict tables (`sim.ingest.validate`): the CSV keeps them in
# English, a person reads them in the language in force
WORDS = {w: w for w in (
    N_("measure"), N_("log"), N_("run"), N_("scope"), N_("difference"), N_("tolerance"),
    N_("verdict"), N_("PASS"), N_("FAIL"), N_("days compared"), N_("filed cases a day"),
    N_("public share"), N_("closed by the horizon"), N_("on-time handling rate"),
    N_("median hours to close"), N_("KS distance (hours to close, cut at the horizon)"),
    N_("daily load"), N_("filed cases"), N_("time to close (KS)"), N_("on-time rate"),
    N_("cases due in the window"), N_("hour of week"))}
_SPELLED = ((re.compile(r"within (\S+) points"), N_("within {x} points")),
            (re.compile(r"within (\S+)"), N_("within {x}")),
            (re.compile(r"at most (\S+)"), N_("at most {x}")),
            (re.compile(r"(\S+) points"), N_("{x} points")),
            (re.compile(r"filed cases' shares, beyond sampling noise \((\S+)\)"),
             N_("filed cases' shares, beyond sampling noise ({x})")))


def _word(cell: object) -> object:
    if not isinstance(cell, str):
        return cell
    if cell in WORDS:
        return _(cell)
    for pattern, text in _SPELLED:
        if m := pattern.fullmatch(cell):
            return _(text).format(x=m.group(1))
    return cell


def shown(df: pd.DataFrame, columns: bool = True) -> pd.DataFrame:
    """A headline or verdict table as a person reads it: its words (PASS, FAIL, the measures,
    the tolerances) and, with ``columns``, its column names in the language in force; numbers
    and names as they are."""
    if current() == "en":
        return df
    out = df.rename(columns=lambda c: _(c) if c in WORDS else c) if columns else df.copy()
    for col in out.columns:
        out[col] = out[col].map(_word)
    return out


def _table(df: pd.DataFrame) -> str:
    html_table = df.to_html(index=False, na_rep="", float_format=number, border=0)
    return f'<div class="wide">{html_table}</div>'  # wide tables scroll, the page does not


@figure_language
def write_report(c: Comparison, out: str | Path) -> dict[str, Path]:
    """Write ``report.html`` and the tables as CSV into ``out``; returns the paths by name."""
    folder = Path(out)
    tables = {"headline": c.headline, "arrival_profile": c.arrivals,
              **({"verdicts": c.verdicts} if c.verdicts is not None else {}),
              **({"time_to_close_by_department": c.department_ks}
                 if c.department_ks is not None else {}),
              "time_to_close_quantiles": c.time_to_close, "on_time_by_department": c.on_time,
              "evaluation_departments": c.departments,
              "evaluation_subdistricts": c.subdistricts}
    paths = {name: atomic_write(folder / f"{name}.csv",
                                lambda p, t=t: safe_frame(t).to_csv(p, index=False))
             for name, t in tables.items()}
    e = html.escape
    notes = "".join(f"<li>{e(n)}</li>" for n in c.notes)
    run, log = f"<code>{e(c.run_dir)}</code>", f"<code>{e(c.log_source)}</code>"
    body = f"""<!DOCTYPE html>
<html lang="{current()}"><head><meta charset="utf-8">
<title>{e(_("GridLoop validation: {run} against {log}").format(
    run=Path(c.run_dir).name, log=Path(c.log_source).name))}</title>
<style>{_STYLE}</style></head><body>
<h1>{_("Validation: run {run} against the case log {log}").format(run=run, log=log)}</h1>
<p class="note">{e(_("Filed cases on both sides. The log was turned into the event log of "
                     "docs/event-log.md with the run's handbook and working calendar, so "
                     "deadlines mean the same. Tables are also in CSV beside this file."))}</p>
<ul class="note">{notes}</ul>
<h2>{e(_("Verdicts"))}</h2>
<p class="note">{e(_("Each measure against its stated tolerance; both sides cut at {days} "
                     "days.").format(days=c.horizon_days))}</p>
{_table(shown(c.verdicts)) if c.verdicts is not None else ""}
<h2>{e(_("Headline"))}</h2>{_table(shown(c.headline))}
<h2>{e(_("Arrivals"))}</h2>{_arrivals_figure(c)}
<h2>{e(_("Time to close"))}</h2>
<p>{e(_("Two-sample Kolmogorov-Smirnov distance {d} (p = {p}): the largest gap between the "
        "two cumulative curves.").format(d=f"{c.ks['statistic']:.3f}",
                                         p=f"{c.ks['p_value']:.3g}"))}</p>
{_close_figure(c)}{_table(c.time_to_close)}
<h3>{e(_("By department (cases reported in the window; not closed by its end = censored)"))}</h3>
{_table(c.department_ks) if c.department_ks is not None else ""}
<h2>{e(_("On-time handling by department"))}</h2>{_on_time_figure(c)}{_table(c.on_time)}
<h2>{e(_("Standard evaluation: departments"))}</h2>{_table(c.departments)}
<h2>{e(_("Standard evaluation: subdistricts"))}</h2>{_table(c.subdistricts)}
</body></html>
"""
    paths["report"] = atomic_write(folder / "report.html",
                                   lambda p: p.write_text(body, encoding="utf-8"))
    return paths
