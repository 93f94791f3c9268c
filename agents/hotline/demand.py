"""The 12345 hotline's demand and outcomes, as pure functions (接诉即办, docs/domain.md §7).

Background contacts (consultations, and requests that are not grid problems: utilities,
housing, noise...) arrive on an hour-of-week profile and are drawn a day at a time,
vectorised. Requests become work orders routed to a handling unit (straight to it when duty
is clear, to the district backstop when not); the call-back survey decides whether the
requester was responded to in time, whether the problem was resolved, and whether they were
satisfied. Grid problems reported by phone take the same survey when their case ends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.data.limits import on_duty
from sim.data.scenario import HotlineSpec, SurgeSpec, SurveySpec

__all__ = ["Contacts", "draw_background", "wrap_up", "route", "route_codes", "unit_names",
           "survey",
           "staffing_by_hour", "KIND_CONSULTATION", "KIND_REQUEST", "KIND_GRID"]

KIND_CONSULTATION, KIND_REQUEST, KIND_GRID = 0, 1, 2


@dataclass(frozen=True)
class Contacts:
    """One day's background contacts, sorted by arrival (minutes since the start)."""

    arrival: np.ndarray
    kind: np.ndarray          # KIND_CONSULTATION or KIND_REQUEST
    request_type: np.ndarray  # index into spec.requests (-1 for consultations)
    subdistrict: np.ndarray   # caller's subdistrict index
    talk: np.ndarray          # minutes
    patience: np.ndarray      # minutes
    wrap: np.ndarray          # minutes of wrap-up after the talk (`wrap_up`)
    surges: tuple[tuple[float, float, int], ...] = ()  # reserves: from, until, seats


def staffing_by_hour(spec: HotlineSpec) -> list[int]:
    """Call-takers on duty in each hour of the day: ``call_takers`` x the profile, within
    the hours the shifts cover (3 shifts: all day; 2: 08:00-24:00; 1: 08:00-16:00); the
    scenario's check refuses a hotline with nobody on duty (`sim.data.limits.on_duty`)."""
    return on_duty(spec)


def wrap_up(spec: HotlineSpec, rng: np.random.Generator, order: np.ndarray) -> np.ndarray:
    """Minutes of wrap-up (after-call work) of answered calls, the call-taker still busy:
    ``after_call_seconds`` for every call, plus ``order_seconds`` where the call becomes a
    work order (``order``: bool per call). Zero where the scenario gives none."""
    n = len(order)
    wrap = np.zeros(n)
    if spec.after_call_seconds is not None:
        wrap += spec.after_call_seconds.draw(rng, n, 1 / 60.0)
    if spec.order_seconds is not None:
        wrap += np.where(order, spec.order_seconds.draw(rng, n, 1 / 60.0), 0.0)
    return wrap


def draw_background(spec: HotlineSpec, rng: np.random.Generator, start: float, weekday: int,
                    holiday: bool, resident_share: np.ndarray,
                    wrap_rng: np.random.Generator | None = None) -> Contacts:
    """A day of background contacts starting at minute ``start`` (vectorised). Wrap-up times
    come from ``wrap_rng`` (its own stream, so that switching wrap-up on or off leaves the
    contacts themselves unchanged); without it, none."""
    hourly = np.asarray(spec.hourly_profile, dtype=float)
    weekly = np.asarray(spec.weekly_profile, dtype=float)
    mean = spec.background_per_day * spec.rate_scale * weekly[weekday] / weekly.mean()
    if holiday:
        mean *= weekly.min() / weekly.mean()
    if spec.day_dispersion > 0:  # a busy or a quiet day: negative binomial daily counts
        k = 1.0 / spec.day_dispersion
        mean *= rng.gamma(k, 1.0 / k)
    counts = rng.poisson(mean * hourly / hourly.sum())
    n = int(counts.sum())
    arrival = np.sort(start + (np.repeat(np.arange(24), counts) + rng.random(n)) * 60.0)
    has_requests = bool(spec.requests)
    surges: tuple[tuple[float, float, int], ...] = ()
    consult = rng.random(n) < (spec.consultation_share if has_requests else 1.0)
    kind = np.where(consult, KIND_CONSULTATION, KIND_REQUEST)
    rtype = np.full(n, -1, dtype=np.int64)
    if has_requests:
        shares = np.array([r.share for r in spec.requests], dtype=float)
        picks = rng.choice(len(shares), size=n, p=shares / shares.sum())
        rtype = np.where(consult, -1, picks)
    cum = np.cumsum(resident_share)
    sub = np.minimum(np.searchsorted(cum / cum[-1], rng.random(n), side="right"),
                     len(resident_share) - 1)
    if has_requests and any(r.incident_callers > 1 or r.incident_followers is not None
                            for r in spec.requests):
        arrival, kind, rtype, sub, big, sizes = _incidents(spec, rng, start, arrival, kind,
                                                           rtype, sub)
        n = len(arrival)
        if spec.surge.seats and big.size:
            surges = _surges(spec.surge, big, sizes)
    talk = spec.talk_seconds.draw(rng, n, 1 / 60.0)
    patience = spec.patience_seconds.draw(rng, n, 1 / 60.0)
    wrap = np.zeros(n) if wrap_rng is None else wrap_up(spec, wrap_rng, kind == KIND_REQUEST)
    return Contacts(arrival, kind, rtype, sub, talk, patience, wrap, surges)


