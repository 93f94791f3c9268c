"""Exercises: one simulated city, a window of time, and some decision points handed to a person.

An exercise file (YAML, in this folder or anywhere) names the base scenario, the seed, the
simulated window the trainee works, the pace, the role (acceptor, dispatcher or both),
scripted injects (bursts of reports, an emergency, duplicates, an ambiguous report), the
briefing and the rubric; the title, briefing and callers' words in English and, with the
``_zh`` keys, in Chinese. `load_exercise` parses it once into a frozen `Exercise`; errors read
``FILE:LINE: key.path: expected ..., got ...`` like every other GridLoop input file.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.data.scenario import Scenario, clock_minutes, load_scenario
from sim.data.yamlfile import (
    KeyProblem,
    bundled_names,
    find_bundled,
    kind_of_document,
    read_yaml,
    validate,
)
from sim.errors import InputError

__all__ = ["Exercise", "Window", "Inject", "Rubric", "SeverityWeights", "RubricWeights",
           "load_exercise", "list_exercises", "exercise_path", "EXERCISE_DIR", "Level", "Role"]

EXERCISE_DIR = Path(__file__).resolve().parent
Level = Literal["beginner", "intermediate", "advanced"]
Role = Literal["acceptor", "dispatcher", "both"]
Clock = Annotated[str, Field(pattern=r"^([01]\d|2[0-4]):[0-5]\d$")]
InjectKind = Literal["burst", "emergency", "duplicate", "ambiguous", "false_report", "report"]
SubclassCode = Annotated[str, Field(pattern=r"^[CE]\d{2}-\d{2}$")]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Window(_Spec):
    """The simulated time the trainee works: from ``start`` on day ``day`` (0 = the
    scenario's start date) for ``hours`` clock hours. Before it the city runs on the
    built-in rules (the previous shift), so the trainee takes over a live city."""

    day: int = Field(default=0, ge=0)
    start: Clock = "08:30"
    hours: float = Field(default=8.0, gt=0, le=72)

    @property
    def start_minute(self) -> float:
        return self.day * 1440.0 + clock_minutes(self.start)

    @property
    def end_minute(self) -> float:
        return self.start_minute + self.hours * 60.0


class Inject(_Spec):
    """A scripted report at a given time of the window.

    ``at`` is minutes after the window opens. ``count`` new problems of subclass
    ``subclass`` appear (in ``grid``, a 15-digit grid code, or in grids drawn from the
    session's seed) and are reported at once by the public (``channel``); each is reported
    ``repeats`` more times, ``repeat_every`` minutes apart (duplicates to merge).
    ``claimed`` is the subclass the report gives (an ambiguous or mistaken report) and
    ``description`` what the caller says, shown on the card; ``real: false`` makes it a report
    of nothing (verification will not find it). ``kind`` is a label for feedback
    (``false_report`` for a report of nothing).
    """

    at: float = Field(ge=0, description="minutes after the window opens")
    kind: InjectKind = "report"
    subclass: SubclassCode
    claimed: SubclassCode | None = None
    count: int = Field(default=1, ge=1, le=200)
    grid: str | None = Field(default=None, pattern=r"^\d{15}$")
    channel: Literal["public", "inspector"] = "public"
    repeats: int = Field(default=0, ge=0, le=20)
    repeat_every: float = Field(default=10.0, gt=0)
    real: bool = True
    description: str = ""
    description_zh: str = Field(default="", description="what the caller says, in Chinese")


class SeverityWeights(_Spec):
    """Points a deviation of each severity costs; a decision is worth ``critical`` points."""

    minor: float = Field(default=1.0, ge=0)
    major: float = Field(default=3.0, ge=0)
    critical: float = Field(default=8.0, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> SeverityWeights:
        if not self.minor <= self.major <= self.critical:
            raise KeyProblem("major", "minor <= major <= critical")
        return self


class RubricWeights(_Spec):
    """How the three parts make the score (normalised to sum 1)."""

    accuracy: float = Field(default=0.5, ge=0, description="right decisions per the handbook")
    timeliness: float = Field(default=0.2, ge=0, description="decisions within the centre's limits")
    outcome: float = Field(default=0.3, ge=0, description="the city against the reference run")

    @model_validator(mode="after")
    def _some(self) -> RubricWeights:
        if self.accuracy + self.timeliness + self.outcome <= 0:
            raise KeyProblem("accuracy", "weights that are not all zero")
        return self

    def normalised(self) -> tuple[float, float, float]:
        t = self.accuracy + self.timeliness + self.outcome
        return self.accuracy / t, self.timeliness / t, self.outcome / t


class Rubric(_Spec):
    """How an exercise is graded (docs/training.md).

    ``step_limit_minutes`` is the centre's limit for one step (docs/domain.md §4: verify + file +
    dispatch within one working hour; absent: the scenario's ``centre.step_limit_minutes``),
    ``urgent_limit_minutes`` the limit for urgent cases. ``whistle_classes`` are the classes
    whose cases need the subdistrict's whistle (whistle-and-report, docs/domain.md §8).
    """

    weights: RubricWeights = RubricWeights()
    severity: SeverityWeights = SeverityWeights()
    step_limit_minutes: float | None = Field(default=None, gt=0)
    urgent_limit_minutes: float = Field(default=15.0, gt=0)
    whistle_classes: tuple[str, ...] = ("E04",)

    @field_validator("whistle_classes")
    @classmethod
    def _classes(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for c in v:
            if len(c) != 3 or c[0] not in "CE" or not c[1:].isdigit():
                raise ValueError(f"class codes like 'E04' (got {c!r})")
        return v


class Exercise(_Spec):
    """One exercise: the city, the window, the role handed to the trainee and the rubric."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    title_zh: str = Field(default="", description="the title in Chinese")
    level: Level
    role: Role
    briefing: str
    briefing_zh: str = Field(default="", description="the briefing in Chinese")
    scenario: str = Field(default="small-town",
                          description="bundled scenario name, or a file relative to the exercise")
    overrides: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="scenario values to change, as with --set")
    seed: int = Field(default=1, ge=0)
    window: Window = Window()
    pace: float = Field(default=1.0, ge=0,
                        description="simulated minutes per real second; 0: step by step")
    injects: tuple[Inject, ...] = ()
    rubric: Rubric = Rubric()
    source: str = Field(default="", description="file this exercise was read from")

    def text(self, field: str) -> str:
        """``title`` or ``briefing`` in the language in force (English when the exercise
        has no Chinese text)."""
        from sim.i18n import local_name

        return local_name(getattr(self, field), getattr(self, f"{field}_zh", ""))

    def scenario_file(self) -> str:
        """The base scenario: a bundled name, or a path resolved against the exercise file."""
        if self.source and (self.scenario.endswith((".yaml", ".yml")) or "/" in self.scenario):
            return str((Path(self.source).parent / self.scenario).resolve())
        return self.scenario

    def build_scenario(self, seed: int | None = None) -> Scenario:
        """The scenario this exercise runs: the base with its overrides, the seed, and enough
        days to cover the window."""
        days = max(int(-(-self.window.end_minute // 1440.0)), 1)
        sets = tuple(f"{k}={str(v).lower() if isinstance(v, bool) else v}"
                     for k, v in self.overrides.items())
        key = (self.scenario_file(), sets, days, self.seed if seed is None else seed)
        with _SCENARIO_LOCK:    # a class starting together reads the scenario once, not 30 times
            return _scenario(*key)


_SCENARIO_LOCK = threading.Lock()


@lru_cache(maxsize=64)
def _scenario(file: str, sets: tuple[str, ...], days: int, seed: int) -> Scenario:
    """Scenarios are frozen, and reading one takes tens of milliseconds: sessions, replays
    and reference runs of one exercise share it."""
    return load_scenario(file, sets, days=days, seed=seed)


def exercise_path(name_or_file: str | Path) -> Path:
    """An exercise file from a path or a bundled name (see `list_exercises`)."""
    return find_bundled(name_or_file, EXERCISE_DIR, "exercise")


def load_exercise(name_or_file: str | Path) -> Exercise:
    """Read and check an exercise: its own keys, then its scenario, subclasses and grids.

    Raises:
        InputError: ``FILE:LINE: key.path: expected ..., got ...`` for the first problem.
    """
    path = exercise_path(name_or_file)
    data, lines = read_yaml(path)
    if not isinstance(data, dict):
        raise InputError(str(path), 1, "", f"expected a mapping of exercise keys, got "
                         f"{kind_of_document(data)}")
    data.setdefault("id", path.stem)
    data["source"] = str(path.resolve())
    ex = validate(Exercise, data, str(path), lines)
    _check_references(ex, str(path), lines)
    return ex


def _check_references(ex: Exercise, file: str, lines: dict) -> None:
    """The scenario loads; injected subclasses and grids exist in its handbook and city."""
    from sim.data.citymap import load_city
    from sim.data.taxonomy import load_handbook

    try:
        sc = ex.build_scenario()
    except InputError as e:
        key = "overrides" if e.file == "--set" else "scenario"
        raise InputError(file, lines.get((key,)), key, f"{e}") from None
    codes = {s.code for s in load_handbook(sc.resolve(sc.handbook.file)).subclasses}
    city = load_city(sc.resolve(sc.city.grids_file), sc.city.district_code)
    grids = set(city.codes)
    for i, inj in enumerate(ex.injects):
        for key in ("subclass", "claimed"):
            code = getattr(inj, key)
            if code is not None and code not in codes:
                raise InputError(file, lines.get(("injects", i, key)), f"injects.{i}.{key}",
                                 f"expected a subclass of the scenario's handbook, got {code!r}")
        if inj.grid is not None and inj.grid not in grids:
            raise InputError(file, lines.get(("injects", i, "grid")), f"injects.{i}.grid",
                             f"expected a grid code of {sc.name} (e.g. {city.codes[0]}), "
                             f"got {inj.grid!r}")
        if inj.at > ex.window.hours * 60:
            raise InputError(file, lines.get(("injects", i, "at")), f"injects.{i}.at",
                             f"expected a time inside the window (0 to "
                             f"{ex.window.hours * 60:g} minutes), got {inj.at:g}")


def list_exercises(folder: str | Path | None = None) -> list[Exercise]:
    """Every exercise in ``folder`` (default: the bundled ones), easiest first."""
    base = Path(folder) if folder is not None else EXERCISE_DIR
    order = {"beginner": 0, "intermediate": 1, "advanced": 2}
    out = [load_exercise(base / f"{n}.yaml") for n in bundled_names(base)]
    return sorted(out, key=lambda e: (order[e.level], e.id))
