"""Measure one whole `gridloop` command in a fresh process: CPU and wall seconds, peak memory.

    python -m benchmarks.whole run dongcheng --days 365 --out /tmp/y --quiet

Runs the command as `gridloop` would (imports included: the clock starts before GridLoop is
imported) and prints one JSON line: ``cpu_seconds`` (every thread of this process and of the
child processes it waited for: the run's recorder process, `sim.outputs.writer`, and the
drawer process that one waits for, `sim.outputs.drawer`),
``wall_seconds``, ``peak_rss_mb`` (this process's peak plus each helper process's peak:
the sum, though the two peaks need not come at once) and the exit code.
`benchmarks/test_whole_run.py` runs it next to `benchmarks.measure` (the simulation alone)
to get the whole command's cost as a ratio.
"""

from __future__ import annotations

import contextlib
import io
import json
import resource
import sys
import time
from pathlib import Path


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB: the kernel's VmHWM. (``ru_maxrss`` keeps
    the parent's peak across fork and exec, so a run started from a big pytest process would
    report the parent's.)"""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main(argv: list[str]) -> None:
    c0, k0, w0 = time.process_time(), _children_cpu(), time.perf_counter()
    from sim.cli import main as gridloop

    with contextlib.redirect_stdout(io.StringIO()):
        code = gridloop(argv)
    wall = time.perf_counter() - w0
    from sim.outputs.writer import CHILD_PEAKS_MB

    own, children = time.process_time() - c0, _children_cpu() - k0
    print(json.dumps({
        "argv": argv, "exit": code, "cpu_seconds": round(own + children, 3),
        "children_cpu_seconds": round(children, 3), "wall_seconds": round(wall, 3),
        "peak_rss_mb": round(peak_rss_mb() + sum(CHILD_PEAKS_MB), 1),
        "children_peak_rss_mb": CHILD_PEAKS_MB,
    }))


if __name__ == "__main__":
    main(sys.argv[1:])