def _surges(surge: SurgeSpec, big: np.ndarray, sizes: np.ndarray | None = None
            ) -> tuple[tuple[float, float, int], ...]:
    """The reserves' turns for incidents beginning at ``big`` with ``sizes`` further callers:
    ``after_minutes`` after each, for ``for_minutes``; one team, so a turn that overlaps the
    last one lengthens it. ``seats`` come for each incident, or with ``callers_per_seat`` one
    for each that many further callers (rounded up, at most ``seats``); a lengthened turn
    keeps the most any of its incidents called in."""
    if sizes is None:
        sizes = np.full(len(big), surge.callers)
    turns: list[list[float]] = []
    for i in np.argsort(big, kind="stable").tolist():
        begin = float(big[i]) + surge.after_minutes
        n = surge.seats if surge.callers_per_seat is None else \
            min(surge.seats, math.ceil(sizes[i] / surge.callers_per_seat))
        if turns and begin <= turns[-1][1]:
            turns[-1][1] = begin + surge.for_minutes
            turns[-1][2] = max(turns[-1][2], n)
        else:
            turns.append([begin, begin + surge.for_minutes, n])
    return tuple((b, e, int(n)) for b, e, n in turns)


def _incidents(spec: HotlineSpec, rng: np.random.Generator, start: float, arrival: np.ndarray,
               kind: np.ndarray, rtype: np.ndarray, sub: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Outage-type requests come in bursts: one incident (a burst main, a feeder tripped)
    makes residents of the same subdistrict call soon after it starts.

    ``incident_callers > 1``: of the type's requests, a share ``1 / incident_callers`` start
    an incident at their drawn time; every other one joins an incident of the day at random
    and calls ``incident_minutes`` after it. Counts per type are unchanged.
    ``incident_followers``: each incident (each request of the type, without grouping)
    further brings up to that many callers (drawn per incident), who are told what is known:
    consultations from the incident's subdistrict, ``incident_minutes`` after it. The number
    is scaled by the hour's calling relative to the busiest hour (``hourly_profile``: at
    03:00 few are awake to notice and call) and rounded at random, the mean kept. A call
    that would pass midnight comes as long before the incident instead. The day is
    re-sorted by arrival. Also returns when each incident with at least ``surge.callers``
    further callers began, and how many it brought."""
    arrival = arrival.copy()
    sub = sub.copy()
    end = start + 1440.0
    extra: list[tuple[np.ndarray, np.ndarray]] = []  # followers: arrival, subdistrict
    big: list[np.ndarray] = []  # start of each incident that brings in the reserves
    sizes: list[np.ndarray] = []  # and its further callers
    hourly = np.asarray(spec.hourly_profile, dtype=float)
    awake = hourly / hourly.max()  # share of an incident's callers who call at that hour

    def after(at: np.ndarray, delay: np.ndarray) -> np.ndarray:
        t = at + delay
        late = t >= end
        t[late] = np.maximum(start, at[late] - delay[late])
        return t

    for t, r in enumerate(spec.requests):
        if r.incident_callers <= 1 and r.incident_followers is None:
            continue
        rows = np.flatnonzero(rtype == t)
        leaders = rows
        if r.incident_callers > 1 and rows.size >= 2:
            lead = rng.random(rows.size) < 1.0 / r.incident_callers
            lead[0] |= not lead.any()
            leaders, callers = rows[lead], rows[~lead]
            joins = leaders[rng.integers(0, leaders.size, callers.size)]
            arrival[callers] = after(arrival[joins], r.incident_minutes.draw(rng, callers.size))
            sub[callers] = sub[joins]
        if r.incident_followers is not None and leaders.size:
            hour = np.clip((arrival[leaders] - start) // 60, 0, 23).astype(np.int64)
            size = r.incident_followers.draw(rng, leaders.size) * awake[hour]
            size = np.floor(size + rng.random(leaders.size)).astype(np.int64)
            of = np.repeat(leaders, size)
            called = size >= spec.surge.callers
            big.append(arrival[leaders[called]])
            sizes.append(size[called])
            extra.append((after(arrival[of], r.incident_minutes.draw(rng, of.size)), sub[of]))
    if extra:
        follow_at = np.concatenate([a for a, _ in extra])
        arrival = np.concatenate([arrival, follow_at])
        kind = np.concatenate([kind, np.full(follow_at.size, KIND_CONSULTATION, kind.dtype)])
        rtype = np.concatenate([rtype, np.full(follow_at.size, -1, rtype.dtype)])
        sub = np.concatenate([sub, *(s for _, s in extra)])
    order = np.argsort(arrival, kind="stable")
    return (arrival[order], kind[order], rtype[order], sub[order],
            np.concatenate(big) if big else np.empty(0),
            np.concatenate(sizes) if sizes else np.empty(0, dtype=np.int64))


def unit_names(spec: HotlineSpec, subdistrict_names: list[str]) -> list[str]:
    """The handling units `route_codes` numbers: the subdistrict offices first (code =
    subdistrict index), then the other units the requests name, then the backstop."""
    names = [f"subdistrict:{s}" for s in subdistrict_names]
    for unit in (*(u for r in spec.requests for u in (r.unit, *r.shared_with)),
                 spec.backstop_unit):
        if unit != "subdistrict" and unit not in names:
            names.append(unit)
    return names


def route(spec: HotlineSpec, request_type: np.ndarray, subdistrict: np.ndarray,
          subdistrict_names: list[str], u: np.ndarray, v: np.ndarray
          ) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Handling unit of each request (接诉即办 routing, docs/domain.md §7).

    Clear duty (``u < clear_duty``): straight to the unit, the caller's subdistrict office
    for ``subdistrict``. When several units share it (``shared_with``), the order goes to all
    and the first to receive it (drawn with ``v``) leads, at a coordination cost. Unclear
    duty: the district backstop. Returns the leading unit's name, True where the backstop
    took it, and the factor on handling time.
    """
    names = unit_names(spec, subdistrict_names)
    code, backstop, slowdown = route_codes(spec, request_type, subdistrict, names, u, v)
    return [names[c] for c in code.tolist()], backstop, slowdown


