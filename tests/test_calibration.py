"""The default city lands in the published bands (DOMAIN §2, §5; docs/calibration.md)."""

from __future__ import annotations

from typing import Any

import pytest

from sim.data.scenario import load_scenario
from sim.run import simulate


@pytest.fixture(scope="module")
def summary() -> dict[str, Any]:
    return simulate(load_scenario("dongcheng", days=30)).summary()


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
