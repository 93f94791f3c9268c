"""A run folder's life: checked before the run, written aside, swapped in whole, verified on read.

`RunFolder.prepare` checks the target before any simulation (a file, an unwritable place, a
disk too full for the estimate, or a non-empty folder without ``force`` is refused) and makes
a temporary folder beside it, ``.NAME.tmp-PID-XXXX``, where the run writes its files.
`RunFolder.commit` adds ``summary.json`` listing every file with its size and SHA-256, fsyncs
the files and the folder, and puts the folder in place with one atomic rename: over a
missing or empty target a plain rename, over an old run an exchange (``renameat2`` with
``RENAME_EXCHANGE``), after which the old run is deleted. A run killed at any moment so
leaves the old folder or the complete new one, never a mix; its leftover temporary folder is
removed by the next run to the same target. `read_run_summary` is what every reader of a run
folder calls: it refuses a folder whose files do not match the list.

Where the exchange is not available (not Linux, or a file system without it) the old folder
is first renamed aside to ``.NAME.old-PID-XXXX``; a run killed between the two renames leaves
the old folder there, and the next `prepare` of the target puts it back.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.errors import GridLoopError, InputError

__all__ = ["RunFolder", "read_run_summary", "SUMMARY", "checkpoint"]

SUMMARY = "summary.json"
_SUMMARY_MAX_BYTES = 16 * 1024 * 1024  # a summary is a few kB; refuse to read a huge one
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def checkpoint(stage: str) -> None:
    """Stop this process here (SIGSTOP) when ``GRIDLOOP_TEST_STOP_AT`` names ``stage``.

    The tests use it to kill -9 a `gridloop run` at an exact point of writing its folder
    (``streaming``, ``written``, ``swapped``); it does nothing otherwise.
    """
    if os.environ.get("GRIDLOOP_TEST_STOP_AT") == stage:
        import signal

        os.kill(os.getpid(), signal.SIGSTOP)


def _fsync(path: Path, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _digest(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2``); False where that is not available."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EXDEV):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunFolder:
    """A run folder being written: files go to `path`, `commit` puts them at `target`.

    Use `prepare` to make one. As a context manager, leaving the block without `commit`
    (an error, Ctrl-C) removes the temporary folder and leaves the target as it was.
    """

    def __init__(self, target: Path, path: Path) -> None:
        self.target = target
        self.path = path
        self.committed = False

    @classmethod
    def prepare(cls, target: str | Path, *, force: bool = False, need_bytes: int = 0,
                flag: str = "--out") -> RunFolder:
        """Check that a run can be written to ``target`` and make its temporary folder.

        Args:
            force: replace an existing non-empty folder (only once the new run is complete).
            need_bytes: the run's estimated size; refused when the disk has less free.
            flag: how the user named the target, for messages (``--out``).

        Raises:
            GridLoopError: the target is a file, cannot be written, lies on a disk with
                less than ``need_bytes`` free, or is a non-empty folder and not ``force``.
        """
        target = Path(target)
        where = f"{flag} {target}"
        if target.exists() and not target.is_dir():
            raise GridLoopError(f"{where}: is a file, not a folder; choose another {flag}")
        parent = target.absolute().parent
        _recover(target.absolute())
        if target.is_dir() and any(target.iterdir()):
            if not force:
                raise GridLoopError(f"{where}: the folder exists and is not empty (an earlier "
                                    f"run?); pass --force to replace it once the new run is "
                                    f"complete, or choose another {flag}")
            if not (target / SUMMARY).is_file():
                raise GridLoopError(f"{where}: the folder is not a run folder (no {SUMMARY}); "
                                    f"--force replaces only an earlier run: choose another "
                                    f"{flag}")
        try:
            parent.mkdir(parents=True, exist_ok=True)
            path = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-",
                                         dir=parent))
        except OSError as e:
            raise GridLoopError(f"{where}: cannot write there ({e.strerror or e}); choose "
                                f"another {flag}") from None
        os.chmod(path, 0o777 & ~_umask())
        free = shutil.disk_usage(path).free
        if need_bytes > free:
            shutil.rmtree(path, ignore_errors=True)
            raise GridLoopError(f"{where}: the disk has {free / 1e6:,.0f} MB free and this run "
                                f"needs about {need_bytes / 1e6:,.0f} MB; free some space or "
                                f"choose another {flag}")
        return cls(target.absolute(), path)

    def __enter__(self) -> RunFolder:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.committed:
            self.abandon()

    def abandon(self) -> None:
        """Remove the temporary folder; the target stays as it was."""
        shutil.rmtree(self.path, ignore_errors=True)

    def commit(self, summary: dict[str, Any], progress: Callable[[str], None] | None = None,
               digests: dict[str, dict[str, Any]] | None = None) -> Path:
        """Write ``summary.json`` (with the list of files and their digests), make everything
        durable and put the folder in place; returns the target. ``digests`` are those of
        files already known (taken as they were written, `sim.outputs.files.TableWriter`);
        the others are read here.

        Raises:
            GridLoopError: the disk filled up or the target became unwritable meanwhile
                (the target is then as it was).
        """
        try:
            files = {}
            for p in sorted(self.path.rglob("*")):
                if p.is_file():
                    if progress is not None:
                        progress(f"checking {p.name}")
                    _fsync(p)
                    name = p.relative_to(self.path).as_posix()
                    known = (digests or {}).get(name)
                    files[name] = known if known is not None and \
                        known["bytes"] == p.stat().st_size else {
                            "bytes": p.stat().st_size, "sha256": _digest(p)}
            summary = {**summary, "files": files}
            path = self.path / SUMMARY
            with open(path, "w", encoding="utf-8") as f:
                f.write(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
                f.flush()
                os.fsync(f.fileno())
            for d in sorted({p.parent for p in self.path.rglob("*")} | {self.path}):
                _fsync(d, directory=True)
            checkpoint("written")
            self._swap()
        except OSError as e:
            self.abandon()
            raise GridLoopError(f"{self.target}: could not finish writing the run "
                                f"({e.strerror or e}); the folder is as it was") from None
        self.committed = True
        return self.target

    def _swap(self) -> None:
        target, parent = self.target, self.target.parent
        if not target.exists():
            os.rename(self.path, target)
        elif _exchange(self.path, target):
            checkpoint("swapped")
            shutil.rmtree(self.path, ignore_errors=True)   # now the old run
        elif not any(target.iterdir()):
            os.rename(self.path, target)                   # over an empty folder
        else:
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-{os.getpid()}-",
                                        dir=parent))
            os.rename(target, old / "run")
            os.rename(self.path, target)
            shutil.rmtree(old, ignore_errors=True)
        _fsync(parent, directory=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _recover(target: Path) -> None:
    """Tidy what runs killed while writing ``target`` left beside it: their temporary
    folders are removed, and an old run set aside (no exchange available) is put back."""
    for p in target.parent.glob(f".{target.name}.old-*-*"):
        if _alive(_pid_of(p.name)):
            continue
        if not target.exists() and (p / "run").is_dir():
            os.rename(p / "run", target)
        shutil.rmtree(p, ignore_errors=True)
    for p in target.parent.glob(f".{target.name}.tmp-*-*"):
        if not _alive(_pid_of(p.name)):
            shutil.rmtree(p, ignore_errors=True)


def _pid_of(name: str) -> int:
    try:
        return int(name.rsplit("-", 2)[-2])
    except (ValueError, IndexError):
        return -1


def read_run_summary(folder: str | Path) -> dict[str, Any]:
    """A run folder's ``summary.json``, after checking every file it lists ({} when the
    folder has no summary; a summary listing no files, from before this check, is read as
    it is).

    Raises:
        InputError: the summary cannot be read, or a listed file is missing or does not
            match its size and SHA-256 (a folder half written, or mixed from two runs).
    """
    folder = Path(folder)
    path = folder / SUMMARY
    if not path.exists():
        return {}
    try:
        if path.stat().st_size > _SUMMARY_MAX_BYTES:
            raise ValueError(f"{path.stat().st_size:,} bytes, more than a summary holds")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InputError(str(path), None, "", f"expected the run's JSON summary, got: {e}"
                         ) from None
    if not isinstance(data, dict):
        return {}
    files = data.get("files")
    if not isinstance(files, dict):
        return data
    for name, want in files.items():
        p = folder / name
        size = want.get("bytes") if isinstance(want, dict) else None
        digest = want.get("sha256") if isinstance(want, dict) else None
        problem = None
        if not p.is_file():
            problem = "is missing"
        elif p.stat().st_size != size or _digest(p) != digest:
            problem = (f"does not match summary.json (it lists {size} bytes, SHA-256 "
                       f"{str(digest)[:12]}...; the file has {p.stat().st_size} bytes)")
        if problem:
            raise InputError(str(p), None, "", f"{problem}: the run folder is incomplete or "
                             f"mixes files of two runs; rerun `gridloop run` into it")
    return data
