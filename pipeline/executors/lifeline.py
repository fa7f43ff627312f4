"""Worker processes never outlive the run that started them.

A main process killed with SIGKILL gets no chance to stop its workers, and forked workers would wait
for work forever while the next scheduled run finds the output folder locked. So every worker binds
its life to its parent's: on Linux the kernel kills it when the parent dies (``PR_SET_PDEATHSIG``);
elsewhere a watcher thread ends it within a second of the parent's death.
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1
_WATCH_SECONDS = 1.0


def bind_to_parent(parent_pid: int) -> None:
    """Make this (worker) process die with ``parent_pid``; exit at once if that parent is already gone.

    The check after the request closes the race in which the parent dies between the fork and the
    request, when the kernel has nobody left to watch for.
    """
    if not (sys.platform.startswith("linux") and _request_death_signal()):
        threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    if os.getppid() != parent_pid:
        os._exit(1)


def _request_death_signal() -> bool:
    """Ask the Linux kernel for SIGKILL when the parent dies; False when the call is not available."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(_WATCH_SECONDS)
    os._exit(1)
