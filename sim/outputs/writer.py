"""A run's recorder in a second process, so that writing its outputs overlaps the simulation.

`RunRecorder`'s work (encoding, compressing, grouping cases, counting, drawing) is numpy,
Arrow and matplotlib calls that mostly hold the GIL: on a thread it barely overlaps the
simulation (measured: CPU time = wall time). `RecorderProcess` runs the recorder in a child
process instead, on the machine's other core: the simulation's process only pickles each
chunk of rows into a pipe (a few milliseconds for 200,000 event rows). The child receives on
its main thread and hands the rows to a threaded `RunRecorder`, at most two batches behind,
so a slow disk holds the simulation back instead of filling memory. The files and numbers
are those of `RunRecorder` in the simulation's process (`tests/test_streaming.py`).

The child is ``python -m sim.outputs.writer`` started afresh (not a fork of a process with
threads, and not multiprocessing's "spawn", which runs the caller's main script again), in a
session of its own, so Ctrl-C at the terminal reaches only the simulation's process, which
decides. When it stops without `conclude` (an error, Ctrl-C, ``kill -9``) the pipe closes,
and the child stops writing and exits, leaving its half-written files in the run's temporary
folder, which `sim.outputs.runfolder.RunFolder` removes (never put in place). An error in the
child (a full disk) comes back at the next batch handed over, or at `conclude`.

The child's peak memory is kept in `CHILD_PEAKS_MB` (`benchmarks.whole` adds it to the
command's own, and the children's CPU time to its own).
"""

from __future__ import annotations

import pickle
import queue
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sim.outputs.child import peak_mb as _peak_mb
from sim.outputs.child import serve, start
from sim.outputs.recorder import FigureSpec, Outputs, RunRecorder

__all__ = ["RecorderProcess", "CHILD_PEAKS_MB"]

CHILD_PEAKS_MB: list[float] = []  # peak resident memory of each recorder process that ended


def _preload() -> None:  # the figures' imports (~1 s), while the simulation runs
    try:
        import sim.outputs.figures  # noqa: F401
    except Exception:  # noqa: BLE001 - drawing imports it again and says what failed
        pass


def _send_error(conn: Any, e: BaseException) -> None:
    try:
        conn.send(("error", e, [_peak_mb()]))
    except Exception:  # noqa: BLE001 - an error that does not pickle: its words
        conn.send(("error", OSError(f"{type(e).__name__}: {e}"), [_peak_mb()]))


def _serve(conn: Any) -> None:
    """The child: build the recorder from the first message, take what comes, answer
    `conclude`."""
    import threading

    recorder: RunRecorder | None = None
    drawer = None
    try:
        kwargs = conn.recv()
        if kwargs.pop("drawer", False):  # the hotline figure is drawn by a third process
            from sim.outputs.drawer import Drawer
            drawer = Drawer()
        recorder = RunRecorder(**kwargs, threaded=True)
        threading.Thread(target=_preload, daemon=True).start()
        while True:
            msg = conn.recv()
            if msg[0] == "conclude":
                hotline = drawer.result if drawer is not None and drawer.asked else None
                out = recorder.conclude(msg[1], msg[2],
                                        lambda what: conn.send(("say", what)), hotline=hotline)
                peaks = [_peak_mb()]
                if drawer is not None:
                    drawer.close()
                    peaks.append(drawer.peak)
                conn.send(("done", out, peaks))
                return
            if msg[0] == "calls_done":
                if drawer is not None:
                    recorder.calls_done(msg[1], drawer)
                continue
            getattr(recorder, msg[0])(*msg[1:])
    except (EOFError, BrokenPipeError):  # the run stopped without concluding
        if recorder is not None:
            recorder.stop()
        return
    except BaseException as e:  # noqa: BLE001 - handed to the parent, which raises it
        if recorder is not None:
            recorder.stop()
        _send_error(conn, e)
    finally:
        if drawer is not None:
            drawer.close()
    try:
        while conn.recv():  # until the parent hears of it and closes the pipe
            pass
    except (EOFError, OSError):
        return


