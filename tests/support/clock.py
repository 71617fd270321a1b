"""A clock whose sleeps are instant: real elapsed time plus every slept interval.

Retry tests want to see the waits the client asked for (Retry-After, backoff) without waiting,
while real socket timeouts still advance time; adding both keeps deadlines consistent.
"""

from __future__ import annotations

import threading
import time


class FakeClock:
    """`clock()` = monotonic time + total slept; `sleep(s)` records `s` and returns at once."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        with self._lock:
            return time.monotonic() + self._offset

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._offset += max(0.0, seconds)

    @property
    def slept(self) -> float:
        return sum(self.sleeps)
