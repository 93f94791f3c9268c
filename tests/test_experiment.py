"""Experiments end to end on a tiny town: seeds, executors, resuming, storage and the CLI.

Every run is small-town for 2 days with 2-3 replications, so the whole file takes seconds of
simulation; most of its time is starting worker processes.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.data.scenario import parse_overrides
from sim.errors import GridLoopError, InputError
from sim.experiment import (
    LocalPool,
    differences,
    load_results,
    load_table,
    read_manifest,
    run_compare,
    run_sweep,
    summarize,
    write_report,
)
from sim.experiment.design import Factor, factorial_points, lhs_points, parse_vary
from sim.experiment.tasks import replication_seed

DAYS = 2
COMPARE = ["small-town", "small-town"]
SETTINGS = ["inspectors.count=10"]
POOL = LocalPool(1)  # one worker process shared by the tests below (spawning one takes seconds)


@pytest.fixture(scope="module", autouse=True)
def _close_pool() -> object:
    yield
    POOL.close()


def _compare(out: Path, **kw: object) -> object:
    args = {"reps": 3, "days": DAYS, "seed": 11, "overrides": SETTINGS}
    args.update(kw)
    return run_compare(COMPARE, out=out, **args)  # type: ignore[arg-type]


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["point", "rep", "kpi"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The KPI table of the comparison run on one worker."""
    out = tmp_path_factory.mktemp("one") / "exp"
    _compare(out, executor=POOL)
    frame = _sorted(load_results(out))
    frame.attrs["folder"] = out
    return frame


# ---------------------------------------------------------------- design and seeds


def test_vary_parsing_and_factorial_design() -> None:
    f = parse_vary(["inspectors.count=10,20,30", "departments.sanitation.priority=fifo,deadline"])
    points = factorial_points("small-town", f)
    assert len(points) == 6
    assert points[1].factors == {"inspectors.count": 10,
                                 "departments.sanitation.priority": "deadline"}
    assert 'departments.sanitation.priority="deadline"' in points[1].settings()
    assert points[1].label == "count=10 priority=deadline"
    crews = factorial_points("small-town", parse_vary(["departments.sanitation.crews=1,2",
                                                       "departments.traffic.crews=3"]))
    assert crews[0].label == "sanitation.crews=1 traffic.crews=3"
    with pytest.raises(InputError, match="--vary.*inspectors.count.*twice"):
        parse_vary(["inspectors.count=1,2", "inspectors.count=3"])
    with pytest.raises(InputError, match="lo < hi"):
        parse_vary(["inspectors.count=30:10"])
    with pytest.raises(InputError, match="expected key=v1"):
        parse_vary(["inspectors.count"])
    with pytest.raises(InputError, match="--design lhs"):
        factorial_points("small-town", parse_vary(["inspectors.count=10:30"]))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.one_of(st.integers(-1000, 1000),
                                   st.floats(0.01, 1e4, allow_nan=False),
                                   st.sampled_from(["fifo", "deadline", "yes"])),
                         min_size=1, max_size=3, unique_by=repr), min_size=1, max_size=3))
def test_factorial_crosses_every_level_and_settings_read_back(levels: list[list[object]]) -> None:
    keys = [f"k{i}.x" for i in range(len(levels))]
    factors = [Factor(k, levels=tuple(v)) for k, v in zip(keys, levels, strict=True)]
    points = factorial_points("small-town", factors)
    assert len(points) == int(np.prod([len(v) for v in levels]))
    assert len({tuple(repr(p.factors[k]) for k in keys) for p in points}) == len(points)
    assert len({p.label for p in points}) == len(points)
    for p in points:
        assert dict(parse_overrides(list(p.settings()))) == p.factors


def test_latin_hypercube_fills_each_stratum_once() -> None:
    f = parse_vary(["inspectors.count=10:50", "handbook.time_limit_scale=0.5:1.5"])
    points = lhs_points("small-town", f, 8, seed=3)
    counts = np.array([p.factors["inspectors.count"] for p in points])
    scales = np.array([p.factors["handbook.time_limit_scale"] for p in points])
    assert counts.dtype.kind == "i" and scales.dtype.kind == "f"
    strata = np.floor((scales - 0.5) / (1.0 / 8)).astype(int)
    assert sorted(strata) == list(range(8))  # one sample in each eighth of the range
    assert [p.factors for p in lhs_points("small-town", f, 8, seed=3)] == \
        [p.factors for p in points]
    assert len({p.label for p in points}) == 8


