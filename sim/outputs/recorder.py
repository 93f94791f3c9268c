"""A run recorded as it goes: its rows written to Parquet and counted, never all held.

`RunRecorder` is the event log's sink (`sim.engine.eventlog.EventLog`): each chunk of rows
becomes a row group of ``events.parquet``, is counted for the overview figure, and is
grouped by case (`sim.evaluation.CaseStream`); each case that finished becomes a row of
``cases.parquet`` and is counted for ``summary.json`` and the standard league tables, and its
rows are let go. Problems and hotline calls come the same way, a batch at a time. At the
end, `finish` adds the cases still open and returns the counts; memory is the open cases'
rows and fixed-size counts, whatever the number of days.

The work runs on a second thread, in the order it came, at most two batches behind
(``threaded=False`` does it all in line). Those numpy and Arrow calls hold the GIL most of
the time, so beside the simulation in one process the thread overlaps little: `gridloop run`
puts the whole recorder in a process of its own (`sim.outputs.writer`), where the thread
lets it receive the next batch while it writes the last. The files and numbers are the same
every way. `conclude` closes the files and gives what ``summary.json`` needs, the league
tables and the figures (`Outputs`).

``cases.parquet`` so lists cases in the order they finished (then the ones open at the end),
each batch by case id; ``problems.parquet`` and ``calls.parquet`` in the order their batches
came. Sort by ``case``, ``problem`` or ``call`` for id order.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.engine.eventlog import EVENT_DTYPE, PROBLEM_DTYPE, Step
from sim.evaluation.cases import CaseRows, CaseStream
from sim.evaluation.standard import Counts, Roster, add_counts, standard_counts, standard_tables
from sim.outputs.aggregates import HotlineCounts, OverviewCounts
from sim.outputs.files import (
    Names,
    TableWriter,
    calls_table,
    cases_table,
    events_frame,
    problems_table,
)
from sim.outputs.kpis import (
    CallTotals,
    CaseTotals,
    ProblemTotals,
    close_minutes,
    headline,
    hours_stats_of,
)

__all__ = ["RunRecorder", "TABLES", "FigureSpec", "Outputs"]

TABLES = ("events", "cases", "problems", "calls")
_NULLABLE = ("handled_on_time", "closed_on_time")
_ROW_GROUP = 100_000  # rows of problems or calls gathered into one Parquet row group


@dataclass
class FigureSpec:
    """What the run's figures need besides the counts: their titles (overview, hotline),
    the grids' places and, for an imported map, their shapes."""

    titles: tuple[str, str]
    row: np.ndarray
    col: np.ndarray
    subdistrict: np.ndarray
    days: int
    hotline: bool
    language: str
    shapes: Any = None


@dataclass
class Outputs:
    """What a recorder leaves once its files are closed (`RunRecorder.conclude`): the files
    written (tables, then figures), the numbers for ``summary.json``, the league tables."""

    written: list[Path]
    figures: dict[str, Path]
    kpis: dict[str, Any]
    summons: int
    hotline: dict[str, Any] | None
    three_rates: dict[str, Any] | None
    digests: dict[str, dict[str, Any]]
    evaluation: dict[str, pd.DataFrame] = field(default_factory=dict)


