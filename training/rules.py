"""Judging one decision against the handbook: the deviations, their severity and the rule.

`judge` compares a card's decision with what the dispatch handbook and the centre's rules
require, given the card's answer key (`CardFacts`). Every deviation names the rule it breaks,
in the handbook's own words where there are some (department, urgency, filing and closing
criteria of the subclass), so feedback tells the trainee where to look. The words are in
the language in force (`sim.i18n.use`): the handbook's Chinese names and criteria in Chinese.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from sim.data.taxonomy import Handbook, Subclass
from sim.engine.eventlog import Channel
from sim.i18n import _, local_name
from training.cards import Decision
from training.exercises import Rubric
from training.wording import URGENCY, label, subclass_name

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
    return f"{s.code} {subclass_name(s)}"


def _filing(s: Subclass) -> str:
    return local_name(s.filing_criterion, s.filing_criterion_zh)


def _closing(s: Subclass) -> str:
    return local_name(s.closing_criterion, s.closing_criterion_zh)


def judge(f: Any, d: Decision | None, hb: Handbook, rubric: Rubric,
          departments: list[str], shown: Callable[[str], str] = str
          ) -> tuple[str, list[Deviation]]:
    """What the rules expected on this card (in words), and the deviations of ``d``;
    ``shown`` gives a department's name as the trainee reads it (its code by default)."""
    sub = hb.subclasses[expected_subclass(f)]
    urgent = sub.urgency == "urgent"
    dev: list[Deviation] = []
    kind = f.kind
    action = d.action if d is not None else None
    fields = d.fields if d is not None else {}
    if kind == "verify":
        # A duplicate is judged by what the platform shows: an open case of the same grid
        # and subclass, or the one already tracking this spot under another subclass
        # (`CaseBook.duplicate_of`; the built-in rule merges into it too).
        if f.open_case >= 0:
            exp = _("merge into case {case} (already open for this problem)").format(
                case=f.open_case)
            if action == "verify":
                dev.append(Deviation(
                    severity="minor", rule=_("Merge duplicates (docs/domain.md §3 step 2)"),
                    message=_("Case {case} is already open for this: sending an inspector "
                              "again wastes a site visit.").format(case=f.open_case)))
        elif f.problem < 0:
            exp = _("verify on site (nothing is there; verification will show it)")
        else:
            exp = _("send the inspector to verify on site")
        if action == "merge" and f.duplicate_of < 0 and f.open_case < 0:
            dev.append(Deviation(severity="major", rule=_("Merge duplicates only"),
                                 message=_("No open case covers this report: merged, the "
                                           "problem is never handled.")))
        if action == "void":
            sev: Severity = "minor" if f.problem < 0 else ("critical" if urgent else "major")
            dev.append(Deviation(
                severity=sev,
                rule=_("Verify public reports before voiding (docs/domain.md §3 step 1a)"),
                message=_("A public report is voided only after verification found nothing.")
                if f.problem < 0 else _("A public report is voided only after verification "
                                        "found nothing: this problem was real.")))
        return exp, dev
    if kind == "file":
        dup = f.open_case >= 0   # what the platform shows (see verify above)
        if f.verified is False:
            exp = _("void: verification found nothing")
            if action == "file":
                dev.append(Deviation(
                    severity="major", rule=_("Filing criterion of {subclass}").format(
                        subclass=_name(sub)),
                    message=_('Filed without meeting the criterion ("{criterion}"): the '
                              'inspector found nothing on site.').format(criterion=_filing(sub))))
        elif dup:
            exp = _("merge into case {case} (already open for this problem)").format(
                case=f.open_case)
            if action == "file":
                dev.append(Deviation(
                    severity="minor", rule=_("Merge duplicates (docs/domain.md §3 step 2)"),
                    message=_("Case {case} already covers this: a second case doubles the "
                              "work.").format(case=f.open_case)))
        else:
            exp = _("file as {subclass}").format(subclass=_name(sub))
        if action == "void" and f.verified is not False and f.problem >= 0:
            dev.append(Deviation(
                severity="critical" if urgent else "major",
                rule=_("Filing criterion of {subclass}").format(subclass=_name(sub)),
                message=_('A real problem was voided; it meets the criterion ("{criterion}").'
                          ).format(criterion=_filing(sub))))
        if action == "merge" and not dup and f.duplicate_of < 0:
            dev.append(Deviation(severity="major", rule=_("Merge duplicates only"),
                                 message=_("No open case covers this problem: merged, it is "
                                           "never handled.")))
        if action == "file":
            given = fields.get("subclass")
            wrong = given is not None and given != sub.code and (
                f.evidence or given != hb.subclasses[f.claimed_subclass].code)
            if wrong:
                dev.append(Deviation(
                    severity="minor", rule=_("Classify by the handbook: {subclass}").format(
                        subclass=_name(sub)),
                    message=_("Filed as {given}; the handbook class is {code}.").format(
                        given=given, code=sub.code)))
        return exp, dev
    if kind == "check":
        if action == "close":
            dev.append(Deviation(
                severity="major",
                rule=_("Supervision checks what command dispatched (docs/domain.md §1)"),
                message=_("Closed on the department's word: no inspector checked the work "
                          "against the closing criterion.")))
        return _("send the inspector to check"), dev
    if kind == "close":
        if f.check_passed:
            if action == "rework":
                dev.append(Deviation(
                    severity="minor", rule=_("Closing criterion of {subclass}").format(
                        subclass=_name(sub)),
                    message=_("The check passed: rework sends a crew for nothing.")))
            return _("close: the check passed"), dev
        if action == "close":
            dev.append(Deviation(
                severity="critical", rule=_("Closing criterion of {subclass}").format(
                    subclass=_name(sub)),
                message=_('Closed, not solved: the check failed ("{criterion}").').format(
                    criterion=_closing(sub))))
        return _("rework: the check failed"), dev
    if kind in ("dispatch", "return"):
        exp = f"{shown(sub.department)}, {label(URGENCY, sub.urgency)}" + (
            _(", whistle") if _whistle(sub, rubric) else "")
        if d is None:
            return exp, dev
        dept = fields.get("department")
        if dept != sub.department:
            dev.append(Deviation(
                severity="critical" if urgent else "major",
                rule=_("Handbook {subclass}: department {department}").format(
                    subclass=_name(sub), department=shown(sub.department)),
                message=_("Dispatched to {given}; the handbook sends {code} to {department}."
                          ).format(given=shown(str(dept)) if dept else dept, code=sub.code,
                                   department=shown(sub.department))))
        if kind == "return" and f.returned_from >= 0 and dept == departments[f.returned_from]:
            dev.append(Deviation(
                severity="major", rule=_("Returns are re-dispatched to the right department "
                                         "(docs/domain.md §6: ping-pong)"),
                message=_("Sent back to {department}, which had just returned it.").format(
                    department=shown(str(dept)))))
        given = fields.get("subclass")
        if given is not None and given != sub.code and (
                f.evidence or given != hb.subclasses[f.claimed_subclass].code):
            dev.append(Deviation(
                severity="minor", rule=_("Classify by the handbook: {subclass}").format(
                    subclass=_name(sub)),
                message=_("Dispatched as {given}; the handbook class is {code} (its time limit "
                          "applies).").format(given=given, code=sub.code)))
        urg = fields.get("urgency")
        if urg != sub.urgency:
            dev.append(Deviation(
                severity="major" if urgent else "minor",
                rule=_("Handbook {subclass}: urgency {urgency}").format(
                    subclass=_name(sub), urgency=label(URGENCY, sub.urgency)),
                message=_("Marked {given}; the handbook marks {code} {urgency}.").format(
                    given=label(URGENCY, urg) if urg else urg, code=sub.code,
                    urgency=label(URGENCY, sub.urgency))))
        whistle = bool(fields.get("whistle", False))
        if whistle != _whistle(sub, rubric):
            dev.append(Deviation(
                severity="major" if not whistle else "minor",
                rule=_("Whistle-and-report for {classes} (docs/domain.md §8)").format(
                    classes=", ".join(rubric.whistle_classes)),
                message=_("An emergency needs the whistle: summoned departments on site in 30 "
                          "minutes.") if not whistle else _(
                    "A whistle for a routine case: too many whistles mean routine channels "
                    "fail.")))
        return exp, dev
    # extension
    if urgent:
        if action == "grant":
            dev.append(Deviation(
                severity="major", rule=_("Handbook {subclass}: urgent").format(
                    subclass=_name(sub)),
                message=_("Urgent (make-safe-now) work gets no extension.")))
        return _("refuse: urgent work gets no extension"), dev
    if action == "refuse":
        dev.append(Deviation(severity="minor", rule=_("Extensions (docs/domain.md §3 step 4)"),
                             message=_("A routine request in time: grant it, one more limit.")))
    return _("grant"), dev


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
    what = _("decided after {took} min; the limit is {limit} min.") if decided_at is not None \
        else _("still waiting after {took} min; the limit is {limit} min.")
    return lim, [Deviation(severity=sev, rule=_("Centre step limit {limit} min (docs/domain.md §4)"
                                                ).format(limit=f"{lim:g}"),
                           message=what.format(took=f"{took:.0f}", limit=f"{lim:g}"))]


def channel_word(channel: int) -> str:
    return "public" if channel == Channel.PUBLIC else "inspector"
