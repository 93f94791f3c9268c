"""Measure one simulation in a fresh process: CPU and wall seconds, peak memory, counts.

    python -m benchmarks.measure dongcheng --days 365
    python -m benchmarks.measure dongcheng --days 365 --set hotline.enabled=false

Prints one JSON line. Benchmarks run it as a subprocess so peak memory is this run's alone.
"""

from __future__ import annotations

import argparse
import json
import time

from benchmarks.whole import peak_rss_mb
from sim.data.scenario import load_scenario
from sim.model import CityModel


def measure(scenario: str, days: int, seed: int | None = None,
            overrides: list[str] | None = None) -> dict[str, float]:
    sc = load_scenario(scenario, overrides or (), days=days, seed=seed)
    c0, w0 = time.process_time(), time.perf_counter()
    model = CityModel(sc).run()
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    return {
        "scenario": sc.name, "days": days, "cpu_seconds": round(cpu, 3),
        "wall_seconds": round(wall, 3), "cases": model.cases.count,
        "problems": len(model.truth), "sim_events": model.sim_events,
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("scenario")
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--seed", type=int)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a scenario override, as in `gridloop run --set`")
    a = p.parse_args()
    print(json.dumps(measure(a.scenario, a.days, a.seed, a.set)))


if __name__ == "__main__":
    main()