class RecorderProcess:
    """`RunRecorder`'s methods for the rows as they come, and `conclude`, run in a child
    process; the arguments are `RunRecorder`'s (``threaded`` aside)."""

    def __init__(self, folder: Path, **kwargs: Any) -> None:
        self._process, self._conn = start("sim.outputs.writer", new_session=True)
        self._done = False
        # Messages are pickled here and written to the pipe by a thread of their own: the
        # child's receiving thread must win its GIL back from its busy recorder thread at
        # each pipe-full, and the simulation's thread would wait on every one of them
        # (measured: 5 s of a 60-day run's 79 s wall, on a loaded machine). At most two
        # messages wait, so a slow disk still holds the simulation back.
        self._outbox: queue.Queue[bytes | None] = queue.Queue(maxsize=2)
        self._broken = False
        self._sender = threading.Thread(target=self._send_loop, name="gridloop-sender",
                                        daemon=True)
        self._sender.start()
        self._send({"folder": folder, **kwargs})

    def _send_loop(self) -> None:
        while (data := self._outbox.get()) is not None:
            if not self._broken:
                try:
                    self._conn.send_bytes(data)
                except OSError:  # the child died: `_send` and `conclude` say why
                    self._broken = True

    def _send(self, msg: Any) -> None:
        if self._conn.poll() or self._broken:  # the child met an error, or died: raise it
            self._answer()
        # pickled now: the caller may reuse the arrays once this returns
        self._outbox.put(pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL))

    def _quiet(self) -> None:
        """Stop the sender once what it holds is written (or cannot be)."""
        if self._sender.is_alive():
            try:
                self._outbox.put(None, timeout=30)
            except queue.Full:  # a child that reads nothing more: left to its fate
                return
            self._sender.join(timeout=30)

    def _answer(self, say: Callable[[str], None] | None = None) -> Outputs:
        while True:
            try:
                msg = self._conn.recv()
            except EOFError:
                self._end()
                raise OSError("the run's recorder process ended unexpectedly") from None
            if msg[0] == "say":
                if say is not None:
                    say(msg[1])
                continue
            self._end(msg[2])
            if msg[0] == "error":
                raise msg[1]
            return msg[1]

    def _end(self, peaks: list[float | None] | None = None) -> None:
        if not self._done:
            self._done = True
            self._quiet()
            self._conn.close()
            self._process.wait()
            CHILD_PEAKS_MB.extend(p for p in peaks or () if p is not None)

    def events(self, chunk: np.ndarray) -> None:
        self._send(("events", chunk))

    def problems(self, rows: np.ndarray) -> None:
        self._send(("problems", rows))

    def calls(self, calls: dict[str, np.ndarray], unit_names: list[str] | None = None) -> None:
        self._send(("calls", calls, unit_names))

    def calls_done(self, figures: FigureSpec | None) -> None:
        """Every call has been handed over: the hotline figure can be drawn (by the drawer
        process, `sim.outputs.drawer`) while the rest is finished."""
        if figures is not None:
            self._send(("calls_done", figures))

    def conclude(self, days: int, figures: FigureSpec | None,
                 say: Callable[[str], None]) -> Outputs:
        """`RunRecorder.conclude` in the child; ``say`` is told each step as it starts.

        Raises:
            OSError: writing failed in the child (a full disk...), or the child died.
        """
        self._send(("conclude", days, figures))
        return self._answer(say)

    def stop(self) -> None:
        """Stop the child without concluding (the run failed or was stopped)."""
        if not self._done:
            self._done = True
            self._broken = True  # what is still waiting is not written
            self._quiet()
            self._conn.close()  # the child sees the pipe closed and stops
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


if __name__ == "__main__":
    serve(_serve)
