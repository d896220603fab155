"""Where blocks of runs are played: in this process, in local processes, or on a Dask cluster.

Each executor maps a function over tasks and yields results as they finish, keeping at most
``window`` tasks in flight so memory stays flat however many runs a batch has. ``close()`` ends an
executor that finished; ``abort()`` one that stops part-way (an error, Ctrl-C, SIGTERM): its local
workers are killed at once rather than left to finish their blocks.

Local workers die with the process that started them, whatever kills it (``kill -9``, the OOM killer):
forked on Linux, the kernel signals each worker when its parent dies (``PR_SET_PDEATHSIG``); otherwise
(the fork server, other systems) a thread in each worker notices within half a second.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import multiprocessing
import os
import queue
import re
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

import psutil

from sim.batch.errors import SchedulerError, WorkersLost


class Inline:
    """Play every block in this process, one after another (tests, notebooks, small batches)."""

    workers = 1
    shares_disk = True

    def imap_unordered(self, fn: Callable, tasks: Iterable) -> Iterator:
        for task in tasks:
            yield fn(*task)

    def close(self) -> None:
        pass

    abort = close


class Processes:
    """A pool of local worker processes (default: one per core); workers write their own chunks."""

    shares_disk = True

    def __init__(self, workers: int | None = None):
        self.workers = workers or os.cpu_count() or 1
        context = _context()
        self._pool = ProcessPoolExecutor(
            self.workers,
            mp_context=context,
            initializer=_worker_started,
            initargs=(os.getpid(), context.get_start_method() == "fork"),
        )

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
        except BrokenProcessPool:
            raise WorkersLost("a local worker process died part-way (killed, or out of memory?)") from None
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def abort(self) -> None:
        """Kill the workers now: a block they were playing is played again on --resume."""
        for process in list((getattr(self._pool, "_processes", None) or {}).values()):
            with contextlib.suppress(OSError, ValueError):
                process.kill()
        self._pool.shutdown(wait=True, cancel_futures=True)


PR_SET_PDEATHSIG = 1
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
ROOMY = {M_MMAP_THRESHOLD: 32 << 20, M_TRIM_THRESHOLD: 64 << 20}


def _mallopt(settings: dict[int, int]) -> bool:
    """Set glibc malloc parameters; False where there is no glibc."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return all(mallopt(key, value) == 1 for key, value in settings.items())


@contextlib.contextmanager
def roomy_malloc():
    """Around each block: let glibc keep the memory a block frees for its next arrays, and hand it back after.

    Dask starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which also fixes glibc's mmap threshold
    at 128 KiB: every array the model makes is then mapped and unmapped again, which made blocks 1.6-1.9
    times slower. ``ROOMY`` thresholds (mmap above 32 MiB, trim above 64 MiB) make them about a quarter
    faster than glibc's adaptive defaults even; local workers keep them for good, a Dask worker gets its own
    back after the block. Either way the block's model is then collected at once (its reference cycles
    would hold its arrays until Python's rare full collection) and the memory it freed is handed back to
    the system (glibc keeps fragments of each block's heap otherwise). Without both, a worker grew by a
    block's worth every few blocks (to 2.5 GB and more over 10^7 runs); it now stays near 230 MB resident.
    """
    found = os.environ.get("MALLOC_TRIM_THRESHOLD_", "")
    on_dask = found.isdigit() and _mallopt(ROOMY)
    if on_dask or multiprocessing.parent_process() is not None:  # a worker, not a notebook's own process
        _freeze_once()
    try:
        yield
    finally:
        if on_dask:
            mmap = os.environ.get("MALLOC_MMAP_THRESHOLD_", "")
            _mallopt({M_TRIM_THRESHOLD: int(found), M_MMAP_THRESHOLD: int(mmap) if mmap.isdigit() else 128 << 10})
        gc.collect()  # the model's reference cycles (Mesa's agents, events, data collector) hold its arrays
        _hand_back()


def _freeze_once() -> None:
    """Once per worker: take what it has imported out of the collector's sight (``gc.freeze``), so that the
    full collection after each block walks only the block's own objects (under a millisecond, not 100)."""
    global _frozen_in
    if _frozen_in != os.getpid():  # a forked worker inherits the flag, not the need
        gc.collect()
        gc.freeze()
        _frozen_in = os.getpid()


_frozen_in: int | None = None  # the process that last froze its objects


