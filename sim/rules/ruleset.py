"""Evaluation rule sets as data: what a YAML rule file may say, and its checked, compiled form.

A rule file names, per kind of unit, the indicators (formulas over the base counts of
`sim.rules.counts`), their weights, or a score formula; the grade bands; the default period;
the case conditions that leave the denominators; and named parameters that formulas and
weights read and ``--set parameters.NAME=VALUE`` can change. Every formula is parsed and
checked when the file is loaded, so a typo is reported as ``FILE:LINE: key.path: ...`` with
its column before any log is read. Bundled rule sets live in ``scenarios/rules/``.
"""

from __future__ import annotations

import keyword
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from sim.data.scenario import SCENARIO_DIR, apply_overrides, flag_of, parse_overrides
from sim.data.yamlfile import (
    LineMap,
    bundled_names,
    find_bundled,
    kind_of_document,
    line_of,
    read_yaml,
    validate,
)
from sim.errors import InputError, did_you_mean
from sim.rules.counts import BUILTINS, UNIT_KINDS, VOCABULARY
from sim.rules.expr import FUNCTIONS, Formula, FormulaError, constant_value

__all__ = ["RULES_DIR", "RuleSetSpec", "UnitSpec", "IndicatorSpec", "RuleSet", "UnitRules",
           "IndicatorRule", "load_rules", "compile_rules", "bundled_rules", "rules_path"]

RULES_DIR = SCENARIO_DIR / "rules"
_IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
_WEIGHT_TOLERANCE = 1e-6
# Columns every league table has besides counts and indicators.
RESERVED_COLUMNS = frozenset({"unit", "name", "score", "grade", "rank", "period",
                              "period_start_min", "period_end_min"})

