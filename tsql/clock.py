"""Clocks: where `now()`, `ago()` and the retention windows get the time from.

`SystemClock` reads the wall clock. `FixedClock` stands still until advanced, so tests
can make "the last hour" and tiering reproducible.
"""

from __future__ import annotations

import threading
import time


class Clock:
    def now_ns(self) -> int:
        raise NotImplementedError


class SystemClock(Clock):
    def now_ns(self) -> int:
        return time.time_ns()


class FixedClock(Clock):
    def __init__(self, now_ns: int):
        self._now = int(now_ns)
        self._lock = threading.Lock()

    def now_ns(self) -> int:
        return self._now

    def advance(self, ns: int) -> None:
        with self._lock:
            self._now += int(ns)
