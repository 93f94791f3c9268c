"""The event log: one immutable row per case transition, the spine of every output.

Rows are packed into bytes as they are appended and become numpy record chunks as they
accumulate. A log kept in memory holds its chunks (experiments, tests, notebooks); a log with
a sink hands each chunk on and keeps none, so a run of any length holds one chunk at most
(`gridloop run` streams it to ``events.parquet``, `sim.outputs.recorder`). Every KPI,
evaluation table, figure and export is a function of these rows (and of the problem rows, the
ground truth), never of live objects; the same functions run on a real city's exported log in
the same schema.

Schema (one row per transition), documented for users in ``docs/event-log.md``:
    case       int32   case id (the platform's record)
    problem    int32   ground-truth problem id (-1 for reports of nothing real)
    time       float64 minutes since the scenario start
    step       int8    a `Step`
    actor_kind int8    an `ActorKind`
    actor      int32   index of the actor within its kind (-1: the system)
    department int16   department index (-1: none yet)
    deadline   float64 the deadline the step set or is held to, minutes (NaN: none)
    outcome    int8    an `Outcome`
    grid       int32   unit grid index
    subclass   int16   handbook subclass index (as the platform believes it)
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from enum import IntEnum

import numpy as np

from sim.errors import GridLoopError

__all__ = ["Step", "ActorKind", "Outcome", "Channel", "EVENT_DTYPE", "PROBLEM_DTYPE", "ROW",
           "EventLog", "TRANSITIONS", "is_legal_sequence"]


class Step(IntEnum):
    """Case transitions; the seven steps of docs/domain.md §3 and their side paths."""

    REPORT = 1          # collection: a report reaches the supervision centre
    SELF_HANDLE = 2     # inspector fixed a minor item on the spot (自行处置)
    VERIFY_SEND = 3     # acceptor sends an inspector to verify (核实)
    VERIFY = 4          # inspector verified on site
    MERGE = 5           # report joined an open case of the same problem
    FILE = 6            # shift leader files (立案)
    VOID = 7            # shift leader voids (作废)
    DISPATCH = 8        # dispatcher sends to a department (派遣); handling clock starts
    RETURN = 9          # department returns: not its duty (回退)
    EXTEND = 10         # department granted an extension (延期)
    SUSPEND = 11        # case suspended (挂账/缓办); leaves the denominators
    HANDLE_START = 12   # a crew starts work
    HANDLE = 13         # crew finished; department feeds back (反馈)
    CHECK_SEND = 14     # acceptor sends an inspector to check (核查)
    CHECK = 15          # inspector checked on site: outcome PASS or FAIL
    REWORK = 16         # case back to the department (返工)
    CLOSE = 17          # shift leader closes (结案)
    SUMMON = 18         # a subdistrict blows the whistle: the department must be on site
                        # (吹哨报到); deadline: when it must arrive


class ActorKind(IntEnum):
    SYSTEM = 0
    INSPECTOR = 1
    CITIZEN = 2
    ACCEPTOR = 3
    SHIFT_LEADER = 4
    DISPATCHER = 5
    DEPARTMENT = 6
    SUBDISTRICT = 7     # a subdistrict office (whistle-and-report); actor: subdistrict index


class Outcome(IntEnum):
    NONE = 0
    INSPECTOR = 1       # REPORT: channel
    PUBLIC = 2          # REPORT: channel
    CONFIRMED = 3       # VERIFY: the problem is there
    NOT_FOUND = 4       # VERIFY: nothing there (false report or gone)
    FIXED = 5           # HANDLE: the work solved it in ground truth
    NOT_FIXED = 6       # HANDLE: sloppy work; the problem is still there
    PASS = 7            # CHECK
    FAIL = 8            # CHECK
    ON_TIME = 9         # CLOSE
    OVERDUE = 10        # CLOSE
    WRONG = 11          # DISPATCH: not the handbook's department (known only to the simulator)
    GONE = 12           # HANDLE: the crew found nothing to do (vanished meanwhile)


class Channel(IntEnum):
    INSPECTOR = 1
    PUBLIC = 2


EVENT_DTYPE = np.dtype([
    ("case", "i4"), ("problem", "i4"), ("time", "f8"), ("step", "i1"), ("actor_kind", "i1"),
    ("actor", "i4"), ("department", "i2"), ("deadline", "f8"), ("outcome", "i1"),
    ("grid", "i4"), ("subclass", "i2"),
])

# Ground truth: one row per problem, written when the run ends.
PROBLEM_DTYPE = np.dtype([
    ("problem", "i4"), ("grid", "i4"), ("subclass", "i2"), ("created", "f8"),
    ("found", "f8"), ("ended", "f8"), ("fate", "i1"), ("first_case", "i4"),
    ("found_by", "i1"), ("recurrence_of", "i4"),
])

# Which step may follow which (per case). A case starts with REPORT.
_S = Step
TRANSITIONS: dict[Step, frozenset[Step]] = {
    _S.REPORT: frozenset({_S.SELF_HANDLE, _S.VERIFY_SEND, _S.FILE, _S.VOID, _S.MERGE}),
    _S.SELF_HANDLE: frozenset(),
    _S.VERIFY_SEND: frozenset({_S.VERIFY}),
    _S.VERIFY: frozenset({_S.FILE, _S.VOID, _S.MERGE}),
    _S.MERGE: frozenset(),
    _S.VOID: frozenset(),
    _S.FILE: frozenset({_S.DISPATCH}),
    _S.DISPATCH: frozenset({_S.RETURN, _S.HANDLE_START, _S.EXTEND, _S.SUSPEND, _S.SUMMON}),
    _S.RETURN: frozenset({_S.DISPATCH}),
    _S.EXTEND: frozenset({_S.EXTEND, _S.HANDLE_START, _S.SUSPEND, _S.SUMMON}),
    _S.SUSPEND: frozenset({_S.HANDLE_START, _S.SUMMON}),
    _S.HANDLE_START: frozenset({_S.HANDLE}),
    _S.HANDLE: frozenset({_S.CHECK_SEND, _S.CLOSE}),  # CLOSE: no independent check
    _S.CHECK_SEND: frozenset({_S.CHECK}),
    _S.CHECK: frozenset({_S.CLOSE, _S.REWORK}),
    _S.REWORK: frozenset({_S.HANDLE_START, _S.EXTEND, _S.SUSPEND, _S.SUMMON}),
    _S.CLOSE: frozenset(),
    _S.SUMMON: frozenset({_S.HANDLE_START}),  # the summoned department arrives and works
}
TERMINAL = frozenset({_S.SELF_HANDLE, _S.MERGE, _S.VOID, _S.CLOSE})


def is_legal_sequence(steps: list[int] | np.ndarray) -> bool:
    """True when a case's steps start with REPORT and follow `TRANSITIONS`."""
    if len(steps) == 0 or steps[0] != Step.REPORT:
        return False
    for a, b in zip(steps[:-1], steps[1:], strict=False):
        if Step(b) not in TRANSITIONS[Step(a)]:
            return False
    return True


