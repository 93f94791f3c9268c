"""Thirty trainees playing at once against one console (run with `make bench`), in English
and in Chinese, and what a request costs in each language.

Prints the response-time percentiles per kind of request (`benchmarks.console_load`) and the
verdict on the issue's bar (play requests p95 under 200 ms); what is asserted is that no
acknowledged decision is missing from the database, never a time.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("fastapi", reason="the console's extra is not installed")


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_thirty_trainees_at_once_lose_no_decision(lang: str) -> None:
    from benchmarks.console_load import run

    figures = run(30, pace=2.0, lang=lang)   # as in class: the clock runs, pages poll each second
    print(f"\nconsole load ({lang}):", json.dumps(figures, ensure_ascii=False))
    bar = figures["bar"]
    print(f"play requests p95 {bar['p95_ms']} ms: bar of {bar['limit_ms']:g} ms "
          f"{'met' if bar['met'] else 'NOT met'}; start p50/p95 "
          f"{figures['p50_ms']['start']}/{figures['p95_ms']['start']} ms; "
          f"load average {figures['load_average']}")
    assert figures["clients_failed"] == []    # a client that failed may hide a lost decision
    assert figures["decisions_acknowledged"] > 0
    assert figures["decisions_lost"] == 0
    assert figures["decisions_stored"] == figures["decisions_acknowledged"]


def test_the_language_costs_no_time_per_request(tmp_path) -> None:
    """One trainee's desk polled in English and in Chinese, alternately, in one process: the
    median time of a poll (the state, its cards and their words) in each language."""
    import statistics
    import sys
    import time
    from pathlib import Path

    tests = Path(__file__).resolve().parent.parent / "tests"
    sys.path.insert(0, str(tests))
    from console_support import SECRET, add_users, login, make_store
    from fastapi.testclient import TestClient
    from test_console_sessions import ShortCore, post, setup

    from training.console.app import create_app

    store = make_store("sqlite", tmp_path)
    cid, aid = setup(store, "console-short")
    store.add_member(cid, add_users(store, cai="trainee")["cai"])
    app = create_app(store, SECRET, core=ShortCore())
    times: dict[str, list[float]] = {"en": [], "zh-CN": []}
    clients = {}
    for lang in times:                # one session per language: no rebuild between polls
        c = TestClient(app, headers={"Accept-Language": lang})
        token = login(c, "bob" if lang == "en" else "cai")
        r = c.post(f"/trainee/assignments/{aid}/start", data={"csrf": token},
                   follow_redirects=False)
        sid = int(r.headers["location"].rsplit("/", 1)[1])
        assert post(c, token, f"/api/sessions/{sid}/step", {"minutes": 30}).json()["pending"]
        clients[lang] = (c, sid)
    for _ in range(300):
        for lang, (c, sid) in clients.items():
            t = time.perf_counter()
            assert c.get(f"/api/sessions/{sid}/state").status_code == 200
            times[lang].append(time.perf_counter() - t)
    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    print(f"\nstate poll, median of 300: en {med['en']:.2f} ms, zh-CN {med['zh-CN']:.2f} ms "
          f"(ratio {med['zh-CN'] / med['en']:.2f})")
    store.close()
