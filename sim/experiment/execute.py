"""Where tasks run: a local process pool, or a Dask distributed cluster.

Both run the same function, `sim.experiment.tasks.run_task`, and report each finished task
as it comes in. A task's file appears whole or not at all, so a lost worker costs only its
task, which is run again: the local pool is rebuilt after a worker dies (a few times at
most), Dask's scheduler reassigns the lost worker's tasks itself.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from sim.errors import GridLoopError
from sim.experiment.tasks import Task, TaskDone, run_task

__all__ = ["Executor", "LocalPool", "DaskCluster", "make_executor", "DASK_MISSING"]

DASK_MISSING = ("--scheduler needs Dask distributed, which is not installed; install it with "
                "`pip install 'gridloop[dask]'` (or `pip install 'dask[distributed]'`)")


class Executor(Protocol):
    """Runs tasks, calling ``on_done`` in the caller's thread as each one finishes."""

    def run(self, tasks: list[Task], folder: str, on_done: Callable[[TaskDone], None]) -> None:
        ...

    def close(self) -> None:
        ...


def _watch_parent(main_pid: int, every: float = 0.5) -> None:
    """Run in each worker as it starts: end the worker as soon as the experiment's main
    process is gone (killed with ``kill -9``, or by the out-of-memory killer), instead of
    finishing its task for nobody. The worker's parent is the fork server, which exits with
    the main process, so either going away means the experiment has stopped."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(every)
            try:
                os.kill(main_pid, 0)             # signal 0: only asks whether it is alive
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:              # alive, under another user (pid reused)
                pass
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="gridloop-watch-parent", daemon=True).start()


def _context() -> multiprocessing.context.BaseContext:
    """``forkserver`` where there is one (POSIX): a clean server process imports the engine
    once and every worker is forked from it, so workers start fast and share nothing with
    the parent's threads; ``spawn`` elsewhere."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["sim.experiment.tasks", "sim.run"])
        return ctx
    return multiprocessing.get_context("spawn")


class LocalPool:
    """A pool of worker processes on this machine (`_context`: forked from a clean server
    process, or spawned). Reuse one pool across experiments with
    ``with LocalPool(2) as pool: run_compare(..., executor=pool)``.

    Args:
        workers: worker processes (default: the CPUs this process may use).
        max_restarts: how many times a pool broken by a dead worker is rebuilt in one run.
    """

    def __init__(self, workers: int | None = None, max_restarts: int = 3) -> None:
        if workers is not None and workers < 1:
            raise GridLoopError(f"--workers: expected at least 1, got {workers}")
        self.workers = workers or len(os.sched_getaffinity(0))
        self.max_restarts = max_restarts
        self.restarts = 0
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> LocalPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            main = getattr(sys.modules.get("__main__"), "__file__", None)
            if main and not os.path.exists(main):  # e.g. '<stdin>': workers cannot import it
                raise GridLoopError(f"worker processes cannot start from code read from "
                                    f"{main}; run a script file, a notebook or the gridloop "
                                    "command")
            self._pool = ProcessPoolExecutor(self.workers, mp_context=_context(),
                                             initializer=_watch_parent,
                                             initargs=(os.getpid(),))
        return self._pool

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (for tests that kill one)."""
        procs = getattr(self._pool, "_processes", None) or {}
        return [p.pid for p in procs.values() if p.pid is not None and p.is_alive()]

    def close(self, *, stop_workers: bool = False) -> None:
        """Shut the pool down; ``stop_workers``: end running tasks now (an interrupted
        experiment) rather than waiting for them."""
        if self._pool is not None:
            if stop_workers:
                for proc in (getattr(self._pool, "_processes", None) or {}).values():
                    if proc.is_alive():
                        proc.terminate()
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def run(self, tasks: list[Task], folder: str, on_done: Callable[[TaskDone], None]) -> None:
        pending = {t.name: t for t in tasks}
        restarts = 0
        while pending:
            futures: dict[Future[TaskDone], Task] = {
                self.pool().submit(run_task, t, folder): t for t in pending.values()}
            try:
                waiting = set(futures)
                while waiting:
                    finished, waiting = wait(waiting, return_when=FIRST_COMPLETED)
                    for f in finished:
                        done = f.result()
                        del pending[done.name]
                        on_done(done)
            except BrokenProcessPool:
                restarts += 1
                self.restarts += 1
                self._pool = None  # a broken pool cannot be reused; its workers are gone
                if restarts > self.max_restarts:
                    raise GridLoopError(f"worker processes died {restarts} times; "
                                        f"{len(pending)} tasks not run") from None
            except BaseException:
                for f in futures:
                    f.cancel()
                self.close(stop_workers=True)    # Ctrl-C or an error: no task runs on
                raise


class DaskCluster:
    """Tasks sent to a Dask distributed scheduler at ``address`` (``tcp://HOST:PORT``).

    The experiment folder must be reachable at the same path from every worker (a shared
    file system). Lost workers' tasks are rescheduled by Dask; each is retried up to
    ``retries`` times if it raises.
    """

    def __init__(self, address: str, retries: int = 2) -> None:
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise GridLoopError(DASK_MISSING) from None
        self.address = address
        self.retries = retries
        self._client: Any = None

    def client(self) -> Any:
        if self._client is None:
            from distributed import Client

            try:
                self._client = Client(self.address, timeout="20s")
            except OSError as e:
                raise GridLoopError(f"--scheduler: expected a reachable Dask scheduler, "
                                    f"got no answer from {self.address} ({e})") from None
        return self._client

    def __enter__(self) -> DaskCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def run(self, tasks: list[Task], folder: str, on_done: Callable[[TaskDone], None]) -> None:
        from distributed import as_completed

        client = self.client()
        futures = [client.submit(run_task, t, folder, pure=False, retries=self.retries)
                   for t in tasks]
        try:
            for f in as_completed(futures):
                on_done(f.result())
        except BaseException:
            client.cancel(futures)
            raise


def make_executor(workers: int | None = None, scheduler: str | None = None) -> Executor:
    """A `DaskCluster` when a scheduler address is given, else a `LocalPool`."""
    if scheduler and workers:
        raise GridLoopError("--workers and --scheduler: expected one of them, got both "
                            "(a Dask cluster sizes itself)")
    return DaskCluster(scheduler) if scheduler else LocalPool(workers)
