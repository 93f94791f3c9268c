"""A command line a careful user cannot misread: errors located at the flag that made them,
suggestions for typos, --version, help with an example for every argument, tables that fit
the terminal and say what they leave out, and --format csv|json for scripts.

Experiments here are small-town for 2 days with 2 replications on one shared worker.
"""

from __future__ import annotations

import argparse
import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from sim.cli import main
from sim.cli.commands import _parser
from sim.cli.tables import Column, print_fitted, print_league
from sim.data.scenario import load_scenario
from sim.errors import InputError, did_you_mean
from sim.experiment import LocalPool, run_sweep
from sim.experiment.cli import print_results

POOL = LocalPool(1)


@pytest.fixture(scope="module", autouse=True)
def _close_pool() -> object:
    yield
    POOL.close()


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------- errors where they were made


def test_a_typo_in_set_is_reported_against_the_flag(capsys: pytest.CaptureFixture[str],
                                                   tmp_path: Path) -> None:
    code, _, err = run_cli(capsys, "run", "small-town", "--set", "inspector.count=3",
                           "--out", str(tmp_path / "r"))
    assert code == 2
    assert err.startswith("gridloop: --set: inspector: expected one of ")
    assert "small-town.yaml" not in err
    assert err.rstrip().endswith("got unknown key 'inspector' (did you mean 'inspectors'?)")


def test_a_typo_below_a_section_is_suggested(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "validate", "small-town", "--set", "inspectors.cuont=3")
    assert code == 2 and err.startswith("gridloop: --set: inspectors.cuont: ")
    assert "(did you mean 'count'?)" in err
    code, _, err = run_cli(capsys, "validate", "small-town", "--set",
                           "departments.sanitaton.crews=3")
    assert code == 2 and "(did you mean 'sanitation'?)" in err


def test_set_inside_a_value_is_reported_against_the_flag() -> None:
    with pytest.raises(InputError) as e:
        load_scenario("small-town", ["inspectors.count.x=3"], flags={})
    assert e.value.file == "--set" and e.value.path == "inspectors.count"


@pytest.mark.parametrize(("vary", "path"), [("inspector.count=1,2", "inspector"),
                                            ("inspectors.count=a,b", "inspectors.count")])
def test_mistakes_in_vary_are_reported_as_vary(vary: str, path: str, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "sweep", "small-town", "--vary", vary, "--reps", "2",
                           "--out", str(tmp_path / "x"))
    assert code == 2
    assert err.startswith(f"gridloop: --vary: {path}: "), err
    assert not (tmp_path / "x").exists()   # nothing was started


