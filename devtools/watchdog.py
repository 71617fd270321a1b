"""`python -m devtools.watchdog PARENT CHILD`: stop CHILD (DynamoDB Local) when PARENT dies.

A `make dev` killed with SIGKILL (or by the OOM killer) runs no cleanup, and DynamoDB Local runs
in its own session (so that Ctrl-C reaches the server first): without this, it would keep the port
and the data folder. The watchdog runs in its own session too, so killing the dev server's process
group does not take it along. It polls: cheap, portable, no signals to arrange.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time

POLL_S = 0.5


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop(pid: int, grace_s: float = 5) -> None:
    """SIGTERM, then SIGKILL after `grace_s` (the JVM flushes its database on SIGTERM)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace_s
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def watch(parent: int, child: int) -> None:
    while alive(child):
        if os.getppid() != parent or not alive(parent):  # reparented: the parent is gone
            stop(child)
            return
        time.sleep(POLL_S)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is for the server; it stops the child itself
    watch(int(sys.argv[1]), int(sys.argv[2]))
