"""What the run's helper processes share: starting one, the pipes to it, its peak memory.

`sim.outputs.writer` (the recorder) and `sim.outputs.drawer` (the hotline figure) run as
``python -m <module> <read fd> <write fd>``, started afresh (not forked from a process with
threads), each talking to its parent over two one-way pipes. This module imports nothing
heavy, so that the drawer's process holds matplotlib and numpy only.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

__all__ = ["Duplex", "start", "peak_mb"]


def peak_mb() -> float | None:
    """This process's peak resident memory in MB (the kernel's VmHWM), None off Linux."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


class Duplex:
    """Two one-way pipes as one connection (send on one, receive on the other)."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self._in = Connection(read_fd, writable=False)
        self._out = Connection(write_fd, readable=False)

    def send(self, obj: Any) -> None:
        self._out.send_bytes(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))

    def send_bytes(self, data: bytes) -> None:
        """Send what `pickle.dumps` made (`send` of it, pickled beforehand)."""
        self._out.send_bytes(data)

    def recv(self) -> Any:
        return pickle.loads(self._in.recv_bytes())

    def poll(self) -> bool:
        return self._in.poll()

    def close(self) -> None:
        self._in.close()
        self._out.close()


def _widen(fd: int) -> None:
    """Make a pipe hold 1 MB (Linux; 64 KB by default): an 8 MB chunk of rows then crosses
    in 8 writes, not 120, each of which waits for the reader."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError):  # not Linux, or above the system's limit: as it is
        pass


def start(module: str, *, new_session: bool = False) -> tuple[subprocess.Popen, Duplex]:
    """Start ``python -m module`` with a pipe each way; returns the process and the
    parent's end of the pipes. The child imports this very `sim`, installed or not."""
    down_r, down_w = os.pipe()  # to the child
    up_r, up_w = os.pipe()      # from the child
    _widen(down_w)
    env = dict(os.environ)
    here = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH")) if p)
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", module, str(down_r), str(up_w)],
            pass_fds=(down_r, up_w), env=env, stdin=subprocess.DEVNULL,
            start_new_session=new_session)
    except BaseException:
        for fd in (down_w, up_r):
            os.close(fd)
        raise
    finally:
        os.close(down_r)
        os.close(up_w)
    return process, Duplex(up_r, down_w)


def serve(main: Any) -> None:
    """Run a child's ``main(conn)`` on the pipes named by its arguments, then leave at once
    (``os._exit``: its files are closed and its answer sent; tearing down matplotlib's,
    pandas' and Arrow's modules would only keep the parent waiting)."""
    code = 0
    try:
        main(Duplex(int(sys.argv[1]), int(sys.argv[2])))
    except BaseException:  # noqa: BLE001 - said on stderr, as Python would
        import traceback

        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
