"""What users run, next to the simulation core (run with `make bench`; never `make test`).

Each measurement is a fresh process: `benchmarks.measure` times the simulation alone
(`CityModel(...).run()`, the event log kept in memory), `benchmarks.whole` times the whole
`gridloop` command as a user types it (imports, the run streamed to its folder, tables,
figures, digests, the folder swapped in; its CPU and peak memory include the run's recorder
process, `sim.outputs.writer`). Measured one after the other in this run and compared as
ratios; seconds are printed, never asserted (the machine is shared).

Budgets (issue 14): `gridloop run dongcheng --days 365` whole command <= 1.2x the core's
time and <= 1 GB; `--days 3650` peak <= 1.2x the 365-day peak and time <= 11x; `metropolis`
for a year <= 4 GB. A sweep's cost per task is printed against the core's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DAYS_ENV = "GRIDLOOP_BENCH_DAYS"  # a shorter year for trying the suite out (default 365)


def _json(cmd: list[str]) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", *cmd], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def core(scenario: str, days: int, *sets: str) -> dict[str, Any]:
    """The simulation alone, in a fresh process."""
    extra = [a for s in sets for a in ("--set", s)]
    return _json(["benchmarks.measure", scenario, "--days", str(days), *extra])


def whole(*argv: str) -> dict[str, Any]:
    """A whole `gridloop` command, in a fresh process."""
    r = _json(["benchmarks.whole", *argv])
    assert r["exit"] == 0, r
    return r


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} cores"


def _year(scenario: str, days: int, folder: Path) -> tuple[dict, dict]:
    c = core(scenario, days)
    w = whole("run", scenario, "--days", str(days), "--out", str(folder), "--quiet")
    return c, w


def test_a_year_and_ten_years_of_dongcheng_whole_command_against_the_core(
        benchmark) -> None:  # noqa: ANN001
    days = int(os.environ.get(DAYS_ENV, 365))

    def measure() -> dict[str, Any]:
        with tempfile.TemporaryDirectory() as tmp:
            c, w = _year("dongcheng", days, Path(tmp) / "year")
            c2, w2 = _year("dongcheng", days, Path(tmp) / "year2")  # twice: the best pair
            long = whole("run", "dongcheng", "--days", str(10 * days), "--out",
                         str(Path(tmp) / "ten"), "--quiet")
        pairs = [[round(w_["wall_seconds"] / c_["wall_seconds"], 3),
                  round(w_["cpu_seconds"] / c_["cpu_seconds"], 3)] for c_, w_ in ((c, w), (c2, w2))]
        return {"pairs": pairs, "core": min((c, c2), key=lambda r: r["wall_seconds"]),
                "whole": min((w, w2), key=lambda r: r["wall_seconds"]), "ten_years": long,
                "load": _load()}

    r = benchmark.pedantic(measure, rounds=1, iterations=1)
    benchmark.extra_info.update(r)
    c, w, long = r["core"], r["whole"], r["ten_years"]
    wall_ratio = w["wall_seconds"] / c["wall_seconds"]
    cpu_ratio = w["cpu_seconds"] / c["cpu_seconds"]
    peak_ratio = long["peak_rss_mb"] / w["peak_rss_mb"]
    time_ratio = long["wall_seconds"] / w["wall_seconds"]
    print(f"\n{days} days of dongcheng: simulation core {c['wall_seconds']:.1f} s wall "
          f"({c['cpu_seconds']:.1f} s CPU, {c['peak_rss_mb']:.0f} MB); whole `gridloop run` "
          f"{w['wall_seconds']:.1f} s wall ({w['cpu_seconds']:.1f} s CPU), "
          f"{w['peak_rss_mb']:.0f} MB peak; {r['load']}")
    print(f"  whole / core: {wall_ratio:.2f}x wall (bar <= 1.2), {cpu_ratio:.2f}x CPU; "
          f"peak {w['peak_rss_mb']:.0f} MB (bar <= 1024)")
    print("  each pair (core then whole, one after the other): " + ", ".join(
        f"{wr:.2f}x wall, {cr:.2f}x CPU" for wr, cr in r["pairs"]))
    print(f"{10 * days} days: {long['wall_seconds']:.1f} s wall ({long['cpu_seconds']:.1f} s "
          f"CPU), {long['peak_rss_mb']:.0f} MB peak: {peak_ratio:.2f}x the {days}-day peak "
          f"(bar <= 1.2), {time_ratio:.2f}x its time (bar <= 11; "
          f"{long['cpu_seconds'] / w['cpu_seconds']:.2f}x its CPU)")
    assert w["peak_rss_mb"] <= 1024
    assert wall_ratio <= 1.2
    assert peak_ratio <= 1.2
    assert time_ratio <= 11


def test_a_year_of_metropolis_in_four_gigabytes(benchmark, tmp_path: Path) -> None:  # noqa: ANN001
    days = int(os.environ.get(DAYS_ENV, 365))
    r = benchmark.pedantic(whole, args=("run", "metropolis", "--days", str(days), "--out",
                                        str(tmp_path / "m"), "--quiet"),
                           rounds=1, iterations=1)
    benchmark.extra_info.update(r)
    s = json.loads((tmp_path / "m" / "summary.json").read_text())
    print(f"\n{days} days of metropolis (23,220 grids, 4,320 inspectors): "
          f"{r['wall_seconds']:.0f} s wall ({r['cpu_seconds']:.0f} s CPU), "
          f"{r['peak_rss_mb']:.0f} MB peak (bar <= 4096); {s['cases_filed']:,} cases filed, "
          f"{s['sim_events']:,} SimPy events; {_load()}")
    assert r["peak_rss_mb"] <= 4096


def test_a_sweep_per_task_against_the_core(benchmark, tmp_path: Path) -> None:  # noqa: ANN001
    """`gridloop sweep` on one worker: the whole command's seconds per task (a task
    simulates, derives its tables and writes them) against one simulation alone."""
    reps, points = 10, 2

    def measure() -> dict[str, Any]:
        c = core("small-town", 30)
        w = whole("sweep", "small-town", "--vary", "inspectors.count=20,24", "--reps",
                  str(reps), "--days", "30", "--workers", "1", "--out", str(tmp_path / "s"))
        return {"core": c, "whole": w, "load": _load()}

    r = benchmark.pedantic(measure, rounds=1, iterations=1)
    benchmark.extra_info.update(r)
    per_task = r["whole"]["wall_seconds"] / (reps * points)
    print(f"\nsweep of small-town, 30 days, {reps * points} tasks on one worker: "
          f"{per_task:.2f} s a task (whole command / tasks) against "
          f"{r['core']['wall_seconds']:.2f} s for the simulation alone: "
          f"{per_task / r['core']['wall_seconds']:.2f}x; {r['load']}")
