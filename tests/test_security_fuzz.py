"""Fuzzing every reader (issue 17, point 10): scenario and rule YAML, handbook CSVs, case
logs, GeoJSON maps and the console's JSON calls, fed mutated and hostile input.

Each example must end in exactly one of two ways: accepted, or a located error a person
can act on (`InputError` naming the file; exit code 2 from the CLI; 4xx from the console).
Never a traceback, a hang (each example runs under an alarm) or memory beyond a cap
(`tracemalloc`'s peak). The number of examples per reader is ``GRIDLOOP_FUZZ_EXAMPLES``
(default 15, a few seconds a reader in ``make test``); raise it for a deeper run.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.data.scenario import SCENARIO_DIR
from sim.errors import GridLoopError, InputError

EXAMPLES = int(os.environ.get("GRIDLOOP_FUZZ_EXAMPLES", "15"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
HANG_SECONDS = 60          # an example still running after this is a hang, not slowness
MEMORY_CAP = 200 * 2**20   # bytes allocated by Python at the peak of one example
ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def bounded() -> Iterator[None]:
    """Run the body under the hang alarm and the memory cap."""
    def hang(_signum: int, _frame: object) -> None:
        raise AssertionError(f"no answer after {HANG_SECONDS} s: a hang")

    old = signal.signal(signal.SIGALRM, hang)
    signal.alarm(HANG_SECONDS)
    tracemalloc.start()
    try:
        yield
        peak = tracemalloc.get_traced_memory()[1]
        assert peak < MEMORY_CAP, f"{peak / 2**20:.0f} MiB at the peak"
    finally:
        tracemalloc.stop()
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def accepted_or_located(read: Callable[[], object], path: Path) -> None:
    """``read()`` is accepted, or raises a `GridLoopError`; an `InputError` names the file."""
    with bounded():
        try:
            read()
        except InputError as e:
            assert e.file in (str(path), "--set") or Path(e.file).exists(), e
            assert "\n" not in str(e).strip() or e.path, e
        except GridLoopError:
            pass


# --- hostile pieces of text -------------------------------------------------------------------

HOSTILE_SCALARS = [
    ".inf", "-.inf", ".nan", "1e999", "1.0e+300", "-1", "0", "9" * 40, "9" * 500,
    "2026-02-30", "9999-12-31", "1600-01-01", "2026-13-01 25:61:00", "~", "[]", "{}", "''",
    '"\\0"', '"\\x1b[31m"', '"\\u202e"', "!!binary AAAA", "!!python/object/apply:os.system [ls]",
    "&a [*a]", "*undefined", "<<: *x", "'=cmd|' /C calc'!A0'", "@SUM(1)", "东城", "x" * 3000,
    "[" * 80 + "]" * 80, "{a: [1, {b: [2, {c: 3}]}]}", "|\n  text", "? complex\n: key",
    "/dev/zero", "/etc/shadow", "../../../../etc/passwd.yaml", "0x7fffffffffffffff",
]
BOMB = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
    f"{c}: &{c} [{','.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefg", "bcdefgh", strict=True))
RAW_BYTES = [b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"\xe9", b"\x1b", b"\r", b"\t", b"\x85",
             b"\xc3\x28", b"\xf0\x9f\x98\x80", BOMB.encode()]

scalars = st.one_of(st.sampled_from(HOSTILE_SCALARS), st.integers().map(str),
                    st.floats().map(repr), st.text(max_size=40).map(json.dumps))


@st.composite
def mutated(draw: st.DrawFn, text: str, value_re: str = r"^(\s*[-\w]+:\s*)(\S.*)$") -> bytes:
    """``text`` with a few values replaced by hostile ones, lines dropped or repeated, and
    raw bytes spliced in."""
    import re

    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["value", "value", "drop", "repeat", "insert"]))
        i = draw(st.integers(0, len(lines) - 1))
        m = re.match(value_re, lines[i])
        if op == "value" and m:
            lines[i] = m.group(1) + draw(scalars)
        elif op == "drop":
            del lines[i]
        elif op == "repeat":
            lines.insert(i, lines[i])
        elif op == "insert":
            lines.insert(i, draw(st.sampled_from(HOSTILE_SCALARS + [BOMB])))
        if not lines:
            lines = [""]
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from(RAW_BYTES)) + data[at:]
    return data


def small_town(tmp: Path) -> str:
    """small-town's YAML with its files named by absolute paths (it moves to ``tmp``)."""
    text = (SCENARIO_DIR / "small-town.yaml").read_text(encoding="utf-8")
    return (text.replace("cities/small-town.csv", str(SCENARIO_DIR / "cities" / "small-town.csv"))
            .replace("handbook/standard.yaml", str(SCENARIO_DIR / "handbook" / "standard.yaml")))


