"""What can go wrong around a batch, as exceptions whose message is one line naming the path or address.

``resumable`` tells whether the batch had begun and stopped part-way: its finished chunks are kept and
``--resume`` completes it.
"""

from __future__ import annotations

import errno
import signal
from pathlib import Path


class ResultsError(Exception):
    """A results folder that cannot be used as asked; the message names the path and the problem."""

    resumable = False


class SchedulerError(Exception):
    """A Dask scheduler that cannot be reached; the message names the address."""

    resumable = False


class StorageError(ResultsError):
    """An operating-system error on the results folder (disk full, read-only, ...): what and what to do."""

    def __init__(self, message: str, resumable: bool = False):
        super().__init__(message)
        self.resumable = resumable


class WorkersLost(Exception):
    """The batch lost its workers or its Dask scheduler part-way; the finished chunks are kept."""

    resumable = True


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, handled as Ctrl-C is: the batch stops, its finished chunks kept."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signal = signal.Signals(signum).name
        self.exit_code = 128 + signum


# errno -> (what happened, what to do)
ADVICE = {
    errno.ENOSPC: ("no space left on the device", "free some space"),
    errno.EDQUOT: ("disk quota exceeded", "free some space or raise the quota"),
    errno.EROFS: ("read-only file system", "choose a writable --out, or remount it read-write"),
    errno.EACCES: ("permission denied", "choose a folder you may write to, or change its permissions"),
    errno.EPERM: ("operation not permitted", "choose a folder you may write to, or change its permissions"),
    errno.EMFILE: ("too many open files", "raise the limit (ulimit -n 4096) or use fewer --workers"),
    errno.ENFILE: ("too many open files on this system", "close other programs or raise fs.file-max"),
    errno.EIO: ("input/output error", "check the disk"),
}


def storage_error(exc: OSError, path: str | Path, resumable: bool = False) -> StorageError:
    """``exc`` as one line naming the file it was about (else ``path``), the problem and what to do.

    Running out of file descriptors is named after ``path``: the file that happened to be opened last is no clue.
    """
    busy = exc.errno in (errno.EMFILE, errno.ENFILE)
    where = exc.filename if exc.filename is not None and not busy else path
    problem, todo = ADVICE.get(exc.errno, (exc.strerror or str(exc) or type(exc).__name__, ""))
    return StorageError(f"{where}: {problem}" + (f"; {todo}" if todo else ""), resumable)
