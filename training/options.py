"""The actions each kind of card allows, and the checking of a trainee's answer against them.

`card_options` lists, per card, the actions and their fields (a console draws its form from
them); `check_fields` turns submitted fields into checked values or raises `InvalidDecision`
naming the field, what was expected and what was got. Nothing is applied here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim.i18n import N_, _
from training.cards import Card, FieldSpec, FieldValue, Option
from training.errors import InvalidDecision

if TYPE_CHECKING:
    from training.session import CardFacts, Session

__all__ = ["card_options", "check_fields", "ACTIONS"]

ACTIONS: dict[str, tuple[str, ...]] = {
    "verify": ("verify", "merge", "void", "file"),
    "file": ("file", "void", "merge"),
    "check": ("send_check", "close"),
    "close": ("close", "rework"),
    "dispatch": ("dispatch",),
    "return": ("dispatch",),
    "extension": ("grant", "refuse"),
}


def _merge(f: CardFacts) -> Option:
    return Option(action="merge", label=N_("Merge into an open case (duplicate)"), fields=(
        FieldSpec(name="into", kind="case", label=N_("Open case id"),
                  required=f.open_case < 0,
                  default=f.open_case if f.open_case >= 0 else None),))


def card_options(s: Session, kind: str, f: CardFacts) -> tuple[Option, ...]:
    """The actions a card of ``kind`` allows (what the trainee's role may do there)."""
    codes = tuple(x.code for x in s.handbook.subclasses)
    claimed = codes[f.claimed_subclass]
    if kind == "verify":
        out = [Option(action="verify", label=N_("Send the inspector to verify on site"))] \
            if f.can_verify else [Option(action="file", label=N_("Pass to filing"))]
        return (*out, _merge(f), Option(action="void", label=N_("Void the report")))
    if kind == "file":
        return (Option(action="file", label=N_("File the case"), fields=(
                    FieldSpec(name="subclass", kind="choice", label=N_("Subclass"),
                              choices=codes, default=claimed),)),
                Option(action="void", label=N_("Void (does not meet the filing criterion)")),
                _merge(f))
    if kind == "check":
        return (Option(action="send_check", label=N_("Send the inspector to check the work")),
                Option(action="close", label=N_("Close on the department's word")))
    if kind == "close":
        return (Option(action="close", label=N_("Close the case")),
                Option(action="rework", label=N_("Send back for rework")))
    if kind in ("dispatch", "return"):
        return (Option(action="dispatch", label=N_("Dispatch to a department"), fields=(
            FieldSpec(name="department", kind="choice", label=N_("Department"), required=True,
                      choices=tuple(s.departments)),
            FieldSpec(name="subclass", kind="choice", label=N_("Subclass"), choices=codes,
                      default=claimed),
            FieldSpec(name="urgency", kind="choice", label=N_("Urgency"), required=True,
                      choices=("normal", "urgent")),
            FieldSpec(name="whistle", kind="bool",
                      label=N_("Blow the whistle (summon departments)"),
                      default=False))),)
    return (Option(action="grant", label=N_("Grant the extension")),
            Option(action="refuse", label=N_("Refuse: handle within the limit")))


def check_fields(card: Card, action: str, fields: dict[str, Any], s: Session
                 ) -> dict[str, FieldValue]:
    """Checked values of ``fields`` for ``action`` on ``card`` (defaults filled in)."""
    option = next((o for o in card.options if o.action == action), None)
    if option is None:
        allowed = ", ".join(o.action for o in card.options)
        raise InvalidDecision(_("{card}: action: expected one of {allowed}, got {got}").format(
            card=card.id, allowed=allowed, got=repr(action)))
    specs = {f.name: f for f in option.fields}
    unknown = sorted(set(fields) - set(specs))
    if unknown:
        raise InvalidDecision(_("{card}: {action}: expected fields {fields}, got unknown "
                                "{got}").format(card=card.id, action=action,
                                                fields=", ".join(specs) or _("(none)"),
                                                got=repr(unknown[0])))
    out: dict[str, FieldValue] = {}
    for name, spec in specs.items():
        if name not in fields or fields[name] is None:
            if spec.required:
                raise InvalidDecision(_("{card}: {action}: {field}: expected a value ({label}), "
                                        "got nothing").format(card=card.id, action=action,
                                                              field=name, label=_(spec.label)))
            if spec.default is not None:
                out[name] = spec.default
            continue
        out[name] = _value(card, action, spec, fields[name], s)
    return out


def _value(card: Card, action: str, spec: FieldSpec, v: Any, s: Session) -> FieldValue:
    where = f"{card.id}: {action}: {spec.name}"
    if spec.kind == "choice":
        if not isinstance(v, str) or v not in spec.choices:
            shown = ", ".join(spec.choices[:12]) + (" ..." if len(spec.choices) > 12 else "")
            raise InvalidDecision(_("{where}: expected one of {choices}, got {got}").format(
                where=where, choices=shown, got=repr(v)))
        return v
    if spec.kind == "bool":
        if isinstance(v, bool):
            return v
        if isinstance(v, str) and v.lower() in ("true", "false", "on", "off", "1", "0"):
            return v.lower() in ("true", "on", "1")
        raise InvalidDecision(_("{where}: expected true or false, got {got}").format(
            where=where, got=repr(v)))
    try:
        target = int(v)
    except (TypeError, ValueError):
        raise InvalidDecision(_("{where}: expected an open case id (a whole number), got "
                                "{got}").format(where=where, got=repr(v))) from None
    if isinstance(v, bool) or s.model.cases.live(target) is None or target == card.case_id:
        raise InvalidDecision(_("{where}: expected the id of an open (filed, not closed) "
                                "case, got {got}").format(where=where, got=repr(v)))
    return target
