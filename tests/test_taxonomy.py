"""The shipped handbook is a sound dispatch table, and bad handbook files fail with a location.

Part one checks ``scenarios/handbook/standard.yaml`` against the taxonomy (docs/domain.md §5)
and the time limits (docs/domain.md §4). Part two feeds small broken files to `load_handbook`
and checks that each error names the file, the exact line and the key path.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from sim.data.taxonomy import Handbook, load_handbook
from sim.errors import InputError

STANDARD = Path(__file__).resolve().parent.parent / "scenarios" / "handbook" / "standard.yaml"

DEPARTMENTS = {"sanitation", "municipal", "greening", "traffic", "enforcement", "water", "power",
               "gas", "telecom", "housing", "subdistrict"}
HOTSPOT_KINDS = {"road", "market", "school", "residential", "park"}
WORKING_HOURS_PER_DAY = 8.0
CLASSES = {("component", f"{i:02d}") for i in range(1, 7)} | {
    ("event", f"{i:02d}") for i in range(1, 6)}


def limit_working_hours(value: float, unit: str) -> float:
    """A working-time limit in working hours (8 per working day)."""
    return value * WORKING_HOURS_PER_DAY if unit == "wd" else value


@pytest.fixture(scope="module")
def standard() -> Handbook:
    return load_handbook(STANDARD)


# ---------------------------------------------------------------- the shipped handbook


def test_standard_has_the_eleven_classes(standard: Handbook) -> None:
    assert {(c.kind, c.code) for c in standard.classes} == CLASSES
    assert len(standard.classes) == len(CLASSES)
    assert all(c.name and c.name_zh for c in standard.classes)


def test_standard_has_enough_subclasses_in_every_class(standard: Handbook) -> None:
    per_class = Counter((s.kind, s.class_code) for s in standard.subclasses)
    assert len(standard.subclasses) >= 45
    assert set(per_class) == CLASSES
    thin = {k: n for k, n in per_class.items() if n < 2}
    assert not thin, f"classes with fewer than 2 subclasses: {thin}"


def test_standard_codes_are_unique(standard: Handbook) -> None:
    codes = [s.code for s in standard.subclasses]
    assert len(codes) == len(set(codes))


def test_standard_events_dominate_the_mix(standard: Handbook) -> None:
    total = sum(s.share for s in standard.subclasses)
    events = sum(s.share for s in standard.subclasses if s.kind == "event")
    assert 0.88 <= events / total <= 0.98
    street_order = sum(s.share for s in standard.subclasses if s.code.startswith("E05"))
    appearance = sum(s.share for s in standard.subclasses if s.code.startswith("E01"))
    others = [sum(s.share for s in standard.subclasses if s.code.startswith(f"E0{i}"))
              for i in (2, 3, 4)]
    assert min(street_order, appearance) > max(others)


def test_standard_departments_are_known(standard: Handbook) -> None:
    unknown = {s.code: s.department for s in standard.subclasses
               if s.department not in DEPARTMENTS}
    assert not unknown


def test_standard_urgent_rows_count_natural_hours(standard: Handbook) -> None:
    mismatched = [s.code for s in standard.subclasses
                  if (s.urgency == "urgent") != (s.time_limit.unit == "h")]
    assert not mismatched
    assert all(s.urgency == "urgent" for s in standard.subclasses if s.code.startswith("E04"))


def test_standard_handling_fits_inside_the_limit(standard: Handbook) -> None:
    too_slow = {}
    for s in standard.subclasses:
        if s.urgency != "normal":
            continue
        limit = limit_working_hours(s.time_limit.value, s.time_limit.unit)
        if not s.handling_hours.expected() < limit:
            too_slow[s.code] = (s.handling_hours.expected(), limit)
    assert not too_slow, f"mean handling hours >= limit working hours: {too_slow}"


def test_standard_make_safe_fits_inside_the_urgent_limit(standard: Handbook) -> None:
    too_slow = [s.code for s in standard.subclasses
                if s.urgency == "urgent" and not s.handling_hours.expected() < s.time_limit.value]
    assert not too_slow


def test_standard_published_limits(standard: Handbook) -> None:
    """The limits docs/domain.md §4 quotes for named subclasses are the ones in the file."""
    by_name = {s.name: s.time_limit for s in standard.subclasses}
    expected = {
        "Dirty road surface": (2, "wh"),
        "Exposed garbage": (4, "wh"),
        "Standing water": (4, "wh"),
        "Green-space litter": (4, "wh"),
        "Accumulated muck or debris": (2, "wd"),
        "Illegal structure": (15, "wd"),
    }
    got = {name: (by_name[name].value, by_name[name].unit) for name in expected}
    assert got == expected


def test_standard_rates_are_in_their_ranges(standard: Handbook) -> None:
    for s in standard.subclasses:
        assert 0.3 <= s.detection <= 0.9, s.code
        assert s.on_spot <= 0.4, s.code
        assert set(s.hotspots) <= HOTSPOT_KINDS, s.code
        assert all(w > 0 for w in s.hotspots.values()), s.code
    # most new problems draw few public reports; the public mostly reports hazards and nuisances
    total = sum(s.share for s in standard.subclasses)
    quiet = sum(s.share for s in standard.subclasses if s.citizen_rate <= 0.01)
    assert quiet / total >= 0.85
    loud = {s.code for s in standard.subclasses if s.citizen_rate >= 0.2}
    assert {"E04-01", "E04-02", "E03-01"} <= loud


def hours_of(value: float, unit: str) -> float:
    return value * WORKING_HOURS_PER_DAY if unit == "wd" else value


def test_standard_urgent_rows_make_safe_first_within_their_limit(standard: Handbook) -> None:
    """'Make safe fast, repair later' (docs/domain.md §4): an urgent row's first crew stage fits in
    its limit, and a repair stage with a limit of its own has a longer one."""
    staged = [s for s in standard.subclasses if s.urgency == "urgent" and s.stages]
    assert len(staged) >= 6
    for s in staged:
        first = next(st for st in s.stages if st.work == "crew")
        assert first.hours.expected() < s.time_limit.value, s.code
        last = s.stages[-1].limit
        if last is not None:
            assert hours_of(last.value, last.unit) > hours_of(s.time_limit.value,
                                                              s.time_limit.unit), s.code


def test_standard_components_wait_on_things_events_do_not(standard: Handbook) -> None:
    """Components differ from events through their stages (docs/domain.md §4, §11): most component
    rows wait for parts, contractors or owners, few event rows do, and the share-weighted
    expected wait of a component case is many times an event case's."""
    def waits(s) -> float:  # noqa: ANN001
        return sum(st.chance * st.hours.expected() for st in s.plan if st.work == "wait")

    comps = [s for s in standard.subclasses if s.kind == "component"]
    events = [s for s in standard.subclasses if s.kind == "event"]
    assert sum(waits(s) > 0 for s in comps) / len(comps) >= 0.8
    assert sum(waits(s) > 0 for s in events) / len(events) <= 0.4
    mean = {k: sum(s.share * waits(s) for s in rows) / sum(s.share for s in rows)
            for k, rows in (("component", comps), ("event", events))}
    assert mean["component"] > 5 * mean["event"], mean
    # some waits outlast their limit (extensions) and some are seasonal (suspensions)
    assert any(waits(s) > hours_of(s.time_limit.value, s.time_limit.unit) for s in comps)
    assert any(st.waits_for == "season" for s in standard.subclasses for st in s.stages)


