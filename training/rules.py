"""Judging one decision against the handbook: the deviations, their severity and the rule.

`judge` compares a card's decision with what the dispatch handbook and the centre's rules
require, given the card's answer key (`CardFacts`). Every deviation names the rule it breaks,
in the handbook's own words where there are some (department, urgency, filing and closing
criteria of the subclass), so feedback tells the trainee where to look.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from sim.data.taxonomy import Handbook, Subclass
from sim.engine.eventlog import Channel
from training.cards import Decision
from training.exercises import Rubric

__all__ = ["Deviation", "judge", "judge_time", "expected_subclass", "Severity"]

Severity = Literal["minor", "major", "critical"]


class Deviation(BaseModel):
    """One departure from the rules in one decision."""

    model_config = ConfigDict(frozen=True)

    severity: Severity
    rule: str
    message: str


def expected_subclass(f: Any) -> int:
    """The subclass a trainee is held to: the truth when the card carried the evidence (the
    caller's words, a department's return), else what the report claimed."""
    return f.true_subclass if f.evidence else f.claimed_subclass


def _name(s: Subclass) -> str:
    return f"{s.code} {s.name}"


def judge(f: Any, d: Decision | None, hb: Handbook, rubric: Rubric,
          departments: list[str]) -> tuple[str, list[Deviation]]:
    """What the rules expected on this card (in words), and the deviations of ``d``."""
    sub = hb.subclasses[expected_subclass(f)]
    urgent = sub.urgency == "urgent"
    dev: list[Deviation] = []
    kind = f.kind
    action = d.action if d is not None else None
    fields = d.fields if d is not None else {}
    if kind == "verify":
        # A duplicate is judged by what the platform shows: an open case of the same grid
        # and subclass (the built-in rule merges into it too).
        if f.open_case >= 0:
            exp = f"merge into case {f.open_case} (open for the same grid and subclass)"
            if action == "verify":
                dev.append(Deviation(severity="minor",
                                     rule="Merge duplicates (docs/domain.md §3 step 2)",
                                     message=f"Case {f.open_case} is already open for this: "
                                             f"sending an inspector again wastes a site visit."))
        elif f.problem < 0:
            exp = "verify on site (nothing is there; verification will show it)"
        else:
            exp = "send the inspector to verify on site"
        if action == "merge" and f.duplicate_of < 0 and f.open_case < 0:
            dev.append(Deviation(severity="major", rule="Merge duplicates only",
                                 message="No open case covers this report: merged, the problem "
                                         "is never handled."))
        if action == "void":
            sev: Severity = "minor" if f.problem < 0 else ("critical" if urgent else "major")
            dev.append(Deviation(severity=sev, rule="Verify public reports before voiding "
                                 "(docs/domain.md §3 step 1a)",
                                 message="A public report is voided only after verification "
                                         "found nothing" + ("." if f.problem < 0 else
                                                            ": this problem was real.")))
        return exp, dev
    if kind == "file":
        dup = f.open_case >= 0   # what the platform shows (see verify above)
        if f.verified is False:
            exp = "void: verification found nothing"
            if action == "file":
                dev.append(Deviation(severity="major", rule=f"Filing criterion of {_name(sub)}",
                                     message=f"Filed without meeting the criterion "
                                             f"(\"{sub.filing_criterion}\"): the inspector "
                                             f"found nothing on site."))
        elif dup:
            exp = f"merge into case {f.open_case} (open for the same grid and subclass)"
            if action == "file":
                dev.append(Deviation(severity="minor",
                                     rule="Merge duplicates (docs/domain.md §3 step 2)",
                                     message=f"Case {f.open_case} already covers this: a "
                                             f"second case doubles the work."))
        else:
            exp = f"file as {_name(sub)}"
        if action == "void" and f.verified is not False and f.problem >= 0:
            dev.append(Deviation(severity="critical" if urgent else "major",
                                 rule=f"Filing criterion of {_name(sub)}",
                                 message=f"A real problem was voided; it meets the criterion "
                                         f"(\"{sub.filing_criterion}\")."))
        if action == "merge" and not dup and f.duplicate_of < 0:
            dev.append(Deviation(severity="major", rule="Merge duplicates only",
                                 message="No open case covers this problem: merged, it is "
                                         "never handled."))
        if action == "file":
            given = fields.get("subclass")
            wrong = given is not None and given != sub.code and (
                f.evidence or given != hb.subclasses[f.claimed_subclass].code)
            if wrong:
                dev.append(Deviation(severity="minor", rule=f"Classify by the handbook: "
                                     f"{_name(sub)}",
                                     message=f"Filed as {given}; the handbook class is "
                                             f"{sub.code}."))
        return exp, dev
    if kind == "check":
        if action == "close":
            dev.append(Deviation(severity="major", rule="Supervision checks what command "
                                 "dispatched (docs/domain.md §1)",
                                 message="Closed on the department's word: no inspector "
                                         "checked the work against the closing criterion."))
        return "send the inspector to check", dev
    if kind == "close":
        if f.check_passed:
            if action == "rework":
                dev.append(Deviation(severity="minor", rule=f"Closing criterion of {_name(sub)}",
                                     message="The check passed: rework sends a crew for "
                                             "nothing."))
            return "close: the check passed", dev
        if action == "close":
            dev.append(Deviation(severity="critical", rule=f"Closing criterion of {_name(sub)}",
                                 message=f"Closed, not solved: the check failed "
                                         f"(\"{sub.closing_criterion}\")."))
        return "rework: the check failed", dev
    if kind in ("dispatch", "return"):
        exp = f"{sub.department}, {sub.urgency}" + (", whistle" if _whistle(sub, rubric) else "")
        if d is None:
            return exp, dev
        dept = fields.get("department")
        if dept != sub.department:
            dev.append(Deviation(severity="critical" if urgent else "major",
                                 rule=f"Handbook {_name(sub)}: department {sub.department}",
                                 message=f"Dispatched to {dept}; the handbook sends "
                                         f"{sub.code} to {sub.department}."))
        if kind == "return" and f.returned_from >= 0 and dept == departments[f.returned_from]:
            dev.append(Deviation(severity="major", rule="Returns are re-dispatched to the right "
                                 "department (docs/domain.md §6: ping-pong)",
                                 message=f"Sent back to {dept}, which had just returned it."))
        given = fields.get("subclass")
        if given is not None and given != sub.code and (
                f.evidence or given != hb.subclasses[f.claimed_subclass].code):
            dev.append(Deviation(severity="minor", rule=f"Classify by the handbook: "
                                 f"{_name(sub)}",
                                 message=f"Dispatched as {given}; the handbook class is "
                                         f"{sub.code} (its time limit applies)."))
        urg = fields.get("urgency")
        if urg != sub.urgency:
            dev.append(Deviation(severity="major" if urgent else "minor",
                                 rule=f"Handbook {_name(sub)}: urgency {sub.urgency}",
                                 message=f"Marked {urg}; the handbook marks {sub.code} "
                                         f"{sub.urgency}."))
        whistle = bool(fields.get("whistle", False))
        if whistle != _whistle(sub, rubric):
            dev.append(Deviation(
                severity="major" if not whistle else "minor",
                rule="Whistle-and-report for " + ", ".join(rubric.whistle_classes) +
                     " (docs/domain.md §8)",
                message="An emergency needs the whistle: summoned departments on site in 30 "
                        "minutes." if not whistle else "A whistle for a routine case: too "
                        "many whistles mean routine channels fail."))
        return exp, dev
    # extension
    if urgent:
        if action == "grant":
            dev.append(Deviation(severity="major", rule=f"Handbook {_name(sub)}: urgent",
                                 message="Urgent (make-safe-now) work gets no extension."))
        return "refuse: urgent work gets no extension", dev
    if action == "refuse":
        dev.append(Deviation(severity="minor", rule="Extensions (docs/domain.md §3 step 4)",
                             message="A routine request in time: grant it, one more limit."))
    return "grant", dev


def _whistle(sub: Subclass, rubric: Rubric) -> bool:
    return f"{sub.code[0]}{sub.class_code}" in rubric.whistle_classes


def judge_time(f: Any, decided_at: float | None, now: float, limit: float, urgent_limit: float,
               hb: Handbook) -> tuple[float, list[Deviation]]:
    """The card's limit (minutes) and a lateness deviation if the decision (or, at ``now``,
    the lack of one) overran it: minor up to twice the limit, major beyond."""
    sub = hb.subclasses[expected_subclass(f)]
    lim = urgent_limit if sub.urgency == "urgent" else limit
    took = (decided_at if decided_at is not None else now) - f.received_at
    if took <= lim:
        return lim, []
    sev: Severity = "minor" if took <= 2 * lim and decided_at is not None else "major"
    what = "decided" if decided_at is not None else "still waiting"
    return lim, [Deviation(severity=sev, rule=f"Centre step limit {lim:g} min (docs/domain.md §4)",
                           message=f"{what} after {took:.0f} min; the limit is {lim:g} min.")]


def channel_word(channel: int) -> str:
    return "public" if channel == Channel.PUBLIC else "inspector"