def route_codes(spec: HotlineSpec, request_type: np.ndarray, subdistrict: np.ndarray,
                names: list[str], u: np.ndarray, v: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`route`, vectorised, with each leading unit as its index in ``names`` (from
    `unit_names`)."""
    n = len(request_type)
    code = np.empty(n, dtype=np.int64)
    backstop = np.zeros(n, dtype=bool)
    slowdown = np.ones(n)
    index = {name: i for i, name in enumerate(names)}
    for t in np.unique(request_type).tolist():
        r = spec.requests[t]
        of_type = request_type == t
        sharing = (r.unit, *r.shared_with)
        pick = (v[of_type] * len(sharing)).astype(np.int64)  # who receives first
        office = np.array([u_ == "subdistrict" for u_ in sharing])[pick]
        fixed = np.array([index.get(u_, -1) for u_ in sharing])[pick]
        clear = u[of_type] < r.clear_duty
        code[of_type] = np.where(clear, np.where(office, subdistrict[of_type], fixed),
                                 index[spec.backstop_unit])
        backstop[of_type] = ~clear
        slowdown[of_type] = np.where(clear, 1.0 + spec.coordination * (len(sharing) - 1), 1.0)
    return code, backstop, slowdown


def survey(rng: np.random.Generator, spec: SurveySpec, *, hours_to_feedback: np.ndarray,
           deadline_hours: np.ndarray, resolved: np.ndarray, reworks: np.ndarray,
           reach: float, repeats: np.ndarray | None = None
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The call-back survey (回访) of requesters whose work order ended (`SurveySpec`).

    Responded: feedback within the deadline. Resolved: what happened to the problem (given).
    Satisfied: likely when resolved and prompt, less for each deadline's worth of time to
    close, each rework and each further call about the same problem (``repeats``), rarely
    when unresolved, less again when late. Returns (reached, responded, resolved, satisfied)
    as bool arrays; the last three mean nothing where not reached.
    """
    n = len(resolved)
    responded = hours_to_feedback <= deadline_hours
    lateness = np.clip(hours_to_feedback / np.maximum(deadline_hours, 1e-9), 0, 3)
    p = spec.resolved_satisfied - spec.per_rework * np.minimum(reworks, 3) \
        - spec.per_deadline * lateness
    if repeats is not None and spec.per_repeat_call:
        p = p - spec.per_repeat_call * np.minimum(repeats, 3)
    p = np.where(resolved, p, spec.unresolved_satisfied)
    p = np.where(responded, p, p * spec.late_factor)
    satisfied = rng.random(n) < np.clip(p, 0, 1)
    reached = rng.random(n) < reach
    return reached, responded, resolved.astype(bool), satisfied