# --- the readers ------------------------------------------------------------------------------

@FUZZ
@given(data=st.data())
def test_fuzz_scenario_files(tmp_path, capsys, data):
    path = tmp_path / "s.yaml"
    path.write_bytes(data.draw(mutated(small_town(tmp_path))))
    with bounded():
        code = main(["validate", str(path)])
    out, err = capsys.readouterr()
    assert code in (0, 2)
    if code == 2:
        assert len(err.splitlines()) == 1 and err.startswith("gridloop: "), err
        assert "Traceback" not in err


@FUZZ
@given(setting=st.tuples(st.sampled_from(["days", "seed", "inspectors.count", "start_date",
                                          "problems.per_day", "problems.hourly_profile",
                                          "departments.sanitation.crews", "calendar.holidays",
                                          "hotline.background_per_day", "name", "base"]),
                         scalars))
def test_fuzz_set_overrides(capsys, setting):
    with bounded():
        code = main(["validate", "small-town", "--set", f"{setting[0]}={setting[1]}"])
    err = capsys.readouterr().err
    assert code in (0, 2)
    if code == 2:
        assert len(err.splitlines()) == 1 and err.startswith("gridloop: "), err


def _rules(path: Path) -> object:
    from sim.rules import load_rules

    return load_rules(path)


def _handbook_csv(path: Path) -> object:
    from sim.ingest.handbook_csv import read_handbook_csv

    return read_handbook_csv(path)


# reader, the shipped file it mutates, what marks a value on a line of it
MUTATED_FILES = {"rules": (_rules, "rules/standard.yaml", r"^(\s*(?:- )?[-\w]+:\s*)(\S.*)$"),
                 "handbook-csv": (_handbook_csv, "examples/handbook.csv", r"^([^,]*,)(.*)$")}


@pytest.mark.parametrize("kind", sorted(MUTATED_FILES))
@FUZZ
@given(data=st.data())
def test_fuzz_rule_files_and_handbook_csvs(tmp_path, data, kind):
    read, shipped, value_re = MUTATED_FILES[kind]
    path = tmp_path / Path(shipped).name
    text = (SCENARIO_DIR / shipped).read_text(encoding="utf-8")
    path.write_bytes(data.draw(mutated(text, value_re)))
    accepted_or_located(lambda: read(path), path)


@FUZZ
@given(data=st.data())
def test_fuzz_case_logs(tmp_path, data):
    from sim.ingest.caselog import read_caselog

    text = (SCENARIO_DIR / "examples" / "caselog.csv").read_text(encoding="utf-8")
    head, *rows = text.splitlines()
    path = tmp_path / "log.csv"
    path.write_bytes(data.draw(mutated("\n".join([head, *rows[:30]]),
                                       r"^([^,]*,[^,]*,)([^,]*.*)$")))

    def read() -> None:
        log = read_caselog(path)
        n_lines = len(path.read_bytes().splitlines()) + 1     # CR, LF and CRLF end lines
        assert all(2 <= r.line <= n_lines for r in log.rejected)

    accepted_or_located(read, path)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
              st.sampled_from(["Feature", "Polygon", "MultiPolygon", "FeatureCollection"])),
    lambda inner: st.one_of(st.lists(inner, max_size=5),
                            st.dictionaries(st.sampled_from(
                                ["type", "features", "geometry", "coordinates", "properties",
                                 "code", "name", "crs"]), inner, max_size=5)),
    max_leaves=40)


