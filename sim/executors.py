"""Where blocks of runs are played: in this process, in local processes, or on a Dask cluster.

Each executor maps a function over tasks and yields results as they finish, keeping at most
``window`` tasks in flight so memory stays flat however many runs a batch has.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait


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
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["sim.batch"])  # import once in the server, fork workers from it
        self._pool = ProcessPoolExecutor(self.workers, mp_context=context)

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

    def __init__(self, address: str):
        from distributed import Client

        self._client = Client(address, set_as_default=False)
        self.workers = max(1, sum(self._client.nthreads().values()))

    def imap_unordered(self, fn: Callable, tasks: Iterable) -> Iterator:
        from distributed import as_completed

        tasks = iter(tasks)
        first = [self._client.submit(fn, *task, pure=False) for _, task in zip(range(2 * self.workers), tasks)]
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
