"""Tests of sim.outputs.figures: the backlog count, the overview and hotline figure files and the
hotline league values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from sim.engine.eventlog import EVENT_DTYPE, Outcome, Step
from sim.errors import GridLoopError
from sim.outputs.figures import (
    _boundary_segments,
    _hourly,
    _unit_rates,
    backlog_series,
    hotline_figure,
    overview_figure,
)
from sim.outputs.kpis import three_rates

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


# -- the hotline figure -----------------------------------------------------------------------

def _call(unit: str = "", *, hour: float = 9.0, day: int = 0, answered: bool = True,
          wait_s: float = 5.0, order: bool = True, closed: bool = True, reached: bool = False,
          responded: bool = False, resolved: bool = False, satisfied: bool = False) -> dict:
    arrival = day * 1440.0 + hour * 60.0
    return {
        "arrival": arrival, "kind": 1 if order else 0, "answered": answered,
        "wait": wait_s / 60.0 if answered else NAN, "abandoned": not answered,
        "work_order": answered and order, "unit": unit,
        "feedback_at": arrival + 600.0 if answered and order and closed else NAN,
        "reached": reached, "responded": responded, "resolved": resolved,
        "satisfied": satisfied,
    }


def _calls() -> pd.DataFrame:
    """Three units with known rates, plus rows the league must ignore.

    beta (3 closed): responded 3/3; surveyed 2 -> resolved 2/2, satisfied 1/2.
    alpha (4 closed): responded 3/4; surveyed 3 -> resolved 2/3, satisfied 1/3 (the one
    requester not reached says resolved and satisfied; it must not count).
    gamma: 2 closed orders, under min_orders=3. Also: an open order of alpha, a closed order
    without a unit, a consultation, an abandoned call.
    """
    rows = [
        _call("alpha", responded=True, reached=True, resolved=True, satisfied=True),
        _call("alpha", responded=True, reached=True, resolved=True, hour=10.5),
        _call("alpha", responded=True, reached=True, hour=10.0, day=1, wait_s=20.0),
        _call("alpha", reached=False, resolved=True, satisfied=True, hour=23.9),
        _call("alpha", closed=False, responded=True, reached=True, resolved=True, satisfied=True),
        _call("beta", responded=True, reached=True, resolved=True, satisfied=True, hour=0.0),
        _call("beta", responded=True, reached=True, resolved=True, hour=0.5, day=1),
        _call("beta", responded=True, hour=14.2),
        _call("gamma", responded=True, reached=True, resolved=True, satisfied=True),
        _call("gamma", responded=True, reached=True, resolved=True, satisfied=True),
        _call("", responded=True, reached=True, resolved=True, satisfied=True),
        _call("", order=False, hour=10.2, wait_s=40.0),
        _call("", answered=False, hour=10.7, day=1),
    ]
    return pd.DataFrame(rows)


def test_unit_rates_match_the_hand_computed_three_rates() -> None:
    league = _unit_rates(_calls(), min_orders=3)
    assert league["unit"].tolist() == ["beta", "alpha"]
    assert league.index.tolist() == [1, 2] and league.index.name == "rank"
    assert league["closed"].tolist() == [3, 4]
    assert league["surveyed"].tolist() == [2, 3]
    assert league["response"].tolist() == [1.0, 3 / 4]
    assert league["resolution"].tolist() == [1.0, 2 / 3]
    assert league["satisfaction"].tolist() == [1 / 2, 1 / 3]
    assert league["composite"].tolist() == [
        0.30 * 1.0 + 0.35 * 1.0 + 0.35 * (1 / 2),
        0.30 * (3 / 4) + 0.35 * (2 / 3) + 0.35 * (1 / 3),
    ]
    assert league["composite"].tolist() == pytest.approx([0.825, 0.575])


def test_unit_rates_threshold_counts_closed_orders_only() -> None:
    calls = _calls()
    # alpha has 4 closed orders and one open: it qualifies at 4, not at 5.
    assert _unit_rates(calls, min_orders=4)["unit"].tolist() == ["alpha"]
    assert _unit_rates(calls, min_orders=5).empty
    assert sorted(_unit_rates(calls, min_orders=0)["unit"]) == ["alpha", "beta", "gamma"]
    with pytest.raises(GridLoopError, match="min_orders"):
        _unit_rates(calls, min_orders=-1)


def test_unit_rates_agree_with_the_city_wide_three_rates_for_one_unit() -> None:
    calls = _calls()
    alpha = calls[calls["unit"] == "alpha"]
    overall = three_rates(alpha)
    row = _unit_rates(alpha, min_orders=1).iloc[0]
    for rate in ("response", "resolution", "satisfaction"):
        assert round(row[rate], 4) == overall[rate]


def test_unit_rates_rank_ties_by_closed_orders_then_name() -> None:
    rows = [_call(u, responded=True, reached=True, resolved=True, satisfied=True)
            for u in ["b", "a", "c", "c"]]
    assert _unit_rates(pd.DataFrame(rows), min_orders=1)["unit"].tolist() == ["c", "a", "b"]


def test_hourly_counts_by_clock_hour() -> None:
    hourly = _hourly(_calls())
    assert hourly["offered"].sum() == 13
    assert hourly["offered"][[0, 9, 10, 14, 23]].tolist() == [2, 5, 4, 1, 1]
    assert hourly["answered"][10] == 3               # one of the four at 10:xx abandoned
    assert hourly["fast"][10] == 1                   # 5 s yes; 20 s and 40 s no
    assert hourly["wait"][10] == pytest.approx((5.0 + 20.0 + 40.0) / 60.0)


def test_hotline_figure_writes_png_and_svg(tmp_path) -> None:
    png = hotline_figure(_calls(), days=2, title="tiny hotline, seed 1",
                         path=tmp_path / "out" / "hotline.png", min_orders=3)
    assert png == tmp_path / "out" / "hotline.png"
    svg = png.with_suffix(".svg")
    assert png.stat().st_size > 0 and svg.stat().st_size > 0
    assert "<svg" in svg.read_text()[:2000]
    image = imread(png)
    assert image.shape[:2] == (1200, 1680)  # 14 x 10 inches at 120 dpi
    assert image[..., :3].std() > 0.05


@pytest.mark.parametrize("n_units", [0, 20])
def test_hotline_figure_copes_with_no_or_many_units(tmp_path, n_units: int) -> None:
    rng = np.random.default_rng(7)
    rows = [_call(f"unit {i:02d}", hour=float(rng.uniform(0, 24)), reached=True,
                  responded=bool(rng.random() < 0.9), resolved=bool(rng.random() < 0.8),
                  satisfied=bool(rng.random() < 0.7))
            for i in range(n_units) for _ in range(25)]
    calls = pd.DataFrame(rows) if rows else pd.DataFrame(columns=list(_call()))
    png = hotline_figure(calls, days=1, title="", path=tmp_path / "h.png")
    assert imread(png).shape[:2] == (1200, 1680)
    assert len(_unit_rates(calls, 20)) == n_units


def test_hotline_figure_rejects_bad_input(tmp_path) -> None:
    with pytest.raises(GridLoopError, match="days > 0"):
        hotline_figure(_calls(), days=0, title="", path=tmp_path / "h.png")
    with pytest.raises(GridLoopError, match="lacks the columns"):
        hotline_figure(_calls().drop(columns="reached"), days=1, title="",
                       path=tmp_path / "h.png")