def test_standard_mistakes_are_plausible(standard: Handbook) -> None:
    """Every row says where a wrong dispatch plausibly goes (never back to its own
    department); covers are mistaken for covers and garbage for garbage."""
    assert all(s.dispatch_alternates and s.department not in s.dispatch_alternates
               for s in standard.subclasses)
    by_code = {s.code: s for s in standard.subclasses}
    assert set(by_code["C01-01"].look_alikes) == {"C01-02", "C01-03", "C01-04", "C01-05"}
    assert "E01-10" in by_code["E01-01"].look_alikes


def test_standard_rows_remember_their_line(standard: Handbook) -> None:
    lines = STANDARD.read_text(encoding="utf-8").splitlines()
    for s in standard.subclasses:
        assert s.line is not None
        assert lines[s.line - 1].strip() == f"- code: {s.code}"


# ---------------------------------------------------------------- bad input, located

# A valid two-row handbook; the line numbers in the cases below refer to this text.
TINY = """\
name: tiny
classes:
  - {kind: component, code: "01", name: Public utilities}
  - {kind: event, code: "01", name: City appearance}
subclasses:
  - code: E01-01
    name: Exposed garbage
    department: sanitation
    filing_criterion: Waste outside containers.
    closing_criterion: Waste removed.
    time_limit: {value: 4, unit: wh}
    handling_hours: {dist: lognormal, mean: 0.8, cv: 0.6}
    share: 9
    detection: 0.85
    citizen_rate: 0.01
  - code: C01-01
    name: Manhole cover missing
    department: water
    urgency: urgent
    filing_criterion: Cover missing.
    closing_criterion: Cover in place.
    time_limit: {value: 4, unit: h}
    handling_hours: {dist: lognormal, mean: 1.0, cv: 0.6}
    share: 1
    detection: 0.7
    citizen_rate: 0.02
"""


