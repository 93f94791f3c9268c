"""Pictures of a run, derived from event rows only: the filed-case map and the backlog curve.

`backlog_series` counts open filed cases over time (filed and not yet closed; suspended cases
stay open). `overview_figure` draws one two-panel overview: the city raster shaded by filed
cases per grid with subdistrict boundaries, and the backlog with daily filed and closed counts.
Figures are built on `matplotlib.figure.Figure` with the Agg canvas, never through pyplot, so
no global figure state leaks between calls.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.errors import GridLoopError
from sim.eventlog import Step

__all__ = ["backlog_series", "overview_figure"]

MINUTES_PER_DAY = 24 * 60
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


def overview_figure(
    events: np.ndarray,
    *,
    row: np.ndarray,
    col: np.ndarray,
    subdistrict: np.ndarray,
    horizon: float,
    title: str,
    path: str | Path,
) -> Path:
    """Write the run overview as a PNG at `path` and an SVG with the same stem beside it.

    Left: the city raster, each unit grid shaded by its number of filed cases (FILE rows by
    ``grid``; colours capped at the 99th percentile), subdistrict boundaries and the city
    outline as thin dark lines, cells with no grid white. Right: open
    cases over time (days) with daily filed and closed counts on a secondary axis.

    Args:
        events: event rows (`EVENT_DTYPE`).
        row, col: raster position of each unit grid, indexed by grid index.
        subdistrict: subdistrict index of each unit grid.
        horizon: end of the run, minutes since the scenario start.
        title: figure title (scenario, seed, policy...).
        path: where to write the PNG; parent folders are created.

    Returns:
        The PNG path.
    """
    row, col, subdistrict = (np.asarray(a, dtype=np.int64) for a in (row, col, subdistrict))
    n_grids = len(row)
    if not n_grids == len(col) == len(subdistrict):
        raise GridLoopError(
            "row, col and subdistrict must have one entry per grid "
            f"(got lengths {len(row)}, {len(col)}, {len(subdistrict)})"
        )
    steps, when = events["step"], events["time"]
    is_file, is_close = steps == Step.FILE, steps == Step.CLOSE
    grids = events["grid"][is_file]
    if grids.size and (grids.min() < 0 or grids.max() >= n_grids):
        raise GridLoopError(
            f"FILE rows name grids outside 0..{n_grids - 1} (got {grids.min()}..{grids.max()}); "
            "pass the row/col/subdistrict arrays of the city map the run used"
        )
    filed_per_grid = np.bincount(grids, minlength=n_grids)

    fig = Figure(figsize=(13.0, 5.6), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    fig.suptitle(title, fontsize=13)
    ax_map, ax_time = fig.subplots(1, 2, width_ratios=[1.0, 1.35])
    _draw_map(fig, ax_map, filed_per_grid, row, col, subdistrict)
    _draw_backlog(ax_time, _sorted(when[is_file]), _sorted(when[is_close]), horizon)

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
    ax.set_title(f"Filed cases per grid ({len(row):,} grids, {n_sub} subdistricts)", fontsize=11)
    extend = "max" if top > vmax else "neither"
    bar = fig.colorbar(shown, ax=ax, shrink=0.85, pad=0.02, extend=extend)
    bar.set_label("filed cases per grid")
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


def _draw_backlog(
    ax: Axes, file_times: np.ndarray, close_times: np.ndarray, horizon: float
) -> None:
    """Open cases over time, with daily filed and closed counts on a twin axis.

    `file_times` and `close_times` are sorted ascending.
    """
    times, open_cases = _open_cases(file_times, close_times, horizon, 60.0)
    days = times / MINUTES_PER_DAY
    n_days = max(1, int(np.ceil(horizon / MINUTES_PER_DAY)))
    day_index = np.arange(n_days) + 0.5
    day_starts = MINUTES_PER_DAY * np.arange(n_days + 1, dtype=np.float64)
    per_day = {  # rows in [day d, day d + 1), from the sorted times
        name: np.diff(np.searchsorted(t, day_starts, side="left"))
        for name, t in (("filed", file_times), ("closed", close_times))
    }
    daily = ax.twinx()
    daily.plot(day_index, per_day["filed"], color="tab:orange", lw=0.7, alpha=0.8,
               label="filed per day")
    daily.plot(day_index, per_day["closed"], color="tab:green", lw=0.7, alpha=0.8,
               label="closed per day")
    daily.set_ylabel("cases per day", color="0.35")
    daily.tick_params(axis="y", colors="0.35")
    daily.set_ylim(bottom=0)
    daily.yaxis.set_major_locator(MaxNLocator(integer=True))
    (backlog,) = ax.plot(days, open_cases, color="tab:blue", lw=2.0, drawstyle="steps-post",
                         label="open cases (backlog)")
    ax.set_zorder(daily.get_zorder() + 1)  # backlog drawn over the daily lines
    ax.patch.set_visible(False)
    ax.set_xlim(0, horizon / MINUTES_PER_DAY)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("day of the run")
    ax.set_ylabel("open filed cases")
    ax.set_title(
        f"Backlog: {file_times.size:,} filed, {close_times.size:,} closed, "
        f"{int(open_cases[-1]):,} open at the end", fontsize=11,
    )
    ax.grid(True, color="0.9", lw=0.6)
    handles = [backlog, *daily.get_lines()]
    ax.legend(handles, [h.get_label() for h in handles], loc="upper center", ncols=3,
              bbox_to_anchor=(0.5, -0.11), fontsize=9, frameon=False)