def test_a_rule_set_typo_in_set_is_reported_against_the_flag(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run_cli(capsys, "evaluate", str(tmp_path), "--set", "paramters.w=1")
    assert code == 2
    assert err.startswith("gridloop: --set: paramters: ")
    assert "(did you mean 'parameters'?)" in err


def test_names_get_did_you_mean(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for argv, hint in ((["run", "smal-town"], "'small-town'"),
                       (["validate", "governance/whistel"], "'governance/whistle'"),
                       (["evaluate", str(tmp_path), "--rules", "standrd"], "'standard'"),
                       (["exercises", "rainstorm"], "'rainstorm-dispatch'")):
        code, _, err = run_cli(capsys, *argv)
        assert code == 2 and f"(did you mean {hint}" in err, (argv, err)


@pytest.mark.parametrize(("argv", "hint"), [
    (["rnu", "small-town"], "'run'"),
    (["run", "small-town", "--dyas", "3"], "'--days'"),
    (["evaluate", "runs/first", "--period", "wek"], "'week'"),
    (["users", "ad", "x"], "'add'"),
])
def test_commands_options_and_choices_get_did_you_mean(argv: list[str], hint: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    assert f"(did you mean {hint}?)" in capsys.readouterr().err


def test_did_you_mean_is_silent_when_nothing_is_close() -> None:
    assert did_you_mean("zzzz", ["run", "validate"]) == ""
    assert did_you_mean("valdate", ["run", "validate"]) == " (did you mean 'validate'?)"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert re.fullmatch(r"gridloop \S+( \(commit [0-9a-f]{12}\))?\n", capsys.readouterr().out)


def _arguments(parser: argparse.ArgumentParser, name: str = "gridloop"):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, p in action.choices.items():
                yield from _arguments(p, f"{name} {sub}")
        elif not isinstance(action, argparse._HelpAction):
            yield name, action


def test_every_argument_has_help_with_an_example() -> None:
    missing = []
    for name, action in _arguments(_parser()):
        label = f"{name} {'/'.join(action.option_strings) or action.dest}"
        text = action.help or ""
        if not text:
            missing.append(f"{label}: no help")
        elif action.nargs != 0 and not action.choices and "e.g." not in text:
            missing.append(f"{label}: no example (e.g. ...) in {text!r}")
    assert not missing, "\n".join(missing)


# ---------------------------------------------------------------- --out of experiments


def test_experiment_out_is_checked_before_any_work(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "summary.json").write_text("{}")
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    for out, expected in ((run, "expected a new or empty folder"),
                          (a_file, "got a file"),
                          (Path("/proc/gridloop-x"), "cannot")):
        code, _, err = run_cli(capsys, "sweep", "no-such-scenario", "--vary",
                               "inspectors.count=1,2", "--out", str(out))
        assert code == 2, err
        assert err.startswith(f"gridloop: --out {out}: ") and expected in err, err
        assert "Traceback" not in err
    assert sorted(p.name for p in run.iterdir()) == ["summary.json"]


def test_report_out_is_checked(lhs: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    for out, expected in ((tmp_path, "expected an HTML file to write, got a folder"),
                          (Path("/proc/gridloop-x/r.html"), "cannot write in")):
        code, _, err = run_cli(capsys, "report", str(lhs), "--out", str(out))
        assert code == 2 and err.startswith(f"gridloop: --out {out}: ") and expected in err
        assert "Traceback" not in err


# ---------------------------------------------------------------- tables that fit


def _console(width: int = 80) -> Console:
    return Console(width=width, file=io.StringIO(), color_system=None, legacy_windows=False)


def test_a_wide_table_is_split_not_cut_and_names_stay_whole() -> None:
    console = _console(60)
    names = ["Yongdingmenwai", "Chongwenmenwai", "Tiyuguan Road"]
    index = [Column("name", "name", names)]
    values = [Column(f"indicator_number_{i}", f"ind {i}", [f"{i}.{j}%" for j in range(3)])
              for i in range(12)]
    print_fitted(console, "Many indicators", index, values)
    text = console.file.getvalue()
    assert all(len(line) <= 60 for line in text.splitlines())
    assert "…" not in text
    for n in names:
        assert text.count(n) == text.count("Many indicators")   # repeated in every part
    assert "(1 of " in text
    for i in range(12):
        assert f"ind {i} = indicator_number_{i}" in " ".join(text.split())


def test_an_eleven_row_league_table_shows_every_row() -> None:
    df = pd.DataFrame({"rank": range(1, 12), "name": [f"department {i}" for i in range(11)],
                       "closure_rate": [0.9] * 11, "score": [80.0] * 11, "grade": ["B"] * 11})
    console = _console()
    print_league(console, "Departments", df, ["closure_rate"], top=10)
    text = console.file.getvalue()
    assert all(f"department {i}" in text for i in range(11))
    assert "left out" not in text
    console = _console()
    print_league(console, "Departments", pd.concat([df] * 3, ignore_index=True), ["closure_rate"],
                 top=10)
    text = " ".join(console.file.getvalue().split())
    assert "23 of 33 rows left out" in text and "--top 0 prints all" in text


@pytest.fixture(scope="module")
def lhs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lhs") / "exp"
    run_sweep("small-town", ["inspectors.count=10:40", "centre.dispatchers=1:3"], reps=2,
              out=out, design="lhs", samples=12, days=2, seed=4, executor=POOL)
    return out


def test_an_lhs_sweep_shows_every_point_sorted_at_80_columns(lhs: Path) -> None:
    console = _console()
    print_results(console, lhs)
    text = console.file.getvalue()
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "…" not in text
    counts = [int(m.group(1)) for m in re.finditer(r"^(\d+)\s+\d+\s+\d", text, re.M)]
    first_part = counts[: len(counts) // text.count("KPIs by")]
    assert len(first_part) == 12 and first_part == sorted(first_part)
    assert "h to close = hours_to_close.mean" in " ".join(text.split())


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_format_for_scripts_has_every_point_and_kpi(lhs: Path, fmt: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    print_results(_console(), lhs, fmt)
    out = capsys.readouterr().out
    frame = pd.read_csv(io.StringIO(out)) if fmt == "csv" else pd.DataFrame(json.loads(out))
    assert frame["point"].nunique() == 12
    assert {"closure_rate", "hours_to_close.mean"} <= set(frame["kpi"])
    assert {"mean", "half_width", "low", "high", "inspectors.count"} <= set(frame.columns)


def test_run_and_evaluate_format_json_print_only_json(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "run", "small-town", "--days", "1", "--out",
                             str(tmp_path / "r"), "--no-figure", "--format", "json")
    assert code == 0
    assert json.loads(out)["scenario"] == "small-town" and "simulated" in err
    code, out, _ = run_cli(capsys, "evaluate", str(tmp_path / "r"), "--format", "csv")
    assert code == 0
    table = pd.read_csv(io.StringIO(out))
    assert {"departments", "subdistricts"} <= set(table["kind"])


# ---------------------------------------------------------------- reduced size


def test_reduced_size_knobs_cap_runs_and_say_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GRIDLOOP_MAX_DAYS", "2")
    monkeypatch.setenv("GRIDLOOP_MAX_REPS", "2")
    assert load_scenario("small-town").days == 2
    assert load_scenario("small-town", days=1).days == 1
    assert load_scenario("small-town", cap_days=False).days == 30
    run = run_sweep("small-town", ["inspectors.count=10,20"], reps=5, out=tmp_path / "s",
                    days=9, seed=1, executor=POOL)
    assert run.reps == 2 and run.tasks_total == 4
    code, _, err = run_cli(capsys, "validate", "small-town")
    assert code == 0
    assert "GRIDLOOP_MAX_DAYS=2: every run lasts at most 2 days" in err
    monkeypatch.setenv("GRIDLOOP_MAX_DAYS", "two")
    code, _, err = run_cli(capsys, "validate", "small-town")
    assert code == 2 and "GRIDLOOP_MAX_DAYS: expected a whole number of days >= 1, got 'two'" \
        in err


def test_precision_not_reached_names_the_kpis_that_held_it_back(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "compare", "small-town", "small-town", "--days", "2",
                           "--reps", "2", "--max-reps", "3", "--precision", "0.0001",
                           "--workers", "1", "--seed", "1", "--out", str(tmp_path / "p"))
    text = " ".join(out.split())
    assert code == 0
    assert re.search(r"precision not reached within --max-reps 3: [a-z_.0-9]+ \+-[\d.]+% at "
                     r"small-town", text), text
    assert "name the KPIs that matter with --precision-kpi" in text


def test_a_reader_that_stops_early_gets_no_traceback() -> None:
    """`gridloop schema | head -1`: the pipe closes before gridloop writes; it stops quietly
    with the shell's SIGPIPE status instead of two BrokenPipeError tracebacks."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "schema"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first write
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait() == 141, err
    assert "Traceback" not in err and "BrokenPipe" not in err, err
