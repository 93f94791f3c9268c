"""What a run of a scenario will cost: an estimate of memory and time from its size.

Every value of a scenario may be within its ceiling (`sim.data.limits`) while the whole asks
too much: a million problems a day for ten years is three and a half billion cases. The
estimate counts what drives the engine's work (problems, hotline contacts, staff) and
prices each from measurements of `gridloop run` (docs/security.md: 1.7-3.4 KB and 30-60 µs
a problem on the reference machine; the figures below are the high ends, rounded up).
`check_resources` is the one check `gridloop validate` and `gridloop run` share: it warns
above `WARN_BYTES` or `WARN_SECONDS`, and refuses a run that needs more memory than the
machine has, or more than `REFUSE_SECONDS`, unless forced.

`gridloop run` streams its rows to the run folder (`sim.run.record_run`), so its memory is
priced by what it holds at once, not by the whole horizon: every problem while a run makes at
most `RETIRE_ABOVE_PROBLEMS`, else the problems of `HELD_DAYS` days (ended problems leave the
day after they end), and the hotline contacts of `HELD_DAYS` days.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from sim.errors import GridLoopError

__all__ = ["Estimate", "estimate", "check_resources", "machine_memory", "WARN_BYTES",
           "WARN_SECONDS", "REFUSE_SECONDS", "RETIRE_ABOVE_PROBLEMS", "HELD_DAYS",
           "expected_problems", "lets_problems_go"]

GiB = 2**30
# Prices measured on `gridloop run` (dongcheng and small-town, loads from 1 to 12 times
# Dongcheng's, 2-60 days; docs/security.md), rounded up: memory and time per problem, per
# hotline contact, per member of staff, and the fixed cost of starting.
_BASE_BYTES = 400 * 2**20
_BYTES_PER_PROBLEM = 4096
_BYTES_PER_CONTACT = 1024
_BYTES_PER_STAFF = 1024
_BASE_SECONDS = 5.0
_SECONDS_PER_PROBLEM = 80e-6
_SECONDS_PER_CONTACT = 25e-6
_SECONDS_PER_STAFF_DAY = 2e-6

# A streamed run that makes more problems than this lets ended ones go (dicts by problem id,
# ~1.1x the CPU of lists: docs/speed.md); fewer are all kept (a year of dongcheng makes
# ~630,000, ~0.3 GB of lists). `sim.run.lets_problems_go` decides with it.
RETIRE_ABOVE_PROBLEMS = 1_500_000
# Days of problems and hotline contacts a run that lets them go holds at once: the day
# before an ended problem leaves, and the open work (a generous judgement: a city that keeps
# up closes nearly every case within days; one that does not holds a growing backlog).
HELD_DAYS = 30

WARN_BYTES = 2 * GiB            # say so above this
WARN_SECONDS = 600.0
REFUSE_SECONDS = 24 * 3600.0    # refuse (unless forced) above this, or above the machine's RAM


@dataclass(frozen=True)
class Estimate:
    """The expected size and cost of one run.

    Attributes:
        problems: expected ground-truth problems over the run.
        contacts: expected hotline contacts not caused by problems.
        staff: inspectors, centre staff, crews and call-takers.
        memory_bytes: expected peak memory of the run.
        seconds: expected wall time on a machine like the reference one.
        warnings: what is large: ``"memory"`` (over `WARN_BYTES`), ``"time"`` (over
            `WARN_SECONDS`).
    """

    problems: float
    contacts: float
    staff: int
    memory_bytes: float
    seconds: float
    warnings: tuple[str, ...] = ()

    @property
    def memory(self) -> str:
        """``1.2 GB``."""
        return _bytes(self.memory_bytes)

    @property
    def duration(self) -> str:
        """``3.4 min``."""
        return _duration(self.seconds)


def machine_memory() -> int:
    """Physical memory of this machine in bytes (16 GiB where the system does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, OSError, ValueError):
        return 16 * GiB


def expected_problems(scenario: Any) -> float:
    """How many problems a run of ``scenario`` is expected to make (recurrences aside)."""
    p = scenario.problems
    return p.per_day * p.rate_scale * scenario.days


def lets_problems_go(scenario: Any) -> bool:
    """Whether a streamed run of ``scenario`` lets ended problems go: it is expected to make
    more than `RETIRE_ABOVE_PROBLEMS`."""
    return expected_problems(scenario) > RETIRE_ABOVE_PROBLEMS


def estimate(scenario: Any) -> Estimate:
    """The `Estimate` of a validated `sim.data.scenario.Scenario`, from its size only
    (nothing is read or allocated)."""
    days = scenario.days
    p = scenario.problems
    problems = p.per_day * p.rate_scale * max(1.0, p.holiday_factor) * days
    h = scenario.hotline
    contacts = h.background_per_day * h.rate_scale * days if h.enabled else 0.0
    c = scenario.centre
    staff = (scenario.inspectors.count + c.acceptors + c.shift_leaders + c.dispatchers
             + sum(d.crews for d in scenario.departments.values())
             + (h.call_takers if h.enabled else 0))
    held, held_contacts = problems, contacts  # what the streamed run holds at once
    if lets_problems_go(scenario):
        held = min(problems, problems / days * HELD_DAYS)
        held_contacts = min(contacts, contacts / days * HELD_DAYS)
    memory = (_BASE_BYTES + _BYTES_PER_PROBLEM * held + _BYTES_PER_CONTACT * held_contacts
              + _BYTES_PER_STAFF * staff)
    seconds = (_BASE_SECONDS + _SECONDS_PER_PROBLEM * problems
               + _SECONDS_PER_CONTACT * contacts + _SECONDS_PER_STAFF_DAY * staff * days)
    warnings = (("memory",) if memory > WARN_BYTES else ()) + (
        ("time",) if seconds > WARN_SECONDS else ())
    return Estimate(problems, contacts, staff, memory, seconds, warnings)


def check_resources(scenario: Any, *, force: bool = False) -> Estimate:
    """The scenario's `Estimate`, refused if the run cannot finish here.

    Raises:
        GridLoopError: it needs more memory than the machine has, or more than
            `REFUSE_SECONDS`, and ``force`` is not set; the message says what drives the
            size and how to go on.
    """
    est = estimate(scenario)
    ram = machine_memory()
    too_big = []
    if est.memory_bytes > ram:
        too_big.append(f"~{_bytes(est.memory_bytes)} of memory (this machine has "
                       f"{_bytes(ram)})")
    if est.seconds > REFUSE_SECONDS:
        too_big.append(f"~{_duration(est.seconds)} (more than {_duration(REFUSE_SECONDS)})")
    if too_big and not force:
        raise GridLoopError(
            f"{scenario.name}: expected a run this machine can finish, got one that needs "
            f"{' and '.join(too_big)}: {est.problems:,.0f} problems (problems.per_day x "
            f"rate_scale x days), {est.contacts:,.0f} other hotline contacts, "
            f"{est.staff:,} staff; lower them, or pass --force to try anyway")
    return est


def _bytes(n: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n / 1e3:,.0f} KB"


def _duration(s: float) -> str:
    for unit, size in (("days", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if s >= size:
            return f"{s / size:,.1f} {unit}"
    return f"{s:.0f} s"