def test_replication_seeds_are_common_to_points_and_distinct_between_reps(
        reference: pd.DataFrame) -> None:
    seeds = reference.groupby(["point", "rep"])["seed"].first().unstack("point")
    assert (seeds[0] == seeds[1]).all()                 # common random numbers
    assert seeds[0].nunique() == len(seeds)             # replications differ
    assert seeds[0].tolist() == [replication_seed(11, k) for k in range(3)]
    # identical scenarios on common random numbers: every difference is exactly zero
    diff = differences(reference.attrs["folder"])
    assert len(diff) > 10 and (diff["difference"].fillna(0) == 0).all()


# ---------------------------------------------------------------- executors


def test_two_workers_and_a_killed_worker_give_the_same_table(
        tmp_path: Path, reference: pd.DataFrame) -> None:
    killed: list[int] = []
    with LocalPool(2) as pool:
        def kill_one(_task: object) -> None:
            if not killed:
                pid = pool.worker_pids()[0]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

        run = _compare(tmp_path / "exp", executor=pool, on_task=kill_one)
        assert killed and pool.restarts >= 1
    assert run.tasks_total == 6
    files = sorted(p.name for p in (tmp_path / "exp" / "tasks").iterdir())
    assert files == [f"p{p:03d}-r{k:04d}.parquet" for p in range(2) for k in range(3)]
    pd.testing.assert_frame_equal(_sorted(load_results(tmp_path / "exp")), reference)


def test_dask_cluster_with_a_killed_worker_gives_the_same_table(
        tmp_path: Path, reference: pd.DataFrame) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:  # closed before the experiment's own
            pids = list(client.run(os.getpid).values())  # client connects, as in real use
        killed: list[int] = []

        def kill_one(_task: object) -> None:
            if not killed:
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])

        run = _compare(tmp_path / "exp", scheduler=cluster.scheduler_address,
                       on_task=kill_one)
    assert killed and run.tasks_run == 6
    assert len(list((tmp_path / "exp" / "tasks").iterdir())) == 6  # no temp files left
    pd.testing.assert_frame_equal(_sorted(load_results(tmp_path / "exp")), reference)


