"""Where blocks of runs are played: in this process, in local processes, or on a Dask cluster.

Each executor maps a function over tasks and yields results as they finish, keeping at most
``window`` tasks in flight so memory stays flat however many runs a batch has.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from sim.batch.errors import SchedulerError


class Inline:
    """Play every block in this process, one after another (tests, notebooks, small batches)."""

    workers = 1
    shares_disk = True

    def imap_unordered(self, fn: Callable, tasks: Iterable) -> Iterator:
        for task in tasks:
            yield fn(*task)

    def close(self) -> None:
        pass


class Processes:
    """A pool of local worker processes (default: one per core); workers write their own chunks."""

    shares_disk = True

    def __init__(self, workers: int | None = None):
        self.workers = workers or os.cpu_count() or 1
        self._pool = ProcessPoolExecutor(self.workers, mp_context=_context())

    def imap_unordered(self, fn: Callable, tasks: Iterable) -> Iterator:
        tasks = iter(tasks)
        pending = set()
        try:
            while True:
                while len(pending) < 2 * self.workers:
                    task = next(tasks, None)
                    if task is None:
                        break
                    pending.add(self._pool.submit(fn, *task))
                if not pending:
                    return
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class Dask:
    """An existing Dask distributed cluster, reached at ``address`` (e.g. ``tcp://host:8786``).

    Workers may be on other machines, so they send their tables back and this process writes them.
    """

    shares_disk = False

    def __init__(self, address: str, timeout: str = "15s"):
        from distributed import Client

        if not re.fullmatch(r"(?:[a-z]+://)?[\w.\-\[\]:]+:\d+", address):
            raise SchedulerError(f"{address}: not a scheduler address (expected tcp://HOST:PORT)")
        try:
            self._client = Client(address, set_as_default=False, timeout=timeout)
        except Exception as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise SchedulerError(f"{address}: cannot reach the Dask scheduler ({reason})") from None
        self.workers = max(1, sum(self._client.nthreads().values()))

    def imap_unordered(self, fn: Callable, tasks: Iterable) -> Iterator:
        from distributed import as_completed

        tasks = iter(tasks)
        first = [
            self._client.submit(fn, *task, pure=False) for _, task in zip(range(2 * self.workers), tasks, strict=False)
        ]
        if not first:
            return
        running = as_completed(first, loop=self._client.loop)
        for future in running:
            yield future.result()
            future.release()
            task = next(tasks, None)
            if task is not None:
                running.add(self._client.submit(fn, *task, pure=False))

    def close(self) -> None:
        self._client.close()


SMALL_BATCH = 50_000


def _context():
    """Fork where it is safe (Linux, no other threads): instant workers, and scripts need no
    ``if __name__ == "__main__"`` guard. Otherwise (Jupyter kernels run threads) a fork server
    that imports the package once and forks workers from it."""
    if sys.platform == "linux" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["sim.batch.runner"])
    return context


def executor(workers: int | None = None, scheduler: str | None = None, runs: int = 0):
    """The executor for a batch: Dask if a scheduler address is given, else local processes.

    Without an explicit worker count, batches under ``SMALL_BATCH`` runs play in this process:
    starting worker processes (about two seconds) costs more than it saves there.
    """
    if scheduler:
        return Dask(scheduler)
    if workers == 1 or (workers is None and runs < SMALL_BATCH):
        return Inline()
    return Processes(workers)
