"""Hostile files (issue 17, points 1 and 3): every reader is bounded, every bad file gets one
located line and exit code 2, and no error shows what an unrelated file holds.

Each test is a case of the probe that failed before: the alias bomb ran out of memory, an
impossible date or a NUL was a traceback, ``base: /dev/zero`` read forever, ``base:
/etc/shadow`` printed its first line.
"""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest

from sim.cli import main
from sim.data import limits
from sim.data.scenario import SCENARIO_DIR, load_scenario
from sim.data.textfile import read_text
from sim.data.yamlfile import line_of, parse_yaml, read_yaml
from sim.errors import InputError
from sim.rules import load_rules

BOMB = "\n".join(["base: dongcheng", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol"]']
                 + [f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]"
                    for p, c in zip("abcdefgh", "bcdefghi", strict=True)]) + "\n"
SECRET = "root:$6$TOPSECRET-HASH:19000:0:99999:7:::"


def refused(path: Path | str, *argv: str, capsys: pytest.CaptureFixture[str]) -> str:
    """Run ``gridloop validate PATH`` in-process: exit 2, one line, no traceback."""
    code = main(["validate", str(path), *argv])
    out, err = capsys.readouterr()
    assert code == 2, out + err
    assert len(err.splitlines()) == 1 and err.startswith("gridloop: "), err
    assert "Traceback" not in err
    return err.strip()


def write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    p = tmp_path / name
    if isinstance(data, bytes):
        p.write_bytes(data)
    else:
        p.write_text(data, encoding="utf-8")
    return p


# --- YAML: aliases, depth, length -------------------------------------------------------------

