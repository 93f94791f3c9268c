"""Where a run came from: the command line, the overrides, the package version, the commit.

Every run folder's ``summary.json`` carries these, so a result found months later says how
to make it again: ``command`` (the exact words typed, or the Python process's own), the
``overrides`` themselves (``--set`` values, ``--days``, ``--seed``), ``version`` (the
installed gridloop) and ``git_commit`` / ``git_dirty`` of the source tree that ran (None when
it is not a git checkout).
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["provenance"]

_SOURCE = Path(__file__).resolve().parents[2]  # the tree holding sim/


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(_SOURCE), *args], capture_output=True,
                             text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def provenance(command: Sequence[str] | None = None,
               overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The provenance fields of ``summary.json``.

    Args:
        command: the command line as words (default: this process's ``sys.argv``).
        overrides: what the command changed in the scenario (``set``, ``days``, ``seed``).
    """
    words = list(command) if command is not None else [sys.executable, *sys.argv]
    try:
        version: str | None = metadata.version("gridloop")
    except metadata.PackageNotFoundError:
        version = None
    top = _git("rev-parse", "--show-toplevel")  # sim/ must be the checkout's, not an install
    commit = _git("rev-parse", "HEAD") if top and Path(top).resolve() == _SOURCE else None
    status = _git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"command": shlex.join(words), "argv": words, "overrides": overrides or {},
            "version": version, "git_commit": commit or None,
            "git_dirty": bool(status) if status is not None else None}
