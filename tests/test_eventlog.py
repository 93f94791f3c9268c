"""The event log's byte packing lays rows out exactly as `EVENT_DTYPE` reads them."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sim.engine.eventlog import EVENT_DTYPE, EventLog, Outcome, Step

rows = st.lists(st.tuples(
    st.integers(-1, 2**31 - 1), st.integers(-1, 2**31 - 1),
    st.floats(0, 1e7, allow_nan=False), st.sampled_from(list(Step)), st.integers(0, 7),
    st.integers(-1, 2**31 - 1), st.integers(-1, 2**15 - 1),
    st.one_of(st.just(math.nan), st.floats(0, 1e7)), st.sampled_from(list(Outcome)),
    st.integers(0, 2**31 - 1), st.integers(0, 2**15 - 1)), max_size=40)


@given(rows, st.integers(1, 7))
def test_packed_rows_read_back_as_the_tuples_they_were(rows_, chunk) -> None:
    log = EventLog(chunk=chunk)  # small chunks: rows cross chunk boundaries
    for r in rows_:
        log.append(r)
    assert len(log) == len(rows_)
    got = log.to_array()
    want = np.array(rows_, dtype=EVENT_DTYPE) if rows_ else np.zeros(0, EVENT_DTYPE)
    assert got.dtype == EVENT_DTYPE and not got.flags.writeable
    assert got.tobytes() == want.tobytes()
