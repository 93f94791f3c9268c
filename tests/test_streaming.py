"""A run streamed to disk: the same tables as in memory, holding only the open work.

`gridloop run` hands the event log to `sim.outputs.recorder.RunRecorder` a chunk at a time
and keeps no rows; cases leave memory once finished (`CaseStream`), and every KPI, league
table and figure count is summed over batches. Here, at small scale: chunks give exactly
what whole arrays give, the streamed folder equals the in-memory one, and the rows held stay
flat while the run grows (the year-long and ten-year runs are in `make bench`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.data.scenario import load_scenario
from sim.engine.eventlog import EVENT_DTYPE, TERMINAL, EventLog, Step
from sim.errors import GridLoopError
from sim.evaluation import group_cases
from sim.evaluation.cases import CaseStream
from sim.outputs.kpis import hours_stats, hours_stats_of
from sim.outputs.runfolder import RunFolder, read_run_summary
from sim.run import RunResult, record_run, simulate, write_run

SETTINGS = ["whistle.enabled=true", "whistle.subclasses=[E01-05, E03-01, E03-02, E05-06]",
            "whistle.returns=1", "hotline.enabled=true", "hotline.background_per_day=80",
            "citizens.propensity_scale=4"]


@pytest.fixture(scope="module")
def result() -> RunResult:
    """12 days of small-town with the whistle and the hotline (summons, calls, returns)."""
    return simulate(load_scenario("small-town", SETTINGS, days=12, seed=3))


# ---------------------------------------------------------------- the event log's sink


def test_a_log_with_a_sink_hands_every_row_on_and_keeps_none() -> None:
    got: list[np.ndarray] = []
    log = EventLog(chunk=3, sink=got.append)
    rows = [(i, i, float(i), int(Step.REPORT), 1, 0, -1, math.nan, 1, i, 0) for i in range(8)]
    for r in rows:
        log.append(r)
    log.flush()
    assert [len(c) for c in got] == [3, 3, 2]
    assert np.concatenate(got).tobytes() == np.array(rows, dtype=EVENT_DTYPE).tobytes()
    assert len(log) == 8 and log._chunks == []
    with pytest.raises(GridLoopError, match="streamed"):
        log.to_array()


# ---------------------------------------------------------------- cases, a chunk at a time


def _columns(cases: dict[str, np.ndarray]) -> pd.DataFrame:
    frame = pd.DataFrame(cases).sort_values("case", kind="stable", ignore_index=True)
    return frame


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(1, 4000), min_size=1, max_size=12))
def test_cases_come_out_once_each_as_whole_arrays_give_them(result: RunResult,
                                                            cuts: list[int]) -> None:
    """Pushed in chunks of any sizes, every case comes out once, with the same facts."""
    events = result.events
    stream, parts, start = CaseStream(), [], 0
    for size in [*cuts, len(events)]:
        parts.append(stream.push(events[start:start + size]).cases)
        start += size
        if start >= len(events):
            break
    parts.append(stream.finish().cases)
    got = _columns({k: np.concatenate([p[k] for p in parts]) for k in parts[0]})
    want = _columns(group_cases(events).cases)
    pd.testing.assert_frame_equal(got, want)
    assert stream.open_rows == 0


def test_rows_held_follow_the_open_cases_not_the_days() -> None:
    """Fed 48 days in small chunks, the stream holds the rows of the open cases and nothing
    else, and at its peak a small share of the log. (Staged cases waiting weeks on a permit
    keep the open backlog growing over the first weeks, so the peak is not compared with a
    shorter run's.)"""
    events = simulate(load_scenario("small-town", days=48, seed=5)).events
    stream, most = CaseStream(), 0
    for start in range(0, len(events), 1000):
        stream.push(events[start:start + 1000])
        most = max(most, stream.open_rows)
    terminal = np.isin(events["step"], [int(s) for s in TERMINAL])
    still_open = ~np.isin(events["case"], events["case"][terminal])
    assert stream.open_rows == int(still_open.sum())
    assert most < 0.1 * len(events), (most, len(events))


# ---------------------------------------------------------------- exact order statistics


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.one_of(st.floats(0, 1e6), st.just(math.nan),
                                 st.sampled_from([30.0, 60.0, 61.5])), max_size=300),
       cuts=st.lists(st.integers(0, 300), max_size=5))
def test_hours_in_batches_equal_numpy_on_all_of_them(values: list[float],
                                                     cuts: list[int]) -> None:
    m = np.asarray(values, dtype=np.float64)
    parts = np.split(m, sorted(c for c in cuts if c <= len(m)))
    got = hours_stats_of(lambda: iter(parts))
    h = m[~np.isnan(m)] / 60.0
    if h.size == 0:
        assert got == {"mean": None, "median": None, "p90": None}
        return
    assert got["median"] == round(float(np.median(h)), 3)
    assert got["p90"] == round(float(np.percentile(h, 90)), 3)
    assert got["mean"] == pytest.approx(round(float(h.mean()), 3), abs=1.1e-3)
    assert got == hours_stats(m)


