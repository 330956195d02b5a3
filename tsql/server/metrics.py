"""Server metrics in the Prometheus text exposition format (version 0.0.4).

A few thread-safe counters, gauges and histograms with labels, rendered by `/metrics`.
Written here rather than taken from prometheus_client: it is a page of code and keeps
the runtime dependencies to the engine's.
"""

from __future__ import annotations

import bisect
import math
import threading

# seconds: 0.5 ms .. 30 s, roughly x2.5 per step
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def _escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: tuple, values: tuple, extra: str = "") -> str:
    parts = [f'{n}="{_escape(v)}"' for n, v in zip(names, values)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _number(v: float) -> str:
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(float(v)) if isinstance(v, float) and not float(v).is_integer() else str(int(v))


class _Metric:
    kind = ""

    def __init__(self, name: str, help: str, labels: tuple = ()):
        self.name = name
        self.help = help
        self.label_names = tuple(labels)
        self._lock = threading.Lock()

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]


class Counter(_Metric):
    kind = "counter"

    def __init__(self, name, help, labels=()):
        super().__init__(name, help, labels)
        self._values: dict[tuple, float] = {}

    def inc(self, amount: float = 1, *labels) -> None:
        with self._lock:
            self._values[labels] = self._values.get(labels, 0) + amount

    def value(self, *labels) -> float:
        with self._lock:
            return self._values.get(labels, 0)

    def render(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        if not items and not self.label_names:
            items = [((), 0)]
        return self.header() + [f"{self.name}{_labels(self.label_names, k)} {_number(v)}" for k, v in items]


class Gauge(Counter):
    kind = "gauge"

    def dec(self, amount: float = 1, *labels) -> None:
        self.inc(-amount, *labels)


class Histogram(_Metric):
    kind = "histogram"

    def __init__(self, name, help, labels=(), buckets=LATENCY_BUCKETS):
        super().__init__(name, help, labels)
        self.buckets = tuple(buckets)
        self._series: dict[tuple, list] = {}  # labels -> [bucket counts..., sum, count]

    def observe(self, value: float, *labels) -> None:
        i = bisect.bisect_left(self.buckets, value)
        with self._lock:
            s = self._series.get(labels)
            if s is None:
                s = self._series[labels] = [0] * (len(self.buckets) + 2)
            if i < len(self.buckets):
                s[i] += 1
            s[-2] += value
            s[-1] += 1

    def count(self, *labels) -> int:
        with self._lock:
            s = self._series.get(labels)
            return s[-1] if s else 0

    def render(self) -> list[str]:
        with self._lock:
            items = sorted((k, list(v)) for k, v in self._series.items())
        lines = self.header()
        for labels, s in items:
            cumulative = 0
            for bound, n in zip(self.buckets, s):
                cumulative += n
                le = 'le="%s"' % _number(bound)
                lines.append(f"{self.name}_bucket{_labels(self.label_names, labels, le)} {cumulative}")
            inf = 'le="+Inf"'
            lines.append(f"{self.name}_bucket{_labels(self.label_names, labels, inf)} {s[-1]}")
            lines.append(f"{self.name}_sum{_labels(self.label_names, labels)} {repr(float(s[-2]))}")
            lines.append(f"{self.name}_count{_labels(self.label_names, labels)} {s[-1]}")
        return lines


class ServerMetrics:
    """The metrics `tsql serve` exports."""

    CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

    def __init__(self):
        self.requests = Counter("tsql_requests_total", "API requests by operation and outcome "
                                "(OK or the AWS error type).", ("operation", "outcome"))
        self.latency = Histogram("tsql_request_duration_seconds", "Time from a request's arrival to its "
                                 "response, by operation.", ("operation",))
        self.records_ingested = Counter("tsql_records_ingested_total", "Records accepted by WriteRecords.")
        self.records_rejected = Counter("tsql_records_rejected_total", "Records rejected by WriteRecords "
                                        "(RejectedRecords entries).")
        self.queries = Counter("tsql_queries_total", "Query calls that ran a statement (not pages of "
                               "an earlier one), by outcome.", ("outcome",))
        self.bytes_scanned = Counter("tsql_query_bytes_scanned_total", "Bytes scanned by queries.")
        self.query_latency = Histogram("tsql_query_duration_seconds", "Time to plan and run a query "
                                       "(first page), excluding HTTP.")
        self.in_flight = Gauge("tsql_requests_in_flight", "Requests being processed now.")
        self.throttled = Counter("tsql_requests_throttled_total", "Requests refused with "
                                 "ThrottlingException because the server was saturated.")
        self.request_bytes = Counter("tsql_request_bytes_total", "Bytes of request bodies received.")
        self.response_bytes = Counter("tsql_response_bytes_total", "Bytes of response bodies sent.")
        self._all = [self.requests, self.latency, self.records_ingested, self.records_rejected, self.queries,
                     self.bytes_scanned, self.query_latency, self.in_flight, self.throttled,
                     self.request_bytes, self.response_bytes]

    def render(self) -> str:
        lines = []
        for metric in self._all:
            lines.extend(metric.render())
        return "\n".join(lines) + "\n"
