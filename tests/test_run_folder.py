"""Run folders: checked before the run, never overwritten by surprise, written whole, verified.

`gridloop run` refuses an ``--out`` it cannot write with one line and exit code 2 before it
simulates anything; replaces an earlier run only with ``--force``; records how the run was
made; and puts the folder in place in one rename, so a run killed with SIGKILL at any stage
of writing leaves the old folder or the complete new one. Readers refuse a folder whose files
do not match the list in its ``summary.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.errors import GridLoopError, InputError
from sim.outputs.runfolder import RunFolder, read_run_summary

ROOT = Path(__file__).resolve().parent.parent


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def small_run(capsys: pytest.CaptureFixture[str], out: Path, days: int = 1,
              *extra: str) -> dict:
    code, _, err = run_cli(capsys, "run", "small-town", "--days", str(days), "--out", str(out),
                           "--no-figure", "--quiet", *extra)
    assert (code, err) == (0, "")
    return json.loads((out / "summary.json").read_text())


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run the CLI, check it refused in one line with exit 2 before simulating; the line."""
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert out == ""                      # nothing simulated, nothing printed
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gridloop: "), err
    assert "Traceback" not in err
    return lines[0]


# ---------------------------------------------------------------- --out checked first


def test_an_out_that_is_a_file_is_refused_before_the_run(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    target = tmp_path / "results.txt"
    target.write_text("mine")
    line = refused(capsys, "run", "small-town", "--days", "1", "--out", str(target))
    assert "is a file, not a folder" in line and str(target) in line
    assert target.read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.txt"]


@pytest.mark.parametrize("where", ["/proc/gridloop-x", "/proc/self/gridloop",
                                   "/sys/gridloop-x"])
def test_an_out_in_an_unwritable_place_is_refused(where: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    line = refused(capsys, "run", "small-town", "--days", "1", "--out", where)
    assert line.startswith(f"gridloop: --out {where}: cannot write there")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_an_out_in_a_read_only_folder_is_refused(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        line = refused(capsys, "run", "small-town", "--days", "1", "--out",
                       str(locked / "run"))
    finally:
        locked.chmod(0o755)
    assert "cannot write there" in line


def test_a_disk_too_full_for_the_run_is_refused_before_it(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    real = shutil.disk_usage

    def nearly_full(path: str | Path) -> object:
        return real(path)._replace(free=1_000_000)  # 1 MB free

    monkeypatch.setattr(shutil, "disk_usage", nearly_full)
    line = refused(capsys, "run", "small-town", "--days", "30", "--out", str(tmp_path / "r"))
    assert "the disk has 1 MB free and this run needs about" in line
    assert list(tmp_path.iterdir()) == []  # the temporary folder went too


_NO_SPACE = """
import errno, os
from sim.outputs import files

def no_space(self, table):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

files.TableWriter.write = no_space
"""


@pytest.mark.parametrize("where", ["recorder process", "recorder thread"])
def test_a_disk_that_fills_up_during_the_run_leaves_the_old_folder(
        where: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "run"
    before = small_run(capsys, out, 1)
    if where == "recorder process":  # the disk fills up under the recorder's process
        hook = tmp_path_factory.mktemp("hook")
        (hook / "sitecustomize.py").write_text(_NO_SPACE)
        monkeypatch.setenv("PYTHONPATH", str(hook))
        from sim import run

        monkeypatch.setattr(run, "PROCESS_ABOVE_PROBLEMS", 0)  # a small run in one too
    else:
        from sim import run
        from sim.outputs import files
        from sim.outputs.recorder import RunRecorder

        monkeypatch.setattr(files.TableWriter, "write", files.TableWriter.write)  # undone after
        exec(_NO_SPACE, {})  # noqa: S102 - the same fault, in this process
        monkeypatch.setattr(run, "RecorderProcess", RunRecorder)
    code, _, err = run_cli(capsys, "run", "small-town", "--days", "2", "--out", str(out),
                           "--force", "--quiet", "--no-figure")
    assert code == 2 and "Traceback" not in err
    assert err.splitlines() == [f"gridloop: {out.absolute()}: could not write the run (No "
                                f"space left on device); the folder is as it was"]
    assert read_run_summary(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


# ---------------------------------------------------------------- no silent overwrite


def test_an_earlier_run_is_replaced_only_with_force(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    first = small_run(capsys, out, 1)
    line = refused(capsys, "run", "small-town", "--days", "2", "--out", str(out))
    assert "exists and is not empty" in line and "--force" in line
    assert read_run_summary(out) == first
    second = small_run(capsys, out, 2, "--force")
    assert (first["days"], second["days"]) == (1, 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # nothing left beside it


def test_force_never_replaces_a_folder_that_is_not_a_run(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    (tmp_path / "thesis.tex").write_text("years of work")
    line = refused(capsys, "run", "small-town", "--days", "1", "--out", str(tmp_path),
                   "--force")
    assert "not a run folder" in line
    assert (tmp_path / "thesis.tex").read_text() == "years of work"


def test_an_empty_folder_is_used_as_it_is(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    small_run(capsys, tmp_path, 1)  # pytest's tmp_path exists and is empty


def test_without_out_a_run_never_replaces_an_earlier_one(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        code, out, _ = run_cli(capsys, "run", "small-town", "--days", "1", "--no-figure",
                               "--quiet")
        assert code == 0
    assert out.strip() == str(Path("runs") / "small-town-seed7-2")
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [
        "small-town-seed7", "small-town-seed7-2"]
    code, out, _ = run_cli(capsys, "run", "small-town", "--days", "2", "--no-figure",
                           "--quiet", "--force")     # --force: the first one is replaced
    assert (code, out.strip()) == (0, str(Path("runs") / "small-town-seed7"))
    assert read_run_summary(tmp_path / "runs" / "small-town-seed7")["days"] == 2


# ---------------------------------------------------------------- what a folder records


def test_the_folder_records_command_overrides_version_commit_and_digests(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    argv = ["run", "small-town", "--days", "2", "--seed", "5", "--out", str(out), "--set",
            "inspectors.count=10", "--set", "centre.dispatchers=2", "--quiet"]
    assert run_cli(capsys, *argv)[0] == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["argv"] == ["gridloop", *argv]
    assert s["command"].startswith("gridloop run small-town --days 2 --seed 5 --out ")
    assert s["overrides"] == {"set": ["inspectors.count=10", "centre.dispatchers=2"],
                              "days": 2, "seed": 5}
    from importlib.metadata import version
    assert s["version"] == version("gridloop")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True).stdout.strip()
    assert s["git_commit"] == head
    scenario = json.loads((out / "scenario.json").read_text())
    assert scenario["inspectors"]["count"] == 10 and scenario["centre"]["dispatchers"] == 2
    on_disk = {p.name for p in out.iterdir()} - {"summary.json"}
    assert set(s["files"]) == on_disk
    import hashlib
    for name, entry in s["files"].items():
        data = (out / name).read_bytes()
        assert entry == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


# ---------------------------------------------------------------- readers check the list


@pytest.fixture
def mixed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A 2-day run folder whose events.parquet is another (3-day) run's."""
    a, b = tmp_path / "a", tmp_path / "b"
    small_run(capsys, a, 2)
    small_run(capsys, b, 3)
    shutil.copy(b / "events.parquet", a / "events.parquet")
    return a


def test_readers_refuse_a_folder_whose_files_do_not_match(mixed: Path,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    want = f"gridloop: {mixed / 'events.parquet'}: does not match summary.json (it lists "
    for argv in (["evaluate", str(mixed)], ["export", str(mixed), "--format", "open311"]):
        code, _, err = run_cli(capsys, *argv)
        assert code == 2 and err.startswith(want), (argv, err)
    with pytest.raises(InputError, match="does not match"):
        from sim.ingest.fromrun import run_caselog
        run_caselog(mixed)
    caselog = ROOT / "scenarios" / "examples" / "caselog.csv"
    code, _, err = run_cli(capsys, "validate-against", str(caselog), str(mixed))
    assert code == 2 and err.startswith(want), err


def test_a_missing_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    small_run(capsys, out, 1)
    (out / "cases.parquet").unlink()
    with pytest.raises(InputError, match=r"cases\.parquet: is missing"):
        read_run_summary(out)


def test_a_folder_from_before_the_list_is_still_read(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    small_run(capsys, out, 1)
    s = json.loads((out / "summary.json").read_text())
    del s["files"]
    (out / "summary.json").write_text(json.dumps(s))
    assert read_run_summary(out)["days"] == 1
    assert run_cli(capsys, "evaluate", str(out), "--quiet")[0] == 0


# ---------------------------------------------------------------- atomic: kill -9


def _killed_at(stage: str, out: Path, days: int, log: Path) -> int:
    """Start `gridloop run` into ``out``; it stops itself at ``stage`` and is killed -9."""
    env = {**os.environ, "GRIDLOOP_TEST_STOP_AT": stage}
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "run", "small-town",
                                 "--days", str(days), "--out", str(out), "--force", "--quiet"],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)
    _, status = os.waitpid(proc.pid, os.WUNTRACED)   # returns once it stopped (or ended)
    assert os.WIFSTOPPED(status), log.read_text()
    os.kill(proc.pid, signal.SIGKILL)
    _, status = os.waitpid(proc.pid, 0)
    proc.returncode = -signal.SIGKILL  # reaped here, not by Popen
    return os.WTERMSIG(status)


@pytest.mark.parametrize(("stage", "survivor"), [
    ("streaming", "old"),   # the run's tables half written in the temporary folder
    ("written", "old"),     # every file written and fsynced, summary.json too, not swapped
    ("swapped", "new"),     # swapped in; the old run not yet deleted
])
def test_a_run_killed_while_writing_leaves_the_old_or_the_new_folder(
        stage: str, survivor: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    old = small_run(capsys, out, 1)
    assert _killed_at(stage, out, 3, tmp_path.parent / f"{tmp_path.name}.log") == signal.SIGKILL
    s = read_run_summary(out)         # a complete folder: every file matches its digest
    assert s["days"] == {"old": 1, "new": 3}[survivor]
    if survivor == "old":
        assert s == old
    assert len(pd.read_parquet(out / "events.parquet")) > 0
    assert run_cli(capsys, "evaluate", str(out), "--quiet")[0] == 0
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name != "run")
    assert leftovers and all(n.startswith(".run.tmp-") for n in leftovers)
    small_run(capsys, out, 2, "--force")  # the next run tidies them away
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_a_folder_set_aside_without_exchange_is_put_back(tmp_path: Path) -> None:
    """Where no atomic exchange exists the old run is renamed aside first; a kill between
    the two renames leaves it there, and the next run to the target restores it."""
    target = tmp_path / "run"
    aside = tmp_path / ".run.old-999999999-abc"   # a pid that is not running
    (aside / "run").mkdir(parents=True)
    (aside / "run" / "summary.json").write_text("{}")
    folder = RunFolder.prepare(target, force=True)
    folder.abandon()
    assert (target / "summary.json").read_text() == "{}"
    assert not aside.exists()


def test_prepare_refuses_in_one_message(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(GridLoopError, match=r"^out .*f: is a file, not a folder; choose "
                                            r"another out$"):
        RunFolder.prepare(tmp_path / "f", flag="out")
