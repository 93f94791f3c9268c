"""Experiments under kills and damage (issue 17, point 9): a killed main process takes its
workers with it, and a damaged task file is reported by name and run again.

Before: ~500 MB of workers kept simulating for minutes after ``kill -9`` of the main
process, and one damaged task file made every reader of the folder fail with pyarrow's
traceback.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.errors import GridLoopError
from sim.experiment import LocalPool, load_results, run_compare

ROOT = Path(__file__).resolve().parent.parent


def _compare(out: Path, pool: LocalPool) -> object:
    return run_compare(["small-town", "small-town"], reps=2, days=2, seed=5, out=out,
                       overrides=["inspectors.count=10"], executor=pool)


def test_a_damaged_task_file_is_named_then_run_again(tmp_path, caplog):
    out = tmp_path / "exp"
    with LocalPool(1) as pool:
        _compare(out, pool)
        reference = load_results(out)
        victim = out / "tasks" / "p001-r0000.parquet"
        data = victim.read_bytes()
        victim.write_bytes(data[: len(data) // 2] + b"\0" * 64 + data[len(data) // 2:])
        with pytest.raises(GridLoopError) as e:              # readers: the file, by name
            load_results(out)
        assert str(e.value).startswith(f"{victim}: expected a task file, got unreadable")
        with caplog.at_level(logging.WARNING, logger="sim.experiment"):
            again = _compare(out, pool)                      # the rerun: named, redone
    assert again.tasks_run == 1
    assert any(str(victim) in r.getMessage() and "runs again" in r.getMessage()
               for r in caplog.records)
    assert (out / "tasks" / "damaged" / victim.name).exists()
    pd.testing.assert_frame_equal(load_results(out), reference)


def _children() -> dict[int, list[int]]:
    """Parent pid -> child pids of every live (not zombie) process."""
    out: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            if fields[0] != "Z":
                out.setdefault(int(fields[1]), []).append(int(entry))
    return out


def _descendants(pid: int) -> set[int]:
    tree, found, todo = _children(), set(), [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _cpu_seconds(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rindex(")") + 2] != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_killing_the_main_process_stops_its_workers(tmp_path):
    """Two workers on tasks of minutes; ``kill -9`` of the main process: they are gone
    within seconds, instead of running their tasks to the end."""
    code = ("from sim.experiment import run_compare\n"
            "run_compare(['small-town', 'small-town'], reps=2, days=3000, seed=1, "
            f"workers=2, out={str(tmp_path / 'exp')!r})\n")
    main = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    everyone: set[int] = set()
    try:
        workers: list[int] = []
        for _ in range(1200):                 # until two workers are simulating
            tree = _children()                # workers are the fork server's children
            workers = [w for child in tree.get(main.pid, []) for w in tree.get(child, [])
                       if _cpu_seconds(w) > 0.5]
            if len(workers) >= 2 or main.poll() is not None:
                break
            time.sleep(0.1)
        assert main.poll() is None and len(workers) >= 2, "the workers never started"
        everyone = _descendants(main.pid)
        main.send_signal(signal.SIGKILL)
        main.wait()
        left: list[int] = []
        for _ in range(600):                  # poll, up to a minute: the tasks take minutes
            left = [p for p in everyone if _alive(p)]
            if not left:
                break
            time.sleep(0.1)
        assert not left, f"workers {left} outlived the main process"
    finally:
        if main.poll() is None:
            main.kill()
        for pid in everyone | _descendants(main.pid):
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
