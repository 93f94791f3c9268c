"""The `gridloop` command line: run, validate and schema, and one-line errors with exit code 2.

Most tests call `sim.cli.main` in-process; one runs ``python -m sim.cli`` in a subprocess to
check what a user really sees for a bad file: exit status 2, a single ``gridloop: FILE:LINE:``
line on stderr and no traceback.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.data.scenario import SCENARIO_DIR

ROOT = Path(__file__).resolve().parent.parent
GRIDS = SCENARIO_DIR / "cities" / "small-town.csv"
HANDBOOK = SCENARIO_DIR / "handbook" / "standard.yaml"

SUMMARY_KEYS = {
    "scenario", "seed", "days", "problems_created", "problems_fixed", "cases_filed",
    "cases_closed", "cases_open_at_end", "share_found_by_inspectors", "events_share",
    "discovery_rate", "mean_hours_to_discovery", "on_time_handling_rate", "rework_rate",
    "closure_rate", "hours_to_close", "sim_events", "wall_seconds",
}


def bad_scenario(tmp_path: Path) -> tuple[Path, int]:
    """A copy of small-town with a wrong type for inspectors.count; returns it and the line."""
    text = (SCENARIO_DIR / "small-town.yaml").read_text(encoding="utf-8")
    text = (text.replace("grids_file: cities/small-town.csv", f"grids_file: {GRIDS}")
                .replace("file: handbook/standard.yaml", f"file: {HANDBOOK}"))
    assert text.count("count: 20 ") == 1
    text = text.replace("count: 20 ", "count: many ")
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if "count: many" in ln)
    return path, line


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------- errors


def test_bad_file_in_a_subprocess(tmp_path: Path) -> None:
    path, line = bad_scenario(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "validate", str(path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert lines == [f"gridloop: {path}:{line}: inspectors.count: "
                     "expected a whole number, got 'many' (str)"]


def test_bad_file_in_process(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, line = bad_scenario(tmp_path)
    for argv in (["validate", str(path)], ["run", str(path), "--days", "1", "--quiet"]):
        code, out, err = run_cli(capsys, *argv)
        assert code == 2
        assert err.splitlines() == [f"gridloop: {path}:{line}: inspectors.count: "
                                    "expected a whole number, got 'many' (str)"]
        assert "Traceback" not in err


def test_bad_set_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run_cli(capsys, "run", "small-town", "--days", "1", "--out",
                             str(tmp_path / "r"), "--set", "inspectors.count=many", "--quiet")
    assert code == 2
    assert err == "gridloop: --set: inspectors.count: expected a whole number, got 'many' (str)\n"
    assert not (tmp_path / "r").exists()  # nothing was run or written


def test_unknown_set_key_is_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "validate", "small-town", "--set", "inspectors.colour=3")
    assert code == 2
    assert err.startswith("gridloop: --set: inspectors.colour: expected one of ")
    assert len(err.splitlines()) == 1


def test_missing_scenario(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run_cli(capsys, "validate", str(tmp_path / "nope.yaml"))
    assert code == 2
    assert err == f"gridloop: {tmp_path / 'nope.yaml'}: no such file\n"
    code, _, err = run_cli(capsys, "run", "atlantis", "--quiet")
    assert code == 2 and err.startswith("gridloop: atlantis: no such file or bundled scenario")


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["run", "--days", "three"])
    assert info.value.code == 2
    assert "invalid int value" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2


# ---------------------------------------------------------------- validate and schema


@pytest.mark.parametrize(("name", "grids"), [("dongcheng", 2322), ("small-town", 120)])
def test_validate_bundled(name: str, grids: int, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "validate", name)
    assert (code, err) == (0, "")
    assert out.startswith(f"{name}: ok ({name}: {grids} grids,")
    assert "11 departments" in out


def test_validate_a_file_with_set(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(SCENARIO_DIR / "small-town.yaml")
    code, out, _ = run_cli(capsys, "validate", path, "--set", "inspectors.count=10")
    assert code == 0 and out.startswith(f"{path}: ok (small-town:")


def test_schema_is_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "schema")
    assert (code, err) == (0, "")
    schema = json.loads(out)
    assert schema["type"] == "object" and schema["title"] == "Scenario"
    props = schema["properties"]
    for key in ("inspectors", "departments", "centre", "calendar", "problems", "handbook"):
        assert key in props
    assert {"name", "city", "handbook", "problems", "inspectors", "centre",
            "departments"} <= set(schema["required"])
    inspectors = schema["$defs"]["InspectorsSpec"]
    assert inspectors["additionalProperties"] is False
    assert inspectors["properties"]["count"]["minimum"] == 0


# ---------------------------------------------------------------- run


def test_run_writes_the_run_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "run"
    code, out, err = run_cli(capsys, "run", "small-town", "--days", "2", "--out", str(out_dir),
                             "--set", "inspectors.count=10", "--quiet")
    assert (code, err) == (0, "")
    assert out.strip() == str(out_dir)  # --quiet prints only where results went
    for name in ("events.parquet", "cases.parquet", "problems.parquet", "summary.json",
                 "overview.png"):
        assert (out_dir / name).is_file() and (out_dir / name).stat().st_size > 0, name
    assert (out_dir / "overview.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    summary = json.loads((out_dir / "summary.json").read_text())
    assert SUMMARY_KEYS <= set(summary)
    assert set(summary["hours_to_close"]) >= {"mean", "median", "p90"}
    assert (summary["scenario"], summary["seed"], summary["days"]) == ("small-town", 7, 2)
    assert summary["problems_created"] > 0 and summary["cases_filed"] > 0
    assert summary["problems_fixed"] <= summary["problems_created"]
    assert summary["cases_closed"] + summary["cases_open_at_end"] <= summary["cases_filed"]
    for key in ("share_found_by_inspectors", "events_share", "discovery_rate",
                "on_time_handling_rate", "rework_rate", "closure_rate"):
        assert 0 <= summary[key] <= 1, key
    h = summary["hours_to_close"]
    assert 0 < h["median"] <= h["p90"]

    problems = pd.read_parquet(out_dir / "problems.parquet")
    assert len(problems) == summary["problems_created"]
    cases = pd.read_parquet(out_dir / "cases.parquet")
    assert len(cases) >= summary["cases_filed"]
    events = pd.read_parquet(out_dir / "events.parquet")
    assert len(events) > len(cases)


def test_run_is_reproducible_and_seed_matters(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    def created(tag: str, *extra: str) -> dict:
        out_dir = tmp_path / tag
        code, _, _ = run_cli(capsys, "run", "small-town", "--days", "1", "--out", str(out_dir),
                             "--no-figure", "--quiet", *extra)
        assert code == 0
        assert not (out_dir / "overview.png").exists()
        return json.loads((out_dir / "summary.json").read_text())

    a, b, c = created("a"), created("b"), created("c", "--seed", "8")
    assert a["problems_created"] == b["problems_created"] and a["sim_events"] == b["sim_events"]
    assert c["seed"] == 8
    assert (c["problems_created"], c["sim_events"]) != (a["problems_created"], a["sim_events"])


def test_rate_scale_lever_shows_in_a_run(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """problems.rate_scale=2 doubles the problem rate.

    Over 3 days small-town makes ~330 problems (per_day 100, weekday factor 1.05, plus a few
    recurrences), so the counts are roughly Poisson(330) and Poisson(660): the ratio has a
    standard deviation of about 2 * sqrt(1/330 + 1/660) ~ 0.13. Seeds 1-5 gave 1.86-2.07.
    Accepting 1.6-2.4 is three standard deviations either way, while a lever that did nothing
    (ratio 1) or was applied twice (ratio 4) fails.
    """
    counts = {}
    for scale in ("1", "2"):
        out_dir = tmp_path / f"scale{scale}"
        code, _, _ = run_cli(capsys, "run", "small-town", "--days", "3", "--out", str(out_dir),
                             "--set", f"problems.rate_scale={scale}", "--no-figure", "--quiet")
        assert code == 0
        counts[scale] = json.loads((out_dir / "summary.json").read_text())["problems_created"]
    assert 250 < counts["1"] < 420
    assert 1.6 < counts["2"] / counts["1"] < 2.4, counts
