"""The taxonomy of components and events, and the dispatch handbook (指挥手册) over it.

Both are data (DOMAIN §5): a handbook YAML lists classes and subclasses, and for every subclass
the responsible department, urgency, filing and closing criteria, the handling time limit and
the parameters the simulated city needs (how often it appears, how visible it is to inspectors
and to the public, how long handling takes, whether it goes away by itself).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.data.distributions import Dist
from sim.data.limits import YAML_BYTES
from sim.data.textfile import read_text
from sim.data.yamlfile import LineMap, kind_of_document, line_of, parse_yaml, validate
from sim.errors import InputError

__all__ = ["TimeLimit", "ProblemClass", "Subclass", "Handbook", "load_handbook"]


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


class Subclass(_Spec):
    """One handbook row: a subclass (小类) and everything dispatch and the simulation need.

    ``code`` is ``C`` (component) or ``E`` (event) + class + ``-`` + subclass: ``E05-01``.
    Rates: ``share`` is this subclass's share of all new problems; ``detection`` the chance an
    inspector passing through the grid notices it; ``citizen_rate`` public reports per hour an
    unresolved problem draws in a grid of average population; ``on_spot`` the share of finds an
    inspector fixes on the spot; ``vanish_hours`` how long it lasts if nobody acts (absent: it
    persists until fixed).
    """

    code: str = Field(pattern=r"^[CE]\d{2}-\d{2}$")
    name: str
    name_zh: str = ""
    department: str
    urgency: Literal["normal", "urgent"] = "normal"
    filing_criterion: str
    closing_criterion: str
    time_limit: TimeLimit
    handling_hours: Dist
    share: float = Field(gt=0)
    detection: float = Field(ge=0, le=1)
    citizen_rate: float = Field(ge=0)
    on_spot: float = Field(default=0.0, ge=0, le=1)
    vanish_hours: Dist | None = None
    hotspots: dict[str, float] = Field(default_factory=dict,
                                       description="extra weight in grids with these hotspots")
    line: int | None = Field(default=None, exclude=True)

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
    """Raise the handbook's duplicate-code or unlisted-class error at the row's ``code`` line.

    `Handbook._consistent` sees the whole handbook, so pydantic places its error at the root
    (line 1, no key path). It only runs once every row is valid, so the rows can be re-read here.
    """
    classes, subs = data.get("classes"), data.get("subclasses")
    if not isinstance(classes, list) or not isinstance(subs, list):
        return
    listed = {(str(c.get("kind", ""))[:1].upper(), c.get("code")) for c in classes
              if isinstance(c, dict)}
    first: dict[str, int | None] = {}
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
