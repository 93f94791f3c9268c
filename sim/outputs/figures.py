"""Pictures of a run, derived from event rows only: the filed-case map and the backlog curve.

`backlog_series` counts open filed cases over time (filed and not yet closed; suspended cases
stay open). `overview_figure` draws one two-panel overview: the city raster (or an imported
map's real grid outlines, `sim.geo.city_shapes`) shaded by filed cases per grid with
subdistrict boundaries, and the backlog with daily filed and closed counts.
`hotline_figure` draws the 12345 hotline from its calls table: load and waiting by hour of
day, and a league table of handling units by the three rates (三率).
Figures are built on `matplotlib.figure.Figure` with the Agg canvas, never through pyplot, so
no global figure state leaks between calls. Their words are in the language in force
(`sim.i18n.use`; in Chinese with a CJK font, or in English where none is installed). Each is
drawn from counts (`draw_overview` from `sim.outputs.aggregates.OverviewCounts`,
`draw_hotline` from `HotlineCounts`), which a run streamed to disk keeps as it goes;
`overview_figure` and `hotline_figure` count whole arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.engine.eventlog import Step
from sim.errors import GridLoopError
from sim.i18n import N_, _, format_number, format_percent
from sim.i18n.fonts import figure_language
from sim.outputs.aggregates import (
    ANSWER_NORM_SECONDS,
    MINUTES_PER_DAY,
    HotlineCounts,
    OverviewCounts,
)

if TYPE_CHECKING:
    import pandas as pd

    from sim.geo.geometry import Shape

__all__ = ["backlog_series", "overview_figure", "hotline_figure", "draw_overview",
           "draw_hotline"]

DPI = 120
_CMAP = matplotlib.colormaps["YlOrRd"].with_extremes(bad="white")


def backlog_series(
    events: np.ndarray, horizon: float, step: float = 60.0
) -> tuple[np.ndarray, np.ndarray]:
    """Number of open filed cases sampled every `step` minutes from 0 to `horizon`.

    A case is open from its FILE row to its CLOSE row; suspended cases stay open. A FILE or
    CLOSE at exactly time t counts at t.

    Args:
        events: event rows (`EVENT_DTYPE`), in any order.
        horizon: last time to sample, minutes since the scenario start.
        step: sampling interval, minutes (> 0).

    Returns:
        ``(times, open_cases)``: float64 minutes ``0, step, 2*step, ... <= horizon`` and the
        int64 count of open cases at each.
    """
    steps, when = events["step"], events["time"]
    return _open_cases(when[steps == Step.FILE], when[steps == Step.CLOSE], horizon, step)


def _open_cases(
    file_times: np.ndarray, close_times: np.ndarray, horizon: float, step: float
) -> tuple[np.ndarray, np.ndarray]:
    """`backlog_series` on the FILE and CLOSE times already picked out of the rows."""
    if not step > 0:
        raise GridLoopError(f"backlog step must be > 0 minutes (got {step!r})")
    times = step * np.arange(int(horizon // step) + 1, dtype=np.float64)
    open_cases = np.searchsorted(_sorted(file_times), times, side="right") - np.searchsorted(
        _sorted(close_times), times, side="right"
    )
    return times, open_cases.astype(np.int64)


def _sorted(times: np.ndarray) -> np.ndarray:
    """`times` ascending; a simulated log is already in time order, so check before sorting."""
    return times if bool(np.all(times[1:] >= times[:-1])) else np.sort(times)


@figure_language
def overview_figure(
    events: np.ndarray,
    *,
    row: np.ndarray,
    col: np.ndarray,
    subdistrict: np.ndarray,
    horizon: float,
    title: str,
    path: str | Path,
    shapes: Sequence[Shape] | None = None,
) -> Path:
    """Write the run overview as a PNG at `path` and an SVG with the same stem beside it.

    Left: the city raster, each unit grid shaded by its number of filed cases (FILE rows by
    ``grid``; colours capped at the 99th percentile), subdistrict boundaries and the city
    outline as thin dark lines, cells with no grid white; with ``shapes`` (a map imported by
    `sim.geo`: per grid its polygons in metres), the grids' real outlines instead. Right: open
    cases over time (days) with daily filed and closed counts on a secondary axis.

    Args:
        events: event rows (`EVENT_DTYPE`).
        row, col: raster position of each unit grid, indexed by grid index.
        subdistrict: subdistrict index of each unit grid.
        horizon: end of the run, minutes since the scenario start.
        title: figure title (scenario, seed, policy...).
        path: where to write the PNG; parent folders are created.
        shapes: optional polygons of each grid (`sim.geo.read_shapes`), by grid index.

    Returns:
        The PNG path.
    """
    counts = OverviewCounts(len(row), horizon)
    counts.add(events)
    return draw_overview(counts, row=row, col=col, subdistrict=subdistrict, title=title,
                         path=path, shapes=shapes)


@figure_language
def draw_overview(
    counts: OverviewCounts,
    *,
    row: np.ndarray,
    col: np.ndarray,
    subdistrict: np.ndarray,
    title: str,
    path: str | Path,
    shapes: Sequence[Shape] | None = None,
) -> Path:
    """`overview_figure` from the counts of a run's rows (`OverviewCounts`)."""
    row, col, subdistrict = (np.asarray(a, dtype=np.int64) for a in (row, col, subdistrict))
    n_grids = len(row)
    if not n_grids == len(col) == len(subdistrict) == counts.n_grids:
        raise GridLoopError(
            "row, col and subdistrict must have one entry per grid "
            f"(got lengths {len(row)}, {len(col)}, {len(subdistrict)} for "
            f"{counts.n_grids} grids)"
        )
    filed_per_grid = counts.filed_per_grid

    fig = Figure(figsize=(13.0, 5.6), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    fig.suptitle(title, fontsize=13)
    ax_map, ax_time = fig.subplots(1, 2, width_ratios=[1.0, 1.35])
    if shapes is not None:
        _draw_shapes(fig, ax_map, filed_per_grid, shapes, subdistrict)
    else:
        _draw_map(fig, ax_map, filed_per_grid, row, col, subdistrict)
    _draw_backlog(ax_time, counts)

    return _save(fig, path)


def _save(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` as PNG at ``path`` and as SVG beside it; returns the PNG's path."""
    png = Path(path)
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, format="png", dpi=DPI)
    fig.set_layout_engine("none")  # keep the layout the PNG computed; do not solve it again
    fig.savefig(png.with_suffix(".svg"), format="svg")
    return png


def _draw_map(
    fig: Figure,
    ax: Axes,
    filed_per_grid: np.ndarray,
    row: np.ndarray,
    col: np.ndarray,
    subdistrict: np.ndarray,
) -> None:
    """City raster shaded by filed cases, with subdistrict (and city) outlines."""
    height, width = (int(row.max()) + 1, int(col.max()) + 1) if len(row) else (1, 1)
    image = np.full((height, width), np.nan)
    image[row, col] = filed_per_grid
    # Cap the colour scale at the 99th percentile so a few hot grids do not wash out the rest.
    top = float(filed_per_grid.max(initial=0))
    vmax = max(1.0, float(np.percentile(filed_per_grid, 99, method="higher")) if len(row) else 0.0)
    shown = ax.imshow(
        np.ma.masked_invalid(image), cmap=_CMAP, norm=Normalize(0.0, vmax),
        interpolation="nearest", origin="upper",
    )
    # One NaN-separated polyline rather than a collection: a single path in PNG and SVG.
    segments = _boundary_segments(row, col, subdistrict, height, width)
    breaks = np.full((len(segments), 1, 2), np.nan)
    xy = np.concatenate([segments, breaks], axis=1).reshape(-1, 2)
    ax.plot(xy[:, 0], xy[:, 1], color="0.15", lw=0.7, solid_capstyle="projecting", clip_on=False)
    ax.set_xlim(-0.5, width - 0.5)
    ax.set_ylim(height - 0.5, -0.5)
    ax.set_axis_off()
    n_sub = len(np.unique(subdistrict))
    ax.set_title(_("Filed cases per grid ({grids} grids, {subdistricts} subdistricts)").format(
        grids=format_number(len(row)), subdistricts=n_sub), fontsize=11)
    extend = "max" if top > vmax else "neither"
    bar = fig.colorbar(shown, ax=ax, shrink=0.85, pad=0.02, extend=extend)
    bar.set_label(_("filed cases per grid"))
    bar.locator = MaxNLocator(integer=True)
    bar.update_ticks()


def _draw_shapes(
    fig: Figure,
    ax: Axes,
    filed_per_grid: np.ndarray,
    shapes: Sequence[Shape],
    subdistrict: np.ndarray,
) -> None:
    """An imported city's real grid outlines shaded by filed cases (as `_draw_map`), thin
    grey grid edges, and subdistrict boundaries and the city outline as dark lines."""
    from sim.geo.geometry import boundary_segments

    if len(shapes) != len(filed_per_grid):
        raise GridLoopError(f"shapes must have one entry per grid (got {len(shapes)} for "
                            f"{len(filed_per_grid)} grids)")
    # One polygon per outside ring; larger ones first, so a grid inside another's hole
    # (an enclave) is drawn on top of it.
    rings, values, sizes = [], [], []
    for g, shape in enumerate(shapes):
        for polygon in shape:
            outside = polygon[0]
            rings.append(outside)
            values.append(filed_per_grid[g])
            sizes.append(np.ptp(outside[:, 0]) * np.ptp(outside[:, 1]))
    order = np.argsort(-np.asarray(sizes), kind="stable")
    vmax = max(1.0, float(np.percentile(filed_per_grid, 99, method="higher"))
               if len(filed_per_grid) else 0.0)
    cells = PolyCollection([rings[i] for i in order], cmap=_CMAP, norm=Normalize(0.0, vmax),
                           edgecolors="0.75", linewidths=0.25)
    cells.set_array(np.asarray(values, dtype=np.float64)[order])
    ax.add_collection(cells)
    segments = boundary_segments(shapes, np.asarray(subdistrict))
    breaks = np.full((len(segments), 1, 2), np.nan)
    xy = np.concatenate([segments, breaks], axis=1).reshape(-1, 2)
    ax.plot(xy[:, 0], xy[:, 1], color="0.15", lw=0.7, solid_capstyle="round")
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.set_axis_off()
    n_sub = len(np.unique(subdistrict))
    ax.set_title(_("Filed cases per grid ({grids} grids, {subdistricts} subdistricts)").format(
        grids=format_number(len(shapes)), subdistricts=n_sub), fontsize=11)
    top = float(filed_per_grid.max(initial=0))
    bar = fig.colorbar(cells, ax=ax, shrink=0.85, pad=0.02,
                       extend="max" if top > vmax else "neither")
    bar.set_label(_("filed cases per grid"))
    bar.locator = MaxNLocator(integer=True)
    bar.update_ticks()


def _boundary_segments(
    row: np.ndarray, col: np.ndarray, subdistrict: np.ndarray, height: int, width: int
) -> np.ndarray:
    """Boundary lines between different subdistricts and around the city, (n, 2, 2) x-y.

    Empty raster cells count as one more subdistrict, so the city outline is drawn too.
    Collinear unit edges are merged into one segment, which keeps corners clean.
    """
    sub = np.full((height + 2, width + 2), -1, dtype=np.int64)  # padded: outline at the edge
    sub[row + 1, col + 1] = subdistrict
    # Vertical edges: padded (i, j) | (i, j+1) lies at raster x = j - 0.5, rows i - 1 +- 0.5.
    # nonzero of the transpose lists them column by column, so runs down a column are adjacent.
    j, i = np.nonzero((sub[:, :-1] != sub[:, 1:]).T)
    x, y0, y1 = _runs(j, i)
    vertical = np.stack([np.stack([x - 0.5, y0 - 1.5], 1), np.stack([x - 0.5, y1 - 0.5], 1)], 1)
    # Horizontal edges: padded (i, j) over (i+1, j) lies at raster y = i - 0.5, cols j - 1 +- 0.5.
    i, j = np.nonzero(sub[:-1, :] != sub[1:, :])
    y, x0, x1 = _runs(i, j)
    horizontal = np.stack([np.stack([x0 - 1.5, y - 0.5], 1), np.stack([x1 - 0.5, y - 0.5], 1)], 1)
    return np.concatenate([vertical, horizontal]).astype(np.float64)


def _runs(line: np.ndarray, cell: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge unit edges sorted by (line, cell) into runs: (line, first cell, last cell)."""
    if line.size == 0:
        return line, cell, cell
    new_run = np.flatnonzero((np.diff(line) != 0) | (np.diff(cell) != 1)) + 1
    first = np.concatenate([[0], new_run])
    last = np.concatenate([new_run, [line.size]]) - 1
    return line[first], cell[first], cell[last]


def _draw_backlog(ax: Axes, counts: OverviewCounts) -> None:
    """Open cases over time, with daily filed and closed counts on a twin axis."""
    horizon = counts.horizon
    times, open_cases = counts.backlog()
    days = times / MINUTES_PER_DAY
    n_days = len(counts.day_starts) - 1
    day_index = np.arange(n_days) + 0.5
    per_day = counts.per_day()
    daily = ax.twinx()
    daily.plot(day_index, per_day["filed"], color="tab:orange", lw=0.7, alpha=0.8,
               label=_("filed per day"))
    daily.plot(day_index, per_day["closed"], color="tab:green", lw=0.7, alpha=0.8,
               label=_("closed per day"))
    daily.set_ylabel(_("cases per day"), color="0.35")
    daily.tick_params(axis="y", colors="0.35")
    daily.set_ylim(bottom=0)
    daily.yaxis.set_major_locator(MaxNLocator(integer=True))
    (backlog,) = ax.plot(days, open_cases, color="tab:blue", lw=2.0, drawstyle="steps-post",
                         label=_("open cases (backlog)"))
    ax.set_zorder(daily.get_zorder() + 1)  # backlog drawn over the daily lines
    ax.patch.set_visible(False)
    ax.set_xlim(0, horizon / MINUTES_PER_DAY)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(_("day of the run"))
    ax.set_ylabel(_("open filed cases"))
    ax.set_title(_("Backlog: {filed} filed, {closed} closed, {open} open at the end").format(
        filed=format_number(counts.n_filed), closed=format_number(counts.n_closed),
        open=format_number(int(open_cases[-1]))), fontsize=11)
    ax.grid(True, color="0.9", lw=0.6)
    handles = [backlog, *daily.get_lines()]
    ax.legend(handles, [h.get_label() for h in handles], loc="upper center", ncols=3,
              bbox_to_anchor=(0.5, -0.11), fontsize=9, frameon=False)


# -- the 12345 hotline --------------------------------------------------------------------------

RATE_WEIGHTS = {"response": 0.30, "resolution": 0.35, "satisfaction": 0.35}
LEAGUE_ROWS = 12            # at most this many units in the league table (top and bottom half)
_RATE_CMAP = matplotlib.colormaps["RdYlGn"]


@figure_language
def hotline_figure(
    calls: pd.DataFrame,
    *,
    days: int,
    title: str,
    path: str | Path,
    min_orders: int = 20,
) -> Path:
    """Write the hotline picture as a PNG at `path` and an SVG with the same stem beside it.

    Top left: load by hour of day, the mean number of calls offered in each clock hour
    (calls offered in that hour over the run / `days`), split answered and abandoned.
    Top right: waiting by hour of day, the mean wait in seconds of the answered calls (bars,
    with the 15 s norm dashed) and the share of offered calls answered within 15 s (line,
    second axis; the same ratio as ``hotline_summary``'s ``answered_within_15s``).
    Bottom: a league table of handling units by the three rates (三率) — see `_unit_rates` —
    ranked by the composite 0.30 response + 0.35 resolution + 0.35 satisfaction; the top and
    bottom units when more than `LEAGUE_ROWS` qualify.

    Args:
        calls: the hotline calls table (`agents.hotline.Hotline.finish`); ``arrival`` in
            minutes since the scenario start (hour of day = arrival // 60 mod 24).
        days: simulated days (> 0), to turn counts into means per day.
        title: figure title (scenario, seed, policy...).
        path: where to write the PNG; parent folders are created.
        min_orders: a unit enters the league with at least this many closed work orders.

    Returns:
        The PNG path.
    """
    counts = HotlineCounts()
    counts.add(calls)
    return draw_hotline(counts, days=days, title=title, path=path, min_orders=min_orders)


@figure_language
def draw_hotline(counts: HotlineCounts, *, days: int, title: str, path: str | Path,
                 min_orders: int = 20) -> Path:
    """`hotline_figure` from the counts of a run's calls (`HotlineCounts`)."""
    if not days > 0:
        raise GridLoopError(f"hotline_figure needs days > 0 (got {days!r})")
    hourly = counts.hourly
    league = _league(counts, min_orders)

    fig = Figure(figsize=(14.0, 10.0), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    fig.suptitle(title, fontsize=13)
    grid = fig.add_gridspec(2, 2, height_ratios=[1.0, 1.15])
    _draw_load(fig.add_subplot(grid[0, 0]), hourly, days)
    _draw_waiting(fig.add_subplot(grid[0, 1]), hourly)
    _draw_league(fig.add_subplot(grid[1, :]), league, min_orders)

    return _save(fig, path)


def _hourly(calls: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per clock hour 0..23: calls offered and answered, answered within the norm, and the
    summed wait (minutes) of the answered calls."""
    counts = HotlineCounts()
    counts.add(calls)
    return counts.hourly


def _unit_rates(calls: pd.DataFrame | HotlineCounts, min_orders: int = 20) -> pd.DataFrame:
    """The three rates (三率) of each handling unit, ranked; the values of the league table.

    Counted over closed work orders (``work_order`` with ``feedback_at`` set), as in
    `sim.outputs.kpis.three_rates`: response = responded / closed; resolution and satisfaction =
    resolved / surveyed and satisfied / surveyed, where surveyed = closed orders whose
    requester the call-back survey ``reached``; composite = 0.30 response + 0.35 resolution
    + 0.35 satisfaction. Orders without a unit (``""``) are left out, and so are units with
    fewer than `min_orders` closed orders. A unit nobody was surveyed about has NaN
    resolution, satisfaction and composite and ranks last.

    Returns:
        One row a unit, best first, index ``rank`` from 1; columns ``unit``, ``closed``,
        ``surveyed`` (int64) and ``response``, ``resolution``, ``satisfaction``,
        ``composite`` (float64, unrounded). Ties rank by more closed orders, then by name.
    """
    import pandas as pd

    if not isinstance(calls, HotlineCounts):
        counts = HotlineCounts()
        counts.add(calls)
        calls = counts
    league = _league(calls, min_orders)
    table = pd.DataFrame({k: v for k, v in league.items() if k != "rank"})
    table.index = pd.RangeIndex(1, len(table) + 1, name="rank")
    return table


def _league(counts: HotlineCounts, min_orders: int = 20) -> dict[str, np.ndarray]:
    """`_unit_rates`' columns as numpy arrays, best first (``rank`` from 1): the hotline
    figure is drawn from these, so drawing it needs no pandas (`sim.outputs.drawer`)."""
    if min_orders < 0:
        raise GridLoopError(f"min_orders must be >= 0 (got {min_orders!r})")
    names, per_unit = counts.unit_counts()
    closed, surveyed, responded, resolved, satisfied = per_unit.T.astype(np.int64)
    keep = closed >= max(min_orders, 1)
    closed, surveyed = closed[keep], surveyed[keep]
    with np.errstate(divide="ignore", invalid="ignore"):
        response = responded[keep] / closed
        resolution = np.where(surveyed > 0, resolved[keep] / surveyed, np.nan)
        satisfaction = np.where(surveyed > 0, satisfied[keep] / surveyed, np.nan)
    composite = (RATE_WEIGHTS["response"] * response
                 + RATE_WEIGHTS["resolution"] * resolution
                 + RATE_WEIGHTS["satisfaction"] * satisfaction)
    units = np.asarray(names, dtype=object)[keep]
    # best composite first (a NaN last), then more closed orders, then by name
    order = np.lexsort((units.astype(str) if len(units) else np.zeros(0, str), -closed,
                        np.where(np.isnan(composite), np.inf, -composite)))
    return {"rank": np.arange(1, len(order) + 1), "unit": units[order],
            "closed": closed[order], "surveyed": surveyed[order],
            "response": response[order], "resolution": resolution[order],
            "satisfaction": satisfaction[order], "composite": composite[order]}


def _hour_axis(ax: Axes) -> None:
    ax.set_xlim(-0.6, 23.6)
    ax.set_xticks(np.arange(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
    ax.set_xlabel(_("hour of day (calls arriving h:00-h:59)"))
    ax.grid(True, axis="y", color="0.9", lw=0.6)
    ax.set_axisbelow(True)


def _draw_load(ax: Axes, hourly: dict[str, np.ndarray], days: int) -> None:
    """Mean calls offered per clock hour, stacked answered + abandoned."""
    hours = np.arange(24)
    answered = hourly["answered"] / days
    abandoned = (hourly["offered"] - hourly["answered"]) / days
    ax.bar(hours, answered, width=0.8, color="tab:blue", label=_("answered"))
    ax.bar(hours, abandoned, width=0.8, bottom=answered, color="tab:red", label=_("abandoned"))
    _hour_axis(ax)
    ax.set_ylim(bottom=0)
    ax.set_ylabel(_("mean calls offered per hour"))
    offered, total_answered = int(hourly["offered"].sum()), int(hourly["answered"].sum())
    lost = (offered - total_answered) / offered if offered else 0.0
    ax.set_title(_("Load: {calls} calls offered a day, {lost} abandoned").format(
        calls=format_number(round(offered / days)), lost=format_percent(lost, 1)), fontsize=11)
    ax.legend(loc="upper left", fontsize=9, frameon=False)
    if not offered:
        ax.text(0.5, 0.5, _("no calls"), transform=ax.transAxes, ha="center", color="0.4")


def _draw_waiting(ax: Axes, hourly: dict[str, np.ndarray]) -> None:
    """Mean wait of answered calls per clock hour, the norm, and the share answered in time.

    The two scales get separate bands, so the curve and the bars never cross: the waits and
    the norm fill the lower half of the panel, the share answered in time the upper part.
    """
    hours = np.arange(24)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_wait = np.where(hourly["answered"] > 0,
                             60.0 * hourly["wait"] / hourly["answered"], np.nan)
        in_time = np.where(hourly["offered"] > 0, 100.0 * hourly["fast"] / hourly["offered"],
                           np.nan)
    share = ax.twinx()
    bars = ax.bar(hours, np.nan_to_num(mean_wait), width=0.8, color="tab:purple", alpha=0.8,
                  label=_("mean wait when answered, s (left)"))
    norm = ax.axhline(ANSWER_NORM_SECONDS, color="0.2", ls="--", lw=1.2,
                      label=_("{s} s norm (left)").format(s=f"{ANSWER_NORM_SECONDS:.0f}"))
    (line,) = share.plot(hours, in_time, color="tab:green", lw=2.0, marker="o", ms=3.5,
                         label=_("% of offered answered within {s} s (right)").format(
                             s=f"{ANSWER_NORM_SECONDS:.0f}"))
    _hour_axis(ax)
    # Lower band (0-48% of the height): waits up to the norm or the worst hour.
    wait_top = 1.1 * max(ANSWER_NORM_SECONDS, float(np.nanmax(mean_wait, initial=0.0)))
    ax.set_ylim(0.0, wait_top / 0.48)
    ticks = MaxNLocator(4, steps=[1, 2, 2.5, 5, 10]).tick_values(0.0, wait_top)
    ax.set_yticks(ticks[ticks <= wait_top])
    ax.set_ylabel(_("mean wait (s)"), color="tab:purple")
    ax.yaxis.label.set_y(0.24)  # beside its band
    ax.tick_params(axis="y", colors="tab:purple")
    # Upper band (55-95% of the height): the share answered in time, from its lowest decade.
    finite = in_time[np.isfinite(in_time)]
    low = min(90.0, 10.0 * np.floor(float(finite.min()) / 10.0)) if finite.size else 90.0
    span = (100.0 - low) / 0.40
    share.set_ylim(low - 0.55 * span, low + 0.45 * span)
    share.set_yticks(MaxNLocator(5).tick_values(low, 100.0))
    share.set_ylabel(_("% answered within {s} s").format(s=f"{ANSWER_NORM_SECONDS:.0f}"),
                     color="tab:green")
    share.yaxis.label.set_y(0.75)
    share.tick_params(axis="y", colors="tab:green")
    offered, fast = int(hourly["offered"].sum()), int(hourly["fast"].sum())
    answered = int(hourly["answered"].sum())
    mean_all = f"{60.0 * float(hourly['wait'].sum()) / answered:.1f} s" if answered else "-"
    in_norm = format_percent(fast / offered, 1) if offered else "-"
    ax.set_title(_("Waiting: mean {wait} when answered, {share} of calls answered within {s} s"
                   ).format(wait=mean_all, share=in_norm, s=f"{ANSWER_NORM_SECONDS:.0f}"),
                 fontsize=11)
    handles = [line, bars, norm]
    ax.legend(handles, [h.get_label() for h in handles], loc="upper center", ncols=3,
              bbox_to_anchor=(0.5, -0.13), fontsize=8.5, frameon=False, columnspacing=1.2,
              handlelength=1.8)


_LEAGUE_COLUMNS = (  # header, width (share of the panel), alignment
    (N_("rank"), 0.05, "center"), (N_("handling unit"), 0.27, "left"),
    (N_("closed orders"), 0.10, "center"), (N_("surveyed"), 0.10, "center"),
    (N_("response"), 0.12, "center"), (N_("resolution"), 0.12, "center"),
    (N_("satisfaction"), 0.12, "center"), (N_("composite"), 0.12, "center"),
)
_LEAGUE_RATES = ("response", "resolution", "satisfaction", "composite")


def _draw_league(ax: Axes, league: dict[str, np.ndarray], min_orders: int) -> None:
    """The three-rate league table: top and bottom units, rate cells tinted by value.

    Drawn as one collection of cells and plain texts in data coordinates (a column is its
    share of the width, a row one unit high), which renders several times faster than
    `matplotlib.table`.
    """
    ax.set_axis_off()
    n = len(league["rank"])
    half = LEAGUE_ROWS // 2
    w = RATE_WEIGHTS
    ax.set_title(
        _("Handling units by the three rates, ranked by composite = {r} response + {s} "
          "resolution + {t} satisfaction").format(
            r=f"{w['response']:.2f}", s=f"{w['resolution']:.2f}", t=f"{w['satisfaction']:.2f}")
        + "\n" + _("response over closed work orders; resolution and satisfaction over "
                   "surveyed requesters; units with >= {n} closed work orders").format(
            n=min_orders)
        + (_("; top {half} and bottom {half} of {n}").format(half=half, n=n)
           if n > LEAGUE_ROWS else _("; all {n}").format(n=n)),
        fontsize=11)
    if n == 0:
        ax.text(0.5, 0.5, _("no unit has {n} or more closed work orders").format(n=min_orders),
                transform=ax.transAxes, ha="center", va="center", color="0.4")
        return
    split = n > LEAGUE_ROWS
    rows_shown = np.r_[0:half, n - half:n] if split else np.arange(n)
    shown = {k: v[rows_shown] for k, v in league.items()}
    values = np.stack([shown[k] for k in _LEAGUE_RATES], 1).astype(np.float64)
    finite = values[np.isfinite(values)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    tint = Normalize(lo, hi) if hi > lo else Normalize(lo - 0.5, hi + 0.5)

    def pct(x: float) -> str:
        return format_percent(x, 1) if np.isfinite(x) else "-"

    rows: list[list[str]] = [[_(h) for h, _w, _a in _LEAGUE_COLUMNS]]
    fills: list[list[object]] = [["0.9"] * len(_LEAGUE_COLUMNS)]
    for i, (rank, unit) in enumerate(zip(shown["rank"].tolist(), shown["unit"], strict=True)):
        rates = values[i]
        rows.append([str(rank), str(unit), f"{int(shown['closed'][i]):,}",
                     f"{int(shown['surveyed'][i]):,}", *(pct(x) for x in rates)])
        fills.append(["white"] * 4 + [_RATE_CMAP(tint(x), alpha=0.55) if np.isfinite(x)
                                      else "white" for x in rates])
        if split and i == half - 1:
            rows.append(["...", _("{n} units ranked {first}-{last} not shown").format(
                n=n - LEAGUE_ROWS, first=half + 1, last=n - half),
                         *[""] * (len(_LEAGUE_COLUMNS) - 2)])
            fills.append(["0.96"] * len(_LEAGUE_COLUMNS))
    widths = np.array([wd for _h, wd, _a in _LEAGUE_COLUMNS])
    left = np.concatenate([[0.0], np.cumsum(widths)[:-1]])
    n_rows = len(rows)
    r, c = np.divmod(np.arange(n_rows * len(widths)), len(widths))
    x0, x1 = left[c], left[c] + widths[c]
    cells = np.stack([np.stack([x0, r], 1), np.stack([x1, r], 1),
                      np.stack([x1, r + 1.0], 1), np.stack([x0, r + 1.0], 1)], 1)
    ax.add_collection(PolyCollection(cells, facecolors=[f for row in fills for f in row],
                                     edgecolors="0.8", linewidths=0.5, clip_on=False))
    for i, row in enumerate(rows):
        for j, (label, (_h, width, align)) in enumerate(zip(row, _LEAGUE_COLUMNS, strict=True)):
            if not label:
                continue
            bold = i == 0 or j == len(widths) - 1
            x = left[j] + (0.01 if align == "left" and i > 0 else width / 2)
            ax.text(x, i + 0.5, label, ha=align if i > 0 else "center", va="center",
                    fontsize=9.5, fontweight="bold" if bold else "normal", in_layout=False)
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(max(n_rows, LEAGUE_ROWS + 2) + 0.05, 0.0)  # same row height for short tables