def _hand_back() -> None:
    """Return the free pages of glibc's heaps to the system (nothing where there is no glibc)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).malloc_trim(0)


def _worker_started(batch: int, forked: bool) -> None:
    """First thing in each local worker: leave Ctrl-C and hang-ups to the batch's process (which stops
    the workers itself), die of SIGTERM (whatever handler the batch's process set), keep freed memory
    for the next block's arrays, and die with the batch's process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _mallopt(ROOMY)  # about a quarter faster: see roomy_malloc
    die_with(batch, forked)


def die_with(batch: int, forked: bool) -> None:
    """Make this process die when the batch's process ``batch`` does, however that dies.

    Forked from it on Linux: the kernel sends SIGKILL when the parent dies (``PR_SET_PDEATHSIG``); the
    parent may have died before the request was made, so that is checked once just after. Otherwise (a
    worker of the fork server, which lives as long as any worker does, or another system): a thread
    checks twice a second that the batch's process is still running.
    """
    if forked and sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
            if os.getppid() != batch:
                os._exit(1)
            return
    threading.Thread(target=_watch, args=(batch,), daemon=True, name="negsim-die-with-batch").start()


def _watch(batch: int, interval: float = 0.5) -> None:
    while _alive(batch):
        time.sleep(interval)
    os._exit(1)


def _alive(pid: int) -> bool:
    """Running: a process that has exited but not yet been waited for (a zombie) is not."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:
        return True


class Dask:
    """An existing Dask distributed cluster, reached at ``address`` (e.g. ``tcp://host:8786``).

    Workers that can reach the results folder write their own chunks and send back a row count; the
    others send back the chunk's Parquet bytes, which this process writes. Losing the scheduler, or every
    worker for ``WORKERS_GRACE`` seconds, stops the batch with a one-line ``WorkersLost``.
    """

    shares_disk = False
    WORKERS_GRACE = 10.0

    def __init__(self, address: str, timeout: str = "15s"):
        from distributed import Client

        if not re.fullmatch(r"(?:[a-z]+://)?[\w.\-\[\]:]+:\d+", address):
            raise SchedulerError(f"{address}: not a scheduler address (expected tcp://HOST:PORT)")
        self.address = address
        self._logging = _quiet("distributed")  # its log lines would bury the one-line errors
        logging.getLogger("asyncio").addFilter(_unretrieved_gather)
        try:
            self._client = Client(address, set_as_default=False, timeout=timeout)
        except Exception as exc:
            self._logging()
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise SchedulerError(f"{address}: cannot reach the Dask scheduler ({reason})") from None
        self.workers = max(1, sum(self._client.nthreads().values()))

    def imap_unordered(self, fn: Callable, tasks: Iterable) -> Iterator:
        tasks = iter(tasks)
        finished: queue.Queue = queue.Queue()
        in_flight, self._alone_since = 0, None
        while True:
            while in_flight < 2 * self.workers and (task := next(tasks, None)) is not None:
                self._client.submit(fn, *task, pure=False).add_done_callback(finished.put)
                in_flight += 1
            if not in_flight:
                return
            try:
                future = finished.get(timeout=1)
            except queue.Empty:
                self._check_workers()
                continue
            in_flight -= 1
            yield self._result(future)

    def _result(self, future):
        """The block's result; the block's own error raised as it is; a lost cluster as ``WorkersLost``."""
        from distributed.scheduler import KilledWorker

        try:
            while True:
                try:
                    return future.result(timeout=1)
                except TimeoutError:  # held by a worker since lost: played again, if any worker is left
                    if future.status == "error":
                        raise
                    self._check_workers()
        except KilledWorker:
            raise WorkersLost(f"{self.address}: a block of runs killed Dask workers in turn (out of memory?)") from None
        except WorkersLost:
            raise
        except Exception:
            if future.status == "error":
                raise  # the block's own error: a full disk where the worker writes, say
            raise self._lost() from None
        finally:
            future.release()

    def _lost(self) -> WorkersLost:
        if self._client.status != "running" or not self._scheduler_answers():
            return WorkersLost(f"{self.address}: lost the Dask scheduler part-way")
        return WorkersLost(f"{self.address}: lost contact with the Dask cluster part-way")

    def _scheduler_answers(self) -> bool:
        """Whether the scheduler's port still takes connections, three times over a second: the client may not
        have noticed its loss yet, and a process just killed may still accept one connection as it dies."""
        from distributed.comm import get_address_host_port

        try:
            where = get_address_host_port(self._client.scheduler.address)
        except ValueError:  # not over TCP (in-process): the client's status is all there is
            return True
        for attempt in range(3):
            if attempt:
                time.sleep(0.5)
            try:
                with socket.create_connection(where, timeout=2):
                    pass
            except OSError:
                return False
        return True

    def _check_workers(self) -> None:
        """Raise ``WorkersLost`` once the scheduler is gone, or the cluster has had no worker for the grace."""
        if self._client.status != "running":
            raise self._lost()
        try:
            workers = self._client.nthreads()
        except Exception:
            raise self._lost() from None
        now = time.monotonic()
        if workers:
            self._alone_since = None
        elif self._alone_since is None:
            self._alone_since = now
        elif now - self._alone_since > self.WORKERS_GRACE:
            raise WorkersLost(f"{self.address}: the Dask cluster lost all its workers part-way")

    def close(self) -> None:
        if self._client.status != "closed":
            try:
                self._client.close()
            finally:
                self._logging()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._client.close(timeout=5)
        self._logging()


def _quiet(name: str) -> Callable[[], None]:
    """Silence the handlers of a logger and of its children (Dask gives some their own);
    returns the function that restores them."""
    loggers = [logging.getLogger(n) for n in list(logging.root.manager.loggerDict) if n.split(".")[0] == name]
    handlers = [(h, h.level) for logger in loggers for h in logger.handlers]
    for handler, _ in handlers:
        handler.setLevel(logging.CRITICAL + 1)

    def restore():
        for handler, level in handlers:
            handler.setLevel(level)

    return restore


def _unretrieved_gather(record: logging.LogRecord) -> bool:
    """False for asyncio's "Task exception was never retrieved" about Dask's internal AllExit, logged when a
    client closes while waiting for a result (the batch has stopped and said why)."""
    return not (record.exc_info and type(record.exc_info[1]).__name__ == "AllExit")


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


@contextlib.contextmanager
def pooled(workers: int | None = None, runs: int = 0):
    """An :func:`executor` for work on ``runs`` runs in local processes: closed after, aborted on an error."""
    pool = executor(workers, None, runs)
    try:
        yield pool
    except BaseException:
        pool.abort()
        raise
    pool.close()
