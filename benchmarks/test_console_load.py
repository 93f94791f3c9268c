"""Thirty trainees playing at once against one console (run with `make bench`).

Prints the response-time percentiles per kind of request (`benchmarks.console_load`); what
is asserted is that no acknowledged decision is missing from the database, never a time.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("fastapi", reason="the console's extra is not installed")
pytest.importorskip("httpx", reason="httpx is not installed (dev extra)")


def test_thirty_trainees_at_once_lose_no_decision() -> None:
    from benchmarks.console_load import run

    figures = run(30, pace=2.0)       # as in class: the clock runs, pages poll each second
    print("\nconsole load:", json.dumps(figures))
    assert figures["decisions_acknowledged"] > 0
    assert figures["decisions_lost"] == 0
    assert figures["decisions_stored"] == figures["decisions_acknowledged"]