# ---------------------------------------------------------------- streamed = in memory


def _tables(folder: Path) -> dict[str, pd.DataFrame]:
    out = {}
    for name, key in (("events", None), ("cases", "case"), ("problems", "problem"),
                      ("calls", "call")):
        t = pd.read_parquet(folder / f"{name}.parquet")
        out[name] = t.sort_values(key, ignore_index=True) if key else t
    return out


_RUN_SPECIFIC = {"wall_seconds", "command", "argv", "files", "git_dirty"}


@pytest.mark.parametrize("where", ["process", "thread", "in line"])
def test_a_streamed_run_writes_what_the_in_memory_run_writes(
        result: RunResult, tmp_path: Path, where: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """... with the log cut into 997-row chunks, in the recorder's process, on the
    recorder's thread or in line, problems retired from memory a day after they ended, and
    calls a day at a time."""
    from sim import run
    from sim.data import resources
    from sim.engine import eventlog
    from sim.outputs import recorder, writer

    real = recorder.RunRecorder.__init__
    monkeypatch.setattr(recorder.RunRecorder, "__init__", lambda self, *a, **k: real(
        self, *a, **{**k, "threaded": k.get("threaded", True) and where != "in line"}))
    log_init = eventlog.EventLog.__init__
    monkeypatch.setattr(eventlog.EventLog, "__init__",
                        lambda self, chunk=997, sink=None: log_init(self, chunk, sink))
    monkeypatch.setattr(run, "_CHUNK", 997)
    monkeypatch.setattr(run, "RETIRE_AFTER_DAYS", 1)  # (the default; the batches counted below)
    monkeypatch.setattr(resources, "RETIRE_ABOVE_PROBLEMS", 0)  # let ended problems go here too
    chunks, problems, calls = [], [], []
    # counted where they are handed over: the process's proxy, or the recorder itself
    for cls in (recorder.RunRecorder, writer.RecorderProcess):
        sink, truth, call = cls.events, cls.problems, cls.calls
        monkeypatch.setattr(cls, "calls",
                            lambda self, rows, names=None, call=call: (
                                calls.append(len(rows["call"]) if isinstance(rows, dict)
                                             else -1), call(self, rows, names))[1])
        monkeypatch.setattr(cls, "events",
                            lambda self, c, sink=sink: (chunks.append(len(c)), sink(self, c))[1])
        monkeypatch.setattr(cls, "problems", lambda self, rows, truth=truth: (
            problems.append(len(rows)), truth(self, rows))[1])
    streamed = record_run(result.scenario, RunFolder.prepare(tmp_path / "streamed"),
                          figure=False, recorder_process=where == "process")
    write_run(result, tmp_path / "memory", figure=False)
    assert len(chunks) > 2 * (len(result.events) // 997) - 2  # both ways came in chunks
    # streamed: the problems ended by day 10 were handed on during the run (then the rest,
    # then the in-memory run's, all at once)
    assert len(problems) == 12 and sum(problems[:-2]) > 0.75 * len(result.problems)
    # ... and the calls whose story was told, a day at a time (the in-memory run's at once)
    assert len(calls) == 13 and calls[-1] == -1 and sum(calls[:-1]) == len(result.calls)
    a, b = _tables(tmp_path / "streamed"), _tables(tmp_path / "memory")
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_categorical=False)
    sa, sb = read_run_summary(tmp_path / "streamed"), read_run_summary(tmp_path / "memory")
    assert {k: v for k, v in sa.items() if k not in _RUN_SPECIFIC} == \
        {k: v for k, v in sb.items() if k not in _RUN_SPECIFIC}
    # ... and the numbers are the in-memory RunResult's, KPI by KPI and table by table
    want = result.summary()
    assert {k: sa[k] for k in want if k != "wall_seconds"} == \
        {k: v for k, v in want.items() if k != "wall_seconds"}
    assert sa["summons"] > 0 and sa["hotline"]["calls_offered"] > 0
    for kind, table in result.evaluation().items():
        pd.testing.assert_frame_equal(streamed.evaluation[kind], table)
    # the case table is case_table's, in the documented order (by when cases finished)
    pd.testing.assert_frame_equal(
        a["cases"][list(result.cases.columns)].astype(result.cases.dtypes.to_dict()),
        result.cases.reset_index(drop=True))


def test_the_tables_name_things_with_dictionary_columns(result: RunResult,
                                                        tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    write_run(result, tmp_path / "run", figure=False)
    named = {"events": ["step", "actor_kind", "department", "outcome", "grid", "subclass"],
             "cases": ["state", "grid_code", "subclass_code", "first_department_name",
                       "final_department_name"],
             "problems": ["fate", "grid_code", "subclass_code"], "calls": ["unit"]}
    for table, columns in named.items():
        schema = pq.read_schema(tmp_path / "run" / f"{table}.parquet")
        for c in columns:
            assert pa.types.is_dictionary(schema.field(c).type), (table, c)
    s = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert s["outputs"] == ["calls.parquet", "cases.parquet", "events.parquet",
                            "problems.parquet"]


def test_long_or_large_runs_let_ended_problems_go() -> None:
    """A year of dongcheng keeps its problems (lists: faster); ten years of it, or a year of
    the city ten times its size, lets them go (`lets_problems_go`), and the resource
    estimate prices a streamed run by what it holds at once, not by its horizon."""
    from sim.data.resources import estimate, lets_problems_go

    assert not lets_problems_go(load_scenario("dongcheng", days=365))
    assert lets_problems_go(load_scenario("dongcheng", days=3650))
    assert lets_problems_go(load_scenario("metropolis", days=365))
    year, ten = (estimate(load_scenario("dongcheng", days=d)) for d in (365, 3650))
    assert ten.problems == pytest.approx(10 * year.problems)
    assert ten.memory_bytes <= year.memory_bytes  # ten years hold less than a year's lists


def _children() -> set[int]:
    kids: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        kids |= {int(p) for p in (task / "children").read_text().split()}
    return kids


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux's /proc")
def test_a_run_stopped_midway_stops_its_recorder_process_and_leaves_no_folder(
        tmp_path: Path) -> None:
    """Ctrl-C (here: KeyboardInterrupt from the progress callback on day 3) ends the
    recorder's process with the run, and nothing half-written is left where the run goes."""
    before = _children()

    def stop(day: int) -> None:
        if day == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        record_run(load_scenario("small-town", SETTINGS, days=6, seed=3),
                   RunFolder.prepare(tmp_path / "run"), progress=stop, recorder_process=True)
    assert _children() <= before  # the recorder's process was waited for
    assert list(tmp_path.iterdir()) == []


def test_figures_drawn_beside_the_recorder_are_the_ones_drawn_in_line(
        result: RunResult, tmp_path: Path) -> None:
    """The recorder's process hands the hotline figure to a drawer process
    (`sim.outputs.drawer`) as soon as the calls are in, and draws the overview itself: the
    PNGs are byte for byte those of the in-memory run, drawn one after the other in line."""
    from sim.outputs import writer

    peaks = len(writer.CHILD_PEAKS_MB)
    record_run(result.scenario, RunFolder.prepare(tmp_path / "streamed"),
               recorder_process=True)
    write_run(result, tmp_path / "memory")
    assert len(writer.CHILD_PEAKS_MB) == peaks + 2  # the recorder's and the drawer's
    for png in ("overview.png", "hotline.png"):
        assert (tmp_path / "streamed" / png).read_bytes() == \
            (tmp_path / "memory" / png).read_bytes()
    assert read_run_summary(tmp_path / "streamed")["outputs"] == \
        read_run_summary(tmp_path / "memory")["outputs"]


def test_the_drawer_counts_as_asked_when_calls_done_returns(tmp_path: Path) -> None:
    """The recorder's process decides whether the drawer draws the hotline figure as soon as
    the run says `conclude`, which may come before the recorder's thread has reached the
    request: the drawer is marked asked when `calls_done` returns, and the request reaches it
    once the thread gets there (it used to be marked by the request itself, and a busy
    thread left the recorder drawing hotline.png while the drawer drew it too)."""
    import threading

    from sim.outputs.files import Names
    from sim.outputs.recorder import FigureSpec, RunRecorder

    class Drawer:  # what `sim.outputs.drawer.Drawer` offers the recorder
        asked = False

        def __init__(self) -> None:
            self.requests: list[dict] = []

        def hotline(self, counts: object, **how: object) -> None:
            self.requests.append(how)

    rec = RunRecorder(tmp_path, names=Names(["roads"], ["g1"], ["s1"]),
                      event_subclasses=np.zeros(1, np.int64), roster=None, horizon=1440.0,
                      hotline=True, threaded=True)
    gate = threading.Event()
    rec._do(gate.wait)  # the recorder's thread is busy with earlier batches
    drawer = Drawer()
    spec = FigureSpec(("overview", "hotline"), np.zeros(1), np.zeros(1), np.zeros(1), 1,
                      True, "en")
    rec.calls_done(spec, drawer)
    assert drawer.asked and drawer.requests == []
    gate.set()
    rec.finish()
    assert [r["path"] for r in drawer.requests] == [tmp_path / "hotline.png"]
