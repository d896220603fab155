"""SIGTERM and SIGHUP handled as Ctrl-C is: what ``timeout``, systemd, ``docker stop``, Slurm, Kubernetes
and a closed terminal send. The batch stops, keeps its finished chunks and marks itself interrupted."""

from __future__ import annotations

import contextlib
import signal
import threading

from sim.batch.errors import Stopped

STOPPING = (signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def stop_on_signals():
    """Within: the first SIGTERM or SIGHUP raises ``Stopped`` in the main thread; later ones are ignored
    while the batch stops. Elsewhere than in the main thread (where Python allows no handler) a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []

    def stop(signum, _frame):
        if not caught:
            caught.append(signum)
            raise Stopped(signum)

    previous = {signum: signal.signal(signum, stop) for signum in STOPPING}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
