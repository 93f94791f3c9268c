"""The engine against invariants, closed forms and itself.

Conservation (every problem and case ends somewhere), legality (every case follows the state
machine), determinism (same seed, same bytes), Erlang C for a department set up as M/M/c, and
Little's law for every queue.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.data.scenario import load_scenario
from sim.engine.eventlog import Outcome, Step, is_legal_sequence
from sim.engine.problems import Fate
from sim.model import CityModel

DATA = Path(__file__).parent / "data"


def run(name: str | Path, overrides: tuple[str, ...] = (), *, days: int | None = None,
        seed: int | None = None, strict: bool = True) -> CityModel:
    return CityModel(load_scenario(name, overrides, days=days, seed=seed), strict=strict).run()


def by_case(ev: np.ndarray) -> list[np.ndarray]:
    order = np.argsort(ev["case"], kind="stable")
    ev = ev[order]
    cuts = np.flatnonzero(np.diff(ev["case"])) + 1
    return np.split(ev, cuts)


def check_invariants(m: CityModel) -> None:
    ev, pr = m.events(), m.problems()
    # every problem ends fixed, vanished or open; ended iff not open; ends after it starts
    assert set(np.unique(pr["fate"])) <= {int(f) for f in Fate}
    is_open = pr["fate"] == Fate.OPEN
    assert np.isnan(pr["ended"][is_open]).all()
    assert (pr["ended"][~is_open] >= pr["created"][~is_open]).all()
    found = ~np.isnan(pr["found"])
    assert (pr["found"][found] >= pr["created"][found] - 1e-9).all()
    # cases: all rows legal, times never go back, logged within the horizon
    assert (np.diff(ev["time"]) >= 0).all(), "the log is written in time order"
    assert ev["time"].max(initial=0) <= m.horizon
    terminal = {Step.CLOSE, Step.VOID, Step.MERGE, Step.SELF_HANDLE}
    n_reports = int((ev["step"] == Step.REPORT).sum())
    groups = by_case(ev) if len(ev) else []
    assert len(groups) == n_reports == m.cases.count
    ended = 0
    for g in groups:
        assert is_legal_sequence(g["step"]), g["step"]
        assert (np.diff(g["time"]) >= 0).all()
        ended += int(g["step"][-1]) in terminal
    # every case ended or is open: open ones are exactly those still in the loop
    open_cases = n_reports - ended
    assert open_cases >= 0
    # every fix in ground truth has its row, and vice versa
    fixing = (ev["step"] == Step.HANDLE) & (ev["outcome"] == Outcome.FIXED)
    by_crew = set(ev["problem"][fixing].tolist())
    assert len(by_crew) == int(fixing.sum()), "a problem is fixed once"
    fixed = set(np.flatnonzero(pr["fate"] == Fate.FIXED).tolist())
    assert by_crew <= fixed
    merged = set(ev["problem"][ev["step"] == Step.MERGE].tolist())
    assert fixed - by_crew <= merged, "the rest were fixed on the visit of a case they merged into"
    on_spot = int((pr["fate"] == Fate.FIXED_ON_SPOT).sum())
    assert int((ev["step"] == Step.SELF_HANDLE).sum()) == on_spot


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1),
       inspectors=st.sampled_from([0, 2, 10, 20, 40]),
       rate=st.floats(0.3, 3.0),
       crews=st.integers(1, 6),
       limit=st.sampled_from([0.25, 1.0, 3.0]),
       error=st.floats(0.0, 0.3),
       hours=st.sampled_from([4, 8, 24]))
def test_conservation_and_legality(seed: int, inspectors: int, rate: float, crews: int,
                                   limit: float, error: float, hours: int) -> None:
    m = run("small-town", (
        f"inspectors.count={inspectors}", f"problems.rate_scale={rate}",
        f"departments.sanitation.crews={crews}", f"handbook.time_limit_scale={limit}",
        f"centre.dispatch_error={error}", f"calendar.working_hours={hours}",
        "calendar.day_start=00:00", "departments.enforcement.suspension_rate=0.2",
        "departments.traffic.extension_rate=0.3"), days=4, seed=seed)
    check_invariants(m)


def test_same_seed_same_bytes_and_other_seed_differs() -> None:
    a = run("small-town", days=5, strict=False)
    b = run("small-town", days=5, strict=False)
    c = run("small-town", days=5, seed=8, strict=False)
    assert a.events().tobytes() == b.events().tobytes()
    assert a.problems().tobytes() == b.problems().tobytes()
    assert a.events().tobytes() != c.events().tobytes()


def test_streams_are_independent_of_staffing() -> None:
    """Common random numbers: changing crews does not change which problems appear."""
    a = run("small-town", days=4, strict=False)
    b = run("small-town", ("departments.sanitation.crews=1",), days=4, strict=False)
    pa, pb = a.problems(), b.problems()
    base = pa["recurrence_of"] < 0
    keep = pb["recurrence_of"] < 0
    for col in ("grid", "subclass", "created"):
        assert np.array_equal(pa[col][base], pb[col][keep])


def erlang_c_wait(lam: float, mu: float, c: int) -> float:
    """Mean wait in queue of M/M/c (Erlang C), same time unit as 1/lam."""
    a = lam / mu
    rho = a / c
    assert rho < 1
    s = sum(a**k / math.factorial(k) for k in range(c))
    top = a**c / math.factorial(c) / (1 - rho)
    p_wait = top / (s + top)
    return p_wait / (c * mu - lam)


def department_waits(m: CityModel, with_times: bool = False):
    """Waits in department queues, from the log: HANDLE_START minus the row before it."""
    ev = m.events()
    waits, when = [], []
    for g in by_case(ev):
        steps = g["step"]
        for i in np.flatnonzero(steps == Step.HANDLE_START):
            waits.append(g["time"][i] - g["time"][i - 1])
            when.append(g["time"][i - 1])
    if with_times:
        return np.asarray(waits), np.asarray(when)
    return np.asarray(waits)


@pytest.mark.parametrize("per_day, crews", [(57.6, 3), (36.0, 2)])
def test_department_as_mmc_matches_erlang_c(per_day: float, crews: int) -> None:
    """Mean wait within 3 standard errors (batch means: 20 batches x 3 seeds of 1,000 days)
    and within 8% of Erlang C."""
    lam, mu = per_day / 1440.0, 1 / 60.0
    theory = erlang_c_wait(lam, mu, crews)
    batches = []
    for seed in (1, 2, 3):
        m = run(DATA / "mmc.yaml", (f"problems.per_day={per_day}",
                                    f"departments.dept.crews={crews}"), seed=seed,
                days=1000, strict=False)
        w, t = department_waits(m, with_times=True)
        assert len(w) > 0.95 * per_day * m.days  # Poisson arrivals all reached the queue
        edges = np.linspace(0, m.horizon, 21)
        for lo, hi in zip(edges[:-1], edges[1:], strict=True):
            batches.append(w[(t >= lo) & (t < hi)].mean())
    b = np.asarray(batches)
    mean, se = b.mean(), b.std(ddof=1) / np.sqrt(len(b))
    assert abs(mean - theory) < 3 * se, (mean, se, theory)
    assert abs(mean - theory) / theory < 0.08, (mean, theory)


def test_mmc_utilisation_and_service_times() -> None:
    m = run(DATA / "mmc.yaml", days=200, strict=False)
    pool = m.departments[0].crews.stats
    util = pool.area_busy / m.horizon / 3
    assert abs(util - 57.6 / 1440 * 60 / 3) < 0.03


def test_littles_law_for_every_queue() -> None:
    """L = lambda W on every queue: the time-integral of queue length equals the waits."""
    m = run("small-town", ("problems.rate_scale=2.5", "departments.sanitation.crews=2"),
            days=20, strict=False)
    busy_queues = 0
    for name, pool in m.pools().items():
        st_ = pool.stats
        partial = sum(m.horizon - t for t in pool.queued_since())
        L = st_.area_queue / m.horizon
        lam_w = (st_.wait_sum + partial) / m.horizon
        assert L == pytest.approx(lam_w, rel=1e-9, abs=1e-9), name
        busy_queues += st_.wait_sum > 0
    assert busy_queues >= 4  # the check had queues to bite on
    # the event log tells the same story as the pools: department waits from the rows
    waits = department_waits(m)
    total_pool = sum(d.crews.stats.wait_sum for d in m.departments)
    assert waits.sum() == pytest.approx(total_pool, rel=1e-9)


def test_vectorised_detection_matches_the_beat_rule() -> None:
    """`InspectorCorps.detection_times` gives what `Beat.first_detection` gives, draw by draw,
    for problems that appeared before the shift and during it."""
    m = CityModel(load_scenario("small-town", days=2), strict=False)
    m.discovery.start()
    m.inspectors.start()
    m.env.run(until=8 * 60)  # inside the first shift of day 0
    corps = m.inspectors
    assert corps.beats[0].t0 == 7 * 60
    beat0 = corps.beats[0]
    rng = np.random.default_rng(5)
    grids = rng.choice(beat0.grids, 200)
    since = beat0.t0 + rng.uniform(-300, 600, 200)
    p = rng.uniform(0.05, 1.0, 200)
    state = corps.u_detect.bit_generator.state
    got = corps.detection_times(grids, since, p)
    corps.u_detect.bit_generator.state = state
    u = corps.u_detect.random(200)
    want = [corps.beats[corps.grid_beat[g]].first_detection(int(g), float(s), float(q), float(x))
            for g, s, q, x in zip(grids, since, p, u, strict=True)]
    assert np.allclose(got, want, equal_nan=False)
    assert np.isfinite(got[since < beat0.t0]).any()  # older problems are found too
    assert np.isfinite(got[since >= beat0.t0]).any()
    assert not np.isfinite(got).all()  # and some are not noticed this shift


def test_reading_the_log_mid_run_then_running_on_gives_the_same_log() -> None:
    """A session reads its log while its city runs on: reading must not disturb writing."""
    sc = load_scenario("small-town", days=3, seed=6)
    whole = CityModel(sc).run().events()
    m = CityModel(sc).start()
    for t in (500.0, 1700.0, 3000.0):
        m.env.run(until=t)
        assert len(m.events()) > 0
    m.env.run(until=m.horizon)
    assert m.events().tobytes() == whole.tobytes()