class _Worker:
    """Calls handed to it run on one thread, in order; `submit` waits when ``depth`` are
    waiting (so memory stays bounded), and raises the first error the thread met."""

    def __init__(self, depth: int = 2) -> None:
        self._queue: queue.Queue[tuple[Callable[..., None], tuple] | None] = \
            queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="gridloop-recorder",
                                        daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is None:  # after an error, only drain
                try:
                    item[0](*item[1])
                except BaseException as e:  # noqa: BLE001 - re-raised in the caller
                    self._error = e

    def submit(self, fn: Callable[..., None], *args: Any) -> None:
        self.raise_error()
        self._queue.put((fn, args))

    def raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def join(self) -> None:
        """Wait until everything handed over is done; raise its error, if any."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        self.raise_error()


class RunRecorder:
    """Writes and counts one run's rows into ``folder`` as they come.

    Args:
        folder: where the Parquet files go (a `RunFolder`'s temporary folder).
        names: department, grid and subclass names of the codes.
        event_subclasses: bool per handbook subclass, True for events (事件).
        roster: the units of the standard evaluation (None: the scenario evaluates nobody).
        horizon: end of the run, minutes.
        hotline: whether calls will come (``calls.parquet`` is written only then).
        threaded: do the work on a second thread (see the module's docstring).
    """

    def __init__(self, folder: Path, *, names: Names, event_subclasses: np.ndarray,
                 roster: Roster | None, horizon: float, hotline: bool,
                 threaded: bool = True) -> None:
        self.folder, self.names, self.roster, self.horizon = folder, names, roster, horizon
        self._events = TableWriter(folder / "events.parquet", lambda: events_frame(
            np.zeros(0, EVENT_DTYPE), departments=names.departments,
            grid_codes=names.grid_codes, subclass_codes=names.subclass_codes))
        self._cases = TableWriter(folder / "cases.parquet", lambda: cases_table(
            CaseStream().finish().cases, names), nullable=_NULLABLE)
        self._problems = TableWriter(folder / "problems.parquet", lambda: problems_table(
            np.zeros(0, PROBLEM_DTYPE), names))
        self._calls: TableWriter | None = None
        if hotline:
            self._calls = TableWriter(folder / "calls.parquet", lambda: calls_table(  # none came
                {"call": np.zeros(0, np.int64), "unit": np.zeros(0, np.int32)}, []))
            self.call_totals = CallTotals()
            self.hotline = HotlineCounts()
        self.stream = CaseStream()
        self.case_totals = CaseTotals(event_subclasses)
        self.problem_totals = ProblemTotals()
        self.evaluation_counts: Counts | None = None
        self.overview = OverviewCounts(len(names.grid_codes), horizon)
        self.summons = 0
        self.event_rows = 0
        self._close: list[np.ndarray] = []  # minutes to close of the cases done, per batch
        # problems and calls come a day at a time; they are written ~100,000 rows a row group
        self._pending_problems: list[np.ndarray] = []
        self._pending_calls: list[dict[str, np.ndarray]] = []
        self._unit_names: list[str] = []
        self._worker = _Worker() if threaded else None

    def _do(self, fn: Callable[..., None], *args: Any) -> None:
        if self._worker is None:
            fn(*args)
        else:
            self._worker.submit(fn, *args)

    # -- rows as they come -------------------------------------------------------------------
    def events(self, chunk: np.ndarray) -> None:
        """The event log's sink: a chunk of rows, in logging order."""
        self._do(self._write_events, chunk)

    def _write_events(self, chunk: np.ndarray) -> None:
        n = self.names
        self._events.write(events_frame(chunk, departments=n.departments,
                                        grid_codes=n.grid_codes,
                                        subclass_codes=n.subclass_codes))
        self.event_rows += len(chunk)
        self.summons += int((chunk["step"] == Step.SUMMON).sum())
        self.overview.add(chunk)
        self._add_cases(self.stream.push(chunk))

    def _add_cases(self, cr: CaseRows) -> None:
        self.case_totals.add(cr.cases)
        self._close.append(close_minutes(cr.cases))
        if self.roster is not None:
            self.evaluation_counts = add_counts(self.evaluation_counts,
                                                standard_counts(cr, self.roster, self.horizon))
        self._cases.write(cases_table(cr.cases, self.names))

    def problems(self, rows: np.ndarray) -> None:
        """Ground-truth rows (`PROBLEM_DTYPE`) of problems whose story is told."""
        self._do(self._write_problems, rows)

    def _write_problems(self, rows: np.ndarray) -> None:
        self.problem_totals.add(rows)
        self._pending_problems.append(rows)
        if sum(len(r) for r in self._pending_problems) >= _ROW_GROUP:
            self._flush_problems()

    def _flush_problems(self) -> None:
        if self._pending_problems:
            rows = np.concatenate(self._pending_problems)
            self._pending_problems = []
            self._problems.write(problems_table(rows, self.names))

    def calls(self, calls: dict[str, np.ndarray] | pd.DataFrame,
              unit_names: Sequence[str] | None = None) -> None:
        """Hotline calls: numpy columns with ``unit`` indices into ``unit_names``, or a
        calls frame (`agents.hotline.Hotline.finish`) with unit names."""
        assert self._calls is not None, "a run without a hotline records no calls"
        self._do(self._write_calls, calls, unit_names)

    def _write_calls(self, calls: dict[str, np.ndarray] | pd.DataFrame,
                     unit_names: Sequence[str] | None) -> None:
        assert self._calls is not None
        self.call_totals.add(calls)
        self.hotline.add(calls, unit_names)
        if isinstance(calls, pd.DataFrame):
            codes, names = pd.factorize(calls["unit"].replace("", None))  # none: -1
            cols = {k: calls[k].to_numpy() for k in calls.columns}
            cols["unit"] = codes
            unit_names = [str(n) for n in names]
        else:
            cols = calls
        self._unit_names = list(unit_names or ())  # later names extend earlier ones
        self._pending_calls.append(cols)
        if sum(len(c["call"]) for c in self._pending_calls) >= _ROW_GROUP:
            self._flush_calls()

    def _flush_calls(self) -> None:
        if self._pending_calls and self._calls is not None:
            batches, self._pending_calls = self._pending_calls, []
            cols = {k: np.concatenate([b[k] for b in batches]) for k in batches[0]}
            self._calls.write(calls_table(cols, self._unit_names))

    # -- the end -----------------------------------------------------------------------------
    def finish(self) -> list[Path]:
        """Take the cases still open and close every file; returns the files written.

        Raises:
            OSError: writing failed (a full disk...), here or on the recorder's thread.
        """
        if self._worker is not None:
            self._worker.join()
        self._add_cases(self.stream.finish())
        self._flush_problems()
        self._flush_calls()
        writers = [self._events, self._cases, self._problems]
        if self._calls is not None:
            writers.append(self._calls)
        paths = [w.close() for w in writers]
        self.digests = {w.path.name: w.digest for w in writers}
        return paths

    def stop(self) -> None:
        """Stop the recorder's thread without finishing (the run failed or was stopped)."""
        if self._worker is not None:
            try:
                self._worker.join()
            except BaseException:  # noqa: BLE001 - the run is being abandoned anyway
                pass

    def summary(self, days: int) -> dict[str, Any]:
        """The KPIs of ``summary.json`` (after `finish`), as `sim.run.RunResult.summary`.
        The hours to close come from the minutes kept as the cases finished (8 bytes a
        closed case: 6 MB for a year of dongcheng), not from reading ``cases.parquet``."""
        return headline(self.case_totals, self.problem_totals, days,
                        hours_stats_of(lambda: iter(self._close)))

    def calls_done(self, figures: FigureSpec | None, drawer: Any = None) -> None:
        """Every call has come: hand the hotline figure's counts to ``drawer`` (a
        `sim.outputs.drawer.Drawer`), after the batches already handed over. Without a
        drawer (a recorder on a thread) nothing happens: `conclude` draws it."""
        if drawer is not None and figures is not None and figures.hotline \
                and self._calls is not None:
            # decided now, not when the recorder's thread gets to the request: `conclude`
            # reads it as soon as it is asked, and a drawer not yet marked asked would have
            # the recorder draw the same file while the drawer draws it too
            drawer.asked = True
            self._do(lambda: drawer.hotline(self.hotline, days=figures.days,
                                            title=figures.titles[1],
                                            path=self.folder / "hotline.png",
                                            language=figures.language))

    def conclude(self, days: int, figures: FigureSpec | None,
                 say: Callable[[str], None], hotline: Callable[[], Path] | None = None
                 ) -> Outputs:
        """`finish` the files, count the summary's numbers and the league tables, and draw
        the figures (when ``figures`` says how) into the folder; ``say`` is told each step.
        ``hotline``: the hotline figure is being drawn elsewhere (`calls_done`); it gives
        its path once drawn."""
        say("cases.parquet (the cases still open)")
        written = self.finish()
        say("summary")
        hot = self._calls is not None
        out = Outputs(written, {}, self.summary(days), self.summons,
                      self.call_totals.service() if hot else None,
                      self.call_totals.three_rates() if hot else None, self.digests,
                      self.evaluation())
        if figures is not None:
            from sim.i18n import use
            from sim.outputs.figures import draw_hotline, draw_overview

            say("overview.png")
            with use(figures.language):
                out.figures["overview"] = draw_overview(
                    self.overview, row=figures.row, col=figures.col,
                    subdistrict=figures.subdistrict, title=figures.titles[0],
                    path=self.folder / "overview.png", shapes=figures.shapes)
                if figures.hotline and hot:
                    say("hotline.png")
                    out.figures["hotline"] = hotline() if hotline is not None else draw_hotline(
                        self.hotline, days=figures.days, title=figures.titles[1],
                        path=self.folder / "hotline.png")
        return out

    def evaluation(self) -> dict[str, pd.DataFrame]:
        """The standard league tables (none when the scenario evaluates nobody)."""
        if self.roster is None:
            return {}
        counts = self.evaluation_counts or standard_counts(CaseStream().finish(), self.roster,
                                                           self.horizon)
        return standard_tables(counts, self.roster)
