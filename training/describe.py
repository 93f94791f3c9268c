"""The words on a card: what the platform knows about the case, as an operator reads it.

Written in the language in force (`sim.i18n.use`) when the card is made: the handbook's
subclass names (``name_zh``), the scenario's department names (``name_zh``) and the
exercise's own words for injected reports (``description_zh``).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sim.engine.eventlog import Channel
from sim.i18n import _, current, format_weekday_time
from training.wording import department_name, subclass_name

if TYPE_CHECKING:
    from training.injects import InjectNote
    from training.session import CardFacts, Session

__all__ = ["describe_card", "minute_text"]


def minute_text(s: Session, t: float) -> str:
    """Simulated minute ``t`` as ``Mon 09:42`` (``周一 09:42`` in Chinese)."""
    day = s.model.calendar.date_of(t)
    m = int(t % 1440)
    return format_weekday_time(dt.datetime.combine(day, dt.time(m // 60, m % 60)))


def _caller_words(s: Session, note: InjectNote | None) -> str:
    if note is None or not note.description:
        return ""
    words = note.description
    if current() == "zh-CN":        # the exercise's Chinese words for this inject, if any
        injects = getattr(s.exercise, "injects", ())
        if 0 <= note.index < len(injects):
            words = getattr(injects[note.index], "description_zh", "") or words
    return words


def describe_card(s: Session, kind: str, case: Any, f: CardFacts, note: InjectNote | None,
                  view: Any) -> str:
    m = s.model
    sub = s.handbook.subclasses[case.subclass]
    who = _("Public report (12345)") if case.channel == Channel.PUBLIC else \
        _("Inspector's report")
    words = _caller_words(s, note)
    said = (" " + _('The caller says: "{words}"').format(words=words)) if words else ""
    what = _("{name} ({code}) in grid {grid}.").format(
        name=subclass_name(sub), code=sub.code, grid=m.city.codes[case.grid])
    dup = (" " + _("Case {case} is already open for this problem (same grid and subclass, or "
                   "the same spot filed under another subclass).").format(
        case=f.open_case)) if f.open_case >= 0 else ""

    def dept(i: int) -> str:
        return department_name(m.spec, m.department_names[i])

    if kind == "verify":
        return _("{who}: {what}").format(who=who, what=what) + said + dup
    if kind == "file":
        if case.verified is True:
            v = " " + _("The inspector confirmed it on site.")
        elif case.verified is False:
            v = " " + _("The inspector found nothing on site.")
        else:
            v = ""
        return _("{who}: {what}").format(who=who, what=what) + v + said + dup
    if kind in ("dispatch", "return"):
        urgency = (" " + _("Handbook urgency: urgent.")) if sub.urgency == "urgent" else ""
        back = (" " + _("Returned by {department}: not its duty.").format(
            department=dept(case.returned_from))) if case.returned_from >= 0 else ""
        return _("Filed case {case}: {what}").format(case=case.id, what=what) + urgency + \
            back + said
    holder = dept(case.department) if case.department >= 0 else _("the department")
    if kind == "check":
        return _("Case {case}, {what} {department} reports the work done.").format(
            case=case.id, what=what, department=holder)
    if kind == "close":
        res = _("The inspector's check passed: the problem is gone.") if f.check_passed \
            else _("The inspector's check failed: it is still there.")
        return _("Case {case}, {what}").format(case=case.id, what=what) + " " + res
    return _("Case {case}, {what} {department} asks for an extension; the handling deadline "
             "is {deadline}.").format(case=case.id, what=what, department=holder,
                                      deadline=minute_text(s, case.deadline))
