"""The taxonomy of components and events, and the dispatch handbook (指挥手册) over it.

Both are data (docs/domain.md §5): a handbook YAML lists classes and subclasses, and per
subclass the responsible department, urgency, filing and closing criteria, the handling time
limit and the parameters the simulated city needs (how often it appears, how visible it is to
inspectors and to the public, how long handling takes, whether it goes away by itself).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.data.distributions import Dist
from sim.data.limits import YAML_BYTES
from sim.data.textfile import read_text
from sim.data.yamlfile import (
    KeyProblem,
    LineMap,
    kind_of_document,
    line_of,
    parse_yaml,
    validate,
)
from sim.errors import InputError

__all__ = ["TimeLimit", "ProblemClass", "Stage", "Subclass", "Handbook", "load_handbook",
           "WAIT_KINDS"]

WAIT_KINDS = ("materials", "contractor", "permit", "department", "owner", "funds", "season")
"""What a wait stage can wait for: things no crew of the department controls."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimeLimit(_Spec):
    """A handling time limit: ``wh`` working hours, ``wd`` working days, ``h`` natural hours."""

    value: float = Field(gt=0)
    unit: Literal["wh", "wd", "h"]


class ProblemClass(_Spec):
    """A major class (大类), e.g. component 01 public utilities, event 05 street order."""

    kind: Literal["component", "event"]
    code: str = Field(pattern=r"^\d{2}$")
    name: str
    name_zh: str = ""


class Stage(_Spec):
    """One step of a department's work on a case (docs/domain.md §4, §11): make safe, wait for a
    part, repair.

    ``work: crew`` is done by a crew (of the case's department, or of ``department``), who
    travel to the grid and work ``hours`` on site within their duty hours. ``work: wait`` is
    time no crew controls, spent waiting for ``waits_for`` (materials, a contractor's slot, a
    permit, another department, the owner, funds, the season), ``hours`` long on the clock
    (``unit: h``) or in working hours (``unit: wh``). A stage happens in a share ``chance``
    of cases (materials are often in stock). ``limit`` is a milestone counted from dispatch
    (make safe within 4 h) inside the subclass's own handling limit, which the last stage
    must meet. A long wait is what makes a department ask for an extension (延期) or suspend
    the case (挂账): `sim.engine.workplan.wait_request` decides which.
    """

    name: str
    work: Literal["crew", "wait"]
    hours: Dist
    unit: Literal["h", "wh"] = Field(
        default="h", description="waits: clock hours (h) or working hours (wh); crew work is "
                                 "always on-site hours within the crews' duty hours")
    waits_for: Literal[WAIT_KINDS] | None = None  # type: ignore[valid-type]
    department: str | None = Field(
        default=None, description="crew stages: another department's crews do this stage "
                                  "(default: the case's department)")
    chance: float = Field(default=1.0, ge=0, le=1,
                          description="share of cases that go through this stage")
    limit: TimeLimit | None = Field(default=None,
                                    description="milestone from dispatch (make safe in 4 h)")

    @model_validator(mode="after")
    def _who(self) -> Stage:
        if self.work == "wait" and self.waits_for is None:
            raise KeyProblem("waits_for", f"what a wait stage waits for: one of "
                             f"{', '.join(WAIT_KINDS)}")
        if self.work == "crew" and self.waits_for is not None:
            raise KeyProblem("waits_for", "no waits_for on a crew stage (crews do the work; "
                             "write the wait as a stage of its own with work: wait)")
        if self.work == "wait" and self.department is not None:
            raise KeyProblem("department", "no department on a wait stage (a wait for another "
                             "department is waits_for: department)")
        if self.work == "crew" and self.unit != "h":
            raise KeyProblem("unit", "unit h on a crew stage (crews work on-site hours within "
                             "their duty hours)")
        return self

    @property
    def is_wait(self) -> bool:
        return self.work == "wait"


class Subclass(_Spec):
    """One handbook row: a subclass (小类) and everything dispatch and the simulation need.

    ``code`` is ``C`` (component) or ``E`` (event) + class + ``-`` + subclass: ``E05-01``.
    Rates: ``share`` is this subclass's share of all new problems; ``detection`` the chance an
    inspector passing through the grid notices it; ``citizen_rate`` public reports per hour an
    unresolved problem draws in a grid of average population; ``on_spot`` the share of finds an
    inspector fixes on the spot; ``vanish_hours`` how long it lasts if nobody acts (absent: it
    persists until fixed).

    ``stages`` is the department's work on a case, step by step (`Stage`); absent, the work
    is one crew visit of ``handling_hours`` (`plan`). ``dispatch_alternates`` are the
    departments a wrong dispatch plausibly sends it to, with weights (who else owns covers,
    lamps, trees); ``look_alikes`` the subclasses an inspector may mistake it for. Absent,
    a wrong dispatch goes to any other department and a misclassification stays in the class
    (`sim.engine.mistakes`).
    """

    code: str = Field(pattern=r"^[CE]\d{2}-\d{2}$")
    name: str
    name_zh: str = ""
    department: str
    urgency: Literal["normal", "urgent"] = "normal"
    filing_criterion: str
    closing_criterion: str
    filing_criterion_zh: str = ""
    closing_criterion_zh: str = ""
    time_limit: TimeLimit
    handling_hours: Dist
    share: float = Field(gt=0)
    detection: float = Field(ge=0, le=1)
    citizen_rate: float = Field(ge=0)
    on_spot: float = Field(default=0.0, ge=0, le=1)
    vanish_hours: Dist | None = None
    hotspots: dict[str, float] = Field(default_factory=dict,
                                       description="extra weight in grids with these hotspots")
    stages: tuple[Stage, ...] = Field(
        default=(), description="the department's work step by step (absent: one crew visit "
                                "of handling_hours)")
    dispatch_alternates: dict[str, float] = Field(
        default_factory=dict, description="departments a wrong dispatch plausibly sends the "
                                          "case to, with relative weights")
    look_alikes: tuple[str, ...] = Field(
        default=(), description="subclass codes an inspector may mistake this one for")
    line: int | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _plan(self) -> Subclass:
        if self.stages and not any(not st.is_wait and st.chance == 1 for st in self.stages):
            raise KeyProblem("stages", "at least one crew stage that always happens (work: "
                             "crew, chance 1): a department must visit the site")
        for name, weight in self.dispatch_alternates.items():
            if not weight > 0:
                raise KeyProblem("dispatch_alternates", f"weights > 0 (got {weight!r} for "
                                 f"{name!r})")
            if name == self.department:
                raise KeyProblem("dispatch_alternates", f"departments other than the row's "
                                 f"own ({self.department!r})")
        if self.code in self.look_alikes:
            raise KeyProblem("look_alikes", f"other subclasses than the row's own ({self.code})")
        return self

    @property
    def plan(self) -> tuple[Stage, ...]:
        """The stages a case goes through: ``stages``, or one crew visit of
        ``handling_hours``."""
        return self.stages or (Stage(name="handle", work="crew", hours=self.handling_hours),)

    @property
    def kind(self) -> Literal["component", "event"]:
        return "component" if self.code[0] == "C" else "event"

    @property
    def class_code(self) -> str:
        return self.code[1:3]


