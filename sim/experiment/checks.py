"""What an experiment checks before it simulates anything: that it can write where it is
told, and that a comparison compares like with like.

A comparison pairs replication k of every scenario (common random numbers) and reads the
differences as the effect of what differs between the scenarios. Two scenarios that also
differ in their horizon (30 days against 28) or in their calendar (a start on another day
of the week, or in a holiday) differ in more than the user meant: totals and rates over
different windows. Such a comparison is refused, naming the scenarios and their values,
unless ``--days`` (or ``--set start_date=...``) makes them alike.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from sim.errors import GridLoopError
from sim.experiment.store import MANIFEST
from sim.i18n import _

__all__ = ["check_out", "check_report_out", "check_alike"]


def check_out(out: str | Path) -> Path:
    """``--out`` is a folder GridLoop may write an experiment into: new, empty, or an
    experiment folder to continue. Checked before anything is loaded or run.

    Raises:
        GridLoopError: ``--out`` is a file, a folder holding something else (a run's
            results), or a place that cannot be written.
    """
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise GridLoopError(f"--out {out}: " + _("expected a folder for the experiment, got "
                                                  "a file"))
    if folder.is_dir() and not (folder / MANIFEST).is_file():
        entries = sorted(p.name for p in folder.iterdir())
        if entries:
            shown = ", ".join(entries[:4]) + (", ..." if len(entries) > 4 else "")
            raise GridLoopError(f"--out {out}: " + _(
                "expected a new or empty folder, or an experiment folder to continue (with "
                "{manifest}), got a folder holding {n} other entries ({shown}); choose another "
                "--out").format(manifest=MANIFEST, n=len(entries), shown=shown))
    _writable(out, folder if folder.is_dir() else folder.parent)
    return folder


def _writable(out: str | Path, folder: Path) -> None:
    """``folder`` (or the nearest one above it that exists) can be written in."""
    while not folder.exists():
        folder = folder.parent
    try:  # the one sure test: make (and remove) a folder there
        os.rmdir(tempfile.mkdtemp(prefix=".gridloop-probe-", dir=folder))
    except OSError as e:
        raise GridLoopError(f"--out {out}: " + _("cannot write in {folder} ({reason})").format(
            folder=folder, reason=e.strerror)) from None


def check_report_out(out: str | Path) -> Path:
    """``gridloop report --out FILE``: a file GridLoop can write (checked before the report
    is built).

    Raises:
        GridLoopError: FILE is a folder, or its folder cannot be written.
    """
    path = Path(out)
    if path.is_dir():
        raise GridLoopError(f"--out {out}: " + _(
            "expected an HTML file to write, got a folder (e.g. --out {example})").format(
            example=path / "report.html"))
    _writable(out, path.parent)
    return path


def check_alike(labels: Sequence[str], days: Sequence[int], starts: Sequence[dt.date],
                days_given: bool) -> None:
    """Scenarios compared side by side run over the same number of days from the same date.

    Raises:
        GridLoopError: naming each scenario's horizon (or start date) and the flag that
            makes them alike.
    """
    if not days_given and len(set(days)) > 1:
        each = ", ".join(_("{label} {days} days").format(label=lb, days=d)
                         for lb, d in zip(labels, days, strict=True))
        raise GridLoopError("compare: " + _(
            "expected scenarios with the same horizon, got {each}; totals and rates over "
            "different horizons do not compare: run them all for the same days with --days N "
            "(e.g. --days {days})").format(each=each, days=min(days)))
    if len(set(starts)) > 1:
        each = ", ".join(f"{lb} {s.isoformat()} ({s.strftime('%a')})"
                         for lb, s in zip(labels, starts, strict=True))
        raise GridLoopError("compare: " + _(
            "expected scenarios that start on the same date, got {each}; their calendars "
            "(weekends, holidays) differ: start them together with --set "
            "start_date={start}").format(each=each, start=starts[0].isoformat()))
