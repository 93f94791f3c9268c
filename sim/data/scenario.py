"""A scenario: one city, its staffing, its rules, and how long to run it.

Scenario files (YAML) are parsed once into frozen pydantic models with unknown keys rejected.
Errors name the file, line and key path. ``--set dotted.key=value`` overrides are applied to
the raw data before validation, so every lever is checked exactly like the file.
The dispatch handbook and the city's grid table live in their own files, named here and loaded
by `sim.data.taxonomy` and `sim.data.citymap`; `load_scenario` resolves and cross-checks them.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.data.distributions import Dist
from sim.data.limits import check_ceilings
from sim.data.overlay import Origins, read_layers
from sim.data.textfile import kind_of
from sim.data.yamlfile import (
    YAML_SUFFIXES,
    KeyProblem,
    LineMap,
    bundled_names,
    check_yaml_name,
    find_bundled,
    line_of,
    load_value,
    read_yaml,
    validate,
)
from sim.errors import InputError, did_you_mean
from sim.i18n.catalogue import gettext

__all__ = [
    "Scenario", "CalendarSpec", "CitySpec", "HandbookSpec", "ProblemsSpec", "InspectorsSpec",
    "CitizensSpec", "CentreSpec", "DepartmentSpec", "EvaluationSpec", "BehaviourSpec",
    "HotlineSpec", "RequestType", "SurveySpec", "SurgeSpec", "OvertimeSpec", "BorrowingSpec",
    "TriageSpec",
    "LoopsSpec", "WhistleSpec", "ProactiveSpec",
    "load_scenario", "parse_overrides", "apply_overrides", "flag_of", "scenario_path",
    "bundled_scenarios", "SCENARIO_DIR", "scenario_chain", "days_cap", "MAX_DAYS_ENV",
]

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"

PosFloat = Annotated[float, Field(ge=0)]
Prob = Annotated[float, Field(ge=0, le=1)]
Clock = Annotated[str, Field(pattern=r"^([01]\d|2[0-4]):[0-5]\d$")]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def clock_minutes(hhmm: str) -> int:
    """Minutes after midnight of an ``HH:MM`` string (``24:00`` is 1440)."""
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


class CalendarSpec(_Spec):
    """The local working calendar that handling limits count on (docs/domain.md §4)."""

    day_start: Clock = "08:30"
    working_hours: float = Field(default=8.0, description="working hours per working day")
    workdays: tuple[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], ...] = (
        "mon", "tue", "wed", "thu", "fri")
    holidays: tuple[dt.date, ...] = ()
    extra_workdays: tuple[dt.date, ...] = Field(
        default=(), description="weekend days worked in lieu of holidays (调休)")
    timezone: str = Field(default="Asia/Shanghai",
                          description="IANA time zone of the city's clocks (exports write "
                                      "its UTC offset, daylight saving included)")
    holiday_country: str = Field(
        default="", pattern=r"^([A-Z]{2,3})?$",
        description="ISO 3166 country whose public holidays (and official working-day swaps, "
                    "such as China's 调休) come from the `holidays` library, added to "
                    "holidays and extra_workdays")
    holiday_subdivision: str = Field(default="", description="state or province code for "
                                                             "holiday_country (e.g. CA)")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        from sim.data.holidaysource import iana_zone
        return iana_zone(v)

    @model_validator(mode="after")
    def _holiday_source(self) -> CalendarSpec:
        if self.holiday_country:
            from sim.data.holidaysource import check_source
            problem = check_source(self.holiday_country, self.holiday_subdivision)
            if problem:
                raise KeyProblem(problem[0], problem[1])
        elif self.holiday_subdivision:
            raise KeyProblem("holiday_subdivision", "a holiday_country for the subdivision")
        return self

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, v: float) -> float:
        if not 0 < v <= 24:
            raise ValueError("a number of working hours per day in (0, 24]")
        return v

    @model_validator(mode="after")
    def _fits(self) -> CalendarSpec:
        left = 24 - clock_minutes(self.day_start) / 60
        if self.working_hours > left:
            raise KeyProblem("working_hours", f"at most {left:g} hours after day_start "
                             f"{self.day_start} (the working day must end by 24:00)")
        if not self.workdays and not self.extra_workdays:
            raise KeyProblem("workdays", "at least one working day (workdays and "
                             "extra_workdays are both empty)")
        return self


class CitySpec(_Spec):
    """Where the unit grids come from and how fast people move between them."""

    grids_file: str = Field(description="CSV of unit grids, relative to the scenario file")
    district_code: str = Field(pattern=r"^\d{6}$")
    grid_side_m: float = Field(default=100.0, gt=0)
    walk_speed_kmh: float = Field(default=12.0, gt=0)


class HandbookSpec(_Spec):
    """Which dispatch handbook the city uses, and a lever on its time limits."""

    file: str = Field(description="handbook YAML, relative to the scenario file")
    time_limit_scale: float = Field(default=1.0, gt=0,
                                    description="multiplies every handling limit")


class ProblemsSpec(_Spec):
    """Ground truth: how many problems appear, when, and where (docs/domain.md §2, §5)."""

    per_day: PosFloat = Field(description="mean new problems per day at rate_scale 1")
    rate_scale: PosFloat = 1.0
    hourly_profile: tuple[PosFloat, ...] = Field(default=(1.0,) * 24, min_length=24,
                                                 max_length=24)
    weekly_profile: tuple[PosFloat, ...] = Field(default=(1.0,) * 7, min_length=7, max_length=7)
    holiday_factor: PosFloat = 1.0
    hotspot_weight: dict[str, PosFloat] = Field(default_factory=dict)
    subdistrict_weight: dict[Annotated[str, Field(pattern=r"^\d{3}$")], PosFloat] = Field(
        default_factory=dict, description="extra weight of every grid in a subdistrict, keyed "
                                          "by its 3-digit code (digits 7-9 of the grid code)")
    day_dispersion: PosFloat = Field(
        default=0.0, description="variance of a gamma day-level rate multiplier with mean 1: "
                                 "0 gives Poisson daily counts, > 0 negative binomial ones")
    residents_exponent: PosFloat = 0.5
    recurrence: Prob = Field(default=0.0, description="chance a fixed problem comes back")
    recurrence_hours: Dist = Dist(dist="exponential", mean=72.0)


class InspectorsSpec(_Spec):
    """Patrolling inspectors: headcount, shifts and how they work (docs/domain.md §3)."""

    count: int = Field(ge=0, description="headcount, split evenly over the shifts")
    shifts: int = Field(default=2, ge=1, le=3)
    shift_hours: PosFloat = 8.0
    first_shift_start: Clock = "07:00"
    days: Literal["all", "workdays"] = "all"
    minutes_per_grid: Dist = Dist(dist="lognormal", mean=9.0, cv=0.3)
    detection_scale: PosFloat = 1.0
    misclassification: Prob = 0.02
    on_spot_fix: bool = True
    task_minutes: Dist = Dist(dist="lognormal", mean=12.0, cv=0.5)
    check_accuracy: Prob = Field(default=0.9, description="chance a check spots unfinished work")
    verify_limit_minutes: PosFloat = 30.0
    check_limit_minutes: PosFloat = 30.0
    report_minutes: Dist | None = Field(
        default=None, description="patrol time a report takes (photograph, classify, locate); "
                                  "none: free")
    fix_minutes: Dist | None = Field(
        default=None, description="patrol time an on-the-spot fix takes; none: free")


class CitizensSpec(_Spec):
    """Public reports of unresolved problems (the 12345 seam; docs/domain.md §7)."""

    propensity_scale: PosFloat = 1.0
    repeat_factor: PosFloat = 0.5
    false_report_share: Prob = 0.05
    repeat_window_minutes: PosFloat | None = Field(
        default=240.0, description="repeat reports of a reported problem are simulated up to "
                                   "this far ahead, later ones wait for the crew's visit "
                                   "(null: for the problem's whole life)")
    repeat_growth_per_day: PosFloat = Field(
        default=0.0, description="repeat reports grow by this share per day the problem stays "
                                 "open (residents lose patience)")


class CentreSpec(_Spec):
    """Supervision centre (acceptors, shift leaders) and command centre (dispatchers)."""

    acceptors: int = Field(ge=1)
    shift_leaders: int = Field(default=2, ge=1)
    dispatchers: int = Field(ge=1)
    hours: tuple[Clock, Clock] = ("00:00", "24:00")
    register_minutes: Dist = Dist(dist="lognormal", mean=2.0, cv=0.5)
    file_minutes: Dist = Dist(dist="lognormal", mean=1.0, cv=0.5)
    dispatch_minutes: Dist = Dist(dist="lognormal", mean=2.0, cv=0.5)
    close_minutes: Dist = Dist(dist="lognormal", mean=1.0, cv=0.5)
    dispatch_error: Prob = 0.03
    step_limit_minutes: PosFloat = 60.0
    independent_checks: bool = Field(
        default=True, description="an inspector checks finished work on site before the case "
                                  "closes; off: the department's own feedback closes it "
                                  "(before 2004)")


class OvertimeSpec(_Spec):
    """Crews working on past their duty hours when the backlog grows (加班)."""

    max_hours: PosFloat = Field(default=0.0, description="extra hours a crew may work after "
                                                         "its duty hours in a day (0: never)")
    backlog_hours: PosFloat = Field(
        default=4.0, description="queued crew-hours of work per crew above which crews stay on")


class BorrowingSpec(_Spec):
    """Crews lent by other departments to a swamped one (借调), within a ceiling."""

    lenders: tuple[str, ...] = Field(default=(), description="departments that lend crews")
    max_crews: int = Field(default=0, ge=0, description="crews borrowed at most at a time")
    backlog_hours: PosFloat = Field(
        default=8.0, description="queued crew-hours per own crew above which crews are borrowed")


class TriageSpec(_Spec):
    """Under a large backlog a department serves by deadline and lets what is already late
    wait: it counts as late whatever it does (docs/domain.md §6: units work to what is measured)."""

    backlog_hours: PosFloat | None = Field(
        default=None, description="queued crew-hours per crew above which it triages "
                                  "(null: never)")
    overdue_last: bool = Field(default=True,
                               description="overdue cases go behind those still on time")


class DepartmentSpec(_Spec):
    """A handling unit: crews, hours, priority rule and how it behaves (docs/domain.md §3).

    How it plans against deadlines and bends under load (issue 11; `sim.engine.workplan`):
    ``slack_use`` is the share of a case's slack (time to the deadline less the work) it lets
    pass before starting when nobody ranks it, ``slack_pressure`` how fast that share falls
    with the evaluation pressure it is under (`sim.engine.behaviour.planning_pressure`);
    ``overtime``, ``borrowing`` and ``triage`` say how it stretches; ``quality_slip`` is the
    quality it loses when work is started with no slack left. ``max_extensions`` and
    ``suspend_wait_hours`` turn a stage's long wait into an extension (延期) or a suspension
    (挂账). The defaults keep a department that starts at once and never stretches.
    """

    name_zh: str = ""
    crews: int = Field(ge=0)
    hours: tuple[Clock, Clock] = ("08:00", "20:00")
    days: Literal["all", "workdays"] = "all"
    priority: Literal["fifo", "deadline"] = "deadline"
    travel_minutes: Dist = Dist(dist="lognormal", mean=15.0, cv=0.5)
    travel_crews: int | None = Field(
        default=None, ge=1,
        description="the crews for which travel_minutes holds: with other crew counts travel "
                    "scales by sqrt(travel_crews / crews), as the distance to the nearest of "
                    "n crews spread over a district falls with 1/sqrt(n) (the square-root "
                    "law, Kolesar and Blum 1973); none: travel does not depend on the crews")
    acknowledge_minutes: Dist = Dist(dist="exponential", mean=10.0)
    quality: Prob = Field(default=0.95, description="chance the work fixes the problem")
    returns_wrong: Prob = Field(default=0.9, description="chance a mis-dispatched case is returned")
    wrong_trade_quality: Prob = Field(
        default=0.5, description="quality multiplier when it handles a case not of its trade")
    extension_rate: Prob = 0.01
    suspension_rate: Prob = 0.0
    suspension_days: Dist = Dist(dist="exponential", mean=20.0)
    intake_hours: Dist | None = Field(
        default=None, description="hours a dispatched case waits in the department's in-tray "
                                  "before it is queued for a crew (paper-based handling before "
                                  "2004); none by default")
    slack_use: Prob = Field(default=0.0, description="share of a case's slack let pass "
                                                     "before starting, under no pressure")
    slack_pressure: PosFloat = Field(
        default=0.0, description="how fast slack use falls with evaluation pressure: used "
                                 "share = slack_use / (1 + slack_pressure x pressure)")
    overtime: OvertimeSpec = OvertimeSpec()
    borrowing: BorrowingSpec = BorrowingSpec()
    triage: TriageSpec = TriageSpec()
    quality_slip: Prob = Field(default=0.0, description="quality lost when work starts with "
                                                        "no slack left (in proportion)")
    max_extensions: int = Field(default=1, ge=0,
                                description="extensions asked for one case (a second needs a "
                                            "stamped form: rare)")
    lend_share: Prob = Field(
        default=0.25, description="share of its crews it lends at most to a stretched "
                                  "department that names it a lender, while it is not "
                                  "stretched itself (judgement: a quarter)")
    suspend_wait_hours: PosFloat = Field(
        default=80.0, description="a stage's wait longer than this many working hours (10 wd) "
                                  "suspends the case (挂账) instead of extending it")


class RequestType(_Spec):
    """A kind of hotline contact that is not a grid problem, and who handles it (docs/domain.md §7).

    ``unit`` is a handling unit's name; ``subdistrict`` means the caller's subdistrict office.
    ``deadline_hours`` is when feedback is due (2 h emergencies, 24 h water, power, gas,
    heating, 7 days ordinary, 15 days complex).
    """

    name: str
    share: float = Field(gt=0, description="share of non-consultation background contacts")
    unit: str
    deadline_hours: float = Field(gt=0)
    handling_hours: Dist
    resolve_probability: Prob = 0.95
    clear_duty: Prob = Field(default=0.85,
                             description="share routed straight to the unit; the rest go to "
                                         "the district backstop")
    shared_with: tuple[str, ...] = Field(
        default=(), description="other units that share the duty: the order goes to all, the "
                                "first to receive it leads (首接负责) and coordination slows it")
    incident_callers: float = Field(
        default=1.0, ge=1, description="mean residents calling about one incident (a burst "
                                       "main, an outage): > 1 makes these requests come in "
                                       "bursts from one subdistrict")
    incident_minutes: Dist = Field(
        default=Dist(dist="exponential", mean=30.0),
        description="minutes from an incident's first call to each further one")
    incident_followers: Dist | None = Field(
        default=None, description="further residents who phone about the same incident, "
                                  "drawn per incident (a count: rounded at random, mean "
                                  "kept): told what is known, their calls are consultations "
                                  "from the incident's subdistrict, `incident_minutes` "
                                  "after it (none: no further callers)")


class SurveySpec(_Spec):
    """The call-back survey (回访): how requesters answer, from what happened to their order.

    Resolved: the problem was fixed (grid orders: the ground truth; other requests: drawn with
    the request type's ``resolve_probability``). Satisfied, with probability
    ``resolved_satisfied - per_deadline x min(time to close / deadline, 3) - per_rework x
    min(reworks, 3) - per_repeat_call x min(further calls, 3)`` when resolved, and
    ``unresolved_satisfied`` when not; times ``late_factor`` when the feedback came after the
    deadline (not responded)."""

    resolved_satisfied: Prob = 0.97
    per_deadline: PosFloat = Field(default=0.08, description="satisfaction lost per deadline's "
                                                             "worth of time to close")
    per_rework: PosFloat = 0.12
    per_repeat_call: PosFloat = Field(default=0.0, description="satisfaction lost per further "
                                                               "call about the same problem")
    unresolved_satisfied: Prob = 0.15
    late_factor: Prob = 0.6


class SurgeSpec(_Spec):
    """Reserve call-takers called in for a big incident (a neighbourhood outage): when one
    incident brings at least ``callers`` further callers (`RequestType.incident_followers`),
    the duty manager calls in ``seats`` reserves (supervisors, back-office staff), or one for
    each ``callers_per_seat`` further callers up to ``seats``, on the phones
    ``after_minutes`` after the incident's first call, for ``for_minutes``."""

    callers: int = Field(default=50, ge=1, description="further callers of one incident that "
                                                        "bring in the reserves")
    seats: int = Field(default=0, ge=0, description="reserve call-takers (0: none); with "
                                                    "`callers_per_seat`, the most called in")
    callers_per_seat: int | None = Field(
        default=None, ge=1, description="one reserve for each this many further callers of "
                                        "the incident, rounded up, at most `seats` (none: "
                                        "`seats` for every incident)")
    after_minutes: PosFloat = Field(default=20.0, description="from the incident's first call "
                                                              "until the reserves answer")
    for_minutes: float = Field(default=90.0, gt=0, description="how long the reserves stay")


class HotlineSpec(_Spec):
    """The 12345 hotline (接诉即办): contacts, call-takers, work orders, call-back survey."""

    enabled: bool = False
    call_takers: int = Field(default=10, ge=0, description="call-takers on duty in a full hour")
    shifts: int = Field(default=3, ge=1, le=3,
                        description="8-hour shifts a day from 00:00 (3), 08:00 (2) or 08:00 (1)")
    staffing_profile: tuple[Prob, ...] = Field(
        default=(0.4,) * 8 + (1.0,) * 14 + (0.6,) * 2, min_length=24, max_length=24,
        description="share of call_takers on duty each hour of the day")
    rate_scale: PosFloat = 1.0
    direct_dispatch: bool = Field(
        default=True, description="grid work orders with clear duty skip verification")
    background_per_day: PosFloat = Field(
        default=0.0, description="contacts a day not caused by grid problems, at rate_scale 1")
    consultation_share: Prob = 0.585
    hourly_profile: tuple[PosFloat, ...] = Field(default=(1.0,) * 24, min_length=24,
                                                 max_length=24)
    weekly_profile: tuple[PosFloat, ...] = Field(default=(1.0,) * 7, min_length=7, max_length=7)
    day_dispersion: PosFloat = Field(
        default=0.0, description="variance of a gamma day-level multiplier (mean 1) of "
                                 "background demand: busy days (outages, heat, the first "
                                 "cold snap); 0 gives Poisson daily counts")
    surge: SurgeSpec = SurgeSpec()
    talk_seconds: Dist = Dist(dist="lognormal", mean=150.0, cv=0.6)
    after_call_seconds: Dist | None = Field(
        default=None, description="wrap-up after every answered call, the call-taker still "
                                  "busy (none: no wrap-up)")
    order_seconds: Dist | None = Field(
        default=None, description="further wrap-up for a call that becomes a work order "
                                  "(writing the order); the order goes out when it ends")
    patience_seconds: Dist = Dist(dist="exponential", mean=90.0)
    redial_probability: Prob = 0.5
    redial_minutes: Dist = Dist(dist="exponential", mean=10.0)
    grid_deadline_hours: float = Field(default=168.0, gt=0,
                                       description="feedback due on grid work orders (7 days)")
    urgent_deadline_hours: float = Field(default=2.0, gt=0)
    requests: tuple[RequestType, ...] = ()
    backstop_unit: str = "district"
    survey_response: Prob = Field(default=0.8, description="share of requesters reached")
    survey: SurveySpec = SurveySpec()
    backstop_slowdown: PosFloat = Field(
        default=1.5, description="handling time multiplier of an order the backstop re-routes")
    backstop_resolve: Prob = Field(default=0.9,
                                   description="resolve probability multiplier at the backstop")
    coordination: PosFloat = Field(
        default=0.25, description="extra handling time per further unit sharing a duty")


class BehaviourSpec(_Spec):
    """How assessed units react to the active rule set (off: behaviour is fixed).

    Gains say how strongly behaviour moves per unit of weight (0..1) the active rule set puts
    on a thing, relative to the standard rule set (see `sim.engine.behaviour`, docs/behaviour.md).
    """

    enabled: bool = False
    speed_gain: PosFloat = Field(default=0.8, description="handling time falls per on-time weight")
    sloppiness: PosFloat = Field(default=0.25, description="quality lost per on-time weight")
    caution_gain: PosFloat = Field(default=1.0, description="handling time grows per rework weight")
    care: PosFloat = Field(default=0.15, description="quality gained per rework weight")
    extension_gain: PosFloat = Field(default=0.2, description="extension rate per rework weight")
    ping_pong: Prob = Field(default=0.05,
                            description="own cases returned when returns go unpenalised")
    padding_gain: PosFloat = Field(default=0.5,
                                   description="trivial reports per report, per volume weight")


class EvaluationSpec(_Spec):
    """Which evaluation rule set scores people, departments and areas (docs/domain.md §6)."""

    rules: str = Field(default="standard",
                       description="rule set: a bundled name (scenarios/rules/) or a file")
    behaviour: BehaviourSpec = BehaviourSpec()
    enabled: bool = Field(default=True,
                          description="off: nobody is evaluated (no league tables, no "
                                      "behaviour pressure), as before 2004")
    stakes: Prob = Field(
        default=1.0, description="how much a unit's scores matter to it (public rankings, "
                                 "pay, leaders' attention): scales the evaluation pressure "
                                 "departments plan under")


class LoopsSpec(_Spec):
    """Big, small and micro loops (大循环/小循环, docs/domain.md §8).

    The subdistrict loop: subclasses within a subdistrict's powers go to its own teams (the
    ``subdistrict_unit`` department) instead of the handbook's district department. The
    community loop: grid staff fix more on the spot (``on_spot_scale``).
    """

    subdistrict_unit: str = Field(default="subdistrict",
                                  description="department that runs the subdistrict loop")
    subdistrict_handles: tuple[str, ...] = Field(
        default=(), description="subclass codes (E05-01) or class codes (E05, C03) routed to "
                                "the subdistrict unit")
    on_spot_scale: PosFloat = Field(
        default=1.0, description="multiplies every subclass's on-the-spot share (capped at 1)")


class WhistleSpec(_Spec):
    """Whistle-and-report (街乡吹哨、部门报到, docs/domain.md §8): summoning departments.

    A case is summoned when its subclass needs joint action (``subclasses``), when it has
    been returned more than ``returns`` times, or when it is ``overdue_hours`` past its
    handling deadline and no crew has started. The summoned department (the handbook's,
    whatever the dispatch said) is on site within ``arrive_minutes`` and stays until done.
    """

    enabled: bool = False
    subclasses: tuple[str, ...] = Field(
        default=(), description="subclass or class codes that need several departments "
                                "(joint enforcement): summoned when dispatched")
    returns: int = Field(default=1, ge=0,
                         description="summon a case returned more than this many times")
    overdue_hours: PosFloat | None = Field(
        default=24.0, description="summon a case this many hours past its deadline with no "
                                  "crew started (null: never for lateness)")
    arrive_minutes: Dist = Field(
        default=Dist(dist="empirical", values=(10.0, 15.0, 20.0, 25.0, 30.0)),
        description="from summons to the department on site (the norm: within 30)")
    arrive_limit_minutes: PosFloat = Field(default=30.0,
                                           description="the norm for arriving on site")
    sweep_minutes: PosFloat = Field(default=60.0, gt=0,
                                    description="how often the subdistricts look for late cases")
    crews: Literal["extra", "own"] = Field(
        default="extra", description="own: the summoned department sends its next free crew, "
                                     "ahead of its queue; extra: capacity outside its crews")


class ProactiveSpec(_Spec):
    """Proactive governance (未诉先办, docs/domain.md §8): patrols steered toward concentrated
    complaints, counted with a lag (hotline pressure feeds back in 3-5 days)."""

    enabled: bool = False
    lag_days: PosFloat = Field(default=4.0, description="complaints reach the grid after this")
    window_days: PosFloat = Field(default=14.0, gt=0,
                                  description="complaints counted over this many days")
    hot_share: Prob = Field(default=0.3,
                            description="share of each beat's grids, the most complained "
                                        "about, walked a second time every patrol cycle")
    themes: int = Field(default=3, ge=0,
                        description="subclasses with most complaints (monthly themes) that "
                                    "patrols look for harder")
    theme_detection: PosFloat = Field(default=1.5,
                                      description="multiplies the themes' detection")


class Scenario(_Spec):
    """Everything one run needs. Times are minutes from ``start_date`` 00:00 local."""

    name: str
    description: str = ""
    seed: int = Field(default=2004, ge=0)
    days: int = Field(default=30, ge=1)
    start_date: dt.date = dt.date(2026, 3, 2)
    calendar: CalendarSpec = CalendarSpec()
    city: CitySpec
    handbook: HandbookSpec
    problems: ProblemsSpec
    inspectors: InspectorsSpec
    citizens: CitizensSpec = CitizensSpec()
    centre: CentreSpec
    departments: dict[str, DepartmentSpec]
    evaluation: EvaluationSpec = EvaluationSpec()
    hotline: HotlineSpec = HotlineSpec()
    loops: LoopsSpec = LoopsSpec()
    whistle: WhistleSpec = WhistleSpec()
    proactive: ProactiveSpec = ProactiveSpec()
    source: str = Field(default="", description="file this scenario was read from (set by loader)")

    def resolve(self, relative: str) -> Path:
        """A path named in the scenario, relative to the scenario file's folder."""
        base = Path(self.source).parent if self.source else SCENARIO_DIR
        return (base / relative).resolve()

    def digest(self) -> str:
        """Stable hash of the scenario's content (for manifests and caches)."""
        blob = json.dumps(self.model_dump(mode="json", exclude={"source"}), sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


# Folders of bundled scenarios below ``scenarios/``, named ``folder/stem`` (governance presets).
SCENARIO_SUBFOLDERS = ("governance",)


def bundled_scenarios() -> list[str]:
    """Names of the scenarios shipped in ``scenarios/`` (and ``scenarios/governance/``, as
    ``governance/<name>``)."""
    return bundled_names(SCENARIO_DIR, SCENARIO_SUBFOLDERS)


def scenario_path(name_or_file: str) -> Path:
    """A scenario file from a path or a bundled name (``dongcheng``, ``small-town``,
    ``governance/grid-2004``)."""
    try:
        return find_bundled(name_or_file, SCENARIO_DIR, "scenario")
    except InputError as e:
        if not e.message.startswith("no such file"):
            raise
        names = bundled_scenarios()
        raise InputError(e.file, e.line, e.path, gettext(
            "no such file or bundled scenario (bundled: {names})").format(names=", ".join(names))
            + did_you_mean(str(name_or_file), names)) from None


def _find_base(name: str, folder: Path) -> Path:
    """The file a ``base:`` names: a path relative to the overlay's folder, else a bundled
    name."""
    for candidate in (folder / name, folder / f"{name}.yaml"):
        if candidate.suffix in YAML_SUFFIXES and candidate.is_file():
            check_yaml_name(candidate, "scenario")
            return candidate
    return scenario_path(name)


def parse_overrides(items: list[str] | tuple[str, ...]) -> list[tuple[str, Any]]:
    """Parse ``dotted.key=value`` strings; values are read as YAML scalars or lists."""
    out = []
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise InputError("--set", None, key.strip(),
                             gettext("expected dotted.key=value, got {item}").format(
                                 item=repr(item)))
        value = load_value(raw, "--set", key.strip()) if raw.strip() else ""
        out.append((key.strip(), value))
    return out


def _is_section(data: Any, dotted: str) -> bool:
    """Whether ``data`` holds a mapping at the dotted path."""
    node = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return isinstance(node, dict)


def flag_of(path: str, flags: dict[str, str], before: Any) -> str | None:
    """The flag (``--set``, ``--vary``, ``--days``...) that put the bad value at dotted
    ``path``, given each override key's flag and the data before the overrides: an override
    of that key or of a key inside it, or one that set a key below ``path`` where the data
    had no section (the typo in ``--set inspector.count=3`` makes up a section
    ``inspector``). None: the file wrote it."""
    for key, flag in flags.items():
        if path == key or path.startswith(key + "."):
            return flag
        if key.startswith(path + ".") and not _is_section(before, path):
            return flag
    return None


def apply_overrides(data: dict[str, Any], overrides: list[tuple[str, Any]]) -> dict[str, Any]:
    """Return a copy of raw scenario data with each dotted key set to its value."""
    data = copy.deepcopy(data)
    for key, value in overrides:
        node: Any = data
        parts = key.split(".")
        for i, part in enumerate(parts[:-1]):
            nxt = node.get(part) if isinstance(node, dict) else None
            if nxt is None:
                nxt = {}
                node[part] = nxt
            if not isinstance(nxt, dict):
                raise InputError("--set", None, ".".join(parts[: i + 1]),
                                 gettext("expected a section to set {key} in, got {got}").format(
                                     key=key, got=repr(nxt)))
            node = nxt
        node[parts[-1]] = value
    return data


# Smoke-test size (docs/writing-docs.md): every run lasts at most this many days.
MAX_DAYS_ENV = "GRIDLOOP_MAX_DAYS"


def days_cap() -> int | None:
    """The cap ``GRIDLOOP_MAX_DAYS`` puts on every run's days (None when unset)."""
    raw = os.environ.get(MAX_DAYS_ENV, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise InputError(MAX_DAYS_ENV, None, "", f"expected a whole number of days >= 1, "
                         f"got {raw!r}")
    return int(raw)


def load_scenario(name_or_file: str | Path, overrides: list[str] | tuple[str, ...] = (),
                  days: int | None = None, seed: int | None = None, *,
                  flags: dict[str, str] | None = None, cap_days: bool = True) -> Scenario:
    """Read, override and validate a scenario, and cross-check its handbook and city.

    ``flags`` names the command-line flag each override key came from, for the error
    messages (default ``--set``; an experiment's varied keys come from ``--vary``). With
    ``GRIDLOOP_MAX_DAYS`` set (smoke tests of the docs), runs last at most that many days
    unless ``cap_days`` is False.

    Raises:
        InputError: naming the file and line, or the flag, and the key of the first problem.
    """
    path = scenario_path(str(name_or_file))
    layered = read_layers(path, _find_base)  # an overlay's bases merged under it
    data, origins = layered.data, layered.origins
    ov = parse_overrides(list(overrides))
    origin = {key: (flags or {}).get(key, "--set") for key, _ in ov}
    if days is not None:
        ov.append(("days", days))
        origin["days"] = "--days"
    if seed is not None:
        ov.append(("seed", seed))
        origin["seed"] = "--seed"
    deps = data.get("departments")
    for key, _ in ov:  # a typo in a department name would quietly add a department
        parts = key.split(".")
        if len(parts) > 2 and parts[0] == "departments" and isinstance(deps, dict) \
                and parts[1] not in deps:
            raise InputError(origin[key], None, key, gettext(
                "expected one of the scenario's departments ({departments}), got {got}").format(
                departments=", ".join(sorted(deps)), got=repr(parts[1]))
                + did_you_mean(parts[1], deps))
    try:
        merged = apply_overrides(data, ov)
    except InputError as e:
        raise InputError(flag_of(e.path, origin, data) or e.file, None, e.path,
                         e.message) from None
    cap = days_cap() if cap_days else None
    wanted = merged.get("days", Scenario.model_fields["days"].default)
    if cap is not None and isinstance(wanted, int) and wanted > cap:
        merged["days"] = cap
    merged["source"] = str(path.resolve())
    lines = origins.layers[0][1]
    try:
        scenario = validate(Scenario, merged, str(path), lines)
        check_ceilings(scenario, lambda loc, msg: InputError(
            str(path), line_of(lines, loc), ".".join(str(x) for x in loc), msg))
    except InputError as e:
        # a value that came from --set (or --vary, --days, --seed) has no line in the file
        if flag := flag_of(e.path, origin, data):
            raise InputError(flag, None, e.path, e.message) from None
        if len(origins.layers) > 1:  # an overlay: the file (base or overlay) that wrote it
            file, line = origins.where_dotted(e.path)
            raise InputError(file, line, e.path, e.message) from None
        raise
    check_references(scenario, str(path), lines, origins)
    return scenario


def check_governance(scenario: Scenario, handbook: Any, at: Any) -> None:
    """The governance keys name real subclasses and departments (`sim.data.governance`)."""
    from sim.data.governance import unmatched_codes

    loops = scenario.loops
    if loops.subdistrict_handles and loops.subdistrict_unit not in scenario.departments:
        raise InputError(*at("loops", "subdistrict_unit"), "loops.subdistrict_unit",
                         f"expected one of the scenario's departments "
                         f"({', '.join(sorted(scenario.departments))}), "
                         f"got {loops.subdistrict_unit!r}")
    if loops.subdistrict_handles and scenario.departments[loops.subdistrict_unit].crews == 0:
        raise InputError(*at("departments", loops.subdistrict_unit, "crews"),
                         f"departments.{loops.subdistrict_unit}.crews",
                         "expected at least 1 crew for the subdistrict loop's unit, got 0")
    for section, key, codes in (("loops", "subdistrict_handles", loops.subdistrict_handles),
                                ("whistle", "subclasses", scenario.whistle.subclasses)):
        for i, code in unmatched_codes(handbook, codes):
            file, line = at(section, key, i)  # type: ignore[arg-type]
            if line is None:
                file, line = at(section, key)
            raise InputError(file, line, f"{section}.{key}.{i}",
                             "expected a subclass code (E05-01) or class code (E05) of the "
                             f"handbook, got {code!r}")


def check_handbook_departments(scenario: Scenario, handbook: Any, at: Any) -> None:
    """Departments a handbook row names besides its own (a stage done by another department's
    crews, plausible departments for a wrong dispatch) and the departments lending crews are
    the scenario's."""
    names = scenario.departments
    for i, sub in enumerate(handbook.subclasses):
        named = [(("stages", j, "department"), st.department) for j, st in enumerate(sub.stages)
                 if st.department is not None]
        named += [(("dispatch_alternates", d), d) for d in sub.dispatch_alternates]
        for loc, name in named:
            if name not in names:
                _, hb_lines = read_yaml(handbook.source)  # only on error: the key's own line
                line = line_of(hb_lines, ("subclasses", i, *loc)) or sub.line
                raise InputError(handbook.source, line,
                                 ".".join(str(x) for x in ("subclasses", i, *loc)),
                                 f"expected one of the scenario's departments "
                                 f"({', '.join(sorted(names))}), got {name!r}")
    for name, dep in names.items():
        for k, lender in enumerate(dep.borrowing.lenders):
            if lender not in names or lender == name:
                raise InputError(*at("departments", name, "borrowing", "lenders", k),
                                 f"departments.{name}.borrowing.lenders.{k}",
                                 f"expected another of the scenario's departments "
                                 f"({', '.join(sorted(set(names) - {name}))}), got {lender!r}")


def scenario_chain(name_or_file: str | Path) -> list[Path]:
    """The files a scenario is made of: itself, then its ``base:``, its base's base..."""
    return read_layers(scenario_path(str(name_or_file)), _find_base).chain


def check_references(scenario: Scenario, file: str, lines: LineMap,
                     origins: Origins | None = None) -> None:
    """Cross-file checks: the handbook's departments exist, the city loads, the rule set
    exists and reads. With ``origins`` (an overlay), each complaint names the file that
    wrote the key."""
    from sim.rules import load_rules

    def at(*loc: str) -> tuple[str, int | None]:
        if origins is None or len(origins.layers) == 1:
            return file, lines.get(loc)
        found = origins.where(loc)
        return found if any(loc in ln for _, ln in origins.layers) else (file, None)

    try:
        load_rules(scenario.evaluation.rules)
    except InputError as e:
        if e.line is None:  # no such rule set: say where it was named
            where, line = at("evaluation", "rules")
            raise InputError(where if line else "--set", line, "evaluation.rules",
                             e.message) from None
        raise
    from sim.data.taxonomy import load_handbook  # lower layer, imported late to keep startup small

    for key, named, what, suffixes in (
            ("handbook", scenario.handbook.file, "a handbook YAML file", YAML_SUFFIXES),
            ("city", scenario.city.grids_file, "a grid table (CSV) file", (".csv",))):
        field = "file" if key == "handbook" else "grids_file"
        full = scenario.resolve(named)
        found = "no such file" if not full.exists() else kind_of(full.stat().st_mode)
        if found != "a regular file" or full.suffix.lower() not in suffixes:
            if found == "a regular file":
                found = f"a file not ending in {' or '.join(suffixes)}"
            raise InputError(*at(key, field), f"{key}.{field}",
                             f"expected {what}, got {named!r} ({found}: {full})")
    handbook = load_handbook(scenario.resolve(scenario.handbook.file))
    for i, sub in enumerate(handbook.subclasses):
        if sub.department not in scenario.departments:
            _, hb_lines = read_yaml(handbook.source)  # only on error: the department's own line
            line = line_of(hb_lines, ("subclasses", i, "department")) or sub.line
            raise InputError(handbook.source, line, f"subclasses.{i}.department",
                             f"expected one of the scenario's departments "
                             f"({', '.join(sorted(scenario.departments))}), got {sub.department!r}")
    check_handbook_departments(scenario, handbook, at)
    check_governance(scenario, handbook, at)
    for name, dep in scenario.departments.items():
        if dep.crews == 0 and any(s.department == name for s in handbook.subclasses):
            raise InputError(*at("departments", name, "crews"),
                             f"departments.{name}.crews",
                             "expected at least 1 crew for a department the handbook "
                             "dispatches to, got 0")
