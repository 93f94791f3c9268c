"""`gridloop calibrate` recovers what a log was drawn from: the daily rate, the hour-of-day and
day-of-week profiles, subclass shares, subdistrict weights, Poisson versus negative binomial
days, and each subclass's handling-time family and parameters; and the scenario it writes
loads, validates and runs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.cli import main
from sim.data.scenario import SCENARIO_DIR, load_scenario
from sim.data.taxonomy import load_handbook
from sim.errors import InputError
from sim.ingest.fitting import daily_dispersion, fit_duration, independence_test
from sim.ingest.scenario_yaml import calibrate
from sim.run import simulate

DAYS = 84                                   # twelve whole weeks from a Monday
PER_DAY = 180.0
HOURLY = np.array([0.2, 0.1, 0.1, 0.1, 0.2, 0.4, 0.8, 1.2, 1.6, 1.8, 1.7, 1.5,
                   1.3, 1.3, 1.4, 1.5, 1.6, 1.5, 1.3, 1.1, 0.9, 0.6, 0.4, 0.3])
WEEKLY = np.array([1.1, 1.1, 1.05, 1.05, 1.1, 0.85, 0.75])
SUBDISTRICT_RATE = {"001": 1.0, "002": 2.0, "003": 3.0}   # per grid, relative
# subclass -> (handbook department, share, family, mean hours, cv or shape)
TRUTH = {
    "E01-01": ("sanitation", 0.5, "lognormal", 3.0, 0.8),
    "E05-01": ("enforcement", 0.3, "gamma", 5.0, 0.5),
    "C01-01": ("water", 0.2, "weibull", 2.0, 1.6),
}
GRIDS = [f"990101{sd}{c:03d}{g:03d}" for sd in SUBDISTRICT_RATE for c in (1, 2)
         for g in range(1, 6)]


def _durations(rng: np.random.Generator, family: str, mean: float, p: float, n: int
               ) -> np.ndarray:
    if family == "lognormal":
        s2 = math.log1p(p * p)
        return rng.lognormal(math.log(mean) - s2 / 2, math.sqrt(s2), n)
    if family == "gamma":
        k = 1 / (p * p)
        return rng.gamma(k, mean / k, n)
    return mean / math.gamma(1 + 1 / p) * rng.weibull(p, n)


def synthetic_log(path: Path, *, seed: int, day_dispersion: float = 0.0,
                  grids: list[str] = GRIDS) -> Path:
    """Draw a case log from the known parameters above and write it as CSV."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2026-03-02")                      # a Monday
    weekday = np.arange(DAYS) % 7
    mean = PER_DAY * WEEKLY[weekday] / WEEKLY.mean()
    if day_dispersion:
        mean = mean * rng.gamma(1 / day_dispersion, day_dispersion, DAYS)
    counts = rng.poisson(mean)
    day = np.repeat(np.arange(DAYS), counts)
    n = day.size
    hour = rng.choice(24, size=n, p=HOURLY / HOURLY.sum())
    t = start + pd.to_timedelta(day * 1440 + hour * 60 + rng.random(n) * 60, unit="min")
    codes = list(TRUTH)
    sub = rng.choice(len(codes), size=n, p=[TRUTH[c][1] for c in codes])
    grid_w = np.array([SUBDISTRICT_RATE.get(g[6:9], 1.0) for g in grids])
    grid = rng.choice(len(grids), size=n, p=grid_w / grid_w.sum())
    hours = np.empty(n)
    for i, code in enumerate(codes):
        m = sub == i
        _, _, family, mu, p = TRUTH[code]
        hours[m] = _durations(rng, family, mu, p, int(m.sum()))
    dispatched = t + pd.Timedelta(minutes=10)
    handled = dispatched + pd.to_timedelta(hours, unit="h")
    closed = handled + pd.Timedelta(minutes=40)

    def iso(x: pd.Series | pd.DatetimeIndex) -> np.ndarray:
        return np.asarray(pd.DatetimeIndex(x).strftime("%Y-%m-%dT%H:%M:%S"))

    frame = pd.DataFrame({
        "service_request_id": [f"S{i:06d}" for i in range(n)],
        "service_code": np.asarray(codes)[sub], "requested_datetime": iso(t),
        "status": "closed", "agency_responsible": [TRUTH[codes[s]][0] for s in sub],
        "grid_code": np.asarray(grids)[grid], "channel": "public",
        "dispatched_datetime": iso(dispatched), "handled_datetime": iso(handled),
        "closed_datetime": iso(closed)})
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def poisson_fit(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("cal")
    log = synthetic_log(folder / "log.csv", seed=6)
    return calibrate(log, folder / "city.yaml", min_cases=200, refine=0)


def test_rates_profiles_and_shares_are_recovered(poisson_fit) -> None:
    est = poisson_fit.estimates
    se = math.sqrt(PER_DAY / DAYS)
    assert abs(est.per_day - PER_DAY) < 4 * se
    assert np.allclose(est.hourly_profile, HOURLY / HOURLY.mean(), atol=0.12)
    assert np.allclose(est.weekly_profile, WEEKLY / WEEKLY.mean(), atol=0.06)
    total = sum(est.shares.values())
    for code, (_, share, *_rest) in TRUTH.items():
        assert abs(est.shares[code] / total - share) < 0.015
    w = SUBDISTRICT_RATE
    mean_w = np.mean(list(w.values()))
    for sd, weight in est.subdistrict_weight.items():
        assert weight == pytest.approx(w[sd] / mean_w, rel=0.05)
    # the log has no hour x weekday or subclass x place interaction: the tests agree
    assert est.tests["hour_of_day x day_of_week"][2] > 0.001
    assert est.tests["subclass x subdistrict"][2] > 0.001


def test_poisson_days_are_not_called_overdispersed(poisson_fit) -> None:
    est = poisson_fit.estimates
    assert est.arrivals == "poisson" and est.day_dispersion == 0
    assert 0.6 < est.dispersion.index < 1.5


def test_negative_binomial_days_are_detected_and_their_dispersion_recovered(
        tmp_path: Path) -> None:
    log = synthetic_log(tmp_path / "nb.csv", seed=7, day_dispersion=0.08)
    cal = calibrate(log, tmp_path / "nb.yaml", min_cases=200, refine=0)
    est = cal.estimates
    assert est.arrivals == "negbin"
    assert est.dispersion.index > 3 and est.dispersion.lr_p_value < 1e-6
    assert 0.04 < est.day_dispersion < 0.14
    assert cal.scenario.problems.day_dispersion == est.day_dispersion
    forced = calibrate(log, tmp_path / "p.yaml", arrivals="poisson", min_cases=200, refine=0)
    assert forced.scenario.problems.day_dispersion == 0


def test_handling_time_families_and_parameters_are_recovered(poisson_fit) -> None:
    fits = poisson_fit.estimates.fits
    for code, (dep, _, family, mean, p) in TRUTH.items():
        fit = fits[(dep, code)]
        assert fit.family == family, fit.describe()
        assert fit.dist.mean == pytest.approx(mean, rel=0.06)
        got = fit.dist.shape if family == "weibull" else fit.dist.cv
        assert got == pytest.approx(p, rel=0.08)
    # the handbook's handling time is the crew's work only, not dispatch-to-handling: the
    # waiting in front of the crew comes from the simulated queue (issue 13)
    hb = load_handbook(poisson_fit.paths["handbook"])
    by_code = {s.code: s for s in hb.subclasses}
    for code, (dep, _, _, mean, _) in TRUTH.items():
        work = by_code[code].handling_hours
        assert work.mean == poisson_fit.plans[dep].work_hours
        assert work.mean < mean


def test_the_scenario_loads_validates_runs_and_says_where_numbers_came_from(
        poisson_fit, capsys: pytest.CaptureFixture) -> None:
    path = poisson_fit.paths["scenario"]
    assert main(["validate", str(path)]) == 0
    assert "30 grids, 3 subdistricts" in capsys.readouterr().out
    sc = load_scenario(path, days=3)
    assert sc.problems.per_day == poisson_fit.estimates.per_day
    assert set(sc.departments) >= {"sanitation", "enforcement", "water"}
    result = simulate(sc)
    assert len(result.cases) > 0
    text = path.read_text(encoding="utf-8")
    for needle in ("variance/mean", "negative binomial vs Poisson", "Hour-of-day",
                   "cases / 84 days", "judgement"):
        assert needle in text
    hb_text = poisson_fit.paths["handbook"].read_text(encoding="utf-8")
    assert "by AIC over n=" in hb_text
    table = pd.read_csv(poisson_fit.paths["arrivals"], dtype={"subdistrict": str})
    assert len(table) == len(TRUTH) * len(SUBDISTRICT_RATE) * 168
    assert table["cases"].sum() == poisson_fit.estimates.cases
    # the fitted multiplicative model predicts the observed cells' total
    assert (table["scenario_rate_per_hour"] * table["exposure_hours"]).sum() == \
        pytest.approx(table["cases"].sum(), rel=0.01)


def test_subdistrict_weights_and_day_dispersion_drive_the_simulated_city() -> None:
    base = load_scenario("small-town", days=28)
    city_sd = ["001", "002", "003"]
    heavy = load_scenario("small-town", days=28, overrides=[
        "problems.subdistrict_weight={'003': 4.0}", "problems.day_dispersion=0.2"])
    plain, nb = simulate(base).problems, simulate(heavy).problems
    from sim.data.citymap import load_city
    city = load_city(base.resolve(base.city.grids_file), base.city.district_code)
    assert list(city.subdistrict_codes) == city_sd

    def share_003(problems: np.ndarray) -> float:
        return float((city.subdistrict[problems["grid"]] == 2).mean())

    assert share_003(nb) > share_003(plain) + 0.2
    per_day = [np.bincount((p["created"] // 1440).astype(int), minlength=28)[:28]
               for p in (plain, nb)]
    assert daily_dispersion(per_day[1], np.arange(28) % 7).index > \
        3 * daily_dispersion(per_day[0], np.arange(28) % 7).index


def test_fit_duration_prefers_the_true_family_and_tests_reject_interaction() -> None:
    rng = np.random.default_rng(3)
    x = _durations(rng, "weibull", 4.0, 0.7, 3000)
    fit = fit_duration(x)
    assert fit.family == "weibull"
    assert fit.ks < 0.03
    with pytest.raises(ValueError):
        fit_duration(np.array([1.0, 0.0, 2.0]))
    table = np.array([[100, 10], [10, 100]])
    g, df, p = independence_test(table)
    assert df == 1 and p < 1e-10
    assert g == pytest.approx(stats.chi2_contingency(table, correction=False,
                                                     lambda_="log-likelihood")[0])


def test_a_given_grid_table_is_the_city_and_foreign_grids_are_named(tmp_path: Path) -> None:
    town = SCENARIO_DIR / "cities" / "small-town.csv"
    example = SCENARIO_DIR / "examples" / "caselog.csv"
    cal = calibrate(example, tmp_path / "t.yaml", grids=town, refine=0)
    sc = cal.scenario
    assert Path(sc.resolve(sc.city.grids_file)) == town.resolve()
    assert not (tmp_path / "t.grids.csv").exists()
    foreign = [f"990101001099{g:03d}" for g in range(1, 4)]   # no community 099 in the town
    log = synthetic_log(tmp_path / "log.csv", seed=1, grids=foreign)
    with pytest.raises(InputError) as e:
        calibrate(log, tmp_path / "u.yaml", grids=town)
    assert e.value.path == "grid_code" and "small-town.csv" in e.value.message


def test_refine_scales_the_rate_so_a_run_files_as_many_cases_as_the_log(tmp_path: Path) -> None:
    example = SCENARIO_DIR / "examples" / "caselog.csv"
    cal = calibrate(example, tmp_path / "r.yaml", refine=14)
    scale = cal.scenario.problems.rate_scale
    text = (tmp_path / "r.yaml").read_text()
    assert scale != 1.0 and "(14 days; rate_scale" in text
    assert "the log's public share" in text
    run = simulate(load_scenario(tmp_path / "r.yaml", days=14, seed=5))
    filed = run.cases["t_file"].notna().sum() / 14
    assert filed == pytest.approx(cal.estimates.per_day, rel=0.08)


def test_department_hours_and_crews_come_out_near_the_simulated_truth(tmp_path: Path) -> None:
    truth = load_scenario("small-town").departments       # what wrote the example log
    cal = calibrate(SCENARIO_DIR / "examples" / "caselog.csv", tmp_path / "h.yaml", refine=0)
    deps = cal.scenario.departments
    for name in ("sanitation", "enforcement", "subdistrict", "traffic"):
        start, end = (int(h[:2]) for h in deps[name].hours)
        true_start, true_end = (int(h[:2]) for h in truth[name].hours)
        assert start == true_start, name
        assert true_end <= end <= true_end + 2, name       # work runs past closing
    per_day = cal.estimates.department_cases
    for name, plan in cal.plans.items():                  # plausible: issue 13
        assert deps[name].crews <= max(1, per_day.get(name, 0) // cal.estimates.days), name
        assert plan.utilisation <= 0.85 + 1e-9, name
