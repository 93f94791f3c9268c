"""The words on a card: what the platform knows about the case, as an operator reads it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim.engine.eventlog import Channel

if TYPE_CHECKING:
    from training.injects import InjectNote
    from training.session import CardFacts, Session

__all__ = ["describe_card", "minute_text"]


def minute_text(s: Session, t: float) -> str:
    """Simulated minute ``t`` as ``Mon 09:42``."""
    day = s.model.calendar.date_of(t).strftime("%a")
    m = int(t % 1440)
    return f"{day} {m // 60:02d}:{m % 60:02d}"


def describe_card(s: Session, kind: str, case: Any, f: CardFacts, note: InjectNote | None,
                  view: Any) -> str:
    m = s.model
    sub = s.handbook.subclasses[case.subclass]
    where = f"grid {m.city.codes[case.grid]}"
    who = "Public report (12345)" if case.channel == Channel.PUBLIC else "Inspector's report"
    said = f' The caller says: "{note.description}"' if note is not None and note.description \
        else ""
    what = f"{sub.name} ({sub.code}) in {where}."
    names = m.department_names
    if kind == "verify":
        dup = f" Case {f.open_case} is open for the same grid and subclass." \
            if f.open_case >= 0 else ""
        return f"{who}: {what}{said}{dup}"
    if kind == "file":
        if case.verified is True:
            v = " The inspector confirmed it on site."
        elif case.verified is False:
            v = " The inspector found nothing on site."
        else:
            v = ""
        dup = f" Case {f.open_case} is open for the same grid and subclass." \
            if f.open_case >= 0 else ""
        return f"{who}: {what}{v}{said}{dup}"
    if kind in ("dispatch", "return"):
        urgency = " Handbook urgency: urgent." if sub.urgency == "urgent" else ""
        back = f" Returned by {names[case.returned_from]}: not its duty." \
            if case.returned_from >= 0 else ""
        return f"Filed case {case.id}: {what}{urgency}{back}{said}"
    dept = names[case.department] if case.department >= 0 else "the department"
    if kind == "check":
        return f"Case {case.id}, {what} {dept} reports the work done."
    if kind == "close":
        res = "passed: the problem is gone" if f.check_passed else "failed: it is still there"
        return f"Case {case.id}, {what} The inspector's check {res}."
    return (f"Case {case.id}, {what} {dept} asks for an extension; the handling deadline is "
            f"{minute_text(s, case.deadline)}.")
