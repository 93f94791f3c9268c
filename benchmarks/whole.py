"""Measure one whole `gridloop` command in a fresh process: CPU and wall seconds, peak memory.

    python -m benchmarks.whole run dongcheng --days 365 --out /tmp/y --quiet

Runs the command as `gridloop` would (imports included: the clock starts before GridLoop is
imported) and prints one JSON line: ``cpu_seconds`` (every thread), ``wall_seconds``,
``peak_rss_mb`` and the exit code. `benchmarks/test_whole_run.py` runs it next to
`benchmarks.measure` (the simulation alone) to get the whole command's cost as a ratio.
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


def main(argv: list[str]) -> None:
    c0, w0 = time.process_time(), time.perf_counter()
    from sim.cli import main as gridloop

    with contextlib.redirect_stdout(io.StringIO()):
        code = gridloop(argv)
    print(json.dumps({
        "argv": argv, "exit": code, "cpu_seconds": round(time.process_time() - c0, 3),
        "wall_seconds": round(time.perf_counter() - w0, 3),
        "peak_rss_mb": peak_rss_mb(),
    }))


if __name__ == "__main__":
    main(sys.argv[1:])
