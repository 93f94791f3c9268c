"""`validate` refuses what `run` cannot do (issue 17, point 2): ceilings on every count, rate,
horizon and date, and an estimate of memory and time that refuses unless ``--force``.

Each case of the probe passed `validate` before and then took `run` down (the kernel's
out-of-memory killer at 24 GB, a hang, MemoryError, a traceback).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main
from sim.data import limits, resources
from sim.data.scenario import load_scenario
from sim.errors import InputError

ROOT = Path(__file__).resolve().parent.parent


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("setting, key, words", [
    ("departments.sanitation.crews=1000000000", "departments.sanitation.crews",
     "at most 100,000"),                                      # OOM-killed at 24 GB
    ("inspectors.count=" + "1" + "0" * 30, "inspectors.count", "at most 100,000"),   # hung
    ("days=1000000000", "days", "at most 3,660"),             # MemoryError
    ("problems.per_day=.inf", "problems.per_day", "a finite number"),      # traceback
    ("problems.per_day=1.0e+12", "problems.per_day", "at most 1,000,000"),  # traceback
    ("problems.hourly_profile=[" + ",".join(["0"] * 24) + "]", "problems.hourly_profile",
     "at least one entry above 0"),                           # division by zero
    ("hotline.weekly_profile=[0,0,0,0,0,0,0]", "hotline.weekly_profile", "above 0"),
    ("start_date=9999-12-31", "start_date", "from 1900-01-01 to 2200-12-31"),
    ("start_date=1600-01-01", "start_date", "from 1900-01-01 to 2200-12-31"),
    ("calendar.holidays=[9999-12-31]", "calendar.holidays.0", "to 2200-12-31"),
    ("start_date=2026-02-30", "start_date", "a real date"),
    ("seed=" + "9" * 30, "seed", "at most 9,223,372,036,854,775,807"),
    ("problems.holiday_factor=1.0e+300", "problems.holiday_factor", "at most 1,000,000,000,000"),
    ("inspectors.task_minutes={dist: exponential, mean: .inf}", "inspectors.task_minutes.mean",
     "a finite number"),
    ("departments.sanitation.borrowing.max_crews=1000000",
     "departments.sanitation.borrowing.max_crews", "at most 100,000"),
])
def test_validate_refuses_values_run_cannot_take(capsys, setting, key, words):
    code, out, err = cli(capsys, "validate", "small-town", "--set", setting)
    assert code == 2 and out == ""
    assert err.startswith(f"gridloop: --set: {key}: ") and words in err, err
    assert len(err.splitlines()) == 1


def test_run_refuses_days_over_the_ceiling_before_simulating(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr("sim.run.simulate", lambda *a, **k: pytest.fail("simulated"))
    code, _, err = cli(capsys, "run", "small-town", "--days", str(10**12), "--out",
                       str(tmp_path / "r"))
    assert code == 2 and err.startswith("gridloop: --days: days: expected at most 3,660")


def test_a_run_must_end_inside_the_date_range(capsys):
    code, _, err = cli(capsys, "validate", "small-town", "--set", "start_date=2200-12-01",
                       "--set", "days=60")
    assert code == 2 and "expected the run to end by 2200-12-31" in err


def test_a_ceiling_in_a_file_is_reported_at_its_line(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("base: small-town\nname: big\nproblems:\n  per_day: 1.0e+9\n",
                    encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_scenario(path)
    assert str(e.value).startswith(f"{path}:4: problems.per_day: expected at most 1,000,000")


def test_every_ceiling_is_documented_with_its_value():
    doc = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    for c in limits.CEILINGS:
        row = next((ln for ln in doc.splitlines() if f"`{c.pattern}`" in ln), None)
        assert row is not None, f"docs/security.md does not list {c.pattern}"
        assert f"{int(c.most):,}" in row, row
    for name in ("YAML_BYTES", "CSV_BYTES", "GEOJSON_BYTES"):
        assert f"{getattr(limits, name) // 2**20} MiB" in doc
    assert f"{limits.YAML_NODES:,}" in doc and str(limits.DATE_MIN) in doc


# --- the estimate -----------------------------------------------------------------------------

HUGE = ("--set", "problems.per_day=1000000", "--set", "days=3660")


def test_validate_and_run_refuse_a_run_the_machine_cannot_finish(capsys, monkeypatch,
                                                                  tmp_path):
    monkeypatch.setattr("sim.run.simulate", lambda *a, **k: pytest.fail("simulated"))
    for argv in (("validate", "small-town"), ("run", "small-town", "--out", str(tmp_path))):
        code, out, err = cli(capsys, *argv, *HUGE)
        assert code == 2, out
        assert "expected a run this machine can finish" in err and "--force" in err
        assert "3,660,000,000 problems" in err
    assert not any(tmp_path.iterdir())                  # nothing written either


def test_force_lets_validate_pass_and_says_what_it_will_cost(capsys):
    code, out, _ = cli(capsys, "validate", "small-town", *HUGE, "--force")
    assert code == 0
    assert "GB of memory" in out and "note: this run needs" in out


def test_the_estimate_grows_with_what_drives_the_work():
    base = load_scenario("small-town", ["days=10"])
    small = resources.estimate(base)
    assert not small.warnings and small.memory_bytes < resources.WARN_BYTES
    for setting in ("problems.per_day=200000", "hotline.enabled=true",
                    "inspectors.count=100000"):
        bigger = resources.estimate(load_scenario("small-town", ["days=10", setting]))
        assert bigger.memory_bytes > small.memory_bytes and bigger.seconds > small.seconds
    assert resources.estimate(load_scenario("small-town", ["days=20"])).problems == \
        pytest.approx(2 * small.problems)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_the_estimate_bounds_a_real_run(tmp_path):
    """The estimate must not promise less than a run takes: a small run's memory, measured
    by the kernel, stays under it (the estimate's point is to refuse before allocating)."""
    import subprocess
    import sys

    est = resources.estimate(load_scenario("small-town", ["days=3"]))
    # the peak of this process's own memory (VmHWM; ru_maxrss would carry the pytest
    # process's across fork and exec)
    code = ("from pathlib import Path; from sim.cli import main; "
            "main(['run', 'small-town', '--days', '3', '--quiet', '--no-figure', '--out', "
            f"{str(tmp_path / 'r')!r}]); "
            "print(next(ln.split()[1] for ln in Path('/proc/self/status').read_text()"
            ".splitlines() if ln.startswith('VmHWM:')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, cwd=ROOT, check=True)
    peak = int(proc.stdout.split()[-1]) * 1024          # kB
    assert 50 * 2**20 < peak < est.memory_bytes


@pytest.mark.parametrize("settings, key", [
    (["hotline.call_takers=0"], "hotline.call_takers"),
    (["hotline.staffing_profile=[" + ",".join(["0"] * 24) + "]"], "hotline.staffing_profile"),
    (["hotline.shifts=1", "hotline.staffing_profile=[" + ",".join(["1"] * 8 + ["0"] * 8
                                                                  + ["1"] * 8) + "]"],
     "hotline.staffing_profile"),                       # staffed only outside its shift
])
def test_a_hotline_with_nobody_on_duty_is_refused_by_validate(capsys, settings, key):
    """`run` ended in a ValueError traceback from the call queue."""
    argv = ["validate", "small-town", "--set", "hotline.enabled=true"]
    for s in settings:
        argv += ["--set", s]
    code, _, err = cli(capsys, *argv)
    assert code == 2 and err.startswith(f"gridloop: --set: {key}: expected at least one "
                                        "call-taker on duty")

