"""Scenario files load into frozen models, levers work with ``--set``, and bad input is located.

Part one loads the bundled scenarios. Part two writes a copy of ``small-town.yaml`` (with its
grid table and handbook named by absolute path, so the copy resolves from ``tmp_path``), breaks
one thing, and checks that `load_scenario` raises an `InputError` naming the file, the exact
line (found by searching the broken text, so the check is exact but survives edits to the
bundled file) and the key path. Part three covers every planner's lever as a ``--set`` key.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from sim.data.scenario import (
    SCENARIO_DIR,
    Scenario,
    apply_overrides,
    bundled_scenarios,
    load_scenario,
    parse_overrides,
)
from sim.errors import GridLoopError, InputError

SMALL_TOWN = SCENARIO_DIR / "small-town.yaml"
GRIDS = SCENARIO_DIR / "cities" / "small-town.csv"
HANDBOOK = SCENARIO_DIR / "handbook" / "standard.yaml"


def small_town_text() -> str:
    """small-town.yaml with its two file references made absolute."""
    text = SMALL_TOWN.read_text(encoding="utf-8")
    assert "grids_file: cities/small-town.csv" in text
    assert "file: handbook/standard.yaml" in text
    return (text.replace("grids_file: cities/small-town.csv", f"grids_file: {GRIDS}")
                .replace("file: handbook/standard.yaml", f"file: {HANDBOOK}"))


def line_no(text: str, needle: str) -> int:
    """1-based number of the only line of ``text`` containing ``needle``."""
    hits = [i for i, ln in enumerate(text.splitlines(), 1) if needle in ln]
    assert len(hits) == 1, f"{needle!r} on lines {hits}"
    return hits[0]


def swap(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def write(tmp_path: Path, text: str, name: str = "town.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path, **kw: object) -> InputError:
    with pytest.raises(InputError) as info:
        load_scenario(path, **kw)  # type: ignore[arg-type]
    return info.value


def assert_located(err: InputError, file: Path, line: int | None, path: str) -> None:
    assert (err.file, err.line, err.path) == (str(file), line, path), str(err)
    where = f"{file}:{line}" if line is not None else str(file)
    assert str(err).startswith(f"{where}: {path}: " if path else f"{where}: "), str(err)
    assert "\n" not in str(err)


# ---------------------------------------------------------------- the bundled scenarios


def test_both_scenarios_are_bundled() -> None:
    assert {"dongcheng", "small-town", "typical-city"} <= set(bundled_scenarios())


@pytest.mark.parametrize("name", ["dongcheng", "small-town", "typical-city"])
def test_bundled_scenario_loads_frozen(name: str) -> None:
    sc = load_scenario(name)
    assert isinstance(sc, Scenario)
    assert sc.name == name
    assert Path(sc.source) == (SCENARIO_DIR / f"{name}.yaml").resolve()
    assert sc.resolve(sc.city.grids_file).is_file()
    assert sc.resolve(sc.handbook.file) == HANDBOOK.resolve()
    with pytest.raises(ValidationError):
        sc.days = 3  # type: ignore[misc]
    with pytest.raises(ValidationError):
        sc.inspectors.count = 1  # type: ignore[misc]
    with pytest.raises(ValidationError):
        sc.departments["water"].crews = 99  # type: ignore[misc]
    assert sc.inspectors.count > 0 and sc.departments["water"].crews > 0


def test_bundled_values_match_the_files() -> None:
    dc, st = load_scenario("dongcheng"), load_scenario("small-town")
    assert (dc.inspectors.count, dc.centre.acceptors, dc.problems.per_day) == (432, 12, 1650)
    assert (dc.calendar.holiday_country, dc.calendar.timezone) == ("CN", "Asia/Shanghai")
    assert (st.seed, st.inspectors.count, st.departments["housing"].days) == (7, 20, "workdays")
    assert st.evaluation.rules == "standard"  # default, absent from the file


def test_scenario_by_path_equals_by_name() -> None:
    assert load_scenario(SMALL_TOWN) == load_scenario("small-town")


def test_unknown_bundled_name_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no such file or bundled scenario") as info:
        load_scenario("atlantis")
    assert "small-town" in str(info.value) and "dongcheng" in str(info.value)


def test_digest_is_stable_and_follows_content() -> None:
    base = load_scenario("small-town").digest()
    assert load_scenario("small-town").digest() == base
    assert len(base) == 16
    assert load_scenario("small-town", ["inspectors.count=21"]).digest() != base
    assert load_scenario("small-town", seed=8).digest() != base
    # same content, same digest: setting a value to what the file says changes nothing
    assert load_scenario("small-town", ["inspectors.count=20"]).digest() == base
    assert load_scenario("dongcheng").digest() != base


def test_copy_with_absolute_paths_loads(tmp_path: Path) -> None:
    sc = load_scenario(write(tmp_path, small_town_text()))
    assert sc.inspectors.count == 20
    assert sc.resolve(sc.city.grids_file) == GRIDS.resolve()


# ---------------------------------------------------------------- bad files, located


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    text = swap(small_town_text(), "  shifts: 2\n", "  shifts: 2\n  colour: blue: green\n")
    path = write(tmp_path, text)
    err = load_error(path)
    assert_located(err, path, line_no(text, "colour: blue: green"), "")
    assert "malformed YAML" in str(err)


def test_unclosed_bracket_is_malformed(tmp_path: Path) -> None:
    text = swap(small_town_text(), "workdays: [mon, tue, wed, thu, fri]",
                'workdays: [mon, tue, "wed, thu, fri]')
    path = write(tmp_path, text)
    err = load_error(path)
    assert err.file == str(path) and err.line is not None
    assert err.line >= line_no(text, 'workdays: [mon, tue, "wed')
    assert "malformed YAML" in str(err)


def test_non_mapping_file_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "- a\n- list\n")
    err = load_error(path)
    assert_located(err, path, 1, "")
    assert "expected a mapping" in str(err)


def test_unknown_top_level_key(tmp_path: Path) -> None:
    text = small_town_text() + "colour: blue\n"
    path = write(tmp_path, text)
    err = load_error(path)
    assert_located(err, path, line_no(text, "colour: blue"), "colour")
    assert "got unknown key 'colour'" in err.message
    for allowed in ("calendar", "inspectors", "departments", "problems", "evaluation"):
        assert allowed in err.message


def test_unknown_nested_key(tmp_path: Path) -> None:
    text = swap(small_town_text(), "  shifts: 2\n", "  shifts: 2\n  shfits: 3\n")
    path = write(tmp_path, text)
    err = load_error(path)
    assert_located(err, path, line_no(text, "shfits: 3"), "inspectors.shfits")
    assert "got unknown key 'shfits'" in err.message
    assert "shifts" in err.message and "count" in err.message
    assert "calendar" not in err.message  # the inspectors' keys, not the top level's


def test_unknown_key_in_a_department(tmp_path: Path) -> None:
    text = swap(small_town_text(), "municipal:   {crews: 1,", "municipal:   {crew: 1,")
    path = write(tmp_path, text)
    err = load_error(path)
    # a misspelt required key is reported as the unknown key, not as "crews missing"
    assert_located(err, path, line_no(text, "{crew: 1,"), "departments.municipal.crew")
    assert "got unknown key 'crew'" in err.message
    assert "crews" in err.message and "travel_minutes" in err.message  # a department's keys


def test_wrong_type(tmp_path: Path) -> None:
    text = swap(small_town_text(), "count: 20 ", "count: many ")
    path = write(tmp_path, text)
    err = load_error(path)
    assert_located(err, path, line_no(text, "count: many"), "inspectors.count")
    assert err.message == "expected a whole number, got 'many' (str)"


def test_fractional_headcount_is_a_wrong_type(tmp_path: Path) -> None:
    text = swap(small_town_text(), "count: 20 ", "count: 20.5 ")
    path = write(tmp_path, text)
    err = load_error(path)
    assert_located(err, path, line_no(text, "count: 20.5"), "inspectors.count")
    assert "expected a whole number" in err.message and "20.5" in err.message


def test_negative_rate(tmp_path: Path) -> None:
    text = swap(small_town_text(), "per_day: 100", "per_day: -5")
    path = write(tmp_path, text)
    err = load_error(path)
    assert_located(err, path, line_no(text, "per_day: -5"), "problems.per_day")
    assert err.message == "expected a number greater than or equal to 0, got -5 (int)"


def test_missing_required_key(tmp_path: Path) -> None:
    text = swap(small_town_text(), "  per_day: 100\n", "")
    path = write(tmp_path, text)
    err = load_error(path)
    assert_located(err, path, line_no(text, "problems:"), "problems.per_day")
    assert "required" in err.message


def test_calendar_with_no_working_hours(tmp_path: Path) -> None:
    text = swap(small_town_text(), "working_hours: 8", "working_hours: 0")
    path = write(tmp_path, text)
    err = load_error(path)
    assert_located(err, path, line_no(text, "working_hours: 0"), "calendar.working_hours")
    assert "(0, 24]" in err.message and err.message.endswith("got 0 (int)")


def test_calendar_day_running_past_midnight(tmp_path: Path) -> None:
    text = swap(small_town_text(), 'day_start: "08:30"', 'day_start: "20:00"')
    path = write(tmp_path, text)
    err = load_error(path)
    assert_located(err, path, line_no(text, "working_hours: 8"), "calendar.working_hours")
    assert "at most 4 hours after day_start 20:00" in err.message
    assert err.message.endswith("got 8 (int)")


def test_calendar_with_no_working_days(tmp_path: Path) -> None:
    text = swap(small_town_text(), "workdays: [mon, tue, wed, thu, fri]", "workdays: []")
    path = write(tmp_path, text)
    err = load_error(path)
    assert_located(err, path, line_no(text, "workdays: []"), "calendar.workdays")
    assert "at least one working day" in err.message and err.message.endswith("got [] (list)")


def test_empty_workdays_with_extra_workdays_is_fine(tmp_path: Path) -> None:
    text = swap(small_town_text(), "workdays: [mon, tue, wed, thu, fri]",
                "workdays: []\n  extra_workdays: [2026-03-07]")
    sc = load_scenario(write(tmp_path, text))
    assert sc.calendar.workdays == () and len(sc.calendar.extra_workdays) == 1


def test_bad_clock_time(tmp_path: Path) -> None:
    text = swap(small_town_text(), 'day_start: "08:30"', 'day_start: "8.30am"')
    path = write(tmp_path, text)
    err = load_error(path)
    assert_located(err, path, line_no(text, "8.30am"), "calendar.day_start")
    assert 'expected a time of day "HH:MM"' in err.message and "'8.30am'" in err.message


def test_bad_weekday_name(tmp_path: Path) -> None:
    text = swap(small_town_text(), "workdays: [mon, tue, wed, thu, fri]",
                "workdays: [mon, tue, wed, thu, friday]")
    path = write(tmp_path, text)
    err = load_error(path)
    assert_located(err, path, line_no(text, "friday"), "calendar.workdays.4")
    assert "'fri'" in err.message and "got 'friday' (str)" in err.message


def test_short_hourly_profile(tmp_path: Path) -> None:
    text = swap(small_town_text(), "weekly_profile: [1.05, 1.05, 1.05, 1.05, 1.05, 0.9, 0.85]",
                "weekly_profile: [1.05, 1.05]")
    path = write(tmp_path, text)
    err = load_error(path)
    assert_located(err, path, line_no(text, "weekly_profile"), "problems.weekly_profile")
    assert err.message == "expected at least 7 items, got 2 items"


def write_handbook(tmp_path: Path, old: str, new: str) -> tuple[Path, str]:
    """A copy of the standard handbook with the first ``old`` line replaced by ``new``."""
    lines = HANDBOOK.read_text(encoding="utf-8").splitlines(keepends=True)
    i = next(i for i, ln in enumerate(lines) if ln.strip() == old)
    lines[i] = lines[i].replace(old, new)
    path = tmp_path / "handbook.yaml"
    path.write_text("".join(lines), encoding="utf-8")
    return path, "".join(lines)


def test_handbook_department_missing_from_scenario(tmp_path: Path) -> None:
    hb_path, hb_text = write_handbook(tmp_path, "department: water", "department: plumbing")
    text = swap(small_town_text(), f"file: {HANDBOOK}", f"file: {hb_path}")
    err = load_error(write(tmp_path, text))
    # the first "department: water" row is subclass 0 of the standard handbook
    assert_located(err, hb_path.resolve(), line_no(hb_text, "department: plumbing"),
                   "subclasses.0.department")
    assert "got 'plumbing'" in err.message and "sanitation" in err.message


def test_handbook_department_later_row(tmp_path: Path) -> None:
    hb_path, hb_text = write_handbook(tmp_path, "department: housing", "department: housng")
    text = swap(small_town_text(), f"file: {HANDBOOK}", f"file: {hb_path}")
    err = load_error(write(tmp_path, text))
    rows = [ln for ln in hb_text.splitlines() if ln.startswith("  - code: ")]
    code_line = line_no(hb_text, "department: housng")
    before = hb_text.splitlines()[:code_line]
    index = sum(ln.startswith("  - code: ") for ln in before) - 1
    assert 0 < index < len(rows)
    assert_located(err, hb_path.resolve(), code_line, f"subclasses.{index}.department")


def test_dispatched_department_with_no_crews(tmp_path: Path) -> None:
    text = swap(small_town_text(), "greening:    {crews: 1,", "greening:    {crews: 0,")
    path = write(tmp_path, text)
    err = load_error(path)
    assert_located(err, path, line_no(text, "{crews: 0,"), "departments.greening.crews")
    assert "at least 1 crew" in err.message and err.message.endswith("got 0")


def test_negative_crews(tmp_path: Path) -> None:
    text = swap(small_town_text(), "telecom:     {crews: 1,", "telecom:     {crews: -1,")
    path = write(tmp_path, text)
    err = load_error(path)
    assert_located(err, path, line_no(text, "{crews: -1,"), "departments.telecom.crews")


def test_missing_grids_file(tmp_path: Path) -> None:
    text = swap(small_town_text(), f"grids_file: {GRIDS}", "grids_file: cities/nowhere.csv")
    path = write(tmp_path, text)
    err = load_error(path)
    assert_located(err, path, line_no(text, "nowhere.csv"), "city.grids_file")
    assert "got 'cities/nowhere.csv'" in err.message
    assert str(tmp_path.resolve() / "cities" / "nowhere.csv") in err.message


def test_missing_handbook_file(tmp_path: Path) -> None:
    text = swap(small_town_text(), f"file: {HANDBOOK}", "file: nohandbook.yaml")
    path = write(tmp_path, text)
    err = load_error(path)
    assert_located(err, path, line_no(text, "nohandbook.yaml"), "handbook.file")


def test_missing_scenario_file(tmp_path: Path) -> None:
    err = load_error(tmp_path / "absent.yaml")
    assert err.file == str(tmp_path / "absent.yaml") and "no such file" in str(err)


def test_every_input_error_is_a_gridloop_error() -> None:
    assert issubclass(InputError, GridLoopError)


# ---------------------------------------------------------------- levers and --set

LEVERS = [
    ("inspectors.count", "10", lambda s: s.inspectors.count, 10),
    ("inspectors.shifts", "3", lambda s: s.inspectors.shifts, 3),
    ("departments.sanitation.crews", "9", lambda s: s.departments["sanitation"].crews, 9),
    ("departments.housing.crews", "5", lambda s: s.departments["housing"].crews, 5),
    ("centre.acceptors", "5", lambda s: s.centre.acceptors, 5),
    ("centre.dispatchers", "4", lambda s: s.centre.dispatchers, 4),
    ("handbook.time_limit_scale", "0.5", lambda s: s.handbook.time_limit_scale, 0.5),
    ("calendar.working_hours", "7.5", lambda s: s.calendar.working_hours, 7.5),
    ("problems.rate_scale", "2", lambda s: s.problems.rate_scale, 2.0),
    ("inspectors.shifts", "1", lambda s: s.inspectors.shifts, 1),
]


def test_evaluation_rules_lever_names_a_known_rule_set() -> None:
    """`evaluation.rules` is a lever, but only rule sets that exist are accepted."""
    assert load_scenario("small-town", ["evaluation.rules=standard"]).evaluation.rules == \
        "standard"
    with pytest.raises(InputError) as e:
        load_scenario("small-town", ["evaluation.rules=strict"])
    assert str(e.value).startswith("--set: evaluation.rules:")
    assert "standard" in str(e.value)


@pytest.mark.parametrize(("key", "raw", "get", "want"), LEVERS, ids=[k for k, *_ in LEVERS])
def test_lever_changes_the_loaded_value(key: str, raw: str, get, want) -> None:  # noqa: ANN001
    base = load_scenario("small-town")
    assert get(base) != want
    changed = load_scenario("small-town", [f"{key}={raw}"])
    assert get(changed) == want
    assert changed.digest() != base.digest()
    # nothing else moved: the two differ only in the section the lever is in
    section = key.split(".")[0]
    assert changed.model_dump(exclude={section}) == base.model_dump(exclude={section})


def test_lever_keeps_siblings() -> None:
    sc = load_scenario("small-town", ["departments.sanitation.crews=9"])
    assert sc.departments["sanitation"].hours == ("06:00", "22:00")
    assert sc.departments["enforcement"].crews == 4


def test_list_valued_set() -> None:
    sc = load_scenario("small-town", ["calendar.workdays=[mon, wed]"])
    assert sc.calendar.workdays == ("mon", "wed")


def test_several_sets_apply_in_order() -> None:
    sc = load_scenario("small-town", ["inspectors.count=10", "inspectors.count=12",
                                      "centre.acceptors=3"])
    assert (sc.inspectors.count, sc.centre.acceptors) == (12, 3)


def test_parse_overrides_reads_yaml_scalars() -> None:
    assert parse_overrides(["a.b=3", "c=0.5", "d=true", "e=[1, 2]", "f=text", "g="]) == [
        ("a.b", 3), ("c", 0.5), ("d", True), ("e", [1, 2]), ("f", "text"), ("g", "")]
    assert parse_overrides(["k=a=b"]) == [("k", "a=b")]


def test_parse_overrides_needs_an_equals_sign() -> None:
    with pytest.raises(InputError) as info:
        parse_overrides(["inspectors.count"])
    assert str(info.value).startswith("--set: inspectors.count: expected dotted.key=value")
    with pytest.raises(InputError):
        parse_overrides(["=3"])


def test_apply_overrides_copies_and_creates_sections() -> None:
    raw = {"inspectors": {"count": 20}, "name": "x"}
    out = apply_overrides(raw, [("inspectors.count", 5), ("evaluation.rules", "standard")])
    assert out == {"inspectors": {"count": 5}, "name": "x", "evaluation": {"rules": "standard"}}
    assert raw == {"inspectors": {"count": 20}, "name": "x"}  # input untouched


def test_apply_overrides_refuses_to_descend_into_a_value() -> None:
    with pytest.raises(InputError) as info:
        apply_overrides({"inspectors": {"count": 20}}, [("inspectors.count.x", 1)])
    assert str(info.value).startswith("--set: inspectors.count: ")


@pytest.mark.parametrize(("item", "path", "says"), [
    ("inspectors.count=many", "inspectors.count", "expected a whole number, got 'many' (str)"),
    ("problems.rate_scale=-1", "problems.rate_scale", "greater than or equal to 0"),
    ("calendar.working_hours=30", "calendar.working_hours", "(0, 24]"),
    ("inspectors.shifts=4", "inspectors.shifts", "less than or equal to 3"),
    ("centre.acceptors=0", "centre.acceptors", "greater than or equal to 1"),
    ("handbook.time_limit_scale=0", "handbook.time_limit_scale", "greater than 0"),
    ("departments.water.crews=x", "departments.water.crews", "whole number"),
    ("calendar.workdays=[]", "calendar.workdays", "at least one working day"),
])
def test_bad_set_value_is_reported_as_set(item: str, path: str, says: str) -> None:
    with pytest.raises(InputError) as info:
        load_scenario("small-town", [item])
    err = info.value
    assert (err.file, err.line, err.path) == ("--set", None, path)
    assert str(err).startswith(f"--set: {path}: expected "), str(err)
    assert says in str(err)


@pytest.mark.parametrize(("item", "path"), [
    ("inspectors.colour=3", "inspectors.colour"),
    ("colour=3", "colour"),
    ("centre.acceptor=3", "centre.acceptor"),
    ("departments.sanitaton.crews=3", "departments.sanitaton.crews"),
])
def test_set_of_unknown_key_is_rejected(item: str, path: str) -> None:
    with pytest.raises(InputError) as info:
        load_scenario("small-town", [item])
    err = info.value
    assert (err.file, err.line, err.path) == ("--set", None, path)
    assert str(err).startswith(f"--set: {path}: expected one of ")


def test_set_into_a_value_is_rejected() -> None:
    with pytest.raises(InputError, match=r"^--set: inspectors\.count: expected a section"):
        load_scenario("small-town", ["inspectors.count.day=3"])


def test_set_does_not_hide_a_bad_file(tmp_path: Path) -> None:
    text = swap(small_town_text(), "per_day: 100", "per_day: -5")
    path = write(tmp_path, text)
    err = load_error(path, overrides=["inspectors.count=10"])
    assert_located(err, path, line_no(text, "per_day: -5"), "problems.per_day")


def test_set_can_repair_a_bad_file(tmp_path: Path) -> None:
    path = write(tmp_path, swap(small_town_text(), "per_day: 100", "per_day: -5"))
    assert load_scenario(path, ["problems.per_day=50"]).problems.per_day == 50


def test_days_and_seed_parameters_override() -> None:
    sc = load_scenario("small-town", days=3, seed=11)
    assert (sc.days, sc.seed) == (3, 11)
    base = load_scenario("small-town")
    assert (base.days, base.seed) == (30, 7)
    # the parameters win over a --set of the same key
    assert load_scenario("small-town", ["days=5"], days=4).days == 4


def test_bad_days_parameter_names_its_option() -> None:
    with pytest.raises(InputError) as info:
        load_scenario("small-town", days=0)
    assert str(info.value).startswith("--days: days: expected a number greater than or equal")
    with pytest.raises(InputError, match=r"^--seed: seed: "):
        load_scenario("small-town", seed=-1)
