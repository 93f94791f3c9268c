"""The hotline figure drawn in a process of its own while the recorder finishes the tables.

At the end of a run the recorder's process (`sim.outputs.writer`) has its last batches to
write, the cases still open, the summary and both figures to do, one after the other, while
the simulation's process waits; the hotline figure (its text layout) is the longest piece.
Its counts (`sim.outputs.aggregates.HotlineCounts`) are final as soon as the simulation
ends, so the recorder's process starts this one when the run starts (it imports matplotlib
while the simulation runs, on whatever the two processes leave of the machine), hands it the
counts when the simulation ends, and meanwhile finishes the tables and draws the overview.
It imports neither pandas nor Arrow (~65 MB). The PNG is the one the recorder would draw.

``python -m sim.outputs.drawer <read fd> <write fd>``; when its pipe closes without a
request (the run stopped), it exits.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from sim.outputs.child import Duplex, peak_mb, serve, start

__all__ = ["Drawer"]


class Drawer:
    """The drawer process, seen from the recorder's process."""

    def __init__(self) -> None:
        self._process: subprocess.Popen | None
        self._process, self._conn = start("sim.outputs.drawer")
        self.asked = False
        self.peak: float | None = None

    def hotline(self, counts: Any, *, days: int, title: str, path: Path,
                language: str) -> None:
        """Start drawing the hotline figure of ``counts`` (`HotlineCounts`) into ``path``."""
        self._conn.send(("hotline", counts, days, title, path, language))
        self.asked = True

    def result(self) -> Path:
        """The hotline figure's PNG path, once drawn.

        Raises:
            OSError: the drawer process died; what drawing raised, as raised.
        """
        try:
            msg = self._conn.recv()
        except EOFError:
            raise OSError("the run's drawing process ended unexpectedly") from None
        self.peak = msg[2]
        if msg[0] == "error":
            raise msg[1]
        return msg[1]

    def close(self) -> None:
        """Close the pipes and wait for the process (which exits when they close)."""
        if self._process is not None:
            self._conn.close()
            self._process.wait()
            self._process = None


def _main(conn: Duplex) -> None:
    try:  # while the simulation runs
        from sim.i18n import use
        from sim.outputs.figures import draw_hotline
    except Exception:  # noqa: BLE001, S110 - a request below imports again and says why
        pass
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        _, counts, days, title, path, language = msg
        try:
            from sim.i18n import use
            from sim.outputs.figures import draw_hotline

            with use(language):
                png = draw_hotline(counts, days=days, title=title, path=path)
            conn.send(("done", png, peak_mb()))
        except BaseException as e:  # noqa: BLE001 - raised in the recorder's process
            try:
                conn.send(("error", e, peak_mb()))
            except Exception:  # noqa: BLE001 - an error that does not pickle: its words
                conn.send(("error", OSError(f"{type(e).__name__}: {e}"), peak_mb()))


if __name__ == "__main__":
    serve(_main)
