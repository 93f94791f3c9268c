"""`gridloop evaluate`: league tables of a run folder (or any log in the documented schema)
under each preset and period, written as CSV and Parquet; bad rule files exit 2 with a
located one-line error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim.cli import main
from sim.rules import load_rules

ROOT = Path(__file__).resolve().parent.parent
PRESET_UNITS = {
    "standard": ["departments", "subdistricts", "inspectors", "acceptors", "shift_leaders",
                 "dispatchers"],
    "points-deduction": ["departments", "subdistricts"],
    "subdistrict": ["subdistricts", "communities"],
    "three-rates": ["departments", "subdistricts"],
}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "small"
    assert main(["run", "small-town", "--days", "3", "--out", str(out), "--quiet",
                 "--no-figure"]) == 0
    return out


def evaluate(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["evaluate", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("preset", sorted(PRESET_UNITS))
@pytest.mark.parametrize("period, labels", [("month", ["2026-03"]), ("week", ["2026-W10"]),
                                            ("all", ["all"])])
def test_each_preset_and_period(run_dir: Path, tmp_path: Path, preset: str, period: str,
                                labels: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = evaluate(capsys, str(run_dir), "--rules", preset, "--period", period,
                              "--out", str(tmp_path))
    assert (code, err) == (0, "")
    folder = tmp_path / "evaluation"
    assert f"under {preset}, by {period}" in out and str(folder) in out.replace("\n", "")
    rules = load_rules(preset)
    for kind in PRESET_UNITS[preset]:
        csv = pd.read_csv(folder / f"{kind}.csv", dtype={"name": str, "period": str})
        table = pd.read_parquet(folder / f"{kind}.parquet")
        assert table["period"].unique().tolist() == labels
        assert table.columns[:5].tolist() == ["period", "period_start_min", "period_end_min",
                                              "unit", "name"]
        assert {i.name for i in rules.units[kind].indicators} <= set(table.columns)
        assert table["score"].between(0, 100).all() and not table.isna().any().any()
        assert set(table["grade"]) <= set("ABCDE")
        pd.testing.assert_series_equal(csv["score"], table["score"], check_exact=False)
        assert csv["name"].tolist() == table["name"].tolist()
    written = sorted(p.name for p in folder.iterdir())
    assert written == sorted(["evaluation.json"] + [f"{k}.{ext}" for k in PRESET_UNITS[preset]
                                                    for ext in ("csv", "parquet")])
    manifest = json.loads((folder / "evaluation.json").read_text())
    assert (manifest["rules"], manifest["period"], manifest["periods"]) == (preset, period,
                                                                            labels)
    assert manifest["start_date"] == "2026-03-02" and manifest["horizon_min"] == 3 * 1440.0


def test_default_writes_into_the_run_and_matches_the_run(run_dir: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    from sim.data.scenario import load_scenario
    from sim.run import simulate

    code, out, _ = evaluate(capsys, str(run_dir), "--period", "all", "--quiet")
    assert code == 0 and out == f"{run_dir / 'evaluation'}\n"
    live = simulate(load_scenario("small-town", days=3)).evaluation()
    for kind, table in live.items():
        saved = pd.read_parquet(run_dir / "evaluation" / f"{kind}.parquet")
        assert np.array_equal(saved["score"].to_numpy(), table["score"].to_numpy()), kind
        assert saved["rank"].tolist() == table["rank"].tolist()


def test_league_tables_are_printed(run_dir: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = evaluate(capsys, str(run_dir), "--out", str(tmp_path), "--top", "4")
    assert code == 0
    for title in ("Departments: standard, 2026-03", "Subdistricts: standard, 2026-03",
                  "Dispatchers: standard, 2026-03"):
        assert title in out
    assert "7 of 11 rows left out" in out       # 11 departments, 4 shown, and how to see all
    assert "--top 0 prints all" in " ".join(out.split())


def test_scenario_names_the_areas(run_dir: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = evaluate(capsys, str(run_dir), "--rules", "subdistrict", "--scenario",
                          "small-town", "--out", str(tmp_path), "--quiet")
    assert code == 0
    subs = pd.read_parquet(tmp_path / "evaluation" / "subdistricts.parquet")
    assert subs["name"].tolist() == ["Old Town", "Riverside", "Station"]


def test_parameters_and_start_date(run_dir: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = evaluate(capsys, str(run_dir), "--rules", "three-rates", "--out",
                          str(tmp_path), "--set", "parameters.w_response=0.5", "--set",
                          "parameters.w_resolution=0.25", "--set",
                          "parameters.w_satisfaction=0.25", "--start-date", "2026-02-27",
                          "--quiet")
    assert code == 0
    manifest = json.loads((tmp_path / "evaluation" / "evaluation.json").read_text())
    assert manifest["parameters"]["w_response"] == 0.5
    assert manifest["periods"] == ["2026-02", "2026-03"]


def plain_copy(run_dir: Path, dest: Path) -> Path:
    """The run's log as a real city might export it: plain strings, no summary.json."""
    table = pq.read_table(run_dir / "events.parquet")
    cols = {name: (table.column(name).cast(pa.string())
                   if pa.types.is_dictionary(table.column(name).type) else table.column(name))
            for name in table.column_names}
    dest.mkdir()
    pq.write_table(pa.table(cols), dest / "events.parquet")
    return dest