@FUZZ
@given(data=st.data())
def test_fuzz_geojson_maps(tmp_path, data):
    from sim.geo import read_geojson

    path = tmp_path / "m.geojson"
    if data.draw(st.booleans()):
        doc = (ROOT / "scenarios" / "examples" / "synthetic-district.geojson").read_text(
            encoding="utf-8")
        path.write_bytes(data.draw(mutated(doc[:20000], r'^(.*?: )(.*)$')))
    else:
        feature = {"type": "Feature", "properties": {"code": data.draw(json_values)},
                   "geometry": data.draw(json_values)}
        doc = data.draw(st.sampled_from([
            {"type": "FeatureCollection", "features": [feature]},
            {"type": "FeatureCollection", "features": data.draw(json_values)},
            data.draw(json_values)]))
        path.write_text(json.dumps(doc, allow_nan=True), encoding="utf-8")
    accepted_or_located(lambda: read_geojson(path), path)


# --- the console's JSON calls -----------------------------------------------------------------

@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    """bob logged in on a started session of the real training core (the short exercise)."""
    from console_support import SECRET, add_users, login, make_store
    from fastapi.testclient import TestClient

    from training.console.app import create_app
    from training.console.play import TrainingCore
    from training.exercises import load_exercise

    short = load_exercise(Path(__file__).parent / "data" / "console-short.yaml")

    class ShortCore(TrainingCore):
        def catalogue(self):
            return {short.id: short}

    store = make_store("sqlite", tmp_path_factory.mktemp("fuzz"))
    ids = add_users(store, ann="instructor", bob="trainee")
    cid = store.add_class(ids["ann"], "Pilot A")
    store.add_member(cid, ids["bob"])
    aid = store.assign(cid, short.id, None)
    c = TestClient(create_app(store, SECRET, core=ShortCore()), raise_server_exceptions=False)
    token = login(c, "bob")
    r = c.post(f"/trainee/assignments/{aid}/start", data={"csrf": token},
               follow_redirects=False)
    sid = int(r.headers["location"].rsplit("/", 1)[1])
    c.post(f"/api/sessions/{sid}/step", json={"minutes": 15}, headers={"X-CSRF-Token": token})
    yield c, token, sid
    store.close()


bodies = st.one_of(
    st.builds(lambda card, action, fields: {"card_id": card, "action": action,
                                            "fields": fields},
              st.one_of(st.text(max_size=130), json_values), st.one_of(
                  st.sampled_from(["file", "void", "dispatch", "close", "merge"]),
                  st.text(max_size=70)),
              st.one_of(st.dictionaries(st.text(max_size=20), json_values, max_size=14),
                        json_values)),
    st.builds(lambda m: {"minutes": m}, st.one_of(st.integers(), st.floats(), json_values)),
    json_values)
raw_numbers = st.sampled_from(["1e999", "-1e999", "Infinity", "NaN", "1" + "0" * 5000,
                               "9223372036854775808", "-0", "1E400"])


@FUZZ
@given(body=bodies, number=raw_numbers, raw=st.booleans(),
       where=st.sampled_from(["decisions", "step"]))
def test_fuzz_console_json(desk, body, number, raw, where):
    c, token, sid = desk
    text = json.dumps(body, allow_nan=True)
    if raw:                                    # a number JSON parsers disagree on
        text = (f'{{"minutes": {number}}}' if where == "step" else
                f'{{"card_id": "c1", "action": "file", "fields": {{"subclass": {number}}}}}')
    with bounded():
        r = c.post(f"/api/sessions/{sid}/{where}", content=text,
                   headers={"X-CSRF-Token": token, "Content-Type": "application/json"})
    assert r.status_code in (200, 201, 409, 413, 422), (r.status_code, r.text[:300])
    assert "Traceback" not in r.text
