"""Tests of sim.report: the backlog count and the overview figure files."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.image import imread

from sim.errors import GridLoopError
from sim.eventlog import EVENT_DTYPE, Outcome, Step
from sim.report import _boundary_segments, backlog_series, overview_figure

NAN = float("nan")


def _row(case: int, time: float, step: Step, grid: int = 0) -> tuple:
    # case, problem, time, step, actor_kind, actor, department, deadline, outcome, grid, subclass
    return (case, case, time, int(step), 0, -1, -1, NAN, int(Outcome.NONE), grid, 0)


def _events() -> np.ndarray:
    """Case 0 filed at 10, closed at 130; case 1 filed at 60 then suspended (stays open);
    case 2 filed at 200, closed at 250; case 3 voided (never filed)."""
    return np.array([
        _row(0, 0.0, Step.REPORT, 3), _row(0, 10.0, Step.FILE, 3),
        _row(0, 20.0, Step.DISPATCH, 3), _row(1, 50.0, Step.REPORT, 3),
        _row(1, 60.0, Step.FILE, 3), _row(1, 70.0, Step.DISPATCH, 3),
        _row(1, 100.0, Step.SUSPEND, 3), _row(0, 130.0, Step.CLOSE, 3),
        _row(3, 150.0, Step.REPORT, 7), _row(3, 155.0, Step.VOID, 7),
        _row(2, 190.0, Step.REPORT, 12), _row(2, 200.0, Step.FILE, 12),
        _row(2, 250.0, Step.CLOSE, 12),
    ], dtype=EVENT_DTYPE)


def test_backlog_counts_filed_minus_closed_at_each_time() -> None:
    times, open_cases = backlog_series(_events(), horizon=300.0, step=60.0)
    np.testing.assert_array_equal(times, [0.0, 60.0, 120.0, 180.0, 240.0, 300.0])
    # A FILE exactly at t=60 counts at 60; the suspended case never closes.
    np.testing.assert_array_equal(open_cases, [0, 2, 2, 1, 2, 1])
    assert open_cases.dtype == np.int64


def test_backlog_does_not_depend_on_row_order() -> None:
    events = _events()
    shuffled = events[np.random.default_rng(3).permutation(len(events))]
    _, expected = backlog_series(events, horizon=300.0, step=30.0)
    _, got = backlog_series(shuffled, horizon=300.0, step=30.0)
    np.testing.assert_array_equal(got, expected)


def test_backlog_of_an_empty_log_is_zero() -> None:
    times, open_cases = backlog_series(np.zeros(0, dtype=EVENT_DTYPE), horizon=120.0)
    np.testing.assert_array_equal(times, [0.0, 60.0, 120.0])
    np.testing.assert_array_equal(open_cases, [0, 0, 0])


def test_backlog_rejects_a_non_positive_step() -> None:
    with pytest.raises(GridLoopError, match="step must be > 0"):
        backlog_series(_events(), horizon=300.0, step=0.0)


OUTLINE_1X2 = [
    [[-0.5, -0.5], [-0.5, 0.5]], [[1.5, -0.5], [1.5, 0.5]],   # left and right sides
    [[-0.5, -0.5], [1.5, -0.5]], [[-0.5, 0.5], [1.5, 0.5]],   # top and bottom, merged
]


@pytest.mark.parametrize(("subdistrict", "expected"), [
    ([0, 0], OUTLINE_1X2),                                    # one subdistrict: the outline
    ([0, 1], OUTLINE_1X2 + [[[0.5, -0.5], [0.5, 0.5]]]),      # plus the edge between the two
])
def test_boundary_segments_outline_and_subdistrict_edges(
    subdistrict: list[int], expected: list[list[list[float]]]
) -> None:
    row, col = np.array([0, 0]), np.array([0, 1])
    segments = _boundary_segments(row, col, np.array(subdistrict), height=1, width=2)
    assert sorted(segments.tolist()) == sorted(expected)


def _raster() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 6x5 raster with two empty corner cells; columns 0-1 are subdistrict 0, 2-4 are 1."""
    cells = [(r, c) for r in range(6) for c in range(5) if (r, c) not in {(0, 4), (5, 0)}]
    row = np.array([r for r, _ in cells])
    col = np.array([c for _, c in cells])
    return row, col, (col >= 2).astype(np.int64)


def test_overview_figure_writes_png_and_svg(tmp_path) -> None:
    row, col, subdistrict = _raster()
    png = overview_figure(
        _events(), row=row, col=col, subdistrict=subdistrict, horizon=2 * 1440.0,
        title="tiny city, seed 1", path=tmp_path / "out" / "overview.png",
    )
    assert png == tmp_path / "out" / "overview.png"
    svg = png.with_suffix(".svg")
    assert png.stat().st_size > 0 and svg.stat().st_size > 0
    assert "<svg" in svg.read_text()[:2000]
    image = imread(png)
    assert image.shape[:2] == (672, 1560)  # 13 x 5.6 inches at 120 dpi
    assert image[..., :3].std() > 0.05     # something was drawn, not a blank page


def test_overview_figure_rejects_events_on_unknown_grids(tmp_path) -> None:
    row, col, subdistrict = _raster()
    with pytest.raises(GridLoopError, match="outside 0..4"):
        overview_figure(
            _events(), row=row[:5], col=col[:5], subdistrict=subdistrict[:5], horizon=1440.0,
            title="", path=tmp_path / "x.png",
        )
