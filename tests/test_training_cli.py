"""`gridloop exercises`, `play`, `grade` and `cohort`: what an instructor types."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sim.cli import main


def test_exercises_lists_and_shows(capsys) -> None:
    assert main(["exercises"]) == 0
    out = capsys.readouterr().out
    assert "dispatcher-first-morning" in out and "advanced" in out
    assert main(["exercises", "rainstorm-dispatch"]) == 0
    out = capsys.readouterr().out
    assert "injects:" in out and "E04-02" in out and "rubric: accuracy 50%" in out


def test_play_grade_regrade_and_cohort(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "class"
    rec = folder / "ada.json"
    assert main(["play", "dispatcher-first-morning", "--out", str(rec), "--trainee", "ada"]) == 0
    assert json.loads(rec.read_text())["trainee"] == "ada"
    assert main(["grade", str(rec), "--json", str(tmp_path / "g.json")]) == 0
    out = capsys.readouterr().out
    assert "grade A" in out and "the reference" in out
    first = json.loads((tmp_path / "g.json").read_text())
    rubric = tmp_path / "strict.yaml"
    rubric.write_text("weights: {accuracy: 0, timeliness: 0, outcome: 1}\n", encoding="utf-8")
    assert main(["grade", str(rec), "--rubric", str(rubric), "--json",
                 str(tmp_path / "g2.json")]) == 0
    second = json.loads((tmp_path / "g2.json").read_text())
    assert second["score"] == second["outcome_score"]
    assert second["decisions"] == first["decisions"]
    assert main(["cohort", str(folder), "--csv", str(tmp_path / "book.csv")]) == 0
    out = capsys.readouterr().out
    assert "1 sessions" in out and "grades: A 1" in out
    assert (tmp_path / "book.csv").read_text(encoding="utf-8-sig").startswith("trainee,")


def test_bad_inputs_are_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "s.json"
    bad.write_text("{not json", encoding="utf-8")
    rubric = tmp_path / "r.yaml"
    rubric.write_text("weights:\n  accuracy: lots\n", encoding="utf-8")
    cases = [(["grade", str(bad)], f"{bad}: expected a session record in JSON"),
             (["grade", str(bad), "--rubric", str(rubric)], f"{rubric}:2: weights.accuracy"),
             (["exercises", "nope"], "no such file or bundled exercise"),
             (["cohort", str(tmp_path / "empty")], "found none")]
    for args, expected in cases:
        p = subprocess.run([sys.executable, "-m", "sim.cli", *args], capture_output=True,
                           text=True, cwd=Path(__file__).resolve().parent.parent)
        assert p.returncode == 2, p.stderr
        assert p.stderr.count("\n") == 1 and expected in p.stderr, p.stderr
        assert "Traceback" not in p.stderr