def test_the_alias_bomb_is_refused_without_being_expanded(tmp_path, capsys):
    assert len(BOMB.encode()) < 450                      # the probe's ~400-byte file
    path = write(tmp_path, "bomb.yaml", BOMB)
    tracemalloc.start()
    try:
        with pytest.raises(InputError) as e:
            read_yaml(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20                             # it expanded: 3 GB and MemoryError
    assert e.value.line is not None and "aliases" in e.value.message
    assert "values with aliases expanded" in refused(path, capsys=capsys)


def test_aliases_a_scenario_needs_still_work_and_their_lines_are_the_anchors():
    data, lines = parse_yaml("a: &x {b: 1, c: [1, 2]}\nd: *x\ne: [*x, *x]\n", "f.yaml")
    assert data["d"] == data["a"] == {"b": 1, "c": [1, 2]} and data["e"] == [data["a"]] * 2
    assert lines[("d",)] == 2 and line_of(lines, ("d", "c", 1)) == 2
    assert load_scenario("governance/complaint-driven").departments["water"].priority == "fifo"


@pytest.mark.parametrize("text, line, words", [
    ("a: &a [1, *a]\n", 1, "recursive aliases"),
    ("a: 1\nb: " + "[" * 100_000 + "]" * 100_000 + "\n", 2, "nest"),
    ("a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 80)) + "  " * 80 + "x: 1\n",
     None, "nested at most 64 deep"),
    ("a: 1\nb: '" + "x" * 100_001 + "'\n", 2, "at most 100,000 characters"),
    ("seed: " + "9" * 5000 + "\n", 1, "at most 100 digits"),
    ("start_date: 2026-02-30\n", 1, "a real date"),
    ("a: 2026-02-28 25:00:00\n", 1, "a real date"),
    ("name: \"a\\0b\"\n", 1, "NUL in a value"),
    ("name: \"a\\x1bb\"\n", 1, "control character U+001B"),
    ("a: 1\n---\nb: 2\n", 2, "a single YAML document"),
    ("a: *nothing\n", 1, "undefined alias"),
])
def test_yaml_over_a_ceiling_is_a_located_error(text, line, words):
    with pytest.raises(InputError) as e:
        parse_yaml(text, "f.yaml")
    assert words in e.value.message
    if line is not None:
        assert e.value.line == line


# --- encodings and control characters ---------------------------------------------------------

@pytest.mark.parametrize("data, line, words", [
    ("name: x\ndescription: café\n".encode("latin-1"), 2, "byte 0xE9 that is not UTF-8"),
    ("name: x\n".encode("utf-16"), 1, "got UTF-16 text"),
    ("name: x\n".encode("utf-16-le"), 1, "NUL at column 2"),
    (b"name: x\nseed: 1\x00\n", 2, "NUL at column 8"),
    (b"name: x\n\nseed: \x1b[31m1\n", 3, "control character U+001B at column 7"),
])
def test_bad_encodings_and_control_characters_are_located(tmp_path, capsys, data, line, words):
    path = write(tmp_path, "s.yaml", data)
    with pytest.raises(InputError) as e:
        read_text(path, "a YAML file", limits.YAML_BYTES)
    assert (e.value.line, words in e.value.message) == (line, True), e.value
    assert refused(path, capsys=capsys).startswith(f"gridloop: {path}:{line}: ")


def test_a_utf8_byte_order_mark_is_fine(tmp_path):
    path = write(tmp_path, "s.yaml", b"\xef\xbb\xbfa: 1\n")
    assert read_yaml(path)[0] == {"a": 1}


def test_a_file_over_its_size_cap_is_refused_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr("sim.data.yamlfile.YAML_BYTES", 1000)
    path = write(tmp_path, "big.yaml", "a: 1\n" * 300)
    with pytest.raises(InputError, match="at most 1,000 bytes, got 1,500 bytes"):
        read_yaml(path)


# --- files a scenario names -------------------------------------------------------------------

@pytest.fixture
def secret(tmp_path):
    """A readable file that is not GridLoop's, and a link to it named like a scenario."""
    path = write(tmp_path, "shadow", SECRET + "\n")
    (tmp_path / "shadow.yaml").symlink_to(path)
    return path


@pytest.mark.parametrize("base, found", [
    ("/dev/zero", "a character device"),            # read until memory ran out
    ("{tmp}", "a folder"),
    ("{tmp}/shadow", "a file not ending in .yaml or .yml"),      # printed its first line
    ("shadow.yaml", "a link to"),
    ("{tmp}/fifo.yaml", "a named pipe"),            # would block on open
])
def test_base_must_be_a_regular_yaml_file_and_errors_never_show_content(
        tmp_path, capsys, secret, base, found):
    os.mkfifo(tmp_path / "fifo.yaml")
    path = write(tmp_path, "overlay.yaml", f"base: {base.format(tmp=tmp_path)}\nname: x\n")
    err = refused(path, capsys=capsys)
    assert err.startswith(f"gridloop: {path}:1: base: ") and found in err
    assert "TOPSECRET" not in err and "root:" not in err


@pytest.mark.parametrize("key, value, found", [
    ("handbook: {file: NAMED}", "/dev/zero", "a character device"),
    ("handbook: {file: NAMED}", "{tmp}/shadow", "a file not ending in .yaml or .yml"),
    ("handbook: {file: NAMED}", "shadow.yaml", "a file not ending in .yaml or .yml"),
    ("city: {grids_file: NAMED}", "/dev/zero", "a character device"),
    ("city: {grids_file: NAMED}", "{tmp}", "a folder"),
    ("evaluation: {rules: NAMED}", "/dev/zero", "a character device"),
    ("evaluation: {rules: NAMED}", "{tmp}/shadow.yaml", "a link to"),
])
def test_every_file_a_scenario_names_is_checked_the_same_way(tmp_path, capsys, secret, key,
                                                             value, found):
    text = f"base: {SCENARIO_DIR / 'small-town.yaml'}\n" + key.replace(
        "NAMED", value.format(tmp=tmp_path)) + "\n"
    err = refused(write(tmp_path, "overlay.yaml", text), capsys=capsys)
    assert found in err and ":2: " in err
    assert "TOPSECRET" not in err


def test_a_yaml_file_that_is_not_a_mapping_is_described_not_quoted(tmp_path):
    path = write(tmp_path, "plain.yaml", "TOPSECRET first line\nand the second\n")
    for load in (load_scenario, load_rules):
        with pytest.raises(InputError) as e:
            load(path)
        assert "TOPSECRET" not in str(e.value) and "not a mapping" in str(e.value)


def test_reading_a_small_file_does_not_set_aside_its_cap(tmp_path):
    """A reader's cap (256 MiB for a CSV) is a ceiling, not a buffer: reading a small grid
    table once cost 256 MiB, found by the fuzz tests' memory cap."""
    path = write(tmp_path, "small.csv", "code,name\n" * 100)
    tracemalloc.start()
    try:
        assert read_text(path, "a CSV", limits.CSV_BYTES).startswith("code,name")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20
