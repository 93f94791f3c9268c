"""Load on the training console: N trainees playing at once against one server on loopback.

    python -m benchmarks.console_load --trainees 30

Starts `gridloop console`'s app in a separate process (uvicorn, SQLite in a temporary
folder) with the one-hour test exercise (tests/data/console-short.yaml, step by step), then
N trainee clients, each in its own thread: log in, start, and until the window closes take
every waiting card and step 15 simulated minutes. Prints one JSON line: response-time
percentiles per kind of request, and whether every acknowledged decision is in the database.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHORT = ROOT / "tests" / "data" / "console-short.yaml"
PASSWORD = "benchmark-password"
ACTIONS = ("close", "send_check", "file", "verify", "void", "grant", "dispatch")


def serve(db: str, port: int, pace: float = 0.0) -> None:
    """The server process: the console on ``db`` with the test exercise as its catalogue
    (its pace set to ``pace``)."""
    import uvicorn

    from training.console.app import create_app
    from training.console.db import ConsoleStore
    from training.console.play import TrainingCore

    class Short(TrainingCore):
        def catalogue(self) -> dict:
            from training.exercises import load_exercise

            ex = load_exercise(SHORT)
            return {ex.id: ex.model_copy(update={"pace": pace})}

    uvicorn.run(create_app(ConsoleStore(db), "b" * 48, core=Short()), host="127.0.0.1",
                port=port, log_level="warning")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return round(1000 * xs[min(len(xs) - 1, int(q * len(xs)))], 1) if xs else 0.0


def trainee(url: str, name: str, assignment: int, times: dict[str, list[float]],
            acked: dict[str, int], lock: threading.Lock, ready: threading.Barrier,
            paced: bool) -> None:
    import httpx

    with httpx.Client(base_url=url, timeout=120) as c:
        def timed(kind: str, method: str, path: str, **kw) -> httpx.Response:
            t = time.perf_counter()
            r = c.request(method, path, **kw)
            with lock:
                times.setdefault(kind, []).append(time.perf_counter() - t)
            return r

        token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
        timed("login", "POST", "/login", data={"name": name, "password": PASSWORD,
                                               "csrf": token, "next": "/"})
        token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
        r = timed("start", "POST", f"/trainee/assignments/{assignment}/start",
                  data={"csrf": token})
        sid = int(r.headers["location"].rsplit("/", 1)[1])
        head = {"X-CSRF-Token": token}
        ready.wait()            # the class has started: now they play at once
        n = 0
        for _ in range(400 if paced else 40):
            polled = time.perf_counter()
            state = timed("state", "GET", f"/api/sessions/{sid}/state").json()
            if state["finished"]:
                break
            for card in state["pending"]:
                action = next((a for a in ACTIONS for o in card["options"]
                               if o["action"] == a and not any(f["required"]
                                                               for f in o["fields"])), None)
                if action is None:
                    continue
                r = timed("decision", "POST", f"/api/sessions/{sid}/decisions", headers=head,
                          json={"card_id": card["id"], "action": action})
                if r.status_code == 201:
                    n += 1
            if paced:               # the page polls once a second; the clock runs by itself
                time.sleep(max(0.0, 1.0 - (time.perf_counter() - polled)))
            elif timed("step", "POST", f"/api/sessions/{sid}/step", headers=head,
                       json={"minutes": 15}).json().get("finished"):
                break
        acked[name] = n


def run(n: int, pace: float = 0.0) -> dict:
    """``pace`` 0: each trainee steps 15 minutes at a time as fast as it can; > 0: the
    clock runs ``pace`` simulated minutes a real second and trainees poll once a second."""
    from training.console.auth import hash_password
    from training.console.db import ConsoleStore

    folder = tempfile.mkdtemp(prefix="console-load-")
    db = str(Path(folder) / "console.db")
    store = ConsoleStore(db)
    h = hash_password(PASSWORD)
    teacher = store.add_user("teacher", "instructor", h)
    cid = store.add_class(teacher, "load")
    names = [f"t{i:02d}" for i in range(n)]
    for name in names:
        store.add_member(cid, store.add_user(name, "trainee", h))
    aid = store.assign(cid, "console-short", None)
    port = _port()
    server = subprocess.Popen([sys.executable, "-c", "from benchmarks.console_load import "
                               f"serve; serve({db!r}, {port}, {float(pace)!r})"], cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        for _ in range(600):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        times: dict[str, list[float]] = {}
        acked: dict[str, int] = {}
        lock = threading.Lock()
        ready = threading.Barrier(n)
        threads = [threading.Thread(target=trainee, args=(f"http://127.0.0.1:{port}", name,
                                                          aid, times, acked, lock, ready,
                                                          pace > 0))
                   for name in names]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
    finally:
        server.terminate()
        server.wait(timeout=30)
    stored = {name: 0 for name in names}
    for s in store.sessions_of_class(cid):
        stored[s["trainee"]] = s["n_decisions"]
    every = [x for k, xs in times.items() if k in ("state", "decision", "step") for x in xs]
    return {
        "trainees": n, "pace": pace, "wall_seconds": round(wall, 1),
        "decisions_acknowledged": sum(acked.values()), "decisions_stored": sum(stored.values()),
        "decisions_lost": sum(max(acked.get(k, 0) - stored[k], 0) for k in names),
        "p95_ms": {k: _pct(v, .95) for k, v in sorted(times.items())},
        "p50_ms": {k: _pct(v, .50) for k, v in sorted(times.items())},
        "p95_ms_play": _pct(every, .95), "requests": {k: len(v) for k, v in times.items()},
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--trainees", type=int, default=30)
    p.add_argument("--pace", type=float, default=0.0,
                   help="simulated minutes a real second (0: step by step, as fast as possible)")
    a = p.parse_args()
    print(json.dumps(run(a.trainees, a.pace)))


if __name__ == "__main__":
    main()
