"""Design points of an experiment: which scenario, with which overrides, each point runs.

A *design point* is a scenario file plus dotted-key overrides (the keys ``--set`` takes).
`compare_points` makes one point per scenario (the first is the baseline); `factorial_points`
crosses every value of every ``--vary key=v1,v2,...``; `lhs_points` draws a Latin hypercube
over ``--vary key=lo:hi`` ranges (scipy.stats.qmc), deterministic in the experiment's seed.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.data.yamlfile import load_value
from sim.errors import InputError
from sim.i18n import _

__all__ = ["Point", "Factor", "parse_vary", "compare_points", "factorial_points", "lhs_points",
           "short_names"]


@dataclass(frozen=True)
class Point:
    """One design point: a scenario (file or bundled name) and the values set on it.

    Attributes:
        label: short unique name shown in tables and figures.
        scenario: the scenario as given (file or bundled name).
        factors: the design's varied keys and their values at this point (empty in a
            comparison); applied after ``overrides``.
        overrides: ``--set`` values common to the whole experiment, ``key=value`` strings.
    """

    label: str
    scenario: str
    factors: dict[str, Any] = field(default_factory=dict)
    overrides: tuple[str, ...] = ()

    def settings(self) -> tuple[str, ...]:
        """Every override of this point as ``key=value`` strings (YAML values)."""
        own = tuple(f"{k}={json.dumps(v)}" for k, v in self.factors.items())
        return (*self.overrides, *own)


@dataclass(frozen=True)
class Factor:
    """A varied key: a list of levels (factorial) or a range ``lo:hi`` (Latin hypercube)."""

    key: str
    levels: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None
    integer: bool = False

    @property
    def is_range(self) -> bool:
        return self.low is not None


def _value(raw: str) -> Any:
    return load_value(raw, "--vary")


def parse_vary(items: list[str] | tuple[str, ...]) -> list[Factor]:
    """Parse ``key=v1,v2,...`` (levels) or ``key=lo:hi`` (a numeric range) strings.

    Raises:
        InputError: a malformed item, a repeated key, or a range that is not two numbers
            with lo < hi.
    """
    out: list[Factor] = []
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key or not raw.strip():
            raise InputError("--vary", None, key, _(
                "expected key=v1,v2,... or key=lo:hi, got {item}").format(item=repr(item)))
        if any(f.key == key for f in out):
            raise InputError("--vary", None, key, _("expected each key once, got it twice"))
        if ":" in raw and "," not in raw:
            lo_raw, _sep, hi_raw = raw.partition(":")
            lo, hi = _value(lo_raw), _value(hi_raw)
            if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lo, hi)) \
                    or not lo < hi:
                raise InputError("--vary", None, key, _(
                    "expected a range lo:hi of two numbers with lo < hi, got {raw}").format(
                    raw=repr(raw)))
            out.append(Factor(key, low=float(lo), high=float(hi),
                              integer=isinstance(lo, int) and isinstance(hi, int)))
        else:
            levels = tuple(_value(v.strip()) for v in raw.split(",") if v.strip())
            if len(set(map(repr, levels))) != len(levels):
                raise InputError("--vary", None, key, _(
                    "expected distinct values, got {raw}").format(raw=repr(raw)))
            out.append(Factor(key, levels=levels))
    return out


def short_names(keys: list[str]) -> dict[str, str]:
    """Each key by its shortest dotted tail that no other key shares
    (``crews`` alone, ``sanitation.crews`` beside ``traffic.crews``)."""
    out = {}
    for key in keys:
        parts = key.split(".")
        for n in range(1, len(parts) + 1):
            tail = ".".join(parts[-n:])
            if not any(o != key and (o == tail or o.endswith("." + tail)) for o in keys):
                break
        out[key] = tail
    return out


def _label(values: dict[str, Any]) -> str:
    short = short_names(list(values))
    return " ".join(f"{short[k]}={v:g}" if isinstance(v, float) else f"{short[k]}={v}"
                    for k, v in values.items())


def compare_points(scenarios: list[str], overrides: tuple[str, ...] = ()) -> list[Point]:
    """One point per scenario, labelled by its file stem; the first is the baseline."""
    labels: list[str] = []
    for s in scenarios:
        parts = s.rstrip("/").split("/")
        stem = parts[-1].removesuffix(".yaml").removesuffix(".yml")
        label = stem if stem not in labels or len(parts) < 2 else f"{parts[-2]}/{stem}"
        n = 2
        while label in labels:
            label = f"{stem} ({n})"
            n += 1
        labels.append(label)
    return [Point(label, s, {}, overrides) for label, s in zip(labels, scenarios, strict=True)]


def factorial_points(scenario: str, factors: list[Factor],
                     overrides: tuple[str, ...] = ()) -> list[Point]:
    """Every combination of the factors' levels (the first factor varies slowest)."""
    ranged = [f.key for f in factors if f.is_range]
    if ranged:
        raise InputError("--vary", None, ranged[0], _(
            "expected a list of values v1,v2,... for a factorial design (ranges lo:hi need "
            "--design lhs)"))
    points = []
    for combo in itertools.product(*(f.levels for f in factors)):
        values = dict(zip((f.key for f in factors), combo, strict=True))
        points.append(Point(_label(values), scenario, values, overrides))
    return _unique_labels(points)  # 1 and 1.0 print alike


def lhs_points(scenario: str, factors: list[Factor], samples: int, seed: int,
               overrides: tuple[str, ...] = ()) -> list[Point]:
    """A Latin hypercube of ``samples`` points over the factors' ranges.

    A factor whose bounds are both integers (``inspectors.count=10:40``) gets integer values
    (rounded, so two samples may coincide: their labels get ``#2``...); other factors keep
    floats, rounded to 6 significant digits so labels stay short and values survive a YAML
    round trip.
    """
    from scipy.stats import qmc

    listed = [f.key for f in factors if not f.is_range]
    if listed:
        raise InputError("--vary", None, listed[0], _(
            "expected a range lo:hi for a Latin hypercube design, got a list of values"))
    if samples < 2:
        raise InputError("--samples", None, "", _(
            "expected at least 2 samples, got {samples}").format(samples=samples))
    unit = qmc.LatinHypercube(d=len(factors), seed=np.random.default_rng(seed)).random(samples)
    lows = np.array([f.low for f in factors])
    highs = np.array([f.high for f in factors])
    scaled = qmc.scale(unit, lows, highs)
    points = []
    for row in scaled:
        values: dict[str, Any] = {}
        for f, v in zip(factors, row, strict=True):
            values[f.key] = int(round(v)) if f.integer else float(f"{v:.6g}")
        points.append(Point(_label(values), scenario, values, overrides))
    return _unique_labels(points)


def _unique_labels(points: list[Point]) -> list[Point]:
    seen: dict[str, int] = {}
    out = []
    for p in points:
        n = seen.get(p.label, 0)
        seen[p.label] = n + 1
        out.append(p if n == 0 else Point(f"{p.label} #{n + 1}", p.scenario, p.factors,
                                          p.overrides))
    return out
