"""Shared test data: the actor kind each step is written by, and random legal event logs."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from sim.engine.eventlog import EVENT_DTYPE, TRANSITIONS, ActorKind, Outcome, Step

S, K, Out = Step, ActorKind, Outcome

DEFAULT_KIND = {
    S.REPORT: K.INSPECTOR, S.SELF_HANDLE: K.INSPECTOR, S.VERIFY_SEND: K.ACCEPTOR,
    S.VERIFY: K.INSPECTOR, S.MERGE: K.SHIFT_LEADER, S.FILE: K.SHIFT_LEADER,
    S.VOID: K.SHIFT_LEADER, S.DISPATCH: K.DISPATCHER, S.RETURN: K.DEPARTMENT,
    S.EXTEND: K.DEPARTMENT, S.SUSPEND: K.DEPARTMENT, S.HANDLE_START: K.DEPARTMENT,
    S.HANDLE: K.DEPARTMENT, S.CHECK_SEND: K.ACCEPTOR, S.CHECK: K.INSPECTOR,
    S.REWORK: K.SHIFT_LEADER, S.CLOSE: K.SHIFT_LEADER, S.SUMMON: K.SUBDISTRICT,
}

_RANGE = {K.INSPECTOR: 2, K.ACCEPTOR: 2, K.SHIFT_LEADER: 2, K.DISPATCHER: 2, K.DEPARTMENT: 3,
          K.SYSTEM: 1, K.SUBDISTRICT: 2}
_DEADLINES = st.one_of(st.just(math.nan), st.floats(0, 3000, allow_nan=False))


@st.composite
def event_logs(draw: st.DrawFn, citizens: int = 1, subclasses: int = 1) -> np.ndarray:
    """Random logs of legal cases (steps follow TRANSITIONS), interleaved by time: up to 8
    cases in 4 grids, 2 of each kind of staff, 3 departments. Citizens' actor ids run over
    ``range(citizens)`` (-1 also drawn when there is one citizen: the anonymous public)."""
    rows = []
    for case in range(draw(st.integers(0, 8))):
        t = draw(st.floats(0, 1000))
        public = draw(st.booleans())
        grid = draw(st.integers(0, 3))
        subclass = draw(st.integers(0, subclasses - 1))
        step, dept = S.REPORT, -1
        for _ in range(draw(st.integers(1, 16))):
            kind = K.CITIZEN if (step == S.REPORT and public) else DEFAULT_KIND[step]
            if kind == K.CITIZEN:
                actor = draw(st.integers(-1 if citizens == 1 else 0, citizens - 1))
            else:
                actor = draw(st.integers(-1, _RANGE[kind] - 1))
            if step == S.DISPATCH:
                dept = draw(st.integers(0, 2))
            outcome = {S.REPORT: Out.PUBLIC if public else Out.INSPECTOR,
                       S.CHECK: draw(st.sampled_from([Out.PASS, Out.FAIL])),
                       S.CLOSE: draw(st.sampled_from([Out.ON_TIME, Out.OVERDUE])),
                       }.get(step, Out.NONE)
            rows.append((case, case, t, step, kind, actor, dept, draw(_DEADLINES), outcome,
                         grid, subclass))
            following = sorted(TRANSITIONS[step])
            if not following:
                break
            step = draw(st.sampled_from(following))
            t += draw(st.floats(0, 300))
    arr = np.array(rows, dtype=EVENT_DTYPE)
    return arr[np.argsort(arr["time"], kind="stable")]