# Stages of the manhole-cover row (inserted after its last line, 26): make safe, wait, repair.
STAGES = """\
    stages:
      - {name: make safe, work: crew, hours: {dist: exponential, mean: 0.5}, limit: {value: 4, unit: h}}
      - {name: parts, work: wait, waits_for: materials, hours: {dist: exponential, mean: 16}, unit: wh, chance: 0.6}
      - {name: repair, work: crew, department: municipal, hours: {dist: exponential, mean: 2}}"""  # noqa: E501


def write(tmp_path: Path, edits: dict[int, str | None], insert: dict[int, str] | None = None,
          name: str = "hb.yaml") -> Path:
    """TINY with line ``n`` replaced (None deletes it) and lines inserted after line ``n``."""
    out = []
    for n, text in enumerate(TINY.splitlines(), start=1):
        text = edits.get(n, text)
        if text is not None:
            out.append(text)
        if insert and n in insert:
            out.append(insert[n])
    path = tmp_path / name
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def test_tiny_handbook_is_valid(tmp_path: Path) -> None:
    hb = load_handbook(write(tmp_path, {}))
    assert [s.code for s in hb.subclasses] == ["E01-01", "C01-01"]
    assert [s.line for s in hb.subclasses] == [6, 16]


@pytest.mark.parametrize(
    ("edits", "insert", "line", "path", "says"),
    [
        pytest.param({14: "    detection: 0.85: high"}, None, 14, "", "malformed YAML",
                     id="malformed-yaml"),
        pytest.param({}, {15: "    colour: red"}, 16, "subclasses.0.colour", "unknown key",
                     id="unknown-key"),
        pytest.param({13: "    share: lots"}, None, 13, "subclasses.0.share", "'lots'",
                     id="wrong-type"),
        pytest.param({24: "    share: -1"}, None, 24, "subclasses.1.share", "greater than 0",
                     id="negative-share"),
        pytest.param({16: "  - code: E01-01"}, None, 16, "subclasses.1.code",
                     "unique subclass code", id="duplicate-code"),
        pytest.param({16: "  - code: C02-01"}, None, 16, "subclasses.1.code", "listed class",
                     id="class-not-listed"),
        pytest.param({11: "    time_limit: {value: 4, unit: hours}"}, None, 11,
                     "subclasses.0.time_limit.unit", "'hours'", id="bad-limit-unit"),
        pytest.param({14: None}, None, 6, "subclasses.0.detection", "required",
                     id="missing-key"),
        pytest.param({12: "    handling_hours: {dist: lognormal, mean: 0.8}"}, None, 12,
                     "subclasses.0.handling_hours", "needs cv", id="incomplete-dist"),
        # stages, errors and look-alikes (issue 11)
        pytest.param({}, {26: STAGES.replace("waits_for: materials, ", "")}, 29,
                     "subclasses.1.stages.1.waits_for", "one of materials", id="wait-for-what"),
        pytest.param({}, {26: STAGES.replace("waits_for: materials", "waits_for: godot")}, 29,
                     "subclasses.1.stages.1.waits_for", "'godot'", id="unknown-wait"),
        pytest.param({}, {26: STAGES.replace("work: crew, hours: {dist: exponential, mean: 0.5",
                                             "work: crew, waits_for: permit, hours: "
                                             "{dist: exponential, mean: 0.5")}, 28,
                     "subclasses.1.stages.0.waits_for", "no waits_for on a crew stage",
                     id="crew-waits"),
        pytest.param({}, {26: STAGES.replace("unit: wh", "unit: wd")}, 29,
                     "subclasses.1.stages.1.unit", "'wd'", id="wait-unit"),
        pytest.param({}, {26: STAGES.replace("chance: 0.6", "chance: 1.5")}, 29,
                     "subclasses.1.stages.1.chance", "less than or equal to 1",
                     id="stage-chance"),
        pytest.param({}, {26: "    stages:\n      - {name: wait, work: wait, waits_for: "
                              "permit, hours: {dist: exponential, mean: 8}}"}, 27,
                     "subclasses.1.stages", "at least one crew stage", id="no-crew-stage"),
        pytest.param({}, {26: "    dispatch_alternates: {water: 1}"}, 27,
                     "subclasses.1.dispatch_alternates", "other than the row's own",
                     id="alternate-is-own"),
        pytest.param({}, {26: "    dispatch_alternates: {municipal: 0}"}, 27,
                     "subclasses.1.dispatch_alternates", "weights > 0", id="alternate-weight"),
        pytest.param({}, {26: "    look_alikes: [E01-01, E09-09]"}, 27,
                     "subclasses.1.look_alikes.1", "got 'E09-09'", id="look-alike-unknown"),
        pytest.param({}, {26: "    look_alikes: [C01-01]"}, 27,
                     "subclasses.1.look_alikes", "other subclasses", id="look-alike-self"),
    ],
)
def test_bad_handbook_is_located(tmp_path: Path, edits: dict[int, str | None],
                                 insert: dict[int, str] | None, line: int, path: str,
                                 says: str) -> None:
    file = write(tmp_path, edits, insert)
    with pytest.raises(InputError) as info:
        load_handbook(file)
    err = info.value
    assert (err.file, err.line, err.path) == (str(file), line, path)
    where = f"{file}:{line}: {path}: " if path else f"{file}:{line}: "
    assert str(err).startswith(where)
    assert "hb.yaml" in str(err)
    assert says in str(err)


