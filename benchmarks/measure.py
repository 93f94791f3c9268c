"""Measure one simulation in a fresh process: CPU and wall seconds, peak memory, counts.

    python -m benchmarks.measure dongcheng --days 365
    python -m benchmarks.measure dongcheng --days 365 --set hotline.enabled=false
    python -m benchmarks.measure dongcheng --days 120 --let-go 1

``--let-go DAYS`` runs as a long run does (`sim.run.record_run` for more than
`RETIRE_ABOVE_PROBLEMS` problems): dict columns, and each day the problems that ended DAYS
days before leave (`GroundTruth.retire`); ``held_problems`` is the most held at a day's start.
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
            overrides: list[str] | None = None,
            let_go: int | None = None) -> dict[str, float]:
    sc = load_scenario(scenario, overrides or (), days=days, seed=seed)
    held = 0

    def new_day(day: int) -> None:  # as `sim.run.record_run` lets ended problems go
        nonlocal held
        if len(model.truth.retire(before=(day - let_go) * 1440.0)):
            model.discovery.forget(model.truth.retired)
        held = max(held, len(model.truth.fate))

    c0, w0 = time.process_time(), time.perf_counter()
    model = CityModel(sc, progress=None if let_go is None else new_day,
                      retiring=let_go is not None)
    model.run()
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    out = {
        "scenario": sc.name, "days": days, "cpu_seconds": round(cpu, 3),
        "wall_seconds": round(wall, 3), "cases": model.cases.count,
        "problems": len(model.truth), "sim_events": model.sim_events,
        "peak_rss_mb": peak_rss_mb(),
    }
    if let_go is not None:
        out |= {"let_go_days": let_go, "held_problems": held}
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("scenario")
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--seed", type=int)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a scenario override, as in `gridloop run --set`")
    p.add_argument("--let-go", type=int, metavar="DAYS",
                   help="let ended problems go DAYS days after they end, as a long run does")
    a = p.parse_args()
    print(json.dumps(measure(a.scenario, a.days, a.seed, a.set, a.let_go)))


if __name__ == "__main__":
    main()