# Builds the located error for a key path of the rule file.
_Fail = Callable[[tuple[str | int, ...], str], InputError]
CaseFlag = Literal["suspended", "extended", "returned", "reworked", "urgent"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _number_as_text(value: Any) -> Any:
    """A formula written as a bare number (``formula: 1``) is the text of that number."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(value)
    return value


class IndicatorSpec(_Spec):
    """One indicator: a named formula, and its weight in the score."""

    name: str = Field(pattern=_IDENTIFIER, description="column name; formulas may use it")
    formula: str = Field(description="formula over counts, parameters, earlier indicators")
    weight: float | str = Field(default=0.0, description="share of the score: a number or a "
                                "formula of numbers and parameters")
    higher_is_better: bool = Field(default=True, description="False: enters the weighted "
                                   "score as (1 - value)")
    description: str = ""

    _formula_text = field_validator("formula", mode="before")(_number_as_text)


class UnitSpec(_Spec):
    """The indicators of one kind of unit, and how they make its score."""

    description: str = ""
    indicators: tuple[IndicatorSpec, ...] = Field(min_length=1)
    score: str | None = Field(default=None, description="score formula (0..100) replacing "
                              "the weighted sum; weights must then be 0")

    _score_text = field_validator("score", mode="before")(_number_as_text)


class RuleSetSpec(_Spec):
    """A rule file as written (docs/rules.md)."""

    name: str
    description: str = ""
    period: Literal["month", "week", "all"] = "month"
    grades: dict[str, float] = Field(
        default_factory=lambda: {"A": 90.0, "B": 75.0, "C": 60.0, "D": 40.0, "E": 0.0},
        min_length=1, description="grade letter: lowest score of its band, best band first")
    exclude: tuple[CaseFlag, ...] = Field(default=("suspended",), description="cases that "
                                          "leave the counts of departments and areas")
    parameters: dict[str, float] = Field(default_factory=dict)
    units: dict[str, UnitSpec] = Field(min_length=1, description="per unit kind: "
                                       + ", ".join(UNIT_KINDS))

    @field_validator("parameters", "grades")
    @classmethod
    def _finite(cls, v: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        what = "parameter" if info.field_name == "parameters" else "grade"
        for name, value in v.items():
            if not math.isfinite(value):
                raise ValueError(f"a finite number for {what} {name!r}")
        return v


@dataclass(frozen=True, slots=True)
class IndicatorRule:
    """A compiled indicator: its checked formula and numeric weight."""

    name: str
    formula: Formula
    weight: float
    higher_is_better: bool
    description: str = ""


@dataclass(frozen=True, slots=True)
class UnitRules:
    """The compiled rules of one kind of unit."""

    kind: str
    indicators: tuple[IndicatorRule, ...]
    score: Formula | None
    description: str = ""


@dataclass(frozen=True)
class RuleSet:
    """A checked rule set, ready to evaluate (`sim.rules.tables.evaluate_rules`).

    Attributes:
        grades: (lowest score, letter), best band first; below every band: the last letter.
        exclude: case conditions that leave the counts of departments and areas.
        parameters: the named constants formulas read (after overrides).
        units: per unit kind, in file order.
        source: the file it was read from ("" when built in code).
    """

    name: str
    description: str
    period: str
    grades: tuple[tuple[float, str], ...]
    exclude: tuple[str, ...]
    parameters: Mapping[str, float]
    units: Mapping[str, UnitRules]
    source: str = ""


def bundled_rules() -> list[str]:
    """Names of the rule sets shipped in ``scenarios/rules/``."""
    return bundled_names(RULES_DIR)


def rules_path(name_or_file: str | Path) -> Path:
    """A rule file from a path or a bundled name (``standard``, ``three-rates``...).

    Raises:
        InputError: neither a file nor a bundled name.
    """
    return find_bundled(name_or_file, RULES_DIR, "rule set")


def load_rules(name_or_file: str | Path, overrides: Sequence[str] = ()) -> RuleSet:
    """Read, override, validate and compile a rule file.

    Args:
        overrides: ``dotted.key=value`` strings applied to the file's data before it is
            checked, e.g. ``parameters.w_response=0.4`` or ``period=week``.

    Raises:
        InputError: ``FILE:LINE: key.path: ...`` for the first problem (for a formula, with
            the column in it).
    """
    path = rules_path(name_or_file)
    data, lines = read_yaml(path)
    if not isinstance(data, dict):
        raise InputError(str(path), 1, "", f"expected a mapping of rule-set keys, got "
                         f"{kind_of_document(data)}")
    ov = parse_overrides(list(overrides))
    params = data.get("parameters")
    for key, _ in ov:  # a typo in a parameter name would quietly add an unused parameter
        parts = key.split(".")
        if parts[0] == "parameters" and len(parts) == 2 and \
                parts[1] not in (params if isinstance(params, dict) else {}):
            known = ", ".join(sorted(params)) if isinstance(params, dict) and params else "none"
            raise InputError("--set", None, key, f"expected one of the rule set's parameters "
                             f"({known}), got {parts[1]!r}"
                             + did_you_mean(parts[1], params if isinstance(params, dict) else ()))
    merged = apply_overrides(data, ov)
    try:
        spec = validate(RuleSetSpec, merged, str(path), lines)
    except InputError as e:  # a value or a key that --set gave has no line in the file
        if flag_of(e.path, {key: "--set" for key, _ in ov}, data):
            raise InputError("--set", None, e.path, e.message) from None
        raise
    return compile_rules(spec, str(path), lines)


def _names_of(kind: str, parameters: Mapping[str, float]) -> dict[str, str]:
    names = {n: f"count of {kind}" for n in VOCABULARY[kind]}
    names.update({n: "built-in value" for n in BUILTINS})
    names.update({n: "parameter" for n in parameters})
    return names


def compile_rules(spec: RuleSetSpec, file: str = "<rules>", lines: LineMap | None = None
                  ) -> RuleSet:
    """Check every formula, weight and grade band of a validated rule file.

    Raises:
        InputError: located at the offending key (formula errors name the column).
    """
    lines = lines or {}

    def fail(loc: tuple[str | int, ...], message: str) -> InputError:
        return InputError(file, line_of(lines, loc), ".".join(str(x) for x in loc), message)

    grades = tuple((float(low), letter) for letter, low in spec.grades.items())
    for (hi, _), (lo, letter) in zip(grades, grades[1:], strict=False):
        if not lo < hi:
            raise fail(("grades", letter), f"expected bands from the best down, each lower "
                       f"than the one before ({hi:g}), got {lo:g}")
    for letter in spec.grades:
        if not letter.strip():
            raise fail(("grades",), "expected non-empty grade letters")

    params = dict(spec.parameters)
    reserved = {n for v in VOCABULARY.values() for n in v} | set(BUILTINS) | set(FUNCTIONS)
    for name in params:
        where = ("parameters", name)
        if not _is_identifier(name):
            raise fail(where, f"expected a name of letters, digits and '_', got {name!r}")
        if name in reserved:
            raise fail(where, f"expected a name that is not a count, built-in or function, "
                       f"got {name!r}")

    units: dict[str, UnitRules] = {}
    for kind, unit in spec.units.items():
        if kind not in UNIT_KINDS:
            raise fail(("units", kind), f"expected a unit kind, one of {', '.join(UNIT_KINDS)}"
                       f", got {kind!r}")
        units[kind] = _compile_unit(kind, unit, params, fail)
    return RuleSet(name=spec.name, description=spec.description, period=spec.period,
                   grades=grades, exclude=tuple(dict.fromkeys(spec.exclude)),
                   parameters=MappingProxyType(params), units=MappingProxyType(units),
                   source=file)


def _shown(text: str) -> str:
    """A formula quoted in an error, cut short past 100 characters."""
    return repr(text) if len(text) <= 100 else repr(text[:97] + "...")


def _is_identifier(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name) and name.isascii()


def _formula(text: str, loc: tuple[str | int, ...], names: Mapping[str, str],
             params: Mapping[str, float], fail: _Fail, later: Mapping[str, int]) -> Formula:
    def hint(name: str) -> str | None:
        if name in later:
            return "an indicator defined further down; define it before the formulas using it"
        others = [k for k, v in VOCABULARY.items() if name in v]
        if others:
            return f"a count of {', '.join(others)} only; see docs/rules.md for this kind's"
        return None

    try:
        f = Formula.parse(text)
        f.check(names, params, hint)
    except FormulaError as e:
        raise fail(loc, f"{e.message} at column {e.column} of {_shown(text)}") from None
    return f


def _compile_unit(kind: str, unit: UnitSpec, params: Mapping[str, float], fail: _Fail
                  ) -> UnitRules:
    names = _names_of(kind, params)
    order = {ind.name: i for i, ind in enumerate(unit.indicators)}
    rules: list[IndicatorRule] = []
    for i, ind in enumerate(unit.indicators):
        loc: tuple[str | int, ...] = ("units", kind, "indicators", i)
        if ind.name in names:
            raise fail((*loc, "name"), f"expected a new name, got {ind.name!r}, already "
                       f"used for: {names[ind.name]}")
        if ind.name in RESERVED_COLUMNS:
            raise fail((*loc, "name"), f"expected a name other than the table columns "
                       f"{', '.join(sorted(RESERVED_COLUMNS))}, got {ind.name!r}")
        if ind.name in FUNCTIONS:
            raise fail((*loc, "name"), f"expected a name that is not a function, got "
                       f"{ind.name!r}")
        later = {n: j for n, j in order.items() if j >= i}
        formula = _formula(ind.formula, (*loc, "formula"), names, params, fail, later)
        weight = _weight(ind.weight, (*loc, "weight"), params, fail)
        rules.append(IndicatorRule(ind.name, formula, weight, ind.higher_is_better,
                                   ind.description))
        names[ind.name] = "indicator"
    score = None
    if unit.score is not None:
        score = _formula(unit.score, ("units", kind, "score"), names, params, fail, {})
        weighted = next((j for j, r in enumerate(rules) if r.weight != 0), None)
        if weighted is not None:
            raise fail(("units", kind, "indicators", weighted, "weight"),
                       "expected no weight (0) when the unit has a score formula, got "
                       f"{rules[weighted].weight:g}; the score formula alone makes the score")
    else:
        total = math.fsum(r.weight for r in rules)
        if abs(total - 1.0) > _WEIGHT_TOLERANCE:
            raise fail(("units", kind, "indicators"), f"expected weights summing to 1, got "
                       f"{total:g}; change them (or the parameters they read), or give a "
                       f"score formula")
    return UnitRules(kind, tuple(rules), score, unit.description)


def _weight(value: float | str, loc: tuple[str | int, ...], params: Mapping[str, float],
            fail: _Fail) -> float:
    if isinstance(value, str):
        try:
            f = Formula.parse(value)
            f.check({n: "parameter" for n in params}, params)
        except FormulaError as e:
            raise fail(loc, f"expected a number or a formula of parameters: {e.message} at "
                       f"column {e.column} of {_shown(value)}") from None
        w = constant_value(f.node, params)
        if w is None:
            raise fail(loc, f"expected a number or a formula of parameters, got {value!r}")
    else:
        w = float(value)
    if not math.isfinite(w) or w < 0:
        raise fail(loc, f"expected a weight >= 0 (a rate where lower is better takes "
                   f"higher_is_better: false), got {w:g}")
    return w