def test_stages_errors_and_look_alikes_load(tmp_path: Path) -> None:
    hb = load_handbook(write(tmp_path, {}, {26: STAGES + "\n    dispatch_alternates: "
                                                "{municipal: 2, telecom: 1}\n"
                                                "    look_alikes: [E01-01]"}))
    cover = hb.subclasses[1]
    assert [st.name for st in cover.plan] == ["make safe", "parts", "repair"]
    assert [st.is_wait for st in cover.plan] == [False, True, False]
    assert cover.plan[1].unit == "wh" and cover.plan[1].chance == 0.6
    assert cover.plan[0].limit is not None and cover.plan[0].limit.value == 4
    assert cover.plan[2].department == "municipal"
    assert cover.dispatch_alternates == {"municipal": 2, "telecom": 1}
    assert cover.look_alikes == ("E01-01",)
    # a row without stages is one crew visit of its handling hours
    (visit,) = hb.subclasses[0].plan
    assert visit.work == "crew" and visit.hours == hb.subclasses[0].handling_hours


def test_non_mapping_handbook_is_rejected(tmp_path: Path) -> None:
    file = tmp_path / "list.yaml"
    file.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"list\.yaml:1: expected a mapping"):
        load_handbook(file)


def test_missing_handbook_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file") as info:
        load_handbook(tmp_path / "absent.yaml")
    assert "absent.yaml" in str(info.value)
