"""How assessed units react to what is measured (evaluation changes behaviour, docs/domain.md §6).

A rule set puts weight on base counts; a unit feels *pressure* toward whatever its score
rewards. `pressures` reads them off any rule set: the total weight of a unit's indicators
whose formula uses a given base count. `react` turns the difference from a baseline rule set
(the standard one, where behaviour is as calibrated) into changes of behaviour:

- weight on on-time handling -> faster, sloppier work (shorter handling, lower quality, so
  more rework and more "closed but not solved" in ground truth);
- weight on rework -> slower, more careful work and more extension requests;
- report quotas (volume of reports or filings rewarded) -> inspectors pad with trivial
  reports that the shift leader voids;
- returns penalised for nobody (neither departments nor dispatchers) -> departments send
  back hard cases that are theirs (ping-pong between departments).

With the model off (`BehaviourSpec.enabled: false`), `react` is never used and behaviour is
fixed. `planning_pressure` is the pressure on timeliness departments plan their work under
(how much of a case's slack they use, `sim.engine.workplan`): the city's stakes times the
on-time weight of the rule set in force. All gains are scenario parameters; the defaults are
judgements, documented in docs/behaviour.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sim.data.scenario import BehaviourSpec

__all__ = ["Pressures", "Reaction", "UnitWeights", "pressures", "react", "NO_REACTION",
           "planning_pressure"]

_ON_TIME = ("handled_on_time", "closed_on_time", "urgent_handled_on_time", "overdue")
_REWORK = ("reworked", "rework")
_RETURNS = ("returned",)
_VOLUME = re.compile(r"highest\(\s*(filed|reports|actions)\s*\)")


@dataclass(frozen=True)
class Pressures:
    """Weight (0..1) a rule set puts on what departments and inspectors do."""

    on_time: float = 0.0
    rework: float = 0.0
    returns: float = 0.0          # on returns, for departments or dispatchers
    report_volume: float = 0.0


@dataclass(frozen=True)
class Reaction:
    """Changes to behaviour, applied by departments and inspectors."""

    handling_factor: float = 1.0     # multiplies crews' handling time
    quality_delta: float = 0.0       # added to departments' quality
    extension_delta: float = 0.0     # added to departments' extension rate
    own_return_rate: float = 0.0     # chance a department returns a case that is its own
    trivial_report_rate: float = 0.0  # extra trivial reports per genuine inspector report


NO_REACTION = Reaction()


@dataclass(frozen=True)
class UnitWeights:
    """One unit kind of a rule set: (name, formula, weight) per indicator and, for rule sets
    that add up points, the score formula."""

    indicators: Sequence[tuple[str, str, float]]
    score: str | None = None


def _words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))


def _expand(text: str, formulas: Mapping[str, str], depth: int = 0) -> str:
    """A formula with the indicators it reads replaced by their own formulas."""
    if depth > 8:
        return text
    used = _words(text) & set(formulas)
    return text + " " + " ".join(_expand(formulas[n], formulas, depth + 1) for n in used)


def _weighted(unit: UnitWeights, parameters: Mapping[str, float]) -> list[tuple[str, float]]:
    """(expanded formula, weight) of what the unit's score rests on. Weighted sums use the
    weights; a points score uses each indicator's points at stake (its largest parameter,
    out of 100)."""
    formulas = {name: f for name, f, _ in unit.indicators}
    if unit.score is None:
        return [(_expand(f, formulas), w) for _, f, w in unit.indicators]
    out = []
    for name in _words(unit.score) & set(formulas):
        points = [parameters[w] for w in _words(formulas[name]) if w in parameters]
        out.append((_expand(formulas[name], formulas), max(points, default=0.0) / 100.0))
    return out


def _uses(formula: str, names: Sequence[str]) -> bool:
    return bool(_words(formula) & set(names))


def pressures(units: Mapping[str, UnitWeights],
              parameters: Mapping[str, float] | None = None) -> Pressures:
    """Pressures of a rule set given per unit kind (see `UnitWeights`)."""
    params = parameters or {}

    def weighted(kind: str) -> list[tuple[str, float]]:
        unit = units.get(kind)
        return _weighted(unit, params) if unit is not None else []

    dept = weighted("departments")
    routing = [*dept, *weighted("dispatchers")]
    volume = [*weighted("inspectors"), *weighted("subdistricts")]
    return Pressures(
        on_time=sum(w for f, w in dept if _uses(f, _ON_TIME)),
        rework=sum(w for f, w in dept if _uses(f, _REWORK)),
        returns=sum(w for f, w in routing if _uses(f, _RETURNS)),
        report_volume=sum(w for f, w in volume if _VOLUME.search(f)),
    )


def react(active: Pressures, baseline: Pressures, spec: BehaviourSpec) -> Reaction:
    """Behaviour under ``active`` relative to ``baseline`` (pure; same inputs, same output)."""
    d_on = active.on_time - baseline.on_time
    d_rw = active.rework - baseline.rework
    d_vol = active.report_volume - baseline.report_volume
    factor = 1.0 - spec.speed_gain * d_on + spec.caution_gain * d_rw
    base_pingpong = spec.ping_pong if baseline.returns == 0 else 0.0
    pingpong = spec.ping_pong if active.returns == 0 else 0.0
    return Reaction(
        handling_factor=min(max(factor, 0.3), 3.0),
        quality_delta=-spec.sloppiness * d_on + spec.care * d_rw,
        extension_delta=max(0.0, spec.extension_gain * d_rw),
        own_return_rate=max(0.0, pingpong - base_pingpong),
        trivial_report_rate=max(0.0, spec.padding_gain * d_vol),
    )


def planning_pressure(active: Pressures, baseline: Pressures, stakes: float, *,
                      reacting: bool, evaluated: bool = True) -> float:
    """The pressure on timeliness departments plan under (0 = none).

    ``stakes`` (``evaluation.stakes``: how much scores matter in the city) times the on-time
    weight of the rule set in force: the active one when units react to the rules
    (``reacting``), else the baseline (the standard rule set, as calibrated), so that with
    the behaviour model off a rule set only scores. Nobody evaluated, no pressure.
    """
    if not evaluated:
        return 0.0
    return stakes * (active if reacting else baseline).on_time
