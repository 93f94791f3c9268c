"""Scenario overlays (``base:``): the governance presets load, overlays merge over their base
(nested too), ``--set`` applies on top, and every mistake is reported at the line of the file
that holds it, the base's or the overlay's."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from sim.cli import main
from sim.data.overlay import merge
from sim.data.scenario import (
    SCENARIO_DIR,
    Scenario,
    bundled_scenarios,
    load_scenario,
    scenario_chain,
)
from sim.errors import InputError

PRESETS = ["complaint-driven", "grid-2004", "hotline-grid", "loops", "proactive", "whistle"]
SMALL_TOWN = SCENARIO_DIR / "small-town.yaml"


@cache
def bundled(name: str) -> Scenario:
    """A bundled scenario, loaded once (scenarios are frozen)."""
    return load_scenario(name)


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def line_no(path: Path, needle: str) -> int:
    hits = [i for i, ln in enumerate(path.read_text().splitlines(), 1) if needle in ln]
    assert len(hits) == 1, (needle, hits)
    return hits[0]


def load_error(path: Path | str, *overrides: str) -> InputError:
    with pytest.raises(InputError) as info:
        load_scenario(path, list(overrides))
    return info.value


def assert_at(err: InputError, file: Path, needle: str | None, path: str) -> None:
    line = line_no(file, needle) if needle is not None else None
    assert (err.file, err.line, err.path) == (str(file), line, path), str(err)
    assert "\n" not in str(err)


# ---------------------------------------------------------------- the presets


def test_presets_are_bundled_by_folder_name() -> None:
    names = bundled_scenarios()
    assert {"dongcheng", "small-town"} <= set(names)
    assert [n for n in names if n.startswith("governance/")] == \
        [f"governance/{p}" for p in PRESETS]
    assert not any(n.startswith(("rules/", "handbook/")) for n in names)


@pytest.mark.parametrize("name", PRESETS)
def test_each_preset_is_a_short_commented_overlay_of_dongcheng(name: str) -> None:
    path = SCENARIO_DIR / "governance" / f"{name}.yaml"
    text = path.read_text(encoding="utf-8")
    assert "base: dongcheng" in text and text.startswith("#")
    assert len(text.splitlines()) < 60
    sc = bundled(f"governance/{name}")
    assert sc.name == name
    assert Path(sc.source) == path.resolve()
    assert scenario_chain(f"governance/{name}") == [path, SCENARIO_DIR / "dongcheng.yaml"]
    # the base's files are found from the overlay's folder, by a relative path
    assert sc.city.grids_file == "../cities/dongcheng.csv"
    assert sc.resolve(sc.city.grids_file) == (SCENARIO_DIR / "cities" / "dongcheng.csv").resolve()
    assert sc.resolve(sc.handbook.file).is_file()
    # everything the overlay does not name is the base's
    base = bundled("dongcheng")
    assert sc.problems == base.problems and sc.calendar == base.calendar


def test_presets_change_what_their_comments_say() -> None:
    cd, g4 = bundled("governance/complaint-driven"), bundled("governance/grid-2004")
    assert cd.inspectors.count == 0 and not cd.hotline.enabled
    assert not cd.centre.independent_checks and not cd.evaluation.enabled
    assert all(d.intake_hours is not None for d in cd.departments.values())
    assert cd.departments["water"].crews == bundled("dongcheng").departments["water"].crews
    assert g4.inspectors.count == 400 and not g4.hotline.enabled
    assert g4.centre.independent_checks and g4.evaluation.enabled
    assert bundled("governance/whistle").whistle.enabled
    assert bundled("governance/proactive").proactive.enabled
    assert "E05-01" in bundled("governance/loops").loops.subdistrict_handles
    assert bundled("governance/hotline-grid").evaluation.rules == "three-rates"


def test_set_applies_on_top_of_an_overlay() -> None:
    sc = load_scenario("governance/grid-2004", ["inspectors.count=300"], days=3)
    assert (sc.inspectors.count, sc.days, sc.hotline.enabled) == (300, 3, False)


def test_run_cli_takes_a_preset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", "governance/whistle"])
    out = capsys.readouterr().out
    assert code == 0 and "governance/whistle: ok (whistle:" in out
    assert "over" in out and "dongcheng.yaml" in out


# ---------------------------------------------------------------- merging


def test_merge_mappings_by_key_and_replaces_the_rest() -> None:
    below = {"a": {"x": 1, "y": [1, 2]}, "b": 2}
    above = {"a": {"y": [3]}, "c": 4}
    assert merge(below, above) == {"a": {"x": 1, "y": [3]}, "b": 2, "c": 4}
    assert below == {"a": {"x": 1, "y": [1, 2]}, "b": 2}  # inputs untouched


def test_overlay_of_a_bundled_name(tmp_path: Path) -> None:
    path = write(tmp_path, "town.yaml", "base: small-town\ninspectors: {count: 30}\n"
                 "departments:\n  water: {crews: 4}\n")
    sc, base = load_scenario(path), load_scenario("small-town")
    assert sc.name == "town"  # an overlay without a name is named after its file
    assert sc.inspectors.count == 30 and sc.inspectors.shifts == base.inspectors.shifts
    assert sc.departments["water"].crews == 4
    assert sc.departments["water"].hours == base.departments["water"].hours
    assert set(sc.departments) == set(base.departments)
    assert sc.resolve(sc.city.grids_file) == base.resolve(base.city.grids_file)


def test_overlay_naming_nothing_new_is_its_base(tmp_path: Path) -> None:
    path = write(tmp_path, "same.yaml", "base: small-town\nname: small-town\n")
    sc, base = load_scenario(path), load_scenario("small-town")
    assert sc.model_dump(exclude={"source", "city", "handbook"}) == \
        base.model_dump(exclude={"source", "city", "handbook"})
    assert sc.resolve(sc.city.grids_file) == base.resolve(base.city.grids_file)


def test_nested_overlays_by_relative_path(tmp_path: Path) -> None:
    write(tmp_path / "a", "mid.yaml", f"base: {SMALL_TOWN}\nname: mid\n"
          "inspectors: {count: 30, shifts: 3}\n")
    top = write(tmp_path / "b", "top.yaml", "base: ../a/mid.yaml\nname: top\n"
                "inspectors: {count: 40}\n")
    sc = load_scenario(top)
    assert (sc.name, sc.inspectors.count, sc.inspectors.shifts) == ("top", 40, 3)
    assert [p.name for p in scenario_chain(top)] == ["top.yaml", "mid.yaml", "small-town.yaml"]
    assert sc.resolve(sc.handbook.file) == (SCENARIO_DIR / "handbook" / "standard.yaml").resolve()


def test_overlay_of_a_preset(tmp_path: Path) -> None:
    path = write(tmp_path, "late.yaml", "base: governance/whistle\nwhistle: {overdue_hours: 2}\n")
    sc = load_scenario(path)
    assert sc.whistle.enabled and sc.whistle.overdue_hours == 2
    assert sc.whistle.subclasses == bundled("governance/whistle").whistle.subclasses


# ---------------------------------------------------------------- mistakes, located


def test_typo_in_the_overlay_is_at_the_overlay_line(tmp_path: Path) -> None:
    path = write(tmp_path, "o.yaml", "base: small-town\nname: o\ninspectors:\n  cuont: 3\n")
    assert_at(load_error(path), path, "cuont", "inspectors.cuont")


def test_bad_value_in_the_overlay(tmp_path: Path) -> None:
    path = write(tmp_path, "o.yaml", "base: small-town\ncentre:\n  independent_checks: maybe\n")
    err = load_error(path)
    assert_at(err, path, "maybe", "centre.independent_checks")
    assert "true or false" in err.message


def test_bad_value_in_the_base_is_at_the_base_line(tmp_path: Path) -> None:
    text = SMALL_TOWN.read_text().replace("count: 20 ", "count: many ")
    text = text.replace("grids_file: cities/", f"grids_file: {SCENARIO_DIR}/cities/")
    text = text.replace("file: handbook/", f"file: {SCENARIO_DIR}/handbook/")
    base = write(tmp_path / "base", "town.yaml", text)
    over = write(tmp_path, "o.yaml",
                 "base: base/town.yaml\nname: o\ncitizens: {repeat_factor: 1}\n")
    assert_at(load_error(over), base, "count: many", "inspectors.count")


def test_missing_base_names_the_base_line(tmp_path: Path) -> None:
    path = write(tmp_path, "o.yaml", "# a variant\nbase: atlantis\nname: o\n")
    err = load_error(path)
    assert_at(err, path, "base: atlantis", "base")
    assert "no such file or bundled scenario" in err.message and "governance/" in err.message


def test_base_that_is_not_a_name(tmp_path: Path) -> None:
    path = write(tmp_path, "o.yaml", "name: o\nbase: [dongcheng]\n")
    err = load_error(path)
    assert_at(err, path, "base:", "base")
    assert "expected a scenario file or bundled name" in err.message


def test_malformed_base_is_reported_in_the_base(tmp_path: Path) -> None:
    base = write(tmp_path, "b.yaml", "name: b\ninspectors: {count: [\n")
    over = write(tmp_path, "o.yaml", "base: b.yaml\n")
    err = load_error(over)
    assert err.file == str(base) and err.line is not None and "malformed YAML" in err.message


def test_overlay_loop_is_an_error(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", "base: b.yaml\n")
    write(tmp_path, "b.yaml", "name: b\nbase: a.yaml\n")
    err = load_error(a)
    assert err.path == "base" and "loop" in err.message
    assert "a.yaml -> b.yaml -> a.yaml" in err.message


def test_set_error_on_an_overlay_names_set(tmp_path: Path) -> None:
    path = write(tmp_path, "o.yaml", "base: small-town\n")
    err = load_error(path, "whistle.returns=-1")
    assert (err.file, err.line, err.path) == ("--set", None, "whistle.returns")


def test_unknown_subclass_code_in_loops(tmp_path: Path) -> None:
    path = write(tmp_path, "o.yaml", "base: small-town\nloops:\n  subdistrict_handles:\n"
                 "    - E05-01\n    - E99\n")
    err = load_error(path)
    assert_at(err, path, "E99", "loops.subdistrict_handles.1")
    assert "subclass code" in err.message and "'E99'" in err.message


def test_unknown_loop_unit(tmp_path: Path) -> None:
    path = write(tmp_path, "o.yaml", "base: small-town\nloops:\n  subdistrict_unit: street\n"
                 "  subdistrict_handles: [E05]\n")
    err = load_error(path)
    assert_at(err, path, "street", "loops.subdistrict_unit")
    assert "departments" in err.message


def test_unknown_whistle_code_in_a_bundled_preset_overlay(tmp_path: Path) -> None:
    path = write(tmp_path, "o.yaml", "base: governance/whistle\nwhistle:\n  subclasses: [X1]\n")
    err = load_error(path)
    assert_at(err, path, "X1", "whistle.subclasses.0")


def test_missing_handbook_named_in_overlay(tmp_path: Path) -> None:
    path = write(tmp_path, "o.yaml", "base: small-town\nhandbook:\n  file: nope.yaml\n")
    assert_at(load_error(path), path, "nope.yaml", "handbook.file")


def test_cli_validate_overlay_error_is_one_line(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "o.yaml", "base: small-town\ninspectors: {count: -1}\n")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"gridloop: {path}:2: inspectors.count: expected")
    assert "\n" not in err
