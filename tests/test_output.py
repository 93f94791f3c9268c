"""Result files are written whole (temporary name, then rename) and readable like any file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sim.outputs.files import atomic_write, write_json


def test_results_get_the_usual_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = write_json(tmp_path / "summary.json", {"a": 1})
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644  # not mkstemp's private 0600


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = write_json(tmp_path / "summary.json", {"a": 1})

    def broken(tmp: Path) -> None:
        tmp.write_text("half")
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        atomic_write(path, broken)
    assert path.read_text().strip().startswith("{")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]
