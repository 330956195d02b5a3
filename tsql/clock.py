"""Clocks: where `now()`, `ago()` and the retention windows get the time from.

`SystemClock` reads the wall clock. `FixedClock` stands still until advanced, so tests
can make "the last hour" and tiering reproducible: `FixedClock("2024-01-01T00:00:00Z")`,
then `clock.advance("2h")`. Data written relative to it ages with it.
"""

from __future__ import annotations

import datetime as _dt
import re
import threading
import time

from .errors import ValidationError

_UNIT_NS = {"ns": 1, "us": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9, "d": 86400 * 10**9}
_DURATION = re.compile(r"\s*(-?\d+(?:\.\d+)?)\s*(ns|us|ms|s|m|h|d)\s*")


def duration_ns(value) -> int:
    """A duration as nanoseconds: an int (ns), a `datetime.timedelta`, or text with
    Timestream's units (`"15m"`, `"2h"`, `"1d"`, `"500ms"`, `"1.5s"`)."""
    if isinstance(value, bool):
        raise ValidationError(f"Not a duration: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, _dt.timedelta):
        return (value.days * 86400 + value.seconds) * 10**9 + value.microseconds * 1000
    if isinstance(value, str):
        m = _DURATION.fullmatch(value)
        if m is not None:
            return round(float(m.group(1)) * _UNIT_NS[m.group(2)]) if "." in m.group(1) \
                else int(m.group(1)) * _UNIT_NS[m.group(2)]
    raise ValidationError(f"Not a duration: {value!r} (use e.g. '15m', '2h', '1d', a timedelta or nanoseconds)")


def instant_ns(value) -> int:
    """A point in time as nanoseconds since the epoch: an int (ns), a `datetime` (naive
    means UTC), or ISO-8601 text (`"2024-01-01T00:00:00Z"`, `"2024-01-01 12:30"`)."""
    if isinstance(value, bool):
        raise ValidationError(f"Not a point in time: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            value = _dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
        except ValueError:
            raise ValidationError(f"Not an ISO-8601 time: {text!r} (e.g. '2024-01-01T00:00:00Z')") from None
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        delta = value - _dt.datetime(1970, 1, 1)
        return (delta.days * 86400 + delta.seconds) * 10**9 + delta.microseconds * 1000
    if isinstance(value, _dt.date):
        return (value - _dt.date(1970, 1, 1)).days * 86400 * 10**9
    raise ValidationError(f"Not a point in time: {value!r}")


class Clock:
    def now_ns(self) -> int:
        raise NotImplementedError


class SystemClock(Clock):
    def now_ns(self) -> int:
        return time.time_ns()


class FixedClock(Clock):
    """A clock that stands still at `now` (ns, datetime or ISO text) until advanced or set."""

    def __init__(self, now):
        self._now = instant_ns(now)
        self._lock = threading.Lock()

    def now_ns(self) -> int:
        return self._now

    def advance(self, duration) -> None:
        """Move on by a duration: ns, a timedelta, or text such as '2h' or '15m'."""
        ns = duration_ns(duration)
        with self._lock:
            self._now += ns

    def set(self, now) -> None:
        with self._lock:
            self._now = instant_ns(now)

    def __repr__(self) -> str:
        return f"FixedClock({_dt.datetime(1970, 1, 1) + _dt.timedelta(microseconds=self._now // 1000)!s})"
