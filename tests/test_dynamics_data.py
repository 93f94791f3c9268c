"""The data of issue 11 (stages, planning, capacity, errors, hotline wrap-up and survey) is
validated like every scenario value: the file, the line, the key, what was expected; exit
code 2 and nothing written from the command line.

Each case writes a copy of ``small-town.yaml`` (its grid table and handbook by absolute path)
or of the standard handbook with one thing broken, and checks where the error points.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main
from sim.data.scenario import SCENARIO_DIR, load_scenario
from sim.errors import InputError

SMALL_TOWN = SCENARIO_DIR / "small-town.yaml"
GRIDS = SCENARIO_DIR / "cities" / "small-town.csv"
HANDBOOK = SCENARIO_DIR / "handbook" / "standard.yaml"


def town(handbook: Path = HANDBOOK, append: str = "", swap: tuple[str, str] | None = None
         ) -> str:
    text = SMALL_TOWN.read_text(encoding="utf-8")
    text = (text.replace("grids_file: cities/small-town.csv", f"grids_file: {GRIDS}")
                .replace("file: handbook/standard.yaml", f"file: {handbook}"))
    if swap is not None:
        assert text.count(swap[0]) == 1, swap[0]
        text = text.replace(*swap)
    return text + append


def line_no(text: str, needle: str) -> int:
    hits = [i for i, ln in enumerate(text.splitlines(), 1) if needle in ln]
    assert len(hits) == 1, (needle, hits)
    return hits[0]


def located(tmp_path: Path, text: str, name: str = "town.yaml") -> tuple[Path, InputError]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_scenario(path)
    return path, info.value


WATER = "water:       {crews: 1, hours: [\"00:00\", \"24:00\"], name_zh: 水务, extension_rate: 0}"


@pytest.mark.parametrize(
    ("new", "needle", "path", "says"),
    [
        pytest.param("water:\n    crews: 1\n    overtime: {max_hours: -2}", "max_hours",
                     "departments.water.overtime.max_hours", "greater than or equal to 0",
                     id="overtime-negative"),
        pytest.param("water:\n    crews: 1\n    overtime: {max_hours: 2, after: 3}", "after",
                     "departments.water.overtime.after", "unknown key", id="overtime-unknown"),
        pytest.param("water:\n    crews: 1\n    borrowing: {max_crews: 1.5}", "max_crews",
                     "departments.water.borrowing.max_crews", "a whole number",
                     id="borrow-fraction"),
        pytest.param("water:\n    crews: 1\n    triage: {backlog_hours: soon}", "backlog",
                     "departments.water.triage.backlog_hours", "got 'soon'",
                     id="triage-type"),
        pytest.param("water:\n    crews: 1\n    slack_use: 1.5", "slack_use",
                     "departments.water.slack_use", "less than or equal to 1",
                     id="slack-above-one"),
        pytest.param("water:\n    crews: 1\n    quality_slip: -0.1", "quality_slip",
                     "departments.water.quality_slip", "greater than or equal to 0",
                     id="slip-negative"),
        pytest.param("water:\n    crews: 1\n    max_extensions: two", "max_extensions",
                     "departments.water.max_extensions", "a whole number", id="extensions"),
        pytest.param("water:\n    crews: 1\n    lend_share: 1.5", "lend_share",
                     "departments.water.lend_share", "less than or equal to 1",
                     id="lend-share-above-one"),
    ],
)
def test_department_keys_are_located(tmp_path: Path, new: str, needle: str, path: str,
                                     says: str) -> None:
    text = town(swap=(WATER, new))
    file, err = located(tmp_path, text)
    assert (err.file, err.line, err.path) == (str(file), line_no(text, needle), path), str(err)
    assert says in err.message
    assert str(err).startswith(f"{file}:{err.line}: {path}: expected ")


@pytest.mark.parametrize(
    ("lenders", "got"),
    [("[sewage]", "'sewage'"), ("[water]", "'water'")],  # unknown; itself
)
def test_lenders_are_other_departments(tmp_path: Path, lenders: str, got: str) -> None:
    text = town(swap=(WATER, f"water:\n    crews: 1\n    borrowing:\n      lenders: {lenders}"
                             "\n      max_crews: 1"))
    file, err = located(tmp_path, text)
    assert (err.file, err.line, err.path) == (
        str(file), line_no(text, "lenders:"), "departments.water.borrowing.lenders.0")
    assert err.message.startswith("expected another of the scenario's departments")
    assert err.message.endswith(f"got {got}") and "municipal" in err.message


@pytest.mark.parametrize(
    ("append", "needle", "path", "says"),
    [
        ("hotline:\n  after_call_seconds: {dist: lognormal, mean: 30}\n", "after_call",
         "hotline.after_call_seconds", "needs cv"),
        ("hotline:\n  order_seconds: {dist: uniform, mean: 30}\n", "order_seconds",
         "hotline.order_seconds.dist", "one of 'exponential'"),
        ("hotline:\n  survey: {per_rework: -0.1}\n", "survey", "hotline.survey.per_rework",
         "greater than or equal to 0"),
        ("hotline:\n  survey: {kindness: 1}\n", "survey", "hotline.survey.kindness",
         "unknown key"),
        ("hotline:\n  backstop_resolve: 1.2\n", "backstop_resolve", "hotline.backstop_resolve",
         "less than or equal to 1"),
        ("whistle:\n  crews: borrowed\n", "crews: borrowed", "whistle.crews",
         "one of 'extra' or 'own'"),
        ("evaluation:\n  stakes: 2\n", "stakes", "evaluation.stakes", "less than or equal to 1"),
        ("citizens:\n  repeat_window_minutes: -1\n", "repeat_window", "citizens.repeat_window_"
         "minutes", "greater than or equal to 0"),
        ("citizens:\n  repeat_growth_per_day: fast\n", "repeat_growth", "citizens.repeat_"
         "growth_per_day", "expected a number"),
        ("inspectors:\n  count: 20\n  report_minutes: {dist: lognormal, mean: 3}\n",
         "report_minutes", "inspectors.report_minutes", "needs cv"),
        ("inspectors:\n  count: 20\n  fix_minutes: 5\n", "fix_minutes",
         "inspectors.fix_minutes", "expected"),
    ],
)
def test_other_new_keys_are_located(tmp_path: Path, append: str, needle: str, path: str,
                                    says: str) -> None:
    text = town(append=append)
    file, err = located(tmp_path, text)
    assert (err.file, err.line, err.path) == (str(file), line_no(text, needle), path), str(err)
    assert says in err.message


def handbook_with(tmp_path: Path, code: str, old: str, new: str) -> tuple[Path, str]:
    """The standard handbook with the first line of row ``code`` starting with ``old``
    (stripped) replaced by ``new``."""
    lines = HANDBOOK.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(i for i, ln in enumerate(lines) if ln.strip() == f"- code: {code}")
    at = next(i for i in range(start, len(lines)) if lines[i].strip().startswith(old))
    lines[at] = new
    path = tmp_path / "handbook.yaml"
    text = "".join(lines)
    path.write_text(text, encoding="utf-8")
    return path, text


@pytest.mark.parametrize(
    ("old", "new", "needle", "key"),
    [
        ("- {name: set cover", "      - {name: set cover, work: crew, department: plumbing, "
         "hours: {dist: exponential, mean: 2}}\n", "plumbing", "stages.2.department"),
        ("dispatch_alternates:", "    dispatch_alternates: {municipal: 1, sewage: 2}\n",
         "sewage", "dispatch_alternates.sewage"),
    ],
)
def test_handbook_departments_must_be_the_scenarios(tmp_path: Path, old: str, new: str,
                                                    needle: str, key: str) -> None:
    hb, hb_text = handbook_with(tmp_path, "C01-02", old, new)
    _, err = located(tmp_path, town(handbook=hb))
    index = [s.strip() for s in hb_text.splitlines() if s.startswith("  - code: ")].index(
        "- code: C01-02")
    assert (err.file, err.line, err.path) == (
        str(hb.resolve()), line_no(hb_text, needle), f"subclasses.{index}.{key}"), str(err)
    assert "expected one of the scenario's departments" in err.message


def test_bad_stage_table_exits_2_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hb, hb_text = handbook_with(tmp_path, "C01-02", "- {name: cover", "      - {name: no reason, "
                                "work: wait, hours: {dist: exponential, mean: 8}}\n")
    path = tmp_path / "town.yaml"
    path.write_text(town(handbook=hb), encoding="utf-8")
    out = tmp_path / "run"
    code = main(["run", str(path), "--days", "1", "--out", str(out), "--quiet"])
    _, err = capsys.readouterr()
    assert code == 2
    line = line_no(hb_text, "name: no reason")
    assert err.startswith(f"gridloop: {hb.resolve()}:{line}: subclasses.")
    assert ".stages.1.waits_for: expected what a wait stage waits for" in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


def test_bad_overtime_set_exits_2_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    code = main(["run", "small-town", "--days", "1", "--out", str(out), "--quiet",
                 "--set", "departments.water.overtime.max_hours=lots"])
    _, err = capsys.readouterr()
    assert code == 2
    assert err == ("gridloop: --set: departments.water.overtime.max_hours: expected a number,"
                   " got 'lots' (str)\n")
    assert not out.exists()
