"""What the trainee sees and does: cards awaiting a decision, and the decisions made.

A `Card` is one case parked at a decision point, shown with what the platform knows (never
the ground truth). Its `options` list the allowed actions and their fields, so a console can
draw a form without knowing the rules. A `Decision` is one entry of a session's ordered log;
a `SessionRecord` (exercise, seed, decisions, how far the clock ran) is all a session is.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Card", "CardKind", "Option", "FieldSpec", "Decision", "SessionRecord",
           "ROLE_POINTS", "FieldValue"]

CardKind = Literal["verify", "file", "check", "close", "dispatch", "return", "extension"]
FieldValue = str | int | float | bool

# Which desk decisions each role takes (`sim.engine.decisions.DESK_POINTS`, by their names).
ROLE_POINTS: dict[str, frozenset[str]] = {
    "acceptor": frozenset({"verify", "file", "check", "close"}),
    "dispatcher": frozenset({"dispatch", "extension"}),
}
ROLE_POINTS["both"] = ROLE_POINTS["acceptor"] | ROLE_POINTS["dispatcher"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Frozen):
    """One field of an action: ``choice`` (one of ``choices``), ``bool`` or ``case`` (the id
    of an open case, for merges). ``default`` applies when the field is left out."""

    name: str
    kind: Literal["choice", "bool", "case"]
    label: str
    required: bool = False
    choices: tuple[str, ...] = ()
    default: FieldValue | None = None


class Option(_Frozen):
    """An action the card allows, with the fields it takes."""

    action: str
    label: str
    fields: tuple[FieldSpec, ...] = ()


class Card(_Frozen):
    """A case waiting for the trainee at one decision point.

    Times are simulated minutes since the scenario start. ``due_at`` is when the centre's
    step limit runs out (the rubric's urgent limit for a subclass the handbook marks
    urgent). ``x``, ``y`` are the grid's centre in grid units (column, row from the
    north-west corner of ``Session.city``), for an SVG map.
    """

    id: str
    kind: CardKind
    case_id: int
    received_at: float
    due_at: float
    channel: Literal["inspector", "public"]
    description: str
    grid_code: str
    community: str
    x: float
    y: float
    claimed_subclass: str
    claimed_subclass_name: str
    department: str | None = Field(default=None, description="department holding the case")
    returned_from: str | None = None
    verified: bool | None = None
    check_passed: bool | None = None
    deadline: float | None = Field(default=None, description="handling deadline in force")
    open_case: int | None = Field(default=None,
                                  description="an open case for the same problem: of the same "
                                  "grid and subclass, or the same spot filed under "
                                  "another subclass")
    options: tuple[Option, ...]


class Decision(_Frozen):
    """One decision of the session's log, in the order made."""

    seq: int = Field(ge=0)
    card_id: str
    action: str
    fields: dict[str, FieldValue] = Field(default_factory=dict)
    sim_time: float = Field(ge=0, description="simulated minutes when it was made")


class SessionRecord(_Frozen):
    """Everything a session is: replaying it (`Session.replay`) rebuilds the same state."""

    exercise_id: str
    seed: int
    decisions: tuple[Decision, ...] = ()
    now: float = Field(ge=0, description="simulated minutes the session had run to")
    trainee: str = Field(default="", description="who played it (for cohort reports)")
    format: int = 1
