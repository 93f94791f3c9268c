"""The experiment report: one self-contained HTML file (figures embedded as PNG data URIs,
no scripts, no links to anything outside the file), readable offline.

Sections: what was run (manifest), KPIs with t intervals, differences against the baseline
(paired, Bonferroni), steady-state means after MSER-5 warm-up, backlog-over-time bands, maps
of problems and of overdue cases per grid, the standard league tables, and for sweeps the
response curves and a two-parameter heatmap.
"""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from sim.experiment.kpi_meaning import direction
from sim.experiment.stats import t_interval
from sim.experiment.store import load_table, read_manifest
from sim.experiment.summary import differences, steady_state, summarize
from sim.i18n import N_, _, current, format_datetime, format_percent
from sim.i18n.fonts import figure_language
from sim.outputs.files import atomic_write

__all__ = ["write_report", "DEFAULT_KPIS"]

DEFAULT_KPIS = ("closure_rate", "on_time_handling_rate", "hours_to_close.mean",
                "discovery_rate")
MAX_BANDS = 8     # design points drawn in the backlog figure
MAX_MAPS = 4      # design points whose maps are drawn
_CMAP = matplotlib.colormaps["YlOrRd"].with_extremes(bad="white")

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1200px;
color:#222;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f3f3f3}
.better{background:#d9f2d9}.worse{background:#f9d6d6}.note{color:#555;font-size:.9em}
.legend span{display:inline-block;padding:0 .5em;margin-right:.5em}
.scroll{overflow-x:auto}img{max-width:100%}dl{display:grid;grid-template-columns:max-content auto;
gap:2px 1em}dt{font-weight:600}
"""


@figure_language
def write_report(folder: str | Path, out: str | Path | None = None, *,
                 kpis: list[str] | None = None, level: float = 0.95) -> Path:
    """Write the report of the experiment in ``folder``; returns the HTML path
    (default ``folder/report.html``). ``kpis`` picks the sweep's curves and heatmaps."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    table = summarize(folder, level)
    parts = [f"<h1>{html.escape(_('GridLoop experiment: {title}').format(title=_title(manifest)))}"
             "</h1>",
             _manifest_section(manifest, table)]
    parts.append(_kpi_section(table, level))
    if table["point"].nunique() > 1:
        parts.append(_difference_section(differences(folder, 0, level), manifest))
    parts.append(_steady_section(steady_state(folder, level)))
    daily = load_table(folder, "daily")
    parts.append(_backlog_section(daily, level))
    parts.append(_map_section(load_table(folder, "grid"), manifest))
    parts.append(_league_section(load_table(folder, "league")))
    if manifest["kind"] == "sweep":
        chosen = [k for k in (kpis or DEFAULT_KPIS) if k in set(table["kpi"])]
        parts.append(_sweep_section(table, manifest, chosen))
    body = "\n".join(parts)
    doc = (f"<!DOCTYPE html>\n<html lang=\"{current()}\"><head><meta charset=\"utf-8\">"
           f"<title>{html.escape(_title(manifest))}</title><style>{_STYLE}</style></head>"
           f"<body>\n{body}\n</body></html>\n")
    path = Path(out) if out else folder / "report.html"
    return atomic_write(path, lambda p: p.write_text(doc, encoding="utf-8"))


def _title(m: dict[str, Any]) -> str:
    labels = [p["label"] for p in m["points"]]
    if m["kind"] == "compare":
        return _("{baseline} (baseline) vs {others}").format(baseline=labels[0],
                                                            others=", ".join(labels[1:]))
    keys = ", ".join(f["key"] for f in m["factors"])
    return _("{design} sweep of {scenario} over {keys}").format(
        design=m["design"], scenario=m["points"][0]["scenario"], keys=keys)


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return ('<img alt="figure" src="data:image/png;base64,'
            + base64.b64encode(buf.getvalue()).decode("ascii") + '">')


def _figure(w: float, h: float) -> Figure:
    fig = Figure(figsize=(w, h), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _fmt(x: float, digits: int | None = None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if digits is None:
        digits = 4 if abs(x) < 1 else 2 if abs(x) < 100 else 0
    return f"{x:,.{digits}f}"


def _frame_html(frame: pd.DataFrame, classes: pd.DataFrame | None = None) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in [frame.index.name or "",
                                                                 *frame.columns])
    rows = []
    for i, (idx, row) in enumerate(frame.iterrows()):
        cells = []
        for j, v in enumerate(row):
            cls = classes.iat[i, j] if classes is not None else ""
            cells.append(f"<td class=\"{cls}\">{html.escape(str(v))}</td>" if cls else
                         f"<td>{html.escape(str(v))}</td>")
        rows.append(f"<tr><td>{html.escape(str(idx))}</td>{''.join(cells)}</tr>")
    return (f"<div class=\"scroll\"><table><thead><tr>{head}</tr></thead><tbody>"
            f"{''.join(rows)}</tbody></table></div>")


def _manifest_section(m: dict[str, Any], table: pd.DataFrame) -> str:
    reps = int(table["n"].max()) if len(table) else 0
    items = {
        _("experiment"): _("{kind} ({design}), {n} design points").format(
            kind=m["kind"], design=m["design"], n=len(m["points"])),
        _("replications"): _("{n} per point (common random numbers: replication k has the "
                             "same seed at every point)").format(n=reps),
        _("days"): ", ".join(sorted({str(p["days"]) for p in m["points"]})),
        _("root entropy"): str(m["entropy"]),
        _("overrides"): ", ".join(m.get("overrides") or []) or _("none"),
        _("scenarios"): "; ".join(sorted({f"{p['scenario']} ({p['digest']})"
                                          for p in m["points"]})),
        "GridLoop": _("{version}, commit {commit}").format(
            version=m.get("versions", {}).get("gridloop", "?"),
            commit=(m.get("git_commit") or _("unknown"))[:12]),
        _("created"): _when(m.get("created", "")),
    }
    if m.get("precision"):
        pr = m["precision"]
        items[_("precision")] = (
            _("+-{target} relative half-width, reached (cap {cap})") if pr.get("met") else
            _("+-{target} relative half-width, not reached (cap {cap})")).format(
                target=format_percent(pr["target"]), cap=pr["max_reps"])
    dl = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in items.items())
    return f"<dl>{dl}</dl>"


def _when(text: str) -> str:
    """The manifest's ISO time as the language writes a date and time (as is if unreadable)."""
    import datetime as dt

    try:
        moment = dt.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return text
    zone = f" {moment.tzname()}" if moment.tzinfo is not None else ""
    return format_datetime(moment) + zone


def _kpi_section(table: pd.DataFrame, level: float) -> str:
    cells = table.assign(cell=[f"{_fmt(m)} ± {_fmt(h)}" if not math.isnan(h) else _fmt(m)
                               for m, h in zip(table["mean"], table["half_width"],
                                               strict=True)])
    wide = cells.pivot_table(index="kpi", columns="label", values="cell", aggfunc="first",
                             sort=False)
    wide = wide[list(dict.fromkeys(table["label"]))]
    wide.index.name = "KPI"
    return (f"<h2>{html.escape(_('KPIs'))}</h2><p class=\"note\">" + html.escape(_(
        "Mean over replications ± half-width of the {level} t interval, for the whole run "
        "(terminating).").format(level=format_percent(level))) + "</p>" + _frame_html(wide))


def _difference_section(diff: pd.DataFrame, m: dict[str, Any]) -> str:
    if diff.empty:
        return ""
    base = m["points"][0]["label"]
    diff = diff.assign(cell=[f"{_fmt(d)} [{_fmt(lo)}, {_fmt(hi)}]" for d, lo, hi in
                             zip(diff["difference"], diff["low"], diff["high"], strict=True)],
                       cls=[_verdict(k, d, sig) for k, d, sig in
                            zip(diff["kpi"], diff["difference"], diff["significant"],
                                strict=True)])
    order = list(dict.fromkeys(diff["label"]))
    wide = diff.pivot_table(index="kpi", columns="label", values="cell", aggfunc="first",
                            sort=False)[order]
    cls = diff.pivot_table(index="kpi", columns="label", values="cls", aggfunc="first",
                           sort=False)[order].fillna("")
    wide.index.name = "KPI"
    lvl = float(diff["level"].iloc[0])
    legend = "<br>".join(
        f'<span class="{cls}">{html.escape(word)}</span>{html.escape(text)}'
        for cls, word, text in (
            ("better", _("better"), _("the interval excludes 0 and the point is better than "
                                      "the baseline for that KPI (a higher closure rate, a "
                                      "shorter time to close)")),
            ("worse", _("worse"), _("the interval excludes 0 and the point is worse than the "
                                    "baseline for that KPI")),
            ("", _("plain"), _("no significant difference, or a volume (cases filed, calls) "
                               "that is neither better nor worse"))))
    return (f"<h2>{html.escape(_('Differences against the baseline ({base})').format(base=base))}"
            "</h2><p class=\"note\">" + html.escape(_(
                "Point minus baseline, paired by replication; {level} intervals (Bonferroni "
                "over {n} comparisons).").format(level=format_percent(lvl, 2), n=len(order)))
            + f"</p><p class=\"note legend\">{legend}</p>" + _frame_html(wide, cls))


def _verdict(kpi: str, difference: float, significant: bool) -> str:
    """The CSS class of a difference: better or worse for that KPI, or "" (plain)."""
    sign = direction(kpi) * (1 if difference > 0 else -1)
    return "" if not significant or not sign else "better" if sign > 0 else "worse"


def _steady_section(steady: pd.DataFrame) -> str:
    after = _("{series} (after day {d})")
    steady = steady.assign(cell=[f"{_fmt(m)} ± {_fmt(h)}" for m, h in
                                 zip(steady["mean"], steady["half_width"], strict=True)],
                           row=[after.format(series=s, d=d) for s, d in
                                zip(steady["series"], steady["warmup_days"], strict=True)])
    wide = steady.pivot_table(index="row", columns="label", values="cell",
                              aggfunc="first", sort=False)
    wide = wide[list(dict.fromkeys(steady["label"]))]
    wide.index.name = _("daily series")
    return (f"<h2>{html.escape(_('Steady state (MSER-5)'))}</h2><p class=\"note\">"
            + html.escape(_("Daily means after the warm-up, with intervals over "
                            "replications. MSER-5 picks a warm-up on each point's mean path; "
                            "every point then drops the longest of them, so all points are "
                            "compared over the same days. The KPI table above keeps whole "
                            "runs.")) + "</p>" + _frame_html(wide))


def _backlog_section(daily: pd.DataFrame, level: float) -> str:
    backlog = daily[daily["name"] == "backlog"]
    fig = _figure(10, 4.2)
    ax = fig.add_subplot()
    colours = matplotlib.colormaps["tab10"]
    for i, (label, block) in enumerate(backlog.groupby("label", sort=False)):
        if i >= MAX_BANDS:
            break
        days, mean, low, high = [], [], [], []
        for d, g in block.groupby("day"):
            iv = t_interval(g["value"].to_numpy(), level)
            days.append(d)
            mean.append(iv.mean)
            low.append(iv.low if not math.isnan(iv.half_width) else iv.mean)
            high.append(iv.high if not math.isnan(iv.half_width) else iv.mean)
        ax.fill_between(days, low, high, color=colours(i % 10), alpha=0.25, lw=0)
        ax.plot(days, mean, color=colours(i % 10), lw=1.8, label=str(label))
    ax.set_xlabel(_("day of the run"))
    ax.set_ylabel(_("open filed cases at the end of the day"))
    ax.set_ylim(bottom=0)
    ax.grid(True, color="0.9")
    ax.legend(fontsize=8, ncols=2)
    ax.set_title(_("Backlog over time: mean and {level} band over replications").format(
        level=format_percent(level)))
    return f"<h2>{html.escape(_('Backlog over time'))}</h2>" + _png(fig)


def _map_section(grid: pd.DataFrame, m: dict[str, Any]) -> str:
    from sim.data.citymap import load_city
    from sim.data.scenario import load_scenario

    points = m["points"][:MAX_MAPS]
    fig = _figure(4.2 * len(points) + 0.8, 7.6)
    axes = fig.subplots(2, len(points), squeeze=False)
    cities: dict[tuple[str, ...], Any] = {}

    def city_of(p: dict[str, Any]) -> Any:
        # the map depends only on the scenario file and any city.* override: read each once
        key = (p["scenario_file"], *(s for s in p["settings"] if s.startswith("city.")))
        if key not in cities:
            sc = load_scenario(p["scenario_file"], list(key[1:]))
            cities[key] = load_city(sc.resolve(sc.city.grids_file), sc.city.district_code)
        return cities[key]

    for row, (what, said) in enumerate((("problems", N_("problems")),
                                        ("overdue", N_("overdue cases")))):
        values = grid[grid["name"] == what]
        means = values.groupby(["point", "key"])["value"].mean()
        top = max(1e-9, float(means.quantile(0.99))) if len(means) else 1.0
        for col, p in enumerate(points):
            city = city_of(p)
            per = means.loc[p["point"]] if p["point"] in means.index.get_level_values(0) \
                else pd.Series(dtype=float)
            v = per.reindex([str(c) for c in city.codes]).to_numpy(np.float64)
            image = np.full((int(city.row.max()) + 1, int(city.col.max()) + 1), np.nan)
            image[city.row, city.col] = np.nan_to_num(v)
            ax = axes[row, col]
            shown = ax.imshow(np.ma.masked_invalid(image), cmap=_CMAP, norm=Normalize(0, top),
                              interpolation="nearest")
            ax.set_axis_off()
            ax.set_title(_("{point}: {what} per grid").format(point=p["label"], what=_(said)),
                         fontsize=9)
        fig.colorbar(shown, ax=list(axes[row]), shrink=0.8,
                     label=_("mean {what} per grid and run").format(what=_(said)))
    return (f"<h2>{html.escape(_('Maps'))}</h2><p class=\"note\">" + html.escape(_(
        "Mean per replication: problems that appeared in each unit grid, and overdue cases "
        "(handled after the deadline, or unhandled past it at the end). First {n} design "
        "points.").format(n=len(points))) + "</p>" + _png(fig))


def _league_section(league: pd.DataFrame) -> str:
    out = [f"<h2>{html.escape(_('League tables (standard evaluation)'))}</h2>"
           f"<p class=\"note\">{html.escape(_('Mean score (and mean rank) per unit over '
                                             'replications.'))}</p>"]
    for kind in ("departments", "subdistricts"):
        score = league[league["name"] == f"{kind}.score"]
        rank = league[league["name"] == f"{kind}.rank"]
        if score.empty:
            continue
        s = score.groupby(["key", "label"], sort=False)["value"].mean().unstack("label")
        r = rank.groupby(["key", "label"], sort=False)["value"].mean().unstack("label")
        order = list(dict.fromkeys(score["label"]))
        s, r = s[order], r[order]
        first = order[0]
        s = s.sort_values(first, ascending=False)
        cells = pd.DataFrame({c: [f"{_fmt(a, 1)} ({_fmt(b, 1)})" for a, b in
                                  zip(s[c], r.loc[s.index, c], strict=True)]
                              for c in order}, index=s.index)
        cells.index.name = kind[:-1] if kind == "departments" else "subdistrict"
        heading = _("Departments") if kind == "departments" else _("Subdistricts")
        out.append(f"<h3>{html.escape(heading)}</h3>" + _frame_html(cells))
    return "".join(out)