def test_a_plain_export_without_a_run_folder(run_dir: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    city = plain_copy(run_dir, tmp_path / "city")
    code, out, err = evaluate(capsys, str(city / "events.parquet"), "--period", "week")
    assert (code, err) == (0, "")
    assert "no summary.json days" in out
    deps = pd.read_parquet(city / "evaluation" / "departments.parquet")
    assert deps["period"].unique().tolist() == ["W01"]         # no start date: 7-day blocks
    assert deps["filed"].sum() > 0
    names = sorted(pd.read_parquet(run_dir / "events.parquet")["department"].dropna().unique())
    assert sorted(deps["name"]) == names                       # departments seen in the log


def test_bad_rules_file_is_a_located_error(run_dir: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nunits:\n  departments:\n    indicators:\n"
                   "      - name: r\n        formula: ratio(closed, fild, 1)\n"
                   "        weight: 1\n", encoding="utf-8")
    code, out, err = evaluate(capsys, str(run_dir), "--rules", str(bad), "--out",
                              str(tmp_path / "o"))
    assert code == 2 and out == ""
    assert err == (f"gridloop: {bad}:6: units.departments.indicators.0.formula: unknown name "
                   f"'fild' (did you mean 'filed'?) at column 15 of "
                   f"'ratio(closed, fild, 1)'\n")
    assert not (tmp_path / "o").exists()
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "evaluate", str(run_dir),
                           "--rules", str(bad)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"gridloop: {bad}:6: ")


@pytest.mark.parametrize("argv, message", [
    (["--rules", "atlantis"], "gridloop: atlantis: no such file or bundled rule set"),
    (["--set", "parameters.w=1"], "gridloop: --set: parameters.w: expected one of the rule "
                                  "set's parameters (none), got 'w'"),
    (["--rules", "three-rates", "--set", "parameters.w_response=0.9"],
     "expected weights summing to 1, got 1.6"),
])
def test_bad_options_exit_2(run_dir: Path, argv: list[str], message: str,
                            capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = evaluate(capsys, str(run_dir), *argv)
    assert code == 2 and message in err and len(err.splitlines()) == 1


def test_missing_run_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = evaluate(capsys, str(tmp_path / "nowhere"))
    assert code == 2 and f"gridloop: {tmp_path / 'nowhere'}: no such file" in err
    with pytest.raises(SystemExit) as info:
        main(["evaluate", str(tmp_path), "--period", "fortnight"])
    assert info.value.code == 2
    with pytest.raises(SystemExit):
        main(["evaluate", str(tmp_path), "--start-date", "March"])
