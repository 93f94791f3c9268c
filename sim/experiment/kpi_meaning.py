"""What each experiment KPI means to a reader: a short name for narrow tables, and which way
is better.

A difference between two design points is *better* or *worse* only for a KPI with a
direction: a higher closure rate is better, a longer time to close is worse. Volumes
(cases filed, calls offered) have none: more cases filed may mean more problems or better
discovery, so their differences are shown without colour. Every KPI of ``summary.json``
(flattened as in `sim.experiment.tasks.flat_kpis`) is listed here; the tests check that
no KPI is left without a decision.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

__all__ = ["Meaning", "MEANINGS", "direction", "short_name", "HIGHER", "LOWER", "NEUTRAL"]

HIGHER: Literal[1] = 1
LOWER: Literal[-1] = -1
NEUTRAL: Literal[0] = 0


class Meaning(NamedTuple):
    short: str       # column header in a terminal table
    better: int      # HIGHER, LOWER or NEUTRAL (a volume: neither better nor worse)


MEANINGS: dict[str, Meaning] = {
    # ground truth and volumes: no better direction
    "problems_created": Meaning("problems", NEUTRAL),
    "problems_fixed_on_spot": Meaning("fixed on spot", NEUTRAL),
    "problems_vanished": Meaning("vanished", NEUTRAL),
    "reports": Meaning("reports", NEUTRAL),
    "cases_filed": Meaning("filed", NEUTRAL),
    "cases_filed_per_day": Meaning("filed/day", NEUTRAL),
    "cases_voided": Meaning("voided", NEUTRAL),
    "cases_merged": Meaning("merged", NEUTRAL),
    "events_share": Meaning("events", NEUTRAL),
    "hotline.calls_offered": Meaning("calls", NEUTRAL),
    "hotline.calls_answered": Meaning("answered", NEUTRAL),
    "hotline.work_orders": Meaning("orders", NEUTRAL),
    "hotline.grid_work_orders": Meaning("grid orders", NEUTRAL),
    "hotline.consultation_share": Meaning("consultations", NEUTRAL),
    "hotline.work_order_share": Meaning("order share", NEUTRAL),
    "three_rates.work_orders_closed": Meaning("orders closed", NEUTRAL),
    "three_rates.surveyed": Meaning("surveyed", NEUTRAL),
    "summons": Meaning("summons", NEUTRAL),
    # outcomes: more is better
    "problems_fixed": Meaning("fixed", HIGHER),
    "cases_closed": Meaning("closed", HIGHER),
    "share_found_by_inspectors": Meaning("by inspectors", HIGHER),
    "discovery_rate": Meaning("discovered", HIGHER),
    "on_time_handling_rate": Meaning("on time", HIGHER),
    "closure_rate": Meaning("closure", HIGHER),
    "hotline.connected_rate": Meaning("connected", HIGHER),
    "hotline.answered_within_15s": Meaning("in 15 s", HIGHER),
    "three_rates.response": Meaning("response", HIGHER),
    "three_rates.resolution": Meaning("resolution", HIGHER),
    "three_rates.satisfaction": Meaning("satisfaction", HIGHER),
    # costs, delays and failures: less is better
    "problems_open_at_end": Meaning("problems open", LOWER),
    "cases_open_at_end": Meaning("open at end", LOWER),
    "mean_hours_to_discovery": Meaning("h to find", LOWER),
    "rework_rate": Meaning("rework", LOWER),
    "return_rate": Meaning("returns", LOWER),
    "hours_to_close.mean": Meaning("h to close", LOWER),
    "hours_to_close.median": Meaning("h to close p50", LOWER),
    "hours_to_close.p90": Meaning("h to close p90", LOWER),
    "hotline.abandon_rate": Meaning("abandoned", LOWER),
    "hotline.mean_wait_seconds": Meaning("wait s", LOWER),
}


def direction(kpi: str) -> int:
    """+1 when more of ``kpi`` is better, -1 when less is, 0 for a volume or an unknown KPI."""
    m = MEANINGS.get(kpi)
    return m.better if m else NEUTRAL


def short_name(kpi: str) -> str:
    """The KPI's header in a narrow table (its own name when it has no short one)."""
    m = MEANINGS.get(kpi)
    return m.short if m else kpi