def test_scheduler_without_dask_says_how_to_install(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    import builtins

    real = builtins.__import__

    def no_dask(name: str, *args: object, **kwargs: object) -> object:
        if name == "distributed" or name.startswith("distributed."):
            raise ImportError("No module named 'distributed'")
        return real(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_dask)
    code = main(["compare", "small-town", "small-town", "--reps", "2", "--days", "1",
                 "--out", str(tmp_path / "x"), "--scheduler", "tcp://127.0.0.1:1"])
    err = capsys.readouterr().err
    assert code == 2 and "pip install 'gridloop[dask]'" in err and "Traceback" not in err


# ---------------------------------------------------------------- storage and resuming


def test_interrupted_experiment_resumes_with_only_missing_tasks(tmp_path: Path,
                                                                reference: pd.DataFrame) -> None:
    out = tmp_path / "exp"
    seen: list[str] = []

    def stop_after_two(task: object) -> None:
        seen.append(task.name)  # type: ignore[attr-defined]
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _compare(out, executor=POOL, on_task=stop_after_two)
    before = {p.name: p.stat().st_mtime_ns for p in (out / "tasks").glob("*.parquet")}
    assert 2 <= len(before) < 6
    half = out / "tasks" / ".p001-r0002.parquet.k1ll3d"  # what a killed writer leaves
    half.write_bytes(b"PAR1 half a file")
    rerun: list[str] = []
    run = _compare(out, executor=POOL, on_task=lambda t: rerun.append(t.name))  # type: ignore
    assert run.tasks_run == 6 - len(before)
    assert sorted(rerun + [n.removesuffix(".parquet") for n in before]) == sorted(
        f"p{p:03d}-r{k:04d}" for p in range(2) for k in range(3))
    assert {p.name: p.stat().st_mtime_ns for p in (out / "tasks").glob("*.parquet")
            if p.name in before} == before
    pd.testing.assert_frame_equal(_sorted(load_results(out)), reference)
    assert not half.exists()  # swept once every task was in place
    again = _compare(out, executor=POOL)
    assert again.tasks_run == 0


def test_other_arguments_into_the_same_folder_are_refused(tmp_path: Path) -> None:
    out = tmp_path / "exp"
    _compare(out, reps=2, executor=POOL)
    with pytest.raises(GridLoopError, match="manifest.json: days: expected the same experiment"):
        _compare(out, reps=2, executor=POOL, days=DAYS + 1)
    with pytest.raises(GridLoopError, match="entropy"):
        _compare(out, reps=2, executor=POOL, seed=12)
    with pytest.raises(GridLoopError, match="overrides.*inspectors.count=12"):
        _compare(out, reps=2, executor=POOL, overrides=["inspectors.count=12"])
    m = read_manifest(out)
    assert m["entropy"] == 11 and m["reps"] == 2 and m["days"] == DAYS
    assert {"gridloop", "numpy", "python"} <= set(m["versions"])
    assert all(len(p["digest"]) == 16 for p in m["points"])
    more = _compare(out, reps=3, executor=POOL, seed=None)  # the manifest's seed; one more rep
    assert more.tasks_run == 2 and more.reps == 3


def test_an_edited_scenario_file_is_refused(tmp_path: Path) -> None:
    from sim.data.scenario import SCENARIO_DIR

    text = (SCENARIO_DIR / "small-town.yaml").read_text(encoding="utf-8")
    text = (text.replace("cities/small-town.csv", str(SCENARIO_DIR / "cities/small-town.csv"))
                .replace("handbook/standard.yaml", str(SCENARIO_DIR / "handbook/standard.yaml")))
    town = tmp_path / "town.yaml"
    town.write_text(text, encoding="utf-8")
    run_compare(["small-town", str(town)], reps=2, days=1, seed=1, out=tmp_path / "e",
                executor=POOL)
    town.write_text(text.replace("per_day: 100", "per_day: 120"), encoding="utf-8")
    with pytest.raises(GridLoopError, match="point 'town': scenario content changed"):
        run_compare(["small-town", str(town)], reps=2, days=1, out=tmp_path / "e", executor=POOL)


def test_tables_load_tidy_and_query_with_duckdb(tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    out = tmp_path / "sweep"
    run_sweep("small-town", ["inspectors.count=10,20"], reps=2, days=DAYS, seed=5, out=out,
              executor=POOL)
    kpis = load_results(out)
    assert set(kpis.columns) >= {"point", "label", "scenario", "rep", "seed", "kpi", "value",
                                 "inspectors.count"}
    assert not kpis.duplicated(["point", "rep", "kpi"]).any()
    assert {"closure_rate", "hours_to_close.mean", "cases_filed"} <= set(kpis["kpi"])
    # each department's own figures, for a lever on its crews (docs/levers.md)
    assert {"departments.sanitation.hours_to_close", "departments.sanitation.on_time"} <= \
        set(kpis["kpi"])
    san = kpis[kpis["kpi"] == "departments.sanitation.hours_to_close"]["value"]
    assert (san > 0).all() and (san < kpis[kpis["kpi"] == "hours_to_close.p90"]["value"].max()
                                ).all()
    sql = (f"SELECT point, avg(value) AS v FROM read_parquet('{out}/tasks/*.parquet') "
           "WHERE \"table\" = 'kpi' AND name = 'cases_filed' GROUP BY point ORDER BY point")
    got = duckdb.sql(sql).df()
    want = kpis[kpis["kpi"] == "cases_filed"].groupby("point")["value"].mean()
    assert np.allclose(got["v"], want.to_numpy())
    daily = load_table(out, "daily")
    backlog = daily[(daily["name"] == "backlog")]
    assert sorted(backlog["day"].unique()) == list(range(1, DAYS + 1))
    grid = load_table(out, "grid")
    problems = grid[grid["name"] == "problems"].groupby(["point", "rep"])["value"].sum()
    created = kpis[kpis["kpi"] == "problems_created"].set_index(["point", "rep"])["value"]
    assert (problems.sort_index() == created.sort_index()).all()
    league = load_table(out, "league")
    assert {"departments.score", "subdistricts.rank"} <= set(league["name"])
    table = summarize(out)
    row = table[(table["kpi"] == "cases_filed") & (table["point"] == 0)].iloc[0]
    assert row["low"] <= row["mean"] <= row["high"] and row["n"] == 2


def test_precision_adds_replications_up_to_the_cap(tmp_path: Path) -> None:
    run = _compare(tmp_path / "a", reps=2, executor=POOL, precision=0.0001,
                   precision_kpis=["cases_filed"], max_reps=4)
    assert run.reps == 4 and run.precision_met is False and run.tasks_run == 8
    loose = _compare(tmp_path / "b", reps=2, executor=POOL, precision=0.9,
                     precision_kpis=["problems_created"])
    assert loose.reps == 2 and loose.precision_met is True
    with pytest.raises(GridLoopError, match="--precision-kpi.*no_such_kpi"):
        _compare(tmp_path / "c", reps=2, executor=POOL, precision=0.5,
                 precision_kpis=["no_such_kpi"])


# ---------------------------------------------------------------- CLI and report


def test_cli_sweep_and_self_contained_report(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sweep"
    code = main(["sweep", "small-town", "--vary", "inspectors.count=10,20", "--vary",
                 "departments.sanitation.priority=fifo,deadline", "--reps", "2", "--days",
                 str(DAYS), "--seed", "3",
                 "--workers", "2", "--out", str(out), "--quiet"])
    assert code == 0 and capsys.readouterr().out.strip().endswith(str(out))
    assert main(["report", str(out)]) == 0
    text = (out / "report.html").read_text(encoding="utf-8")
    for section in ("KPIs", "Differences against the baseline", "Steady state (MSER-5)",
                    "Backlog over time", "Maps", "League tables", "Response curves",
                    "Two-parameter heatmap"):
        assert section in text
    assert text.count("data:image/png;base64,") >= 4
    assert "<script" not in text.lower() and "http://" not in text and "https://" not in text
    assert "<link" not in text.lower()
    m = json.loads((out / "manifest.json").read_text())
    assert m["kind"] == "sweep" and len(m["points"]) == 4


def test_cli_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sweep", "small-town", "--vary", "inspectors.count=ten:20", "--reps", "2",
                 "--design", "lhs", "--samples", "3", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("gridloop: --vary: inspectors.count: expected a range")
    code = main(["compare", "small-town", "small-town", "--set", "inspectors.count=-1",
                 "--reps", "2", "--out", str(tmp_path / "y")])
    assert code == 2 and "inspectors.count" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "nothing")]) == 2
    assert "not an experiment folder" in capsys.readouterr().err


