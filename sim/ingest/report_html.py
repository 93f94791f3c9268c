"""The validation report: one self-contained HTML file (figures as inline SVG) and CSV tables.

Nothing is fetched when the page opens: no scripts, no stylesheets, no fonts from elsewhere,
so it works offline and can be mailed as one file.
"""

from __future__ import annotations

import html
import io
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sim.ingest.validate import Comparison
from sim.outputs.csvcells import safe_frame
from sim.outputs.files import atomic_write

__all__ = ["write_report", "number"]

_COLOURS = {"log": "#1f4e79", "run": "#d9822b"}
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
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
        ax.plot(c.arrivals["hour_of_week"], c.arrivals[side], label=side, color=_COLOURS[side],
                lw=1.3)
    ax.set_xticks(np.arange(0, 168, 24) + 12, _DAYS)
    for x in range(24, 168, 24):
        ax.axvline(x, color="#ddd", lw=0.8, zorder=0)
    ax.set_xlim(0, 167)
    ax.set_ylabel("filed cases per hour")
    ax.set_title("Arrivals by hour of the week")
    ax.legend(frameon=False)
    return _svg(fig)


def _close_figure(c: Comparison) -> str:
    fig = Figure(figsize=(6, 3.6), layout="constrained")
    ax = fig.add_subplot()
    for side in ("log", "run"):
        x = np.sort(c.ttc_hours[side])
        if x.size:
            ax.step(np.maximum(x, 1e-2), np.arange(1, x.size + 1) / x.size, where="post",
                    label=f"{side} (n={x.size:,})", color=_COLOURS[side])
    ax.set_xscale("log")
    ax.set_xlabel("hours from report to close")
    ax.set_ylabel("share of closed cases")
    ax.set_title(f"Time to close (KS distance {c.ks['statistic']:.3f})")
    ax.legend(frameon=False)
    return _svg(fig)


def _on_time_figure(c: Comparison) -> str:
    t = c.on_time
    fig = Figure(figsize=(6, 3.6), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(t))
    for k, side in enumerate(("log", "run")):
        ax.barh(y + (k - 0.5) * 0.4, t.get(f"rate_{side}", pd.Series(np.nan, index=t.index)),
                height=0.4, label=side, color=_COLOURS[side])
    ax.set_yticks(y, t["department"])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("on-time handling rate")
    ax.set_title("On time by department")
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _svg(fig)


def number(x: float) -> str:
    """A table number: whole or >= 100 with thousands separators, else 3 significant digits."""
    return f"{x:,.0f}" if float(x).is_integer() or abs(x) >= 100 else f"{x:.3g}"


def _table(df: pd.DataFrame) -> str:
    html_table = df.to_html(index=False, na_rep="", float_format=number, border=0)
    return f'<div class="wide">{html_table}</div>'  # wide tables scroll, the page does not


def write_report(c: Comparison, out: str | Path) -> dict[str, Path]:
    """Write ``report.html`` and the tables as CSV into ``out``; returns the paths by name."""
    folder = Path(out)
    tables = {"headline": c.headline, "arrival_profile": c.arrivals,
              "time_to_close_quantiles": c.time_to_close, "on_time_by_department": c.on_time,
              "evaluation_departments": c.departments,
              "evaluation_subdistricts": c.subdistricts}
    paths = {name: atomic_write(folder / f"{name}.csv",
                                lambda p, t=t: safe_frame(t).to_csv(p, index=False))
             for name, t in tables.items()}
    e = html.escape
    notes = "".join(f"<li>{e(n)}</li>" for n in c.notes)
    body = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>GridLoop validation: {e(Path(c.run_dir).name)} against {e(Path(c.log_source).name)}</title>
<style>{_STYLE}</style></head><body>
<h1>Validation: run <code>{e(c.run_dir)}</code> against the case log
<code>{e(c.log_source)}</code></h1>
<p class="note">Filed cases on both sides. The log was turned into the event log of
docs/event-log.md with the run's handbook and working calendar, so deadlines mean the same.
Tables are also in CSV beside this file.</p><ul class="note">{notes}</ul>
<h2>Headline</h2>{_table(c.headline)}
<h2>Arrivals</h2>{_arrivals_figure(c)}
<h2>Time to close</h2>
<p>Two-sample Kolmogorov-Smirnov distance {c.ks['statistic']:.3f}
(p = {c.ks['p_value']:.3g}): the largest gap between the two cumulative curves.</p>
{_close_figure(c)}{_table(c.time_to_close)}
<h2>On-time handling by department</h2>{_on_time_figure(c)}{_table(c.on_time)}
<h2>Standard evaluation: departments</h2>{_table(c.departments)}
<h2>Standard evaluation: subdistricts</h2>{_table(c.subdistricts)}
</body></html>
"""
    paths["report"] = atomic_write(folder / "report.html",
                                   lambda p: p.write_text(body, encoding="utf-8"))
    return paths
