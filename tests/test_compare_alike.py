"""Comparisons compare like with like, and reports colour a difference by whether it is
better or worse for that KPI.

Experiments are small-town for 2 days with 2-3 replications on one shared worker.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.data.scenario import load_scenario
from sim.errors import GridLoopError
from sim.experiment import LocalPool, run_compare, steady_state, write_report
from sim.experiment.html import _verdict
from sim.experiment.kpi_meaning import HIGHER, LOWER, MEANINGS, direction
from sim.experiment.summary import differences
from sim.experiment.tasks import flat_kpis
from sim.run import simulate

POOL = LocalPool(1)


@pytest.fixture(scope="module", autouse=True)
def _close_pool() -> object:
    yield
    POOL.close()


def overlay(folder: Path, name: str, text: str) -> str:
    path = folder / f"{name}.yaml"
    path.write_text(f"base: small-town\nname: {name}\n{text}", encoding="utf-8")
    return str(path)


# ---------------------------------------------------------------- like with like


def test_different_horizons_are_refused_until_days_is_given(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    short = overlay(tmp_path, "short", "days: 28\n")
    code = main(["compare", "small-town", short, "--reps", "2", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2
    assert "expected scenarios with the same horizon, got small-town 30 days, short 28 days" \
        in err
    assert "--days N (e.g. --days 28)" in err
    assert not (tmp_path / "x").exists()
    run = run_compare(["small-town", short], reps=2, days=2, seed=1, out=tmp_path / "y",
                      executor=POOL)
    assert run.tasks_run == 4


def test_different_start_dates_are_refused(tmp_path: Path) -> None:
    later = overlay(tmp_path, "later", "start_date: 2026-03-07\n")
    with pytest.raises(GridLoopError, match=r"start on the same date, got small-town "
                                            r"2026-03-02 \(Mon\), later 2026-03-07 \(Sat\)"):
        run_compare(["small-town", later], reps=2, days=2, out=tmp_path / "x", executor=POOL)


def test_a_days_cap_does_not_hide_unlike_horizons(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDLOOP_MAX_DAYS", "2")
    assert load_scenario("small-town").days == 2
    short = overlay(tmp_path, "short", "days: 28\n")
    with pytest.raises(GridLoopError, match="same horizon"):
        run_compare(["small-town", short], reps=2, out=tmp_path / "x", executor=POOL)


def test_paired_differences_refuse_replications_on_different_seeds(tmp_path: Path) -> None:
    run_compare(["small-town", "small-town"], reps=2, days=2, seed=1, out=tmp_path / "a",
                executor=POOL)
    run_compare(["small-town", "small-town"], reps=2, days=2, seed=2, out=tmp_path / "b",
                executor=POOL)
    assert len(differences(tmp_path / "a"))
    mixed = tmp_path / "a" / "tasks" / "p001-r0000.parquet"
    mixed.write_bytes((tmp_path / "b" / "tasks" / "p001-r0000.parquet").read_bytes())
    with pytest.raises(GridLoopError, match="expected the same seed at every design point"):
        differences(tmp_path / "a")


# ---------------------------------------------------------------- better or worse


def test_every_kpi_of_a_run_has_a_meaning() -> None:
    sc = load_scenario("small-town", ["hotline.enabled=true", "hotline.background_per_day=50",
                                      "whistle.enabled=true"], days=1)
    kpis = flat_kpis(simulate(sc).summary())
    assert kpis and not set(kpis) - set(MEANINGS), sorted(set(kpis) - set(MEANINGS))


def test_directions_read_as_a_planner_would() -> None:
    assert direction("closure_rate") == HIGHER
    assert direction("hours_to_close.mean") == LOWER
    assert direction("cases_filed") == 0
    assert _verdict("hours_to_close.mean", 1.5, True) == "worse"
    assert _verdict("hours_to_close.mean", -1.5, True) == "better"
    assert _verdict("closure_rate", 0.01, True) == "better"
    assert _verdict("closure_rate", -0.01, True) == "worse"
    assert _verdict("closure_rate", -0.01, False) == ""
    assert _verdict("cases_filed", 100.0, True) == ""


def test_the_report_colours_by_better_or_worse_with_a_legend(tmp_path: Path) -> None:
    few = overlay(tmp_path, "few", "inspectors: {count: 4}\n")
    run_compare(["small-town", few], reps=3, days=2, seed=5, out=tmp_path / "cmp",
                executor=POOL)
    diff = differences(tmp_path / "cmp").set_index("kpi")
    text = write_report(tmp_path / "cmp").read_text(encoding="utf-8")
    assert "better than the baseline for that KPI" in text and 'class="worse"' in text
    # fewer inspectors find fewer problems: the difference is negative and worse
    row = diff.loc["discovery_rate"]
    assert row["significant"] and row["difference"] < 0
    cell = f'<td class="worse">{_cell(row)}'
    assert cell in text
    # a longer time to discovery is also worse, though the number went up
    up = diff.loc["mean_hours_to_discovery"]
    if up["significant"]:
        assert up["difference"] > 0 and f'<td class="worse">{_cell(up)}' in text


def _cell(row: pd.Series) -> str:
    from sim.experiment.html import _fmt
    return f"{_fmt(row['difference'])} [{_fmt(row['low'])}, {_fmt(row['high'])}]"


def test_steady_state_uses_one_warm_up_for_every_point(tmp_path: Path) -> None:
    few = overlay(tmp_path, "few", "inspectors: {count: 4}\n")
    run_compare(["small-town", few], reps=2, days=12, seed=5, out=tmp_path / "cmp",
                executor=POOL)
    steady = steady_state(tmp_path / "cmp")
    for _, block in steady.groupby("series"):
        assert block["warmup_days"].nunique() == 1
        assert block["warmup_days"].iloc[0] == block["mser_days"].max()