def test_write_report_on_a_comparison(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    run_compare(["small-town", "small-town"], reps=2, days=DAYS, seed=2, out=out, executor=POOL,
                overrides=["inspectors.count=10"])
    path = write_report(out, tmp_path / "r.html")
    text = path.read_text(encoding="utf-8")
    assert "small-town (baseline) vs small-town (2)" in text
    assert "Response curves" not in text
    from sim.i18n import use

    with use("zh-CN"):           # the same report in Chinese (issue 16)
        zh = write_report(out, tmp_path / "zh.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in zh and "small-town（基准）对比 small-town (2)" in zh
    for words in ("关键指标", "与基准（small-town）的差异", "积压随时间变化",
                  "排名表（标准综合评价）"):
        assert words in zh, words


def test_kpis_flatten_nested_sections_and_leave_run_metadata_out() -> None:
    from sim.experiment.tasks import flat_kpis

    summary = {"scenario": "x", "seed": 3, "days": 2, "wall_seconds": 0.1, "sim_events": 9,
               "closure_rate": 0.9, "mean_hours_to_discovery": None,
               "hours_to_close": {"mean": 2.0, "p90": None},
               "hotline": {"abandon_rate": 0.02}, "three_rates": {"satisfaction": 0.8}}
    kpis = flat_kpis(summary)
    assert set(kpis) == {"closure_rate", "mean_hours_to_discovery", "hours_to_close.mean",
                         "hours_to_close.p90", "hotline.abandon_rate",
                         "three_rates.satisfaction"}
    assert np.isnan(kpis["hours_to_close.p90"]) and kpis["three_rates.satisfaction"] == 0.8
