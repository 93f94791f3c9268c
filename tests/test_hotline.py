"""The 12345 hotline inside the simulated city: queue laws, conservation, levers, survey."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from agents.hotline.demand import KIND_GRID
from sim.data.scenario import load_scenario
from sim.engine.eventlog import Step
from sim.model import CityModel

FLAT = "[" + ", ".join(["1"] * 24) + "]"
MMC = (  # background consultations only: Poisson arrivals, exponential talk, no hang-ups
    "hotline.enabled=true", "hotline.shifts=3", f"hotline.staffing_profile={FLAT}",
    f"hotline.hourly_profile={FLAT}", "hotline.weekly_profile=[1, 1, 1, 1, 1, 1, 1]",
    "hotline.consultation_share=1", "hotline.redial_probability=0",
    "hotline.talk_seconds={dist: exponential, mean: 150}",
    "hotline.patience_seconds={dist: deterministic, mean: 1.0e12}",
    "citizens.propensity_scale=0", "problems.per_day=1")


def run(overrides: tuple[str, ...], days: int, seed: int = 1) -> CityModel:
    sc = load_scenario("small-town", overrides, days=days, seed=seed)
    return CityModel(sc).run()


def erlang_c(lam: float, mu: float, c: int) -> tuple[float, float]:
    """(probability of waiting, mean wait) of M/M/c."""
    a = lam / mu
    rho = a / c
    s = sum(a**k / math.factorial(k) for k in range(c))
    top = a**c / math.factorial(c) / (1 - rho)
    p = top / (s + top)
    return p, p / (c * mu - lam)


@pytest.mark.parametrize("per_day, seats", [(2400, 5), (1800, 4)])  # rho 0.83, 0.78
def test_hotline_as_mmc_matches_erlang_c(per_day: int, seats: int) -> None:
    lam, mu = per_day / 1440.0, 1 / 2.5
    p_theory, w_theory = erlang_c(lam, mu, seats)
    m = run((*MMC, f"hotline.background_per_day={per_day}", f"hotline.call_takers={seats}"),
            days=60)
    calls = m.calls
    assert calls is not None and calls["answered"].all()
    day = (calls["arrival"] // 1440).to_numpy()
    waits = calls["wait"].to_numpy()
    batches = np.array([waits[day // 3 == b].mean() for b in range(20)])
    mean, se = batches.mean(), batches.std(ddof=1) / np.sqrt(len(batches))
    assert abs(mean - w_theory) < 3 * se, (mean, se, w_theory)
    assert (waits > 1e-9).mean() == pytest.approx(p_theory, abs=0.03)


def test_calls_are_conserved_and_patience_moves_waits_and_hangups() -> None:
    base = (*MMC, "hotline.background_per_day=2000", "hotline.call_takers=4")
    waits, abandon = [], []
    for patience in (600, 120, 30):
        m = run((*base, f"hotline.patience_seconds={{dist: exponential, mean: {patience}}}"),
                days=20)
        c = m.calls
        assert c is not None
        assert (c["answered"] ^ c["abandoned"]).all()  # offered = answered + abandoned
        waits.append(c.loc[c["answered"], "wait"].mean())
        abandon.append(c["abandoned"].mean())
    assert waits[0] > waits[1] > waits[2]
    assert abandon[0] < abandon[1] < abandon[2]


def test_default_city_has_dongcheng_scale_hotline() -> None:
    sc = load_scenario("dongcheng", days=7)
    m = CityModel(sc).run()
    c = m.calls
    assert c is not None
    per_day = len(c) / 7
    assert 1000 <= per_day <= 2000
    consult = (c["kind"] == 0).mean()
    assert 0.45 <= consult <= 0.65  # ~58% consultations (docs/domain.md §7)


def grid_calls_and_cases(m: CityModel) -> tuple[pd.DataFrame, np.ndarray]:
    c = m.calls
    assert c is not None
    return c[c["kind"] == KIND_GRID], m.events()


@pytest.mark.parametrize("direct", [True, False])
def test_direct_dispatch_lever_skips_or_keeps_verification(direct: bool) -> None:
    m = run(("hotline.enabled=true", f"hotline.direct_dispatch={str(direct).lower()}",
             "citizens.propensity_scale=5"), days=5)
    grid, ev = grid_calls_and_cases(m)
    hotline_cases = set(grid.loc[grid["case"] >= 0, "case"].tolist())
    assert hotline_cases, "some grid calls became cases"
    verified = set(ev["case"][ev["step"] == Step.VERIFY_SEND].tolist())
    if direct:
        assert not (hotline_cases & verified)
    else:
        assert hotline_cases & verified


def test_every_answered_grid_call_is_followed_up() -> None:
    m = run(("hotline.enabled=true", "citizens.propensity_scale=5"), days=6)
    grid, _ = grid_calls_and_cases(m)
    answered = grid[grid["answered"]]
    followed = answered["feedback_at"].notna() | answered["work_order_open"]
    assert followed.all()
    done = answered[answered["feedback_at"].notna()]
    assert (done["feedback_at"] >= done["ordered_at"]).all()


def test_levers_change_the_hotline() -> None:
    base = ("hotline.enabled=true", "hotline.background_per_day=600")
    few = run((*base, "hotline.call_takers=1"), days=3).calls
    many = run((*base, "hotline.call_takers=6"), days=3).calls
    assert few is not None and many is not None
    assert few["abandoned"].mean() > many["abandoned"].mean()
    more = run((*base, "hotline.rate_scale=2"), days=3).calls
    assert more is not None and len(more) > 1.6 * len(many)
    day_only = run((*base, "hotline.shifts=1"), days=3).calls
    assert day_only is not None
    hour = (day_only.loc[day_only["answered"], "arrival"] + day_only.loc[
        day_only["answered"], "wait"]) % 1440 / 60
    assert ((hour >= 8) & (hour < 16)).all()  # one shift: answered 08:00-16:00 only


def test_same_seed_same_calls() -> None:
    a = run(("hotline.enabled=true",), days=3).calls
    b = run(("hotline.enabled=true",), days=3).calls
    pd.testing.assert_frame_equal(a, b)


def test_redials_carry_over_midnight() -> None:
    """Callers who hang up late at night redial the next day (they keep their own details)."""
    m = run(("hotline.enabled=true", "hotline.shifts=1", "hotline.call_takers=1",
             "hotline.background_per_day=400", "hotline.redial_probability=1",
             "hotline.redial_minutes={dist: exponential, mean: 240}"), days=4)
    c = m.calls
    assert c is not None
    redials = c[c["redial"]]
    assert len(redials) > 0
    night_to_day = redials[(redials["arrival"] % 1440) < 8 * 60]
    assert len(night_to_day) > 0
    assert (c["answered"] ^ c["abandoned"]).all()
    kinds = c.groupby("redial")["kind"].apply(lambda k: set(k.tolist()))
    assert kinds[True] <= kinds[False]


def test_routing_clear_unclear_and_shared_duty() -> None:
    """Clear duty goes to the unit (a subdistrict office by the caller's subdistrict),
    unclear duty to the backstop, shared duty to whichever sharing unit receives first."""
    from agents.hotline.demand import route

    spec = load_scenario("small-town", ("hotline.enabled=true",)).hotline.model_copy(update={
        "requests": tuple(load_scenario("dongcheng").hotline.requests)})
    names = [r.name for r in spec.requests]
    shared = names.index("complex multi-unit")
    water = names.index("water outage")
    n = 3000
    rng = np.random.default_rng(0)
    rtype = np.where(np.arange(n) % 2 == 0, shared, water)
    sub = rng.integers(0, 2, n)
    units, backstop, slow = route(spec, rtype, sub, ["East", "West"], rng.random(n),
                                  rng.random(n))
    units_a = np.array(units)
    r_shared, r_water = spec.requests[shared], spec.requests[water]
    is_shared, is_water = rtype == shared, rtype == water
    assert backstop[is_shared].mean() == pytest.approx(1 - r_shared.clear_duty, abs=0.04)
    assert backstop[is_water].mean() == pytest.approx(1 - r_water.clear_duty, abs=0.03)
    assert set(units_a[backstop]) == {spec.backstop_unit}
    assert set(units_a[is_water & ~backstop]) == {"water"}
    leads = units_a[is_shared & ~backstop]
    assert set(leads) == {"subdistrict:East", "subdistrict:West", "housing", "enforcement"}
    assert slow[is_shared & ~backstop] == pytest.approx(1 + 2 * spec.coordination)
    assert (slow[is_water] == 1).all()


def test_vectorised_routing_matches_one_request_at_a_time() -> None:
    """`route` (vectorised by request type) gives what the per-request rule gives."""
    from agents.hotline.demand import route

    spec = load_scenario("dongcheng").hotline
    subs = ["East", "West", "North"]
    rng = np.random.default_rng(3)
    n = 4000
    rtype = rng.integers(0, len(spec.requests), n)
    sub = rng.integers(0, len(subs), n)
    u, v = rng.random(n), rng.random(n)
    units, backstop, slow = route(spec, rtype, sub, subs, u, v)
    for i in range(n):
        r = spec.requests[rtype[i]]
        if u[i] >= r.clear_duty:
            want = (spec.backstop_unit, True, 1.0)
        else:
            sharing = (r.unit, *r.shared_with)
            lead = sharing[int(v[i] * len(sharing))]
            want = (f"subdistrict:{subs[sub[i]]}" if lead == "subdistrict" else lead, False,
                    1.0 + spec.coordination * (len(sharing) - 1))
        assert (units[i], bool(backstop[i]), float(slow[i])) == want


def calm(spec):  # noqa: ANN001, ANN201
    """A hotline spec without outage followers (dongcheng's are on)."""
    return spec.model_copy(update={"requests": tuple(
        r.model_copy(update={"incident_followers": None}) for r in spec.requests)})


def test_busy_days_and_outage_bursts() -> None:
    """day_dispersion makes daily counts overdispersed; incident_callers makes an outage's
    calls come in bursts from one subdistrict, with the same number of calls."""
    from agents.hotline.demand import KIND_REQUEST, draw_background

    base = calm(load_scenario("dongcheng").hotline)
    share = np.full(17, 1 / 17)

    def days(spec, n: int = 120) -> list:  # noqa: ANN001
        rng = np.random.default_rng(5)
        return [draw_background(spec, rng, d * 1440.0, 2, False, share) for d in range(n)]

    plain = [len(d.arrival) for d in days(base)]
    busy = [len(d.arrival) for d in days(base.model_copy(update={"day_dispersion": 0.05}))]
    assert np.var(plain) / np.mean(plain) == pytest.approx(1, abs=0.35)   # Poisson
    assert np.var(busy) / np.mean(busy) > 20                               # ~1 + 0.05 x mean
    assert np.mean(busy) == pytest.approx(np.mean(plain), rel=0.05)

    water = [r.name for r in base.requests].index("water outage")
    bursty = base.model_copy(update={"requests": tuple(
        r.model_copy(update={"incident_callers": 20.0}) if i == water else r
        for i, r in enumerate(base.requests))})
    def water_calls(spec) -> tuple[int, float, float]:  # noqa: ANN001
        """Count, cv of the gaps, share of consecutive calls from one subdistrict."""
        subs, gaps, count = [], [], 0
        for d in days(spec, 40):
            is_water = (d.kind == KIND_REQUEST) & (d.request_type == water)
            assert (np.diff(d.arrival) >= 0).all()
            count += int(is_water.sum())
            t, s = d.arrival[is_water], d.subdistrict[is_water]
            gaps.append(np.diff(t))
            subs.append((s[1:] == s[:-1]).mean())
        gap = np.concatenate(gaps)
        return count, float(gap.std() / gap.mean()), float(np.mean(subs))

    n_plain, cv_plain, same_plain = water_calls(base)
    n_burst, cv_burst, same_burst = water_calls(bursty)
    assert cv_plain == pytest.approx(1.2, abs=0.3) and same_plain < 0.15
    assert cv_burst > 2 and same_burst > 0.4   # bursts: short gaps, one subdistrict
    assert n_burst == pytest.approx(n_plain, rel=0.1)


def test_outage_followers_are_extra_consultations_from_the_incidents_subdistrict() -> None:
    """incident_followers: each outage brings further callers (drawn per incident, the mean
    kept, fewer at night), who come as consultations from the incident's subdistrict within
    minutes; the requests themselves are unchanged."""
    from agents.hotline.demand import KIND_CONSULTATION, draw_background
    from sim.data.distributions import Dist

    base = calm(load_scenario("dongcheng").hotline)
    base = base.model_copy(update={"background_per_day": 2000.0, "consultation_share": 0.5})
    water = [r.name for r in base.requests].index("water outage")
    share = np.full(17, 1 / 17)

    def follow(size: Dist | None) -> tuple[int, int, float, int]:
        spec = base.model_copy(update={"requests": tuple(
            r.model_copy(update={"incident_followers": size,
                                 "incident_minutes": Dist(dist="exponential", mean=5)})
            if i == water else r for i, r in enumerate(base.requests))})
        rng = np.random.default_rng(3)
        reqs = cons = 0
        same, night = [], 0
        for d in range(20):
            c = draw_background(spec, rng, d * 1440.0, 2, False, share)
            assert (np.diff(c.arrival) >= 0).all()
            is_water = c.request_type == water
            reqs += int(is_water.sum())
            cons += int((c.kind == KIND_CONSULTATION).sum())
            lead_t, lead_s = c.arrival[is_water], c.subdistrict[is_water]
            others = np.flatnonzero(~is_water & (c.kind == KIND_CONSULTATION))
            idx = np.abs(c.arrival[others][:, None] - lead_t[None, :]).argmin(axis=1)
            same.append((c.subdistrict[others] == lead_s[idx]).mean())
            night += int(((c.arrival[others] - d * 1440) < 300).sum())
        return reqs, cons, float(np.mean(same)), night

    r0, c0, same0, night0 = follow(None)
    r1, c1, same1, night1 = follow(Dist(dist="deterministic", mean=20))
    assert r1 == pytest.approx(r0, rel=0.1)                  # the requests as before
    awake = np.asarray(base.hourly_profile) / max(base.hourly_profile)
    expected = 20 * r1 * float((np.asarray(base.hourly_profile) * awake).sum()
                               / sum(base.hourly_profile))
    assert c1 - c0 == pytest.approx(expected, rel=0.15)      # followers, fewer at night
    assert same0 < 0.1 and same1 > same0 + 0.2   # from the subdistrict of the outage nearby
    assert night1 - night0 < 0.05 * (c1 - c0)


def test_incident_followers_are_validated(tmp_path) -> None:  # noqa: ANN001
    """A bad follower distribution or one over its ceiling is refused at its line."""
    from sim.errors import InputError

    for bad, want in (("{dist: lognormal, mean: 5}", "lognormal distribution needs cv"),
                      ("{dist: exponential, mean: 1.0e+6}", "expected at most 100,000")):
        path = tmp_path / "bad.yaml"
        path.write_text(
            "base: small-town\nname: bad\nhotline:\n  enabled: true\n  requests:\n"
            "    - name: water outage\n      share: 1\n      unit: water\n"
            "      deadline_hours: 24\n"
            "      handling_hours: {dist: exponential, mean: 6}\n"
            f"      incident_followers: {bad}\n", encoding="utf-8")
        with pytest.raises(InputError) as e:
            load_scenario(path)
        assert str(e.value).startswith(f"{path}:11:"), str(e.value)
        assert "incident_followers" in str(e.value) and want in str(e.value), str(e.value)


def test_big_incidents_bring_in_the_reserves() -> None:
    """hotline.surge: an incident with at least ``callers`` further callers calls in the
    reserves ``after_minutes`` after its first call, for ``for_minutes``; turns that overlap
    make one longer turn (one reserve team); smaller incidents call in nobody."""
    from agents.hotline.demand import _surges, draw_background
    from sim.data.distributions import Dist
    from sim.data.scenario import SurgeSpec

    surge = SurgeSpec(callers=50, seats=4, after_minutes=10, for_minutes=60)
    assert _surges(surge, np.array([500.0, 100.0, 140.0])) == (
        (110.0, 210.0, 4), (510.0, 570.0, 4))

    base = calm(load_scenario("dongcheng").hotline)
    water = [r.name for r in base.requests].index("water outage")

    def turns(size: float) -> list:
        spec = base.model_copy(update={"surge": surge, "requests": tuple(
            r.model_copy(update={"incident_followers": Dist(dist="deterministic", mean=size)})
            if i == water else r for i, r in enumerate(base.requests))})
        rng = np.random.default_rng(4)
        day = draw_background(spec, rng, 1440.0, 2, False, np.full(17, 1 / 17))
        return list(day.surges)

    assert turns(20) == []  # a building's outage: the seats on duty cope
    big = turns(500)        # every water outage a neighbourhood's, all day long
    assert big and all(b >= 1440.0 + 10 and e - b >= 60 and n == 4 for b, e, n in big)
    assert all(e0 < b1 for (_, e0, _), (b1, _, _) in zip(big, big[1:], strict=False))


def test_reserves_scale_with_the_outage() -> None:
    """hotline.surge.callers_per_seat: one reserve for each that many further callers,
    rounded up, at most ``seats``; a turn lengthened by a later incident keeps the most any
    of its incidents called in."""
    from agents.hotline.demand import _surges
    from sim.data.scenario import SurgeSpec

    surge = SurgeSpec(callers=50, seats=16, callers_per_seat=10, after_minutes=10,
                      for_minutes=60)
    assert _surges(surge, np.array([500.0, 100.0, 900.0]), np.array([51, 150, 400])) == (
        (110.0, 170.0, 15), (510.0, 570.0, 6), (910.0, 970.0, 16))
    assert _surges(surge, np.array([100.0, 140.0]), np.array([60, 120])) == (
        (110.0, 210.0, 12),)
    flat = SurgeSpec(callers=50, seats=16, after_minutes=10, for_minutes=60)
    assert _surges(flat, np.array([100.0]), np.array([60])) == ((110.0, 170.0, 16),)


def test_surge_keys_are_validated(tmp_path) -> None:  # noqa: ANN001
    from sim.errors import InputError

    with pytest.raises(InputError, match=r"hotline\.surge\.seats"):
        load_scenario("dongcheng", ("hotline.surge.seats=-1",))
    with pytest.raises(InputError, match=r"hotline\.surge\.for_minutes"):
        load_scenario("dongcheng", ("hotline.surge.for_minutes=0",))
    for bad in ("0", "ten"):
        with pytest.raises(InputError, match=r"hotline\.surge\.callers_per_seat"):
            load_scenario("dongcheng", (f"hotline.surge.callers_per_seat={bad}",))
    path = tmp_path / "bad.yaml"
    path.write_text("base: dongcheng\nname: bad\nhotline:\n"
                    "  surge: {callers: 50, seats: 16, callers_per_seat: -3}\n",
                    encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_scenario(path)
    assert str(e.value).startswith(f"{path}:4:"), str(e.value)
    assert "callers_per_seat" in str(e.value) and "-3" in str(e.value), str(e.value)


def test_survey_follows_what_happened_to_the_order() -> None:
    """Resolved is what happened to the problem; satisfaction falls with the time to close,
    each rework and each further call, and collapses when unresolved or late (SurveySpec)."""
    from agents.hotline.demand import survey
    from sim.data.scenario import SurveySpec

    spec = SurveySpec(per_repeat_call=0.1)
    n = 20_000

    def satisfied(hours: float = 24, deadline: float = 168, resolved: bool = True,
                  reworks: int = 0, repeats: int = 0) -> float:
        rng = np.random.default_rng(2)
        _, responded, res, sat = survey(
            rng, spec, hours_to_feedback=np.full(n, hours), deadline_hours=np.full(n, deadline),
            resolved=np.full(n, resolved), reworks=np.full(n, reworks), reach=1.0,
            repeats=np.full(n, repeats))
        assert (res == resolved).all() and (responded == (hours <= deadline)).all()
        return float(sat.mean())

    prompt = satisfied()
    assert prompt == pytest.approx(0.97 - 0.08 * 24 / 168, abs=0.01)
    assert satisfied(hours=150) < prompt                          # slower to close
    assert satisfied(reworks=1) == pytest.approx(prompt - 0.12, abs=0.015)
    assert satisfied(repeats=2) == pytest.approx(prompt - 0.2, abs=0.015)
    assert satisfied(resolved=False) == pytest.approx(0.15, abs=0.01)
    assert satisfied(hours=200) == pytest.approx((0.97 - 0.08 * 200 / 168) * 0.6, abs=0.015)


def test_three_rates_come_from_the_cases_the_orders_became() -> None:
    """Resolved is the fate of the caller's problem when the case carrying the order ended
    (closed, merged or voided), and the rates move with what the departments do: sloppy
    crews closing on their own word, fewer resolved and satisfied callers."""
    from sim.data.scenario import load_scenario
    from sim.run import simulate

    def run(*sets: str):  # noqa: ANN202
        return simulate(load_scenario("typical-city", list(sets), days=6))

    res = run()
    calls = res.calls
    grid = calls[(calls["kind"] == 2) & calls["work_order"] & calls["feedback_at"].notna()
                 & (calls["case"] >= 0) & calls["reached"]]
    assert len(grid) >= 300
    ended = res.problems["ended"][grid["problem"].to_numpy()]
    fixed_by_then = ~np.isnan(ended) & (ended <= grid["feedback_at"].to_numpy() + 1e-9)
    assert (grid["resolved"].to_numpy() == fixed_by_then).all()
    # sloppy crews whose word closes the case (no checks): problems left behind
    sloppy = run("centre.independent_checks=false",
                 *(f"departments.{d}.quality=0.5" for d in res.departments))
    good, bad = res.summary()["three_rates"], sloppy.summary()["three_rates"]
    assert bad["resolution"] < good["resolution"] - 0.1
    assert bad["satisfaction"] < good["satisfaction"] - 0.1
