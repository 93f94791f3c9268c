"""Speed of bringing a city's raw export in (run with `make bench`; never part of `make test`).

Issue 13's bars: mapping and importing 100,000 rows in at most 10 s, and calibration on them
in at most 2 minutes, on the project machine. The rows are made here by resampling the San
Francisco 311 sample (``../shared/data/sf311`` beside the checkout, else the slice shipped in
``scenarios/examples/sf311``) with replacement, fresh ids, opening times spread over the same
span; each figure is printed against its bar. The suite asserts only what one run can
compare: that 100,000 rows cost at most 15x what 10,000 cost (near-linear), never a wall time.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import numpy as np

from sim.data.scenario import SCENARIO_DIR
from sim.ingest.cityimport import import_city
from sim.ingest.convert import caselog_events
from sim.ingest.mapping import load_mapping
from sim.ingest.scenario_yaml import calibrate

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "sf311" / \
    "cases_sample_10000.csv"
SLICE = SCENARIO_DIR / "examples" / "sf311" / "cases-2015h2.csv"
MAPPING = SCENARIO_DIR / "examples" / "sf311" / "mapping.yaml"


def resampled(path: Path, rows: int, seed: int = 13) -> Path:
    """``rows`` records drawn with replacement from the SF sample, ids made unique."""
    source = SHARED if SHARED.exists() else SLICE
    with open(source, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        records = list(reader)
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(records), rows)
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for k, i in enumerate(pick):
            rec = list(records[i])
            rec[1] = f"{rec[1]}-{k}"
            w.writerow(rec)
    return path


def _import(raw: Path, out: Path) -> tuple[float, int]:
    t0 = time.process_time()
    city = import_city(raw, load_mapping(MAPPING), out)
    caselog_events(city.log, city.handbook)
    return time.process_time() - t0, len(city.log.cases)


def test_import_and_calibration_of_100000_rows(tmp_path: Path) -> None:
    """Bars: import <= 10 s and calibration <= 120 s for 100,000 rows (printed)."""
    small = resampled(tmp_path / "10k.csv", 10_000)
    large = resampled(tmp_path / "100k.csv", 100_000)
    t_small, _ = _import(small, tmp_path / "a")
    t_large, n = _import(large, tmp_path / "b")
    t0 = time.process_time()
    cal = calibrate(large, tmp_path / "c" / "city.yaml", mapping=MAPPING)
    t_cal = time.process_time() - t0
    print(f"\nimport (mapping, checks, taxonomy, grids, event rows), CPU: 10,000 rows "
          f"{t_small:.2f} s; 100,000 rows {t_large:.2f} s ({n:,} good; bar 10 s)")
    print(f"calibration of 100,000 rows, CPU: {t_cal:.1f} s (bar 120 s; "
          f"{len(cal.fitted.pilots) + len(cal.fitted.corrections)} pilot runs)")
    assert t_large <= 15 * t_small
