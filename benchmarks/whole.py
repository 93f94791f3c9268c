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


def main(argv: list[str]) -> None:
    c0, w0 = time.process_time(), time.perf_counter()
    from sim.cli import main as gridloop

    with contextlib.redirect_stdout(io.StringIO()):
        code = gridloop(argv)
    print(json.dumps({
        "argv": argv, "exit": code, "cpu_seconds": round(time.process_time() - c0, 3),
        "wall_seconds": round(time.perf_counter() - w0, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }))


if __name__ == "__main__":
    main(sys.argv[1:])