class Handbook(_Spec):
    """The taxonomy with its dispatch rules; subclass order is the index used in the engine."""

    name: str
    classes: tuple[ProblemClass, ...]
    subclasses: tuple[Subclass, ...]
    source: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Handbook:
        seen: set[str] = set()
        classes = {(c.kind[0].upper(), c.code) for c in self.classes}
        for s in self.subclasses:
            if s.code in seen:
                raise ValueError(f"unique subclass codes ({s.code} appears twice)")
            seen.add(s.code)
            if (s.code[0], s.class_code) not in classes:
                raise ValueError(f"subclass {s.code} to belong to a listed class")
        for s in self.subclasses:
            unknown = [c for c in s.look_alikes if c not in seen]
            if unknown:
                raise ValueError(f"look-alikes of {s.code} to be subclasses of the handbook "
                                 f"({unknown[0]} is not)")
        return self

    def index(self, code: str) -> int:
        """Position of a subclass code in ``subclasses``."""
        for i, s in enumerate(self.subclasses):
            if s.code == code:
                return i
        raise KeyError(code)


def load_handbook(path: str | Path) -> Handbook:
    """Load a handbook YAML; errors name the file, line and subclass field.

    A handbook is frozen, so every model, session and reference run reading the same file
    with the same content shares one (parsing and checking it takes tens of milliseconds);
    a file edited since is read again."""
    p = Path(path)
    return _parsed_handbook(str(p), read_text(p, "a handbook (YAML)", YAML_BYTES))


@lru_cache(maxsize=16)
def _parsed_handbook(file: str, text: str) -> Handbook:
    data, lines = parse_yaml(text, file)
    return _handbook(file, data, lines)


def _handbook(file: str, data: Any, lines: LineMap) -> Handbook:
    p = Path(file)
    if not isinstance(data, dict):
        raise InputError(str(p), 1, "",
                         f"expected a mapping with classes and subclasses, got "
                         f"{kind_of_document(data)}")
    subs = data.get("subclasses")
    if isinstance(subs, list):
        for i, s in enumerate(subs):
            if isinstance(s, dict):
                s.setdefault("line", lines.get(("subclasses", i)))
    data["source"] = str(p)
    try:
        return validate(Handbook, data, str(p), lines)
    except InputError as e:
        if not e.path:  # a whole-handbook check failed: name the row it is about
            _locate_code_error(data, str(p), lines)
        raise


def _locate_code_error(data: dict[str, Any], file: str, lines: LineMap) -> None:
    """Raise the handbook's duplicate-code, unlisted-class or unknown look-alike error at the
    row's own line.

    `Handbook._consistent` sees the whole handbook, so pydantic places its error at the root
    (line 1, no key path). It only runs once every row is valid, so the rows can be re-read here.
    """
    classes, subs = data.get("classes"), data.get("subclasses")
    if not isinstance(classes, list) or not isinstance(subs, list):
        return
    listed = {(str(c.get("kind", ""))[:1].upper(), c.get("code")) for c in classes
              if isinstance(c, dict)}
    first: dict[str, int | None] = {}
    codes = {s.get("code") for s in subs if isinstance(s, dict)}
    for i, s in enumerate(subs):
        code = s.get("code") if isinstance(s, dict) else None
        if not isinstance(code, str):
            continue
        line = line_of(lines, ("subclasses", i, "code"))
        if code in first:
            raise InputError(file, line, f"subclasses.{i}.code",
                             f"expected a unique subclass code, got {code!r} again "
                             f"(first on line {first[code]})")
        first[code] = line
        if (code[0], code[1:3]) not in listed:
            kind = "component" if code[0] == "C" else "event"
            raise InputError(file, line, f"subclasses.{i}.code",
                             f"expected a code in a listed class (classes has no {kind} class "
                             f"{code[1:3]!r}), got {code!r}")
    for i, s in enumerate(subs):
        alikes = s.get("look_alikes") if isinstance(s, dict) else None
        for j, other in enumerate(alikes if isinstance(alikes, list) else ()):
            if other not in codes:
                raise InputError(file, line_of(lines, ("subclasses", i, "look_alikes", j)),
                                 f"subclasses.{i}.look_alikes.{j}",
                                 f"expected a subclass code of this handbook, got {other!r}")
