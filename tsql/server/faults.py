"""Fault injection: the failures a Timestream client must survive, on purpose.

Applications retry throttled writes, resend rejected records and follow NextTokens
through empty pages; those paths rarely run against a healthy service, so tests make
them run. A `Faults` configuration is served by both `tsql serve` and the in-process
mock (tsql.testing), through `Protocol`. Random choices come from one seeded
generator, so a failing test fails the same way again.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

from tsql.errors import InternalServerError, ThrottlingError, ValidationError

# what DescribeEndpoints is never failed for: SDKs call it before anything else
_NEVER = frozenset({"DescribeEndpoints"})


@dataclass
class Faults:
    """What to break. Rates are fractions of calls (0..1); `*_calls` are 1-based numbers
    of the calls (counted over the operations in `operations`, all but
    DescribeEndpoints when None) that fail for certain."""

    throttle_rate: float = 0.0  # ThrottlingException
    throttle_calls: tuple = ()
    internal_error_rate: float = 0.0  # InternalServerException
    internal_error_calls: tuple = ()
    reject_rate: float = 0.0  # each record of a WriteRecords call rejected with this probability
    page_rows: int | None = None  # a Query page holds at most this many rows
    empty_pages: int = 0  # empty pages (with a NextToken) before a query's first rows
    latency: float = 0.0  # seconds added to every call
    operations: frozenset | None = None
    seed: int | None = 0

    def __post_init__(self):
        for name in ("throttle_rate", "internal_error_rate", "reject_rate"):
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise ValidationError(f"{name} must be between 0 and 1, not {rate!r}")
        if self.page_rows is not None and not 1 <= self.page_rows <= 1000:
            raise ValidationError(f"page_rows must be between 1 and 1000, not {self.page_rows!r}")
        if self.empty_pages < 0 or self.latency < 0:
            raise ValidationError("empty_pages and latency cannot be negative")
        self.throttle_calls = tuple(self.throttle_calls)
        self.internal_error_calls = tuple(self.internal_error_calls)
        if self.operations is not None:
            self.operations = frozenset(self.operations)


REJECT_REASON = "Rejected by tsql fault injection (reject_rate)."


@dataclass
class FaultInjector:
    """Applies a `Faults` configuration, counting calls and drawing from its seed."""

    faults: Faults
    calls: int = 0
    injected: dict = field(default_factory=dict)  # kind -> how many times it was injected

    def __post_init__(self):
        self._random = random.Random(self.faults.seed)
        self._lock = threading.Lock()

    def _applies(self, operation: str) -> bool:
        ops = self.faults.operations
        return operation not in _NEVER if ops is None else operation in ops

    def before_call(self, operation: str) -> None:
        """Sleep the added latency; raise the error this call gets, if any."""
        f = self.faults
        if f.latency:
            time.sleep(f.latency)
        if not self._applies(operation):
            return
        with self._lock:
            self.calls += 1
            n = self.calls
            throttle = n in f.throttle_calls or (f.throttle_rate and self._random.random() < f.throttle_rate)
            internal = not throttle and (
                n in f.internal_error_calls or (f.internal_error_rate and self._random.random() < f.internal_error_rate))
        if throttle:
            self._count("ThrottlingException")
            raise ThrottlingError(f"Rate exceeded (injected by tsql on call {n}).")
        if internal:
            self._count("InternalServerException")
            raise InternalServerError(f"An internal error occurred (injected by tsql on call {n}).")

    def rejected_records(self, count: int) -> list[int]:
        """Positions of the records of a WriteRecords call to reject."""
        rate = self.faults.reject_rate
        if not rate:
            return []
        with self._lock:
            chosen = [i for i in range(count) if self._random.random() < rate]
        if chosen:
            self._count("RejectedRecords", len(chosen))
        return chosen

    def page_rows(self, max_rows: int | None) -> int | None:
        limit = self.faults.page_rows
        if limit is None:
            return max_rows
        return limit if max_rows is None else min(limit, max_rows)

    def _count(self, kind: str, n: int = 1) -> None:
        with self._lock:
            self.injected[kind] = self.injected.get(kind, 0) + n