ROW = struct.Struct("=iidbbihdbih")
"""One event row packed as `EVENT_DTYPE` lays it out (native byte order, no padding)."""


class EventLog:
    """Append-only event rows, packed into read-only numpy chunks every ``chunk`` rows.

    The writer (`sim.engine.casebook.CaseBook`) packs each row with `ROW` onto the bytearray
    ``buf`` (~30% cheaper than building a tuple and converting it later) and calls `flush`
    once ``buf`` holds ``limit`` bytes, after which ``buf`` is a new bytearray.

    Args:
        chunk: rows per chunk.
        sink: called with each chunk (a read-only `EVENT_DTYPE` array, in logging order) as
            it is made; the log then keeps no rows, and `to_array` is refused. Set it before
            the first row is flushed.
    """

    __slots__ = ("buf", "_chunks", "chunk", "limit", "sink", "_streamed")

    def __init__(self, chunk: int = 200_000,
                 sink: Callable[[np.ndarray], None] | None = None) -> None:
        self.buf = bytearray()
        self._chunks: list[np.ndarray] = []
        self.chunk = chunk
        self.limit = chunk * ROW.size
        self.sink = sink
        self._streamed = 0

    def append(self, row: tuple) -> None:
        """Append one row given as a tuple in `EVENT_DTYPE`'s field order."""
        self.buf += ROW.pack(*row)
        if len(self.buf) >= self.limit:
            self.flush()

    def flush(self) -> None:
        """Turn the pending rows into a read-only chunk (a view of their bytes, no copy),
        kept, or handed to the sink."""
        if self.buf:
            arr = np.frombuffer(self.buf, dtype=EVENT_DTYPE)
            arr.flags.writeable = False
            self.buf = bytearray()
            if self.sink is None:
                self._chunks.append(arr)
            else:
                self._streamed += len(arr)
                self.sink(arr)

    def __len__(self) -> int:
        return (self._streamed + sum(len(c) for c in self._chunks)
                + len(self.buf) // ROW.size)

    def to_array(self) -> np.ndarray:
        """All rows so far as one read-only record array, in logging order.

        Raises:
            GridLoopError: the rows went to a sink (read them from where it wrote them).
        """
        if self.sink is not None:
            raise GridLoopError("the event log was streamed to its sink and kept no rows; "
                                "read events.parquet of the run folder instead")
        self.flush()
        if not self._chunks:
            empty = np.zeros(0, dtype=EVENT_DTYPE)
            empty.flags.writeable = False
            return empty
        if len(self._chunks) > 1:
            merged = np.concatenate(self._chunks)
            merged.flags.writeable = False
            self._chunks = [merged]
        return self._chunks[0]
