"""The default city lands in the published bands (docs/domain.md §2, §5, §7, §10)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from sim.data.scenario import load_scenario
from sim.engine.erlang import erlang_a
from sim.run import RunResult, simulate


@pytest.fixture(scope="module")
def result() -> RunResult:
    return simulate(load_scenario("dongcheng", days=30))


@pytest.fixture(scope="module")
def summary(result: RunResult) -> dict[str, Any]:
    return result.summary()


def test_inspectors_find_most_filed_cases(summary: dict[str, Any]) -> None:
    assert 0.85 <= summary["share_found_by_inspectors"] <= 0.96


def test_events_dominate(summary: dict[str, Any]) -> None:
    assert summary["events_share"] >= 0.88


def test_daily_filing_matches_dongcheng(summary: dict[str, Any]) -> None:
    assert 1200 <= summary["cases_filed_per_day"] <= 1600


def test_closure_and_time_to_close(summary: dict[str, Any]) -> None:
    assert summary["closure_rate"] >= 0.90
    mean = summary["hours_to_close"]["mean"]
    assert 1.0 <= mean <= 30.0, "single digits to low tens of hours, not days"


def test_ground_truth_is_accounted_for(summary: dict[str, Any]) -> None:
    s = summary
    assert s["problems_fixed"] + s["problems_vanished"] + s["problems_open_at_end"] == \
        s["problems_created"]
    assert 0.0 < s["discovery_rate"] <= 1.0


def test_hotline_meets_beijings_norm(summary: dict[str, Any]) -> None:
    """Answered within 15 s >= 95% of calls (Beijing's norm) and >= 98% connected; the mean
    wait of a hotline meeting the norm stays below the mid-size city's 12 s (Erlang A: a
    12 s mean goes with ~85% within 15 s; docs/calibration.md)."""
    h = summary["hotline"]
    assert h["answered_within_15s"] >= 0.95
    assert h["connected_rate"] >= 0.98
    assert 0.5 <= h["mean_wait_seconds"] <= 12.0


def test_hotline_contact_mix(summary: dict[str, Any]) -> None:
    """58.5% consultations among all contacts, ~40% of calls become work orders (Beijing)."""
    h = summary["hotline"]
    assert h["consultation_share"] == pytest.approx(0.585, abs=0.015)
    assert 0.38 <= h["work_order_share"] <= 0.43


def test_hotline_waits_agree_with_erlang_a_hour_by_hour(result: RunResult) -> None:
    """Each hour of the day taken as a steady Erlang A queue (its calls, the seats on duty,
    the mean talk plus wrap-up, the mean patience) predicts the day's service level within a
    few points and its mean wait within a factor of two (the day is not steady: hours begin
    with the last hour's queue)."""
    calls = result.calls
    assert calls is not None
    spec = result.scenario.hotline
    days = result.scenario.days
    seats = np.round(spec.call_takers * np.asarray(spec.staffing_profile)).astype(int)
    answered = calls["answered"].to_numpy(bool)
    service = float((calls["talk"] + calls["wrap"])[answered].mean())
    theta = 1.0 / (spec.patience_seconds.expected() / 60.0)
    hour = (calls["arrival"].to_numpy() % 1440 // 60).astype(int)
    n = np.bincount(hour, minlength=24)
    figs = [erlang_a(n[h] / days / 60.0, 1 / service, theta, int(seats[h])) for h in range(24)]
    sl = sum(f.service_level * (1 - f.p_abandon) * n[h] for h, f in enumerate(figs)) / n.sum()
    wait = sum(f.mean_wait * (1 - f.p_abandon) * n[h] for h, f in enumerate(figs)) / \
        sum((1 - f.p_abandon) * n[h] for h, f in enumerate(figs))
    h = result.summary()["hotline"]
    assert h["answered_within_15s"] == pytest.approx(sl, abs=0.03)
    assert 0.5 * 60 * wait <= h["mean_wait_seconds"] <= 2.0 * 60 * wait


def test_dispatch_accuracy_is_dongchengs(result: RunResult) -> None:
    """98 % of dispatches go to the handbook's department of the true subclass (Dongcheng,
    2005): the dispatcher's own errors and inspectors' misreadings together."""
    from sim.engine.eventlog import Outcome, Step

    ev = result.events
    dispatched = ev[ev["step"] == Step.DISPATCH]
    accuracy = 1.0 - float((dispatched["outcome"] == Outcome.WRONG).mean())
    assert accuracy == pytest.approx(0.98, abs=0.005)