def _sweep_section(table: pd.DataFrame, m: dict[str, Any], kpis: list[str]) -> str:
    if not kpis:
        return ""
    factors = [f["key"] for f in m["factors"]]
    levels = {f["key"]: f.get("levels") for f in m["factors"]}

    def positions(key: str, values: pd.Series) -> tuple[pd.Series, list[Any] | None]:
        """x positions of a factor's values: the numbers, or the level's place in the list
        for a factor with words among its levels (rules, priority...)."""
        lv = levels.get(key)
        if lv and not all(isinstance(v, int | float) and not isinstance(v, bool) for v in lv):
            place = {repr(v): i for i, v in enumerate(lv)}
            return values.map(lambda v: place[repr(v)]).astype(float), lv
        return values.astype(float), None

    out = [f"<h2>{html.escape(_('Response curves'))}</h2>"]
    fig = _figure(4.0 * len(factors), 3.0 * len(kpis))
    axes = fig.subplots(len(kpis), len(factors), squeeze=False)
    for i, kpi in enumerate(kpis):
        rows = table[table["kpi"] == kpi]
        for j, key in enumerate(factors):
            ax = axes[i, j]
            x, ticks = positions(key, rows[key])
            rows_x = rows.assign(_x=x.to_numpy())
            others = [f for f in factors if f != key]
            if m["design"] == "lhs" or not others:
                ax.errorbar(rows_x["_x"], rows_x["mean"], yerr=rows_x["half_width"].fillna(0),
                            fmt="o", ms=4, capsize=2, lw=1)
                if m["design"] != "lhs":
                    line = rows_x.sort_values("_x")
                    ax.plot(line["_x"], line["mean"], lw=1)
            else:  # one line per level of the first other factor (averaged over the rest)
                for level, block in rows_x.groupby(others[0], sort=False):
                    g = block.groupby("_x")[["mean", "half_width"]].mean().sort_index()
                    ax.errorbar(g.index, g["mean"], yerr=g["half_width"].fillna(0),
                                marker="o", ms=4, capsize=2, lw=1,
                                label=f"{others[0].rsplit('.', 1)[-1]}={level}")
                ax.legend(fontsize=7)
            if ticks is not None:
                ax.set_xticks(range(len(ticks)), [str(t) for t in ticks])
            ax.set_xlabel(key)
            ax.set_ylabel(kpi)
            ax.grid(True, color="0.9")
    out.append(f"<p class=\"note\">{html.escape(_('Mean with 95% interval at each design point.'))}"
               "</p>" + _png(fig))
    if m["design"] == "factorial" and len(factors) >= 2:
        a, b = factors[:2]
        fig = _figure(4.6 * len(kpis), 4.0)
        axes = fig.subplots(1, len(kpis), squeeze=False)[0]
        for ax, kpi in zip(axes, kpis, strict=True):
            rows = table[table["kpi"] == kpi]
            grid = rows.assign(_a=rows[a].map(repr), _b=rows[b].map(repr)).groupby(
                ["_b", "_a"], sort=False)["mean"].mean().unstack("_a")
            grid = grid.reindex(index=[repr(v) for v in levels[b]],
                                columns=[repr(v) for v in levels[a]])
            shown = ax.imshow(grid.to_numpy(np.float64), origin="lower", aspect="auto",
                              cmap="viridis")
            ax.set_xticks(range(grid.shape[1]), [str(v) for v in levels[a]])
            ax.set_yticks(range(grid.shape[0]), [str(v) for v in levels[b]])
            ax.set_xlabel(a)
            ax.set_ylabel(b)
            ax.set_title(kpi, fontsize=10)
            norm = shown.norm
            for (yi, xi), v in np.ndenumerate(grid.to_numpy(np.float64)):
                ax.text(xi, yi, _fmt(float(v)), ha="center", va="center", fontsize=7,
                        color="black" if norm(v) > 0.6 else "white")
            fig.colorbar(shown, ax=ax, shrink=0.8)
        note = _("Mean KPI over {a} x {b} (averaged over the other varied keys).") \
            if len(factors) > 2 else _("Mean KPI over {a} x {b}.")
        out.append(f"<h2>{html.escape(_('Two-parameter heatmap'))}</h2><p class=\"note\">"
                   + html.escape(note.format(a=a, b=b)) + "</p>" + _png(fig))
    return "".join(out)
