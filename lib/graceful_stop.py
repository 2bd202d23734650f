"""A Hypercorn worker told SIGTERM stops the whole service gracefully, not itself abruptly.

With several workers, Hypercorn (0.18) gives its workers no SIGTERM handler of their own: a
worker signalled directly dies at once, cutting the requests it serves, and the master then
terminates the others the same way. Even a SIGTERM to the master ends that way for every
worker still draining when the first one exits. Installed in each worker, this handler turns
SIGTERM into a graceful stop: the background jobs are told to stop after their pass (the
caller's `on_stop`), and the signal is passed to the master once, which asks every worker to
stop accepting, finish what is in flight (Hypercorn's graceful timeout) and run the app's
shutdown. A later SIGTERM, the master's own, changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
from collections.abc import Callable

log = logging.getLogger(__name__)


def stop_gracefully_on_sigterm(on_stop: Callable[[], None]) -> bool:
    """In a worker process started by Hypercorn's master, handle SIGTERM as above; answers
    whether the handler was installed (not outside a worker, e.g. in tests or a single
    process server, where the server handles signals itself)."""
    parent = multiprocessing.parent_process()
    master = os.getppid()
    if parent is None or parent.pid != master:
        return False
    stopping = False

    def on_sigterm() -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        log.info("worker %s: SIGTERM, stopping gracefully", os.getpid())
        on_stop()
        # Only to the master that started us: once it is gone our parent is someone else.
        if os.getppid() == master and master != 1:
            os.kill(master, signal.SIGTERM)

    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, on_sigterm)
    return True
