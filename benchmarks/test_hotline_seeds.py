"""dongcheng's hotline month by month: the spread of the published pair over eight seeds
(run with `make bench`, or alone: `.venv/bin/python -m pytest benchmarks/test_hotline_seeds.py
-s -p no:cacheprovider -o addopts=""`; never part of `make test`: eight 30-day runs take
1.5-3 minutes).

A month holds about 15 neighbourhood outages, and nearly all the waiting, so a month's mean
wait and share answered within 15 s vary with how many came and when. The table printed is
the one in docs/calibration.md ("Both published waits at once"); the bands asserted are the
ones written there: over the eight months the mean wait averages 10-13 s and the share
within 15 s at least 95.3 %; no month is below 94 % or above 16 s, and at most two are
below 95 %.
"""

from __future__ import annotations

import numpy as np

from sim.data.scenario import load_scenario
from sim.run import simulate

SEEDS = (2004, 7, 1, 2, 3, 4, 5, 6)


def test_hotline_months_over_eight_seeds(benchmark) -> None:  # noqa: ANN001
    def measure() -> dict[int, dict]:
        months = {}
        for seed in SEEDS:
            months[seed] = simulate(load_scenario("dongcheng", days=30, seed=seed)
                                    ).summary()["hotline"]
            print(f"seed {seed}: {months[seed]['mean_wait_seconds']:.1f} s, "
                  f"{months[seed]['answered_within_15s']:.2%} within 15 s", flush=True)
        return months

    months = benchmark.pedantic(measure, rounds=1, iterations=1)
    wait = np.array([m["mean_wait_seconds"] for m in months.values()])
    fast = np.array([m["answered_within_15s"] for m in months.values()])
    gone = np.array([m["abandon_rate"] for m in months.values()])
    print("\n| seed | " + " | ".join(map(str, SEEDS)) + " | mean |")
    print("|---" * (len(SEEDS) + 2) + "|")
    for name, xs, fmt in (("mean wait", wait, "{:.1f} s"), ("within 15 s", fast * 100,
                          "{:.1f} %"), ("abandoned", gone * 100, "{:.1f} %")):
        print(f"| {name} | " + " | ".join(fmt.format(x) for x in [*xs, xs.mean()]) + " |")
    benchmark.extra_info.update({"mean_wait": float(wait.mean()),
                                 "within_15s": float(fast.mean())})
    assert 10.0 <= wait.mean() <= 13.0
    assert fast.mean() >= 0.953
    assert fast.min() >= 0.94 and wait.max() <= 16.0
    assert (fast < 0.95).sum() <= 2
