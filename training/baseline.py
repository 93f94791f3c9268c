"""The handbook as a player: answers every card the way the dispatch handbook says.

It reads only what the card shows (never the ground truth), so it is what a careful trainee
who follows the book would do: merge duplicates, verify public reports, void what
verification did not find, send every finished case to be checked, close what passed and
send back what failed, dispatch to the handbook's department with its urgency, blow the
whistle for emergencies, grant extensions except on urgent (make-safe-now) cases. It is the
Gymnasium environment's baseline and a quick way to play an exercise from a script.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from training.cards import Card

if TYPE_CHECKING:
    from training.session import Session

__all__ = ["handbook_answer", "play_handbook"]


def handbook_answer(s: Session, card: Card) -> tuple[str, dict[str, Any]]:
    """The handbook's action and fields for ``card``."""
    hb = s.handbook
    sub = hb.subclasses[hb.index(card.claimed_subclass)]
    if card.kind == "verify":
        if card.open_case is not None:
            return "merge", {"into": card.open_case}
        actions = {o.action for o in card.options}
        return ("verify" if "verify" in actions else "file"), {}
    if card.kind == "file":
        if card.verified is False:
            return "void", {}
        if card.open_case is not None:
            return "merge", {"into": card.open_case}
        return "file", {"subclass": sub.code}
    if card.kind == "check":
        return "send_check", {}
    if card.kind == "close":
        return ("close" if card.check_passed else "rework"), {}
    if card.kind in ("dispatch", "return"):
        return "dispatch", {"department": sub.department, "subclass": sub.code,
                            "urgency": sub.urgency,
                            "whistle": needs_whistle(s, sub.code)}
    return ("refuse" if sub.urgency == "urgent" else "grant"), {}


def needs_whistle(s: Session, code: str) -> bool:
    """Whistle-and-report: the exercise's rubric lists the classes that need one."""
    return f"{code[0]}{code[1:3]}" in s.exercise.rubric.whistle_classes


def play_handbook(s: Session) -> Session:
    """Play ``s`` to the end of its window, answering every card by the handbook the moment
    it shows (`Session.advance_to_next_card`). Returns ``s``."""
    while s.advance_to_next_card():
        for card in s.pending():
            action, fields = handbook_answer(s, card)
            s.decide(card.id, action, **fields)
    return s
