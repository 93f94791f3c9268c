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

from sim.i18n import N_, gettext

__all__ = ["Meaning", "MEANINGS", "direction", "short_name", "HIGHER", "LOWER", "NEUTRAL"]

HIGHER: Literal[1] = 1
LOWER: Literal[-1] = -1
NEUTRAL: Literal[0] = 0


class Meaning(NamedTuple):
    short: str       # column header in a terminal table (English; shown translated)
    better: int      # HIGHER, LOWER or NEUTRAL (a volume: neither better nor worse)


MEANINGS: dict[str, Meaning] = {
    # ground truth and volumes: no better direction
    "problems_created": Meaning(N_("problems"), NEUTRAL),
    "problems_fixed_on_spot": Meaning(N_("fixed on spot"), NEUTRAL),
    "problems_vanished": Meaning(N_("vanished"), NEUTRAL),
    "reports": Meaning(N_("reports"), NEUTRAL),
    "cases_filed": Meaning(N_("filed"), NEUTRAL),
    "cases_filed_per_day": Meaning(N_("filed/day"), NEUTRAL),
    "cases_voided": Meaning(N_("voided"), NEUTRAL),
    "cases_merged": Meaning(N_("merged"), NEUTRAL),
    "events_share": Meaning(N_("events"), NEUTRAL),
    "hotline.calls_offered": Meaning(N_("calls"), NEUTRAL),
    "hotline.calls_answered": Meaning(N_("answered"), NEUTRAL),
    "hotline.work_orders": Meaning(N_("orders"), NEUTRAL),
    "hotline.grid_work_orders": Meaning(N_("grid orders"), NEUTRAL),
    "hotline.consultation_share": Meaning(N_("consultations"), NEUTRAL),
    "hotline.work_order_share": Meaning(N_("order share"), NEUTRAL),
    "three_rates.work_orders_closed": Meaning(N_("orders closed"), NEUTRAL),
    "three_rates.surveyed": Meaning(N_("surveyed"), NEUTRAL),
    "summons": Meaning(N_("summons"), NEUTRAL),
    # outcomes: more is better
    "problems_fixed": Meaning(N_("fixed"), HIGHER),
    "cases_closed": Meaning(N_("closed"), HIGHER),
    "share_found_by_inspectors": Meaning(N_("by inspectors"), HIGHER),
    "discovery_rate": Meaning(N_("discovered"), HIGHER),
    "on_time_handling_rate": Meaning(N_("on time"), HIGHER),
    "closure_rate": Meaning(N_("closure"), HIGHER),
    "hotline.connected_rate": Meaning(N_("connected"), HIGHER),
    "hotline.answered_within_15s": Meaning(N_("in 15 s"), HIGHER),
    "three_rates.response": Meaning(N_("response"), HIGHER),
    "three_rates.resolution": Meaning(N_("resolution"), HIGHER),
    "three_rates.satisfaction": Meaning(N_("satisfaction"), HIGHER),
    # costs, delays and failures: less is better
    "problems_open_at_end": Meaning(N_("problems open"), LOWER),
    "cases_open_at_end": Meaning(N_("open at end"), LOWER),
    "mean_hours_to_discovery": Meaning(N_("h to find"), LOWER),
    "rework_rate": Meaning(N_("rework"), LOWER),
    "return_rate": Meaning(N_("returns"), LOWER),
    "hours_to_close.mean": Meaning(N_("h to close"), LOWER),
    "hours_to_close.median": Meaning(N_("h to close p50"), LOWER),
    "hours_to_close.p90": Meaning(N_("h to close p90"), LOWER),
    "hotline.abandon_rate": Meaning(N_("abandoned"), LOWER),
    "hotline.mean_wait_seconds": Meaning(N_("wait s"), LOWER),
}


def direction(kpi: str) -> int:
    """+1 when more of ``kpi`` is better, -1 when less is, 0 for a volume or an unknown KPI."""
    m = MEANINGS.get(kpi)
    return m.better if m else NEUTRAL


def short_name(kpi: str) -> str:
    """The KPI's header in a narrow table (its own name when it has no short one)."""
    m = MEANINGS.get(kpi)
    return gettext(m.short) if m else kpi
