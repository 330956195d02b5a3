"""One table's storage state: its series, memory store and magnetic store, and the
snapshot a query reads.

Two locks: `lock` serialises writers to the table and makes a snapshot consistent (a
write's rows, a move's swap between tiers, all land between two snapshots); the
`magnetic_lock` lets one operation at a time commit to the magnetic store (moves,
compactions, retention, writes of old records), and is taken before `lock`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from .catalog import TableInfo, TableSchema
from .magnetic import MagneticSettings, MagneticStore, MagneticView, bucket_of
from .memory import MemorySnapshot, MemoryStore
from .scan import ScanRequest, ScanStats, scan_table
from .series import GrowableArray, SeriesCatalog, SeriesView


@dataclass(frozen=True)
class TableSnapshot:
    """What a query sees of a table: fixed at the moment the query starts."""

    info: TableInfo
    schema: TableSchema
    series: SeriesView
    memory: MemorySnapshot
    magnetic: MagneticView
    store: MagneticStore  # reads the files `magnetic` names
    buckets: np.ndarray  # partition-key bucket per series
    expired_before: int  # points older than this have passed the magnetic retention

    def column_types(self) -> dict:
        return dict(self.schema.value_columns())

    def scan(self, request: ScanRequest, stats: ScanStats):
        stats.series_total += self.series.count
        if request.series is None:
            stats.series_scanned += self.series.count
            buckets = None
        else:
            stats.series_scanned += len(request.series)
            buckets = set(np.unique(self.buckets[request.series]).tolist())
        yield from scan_table(self, request, buckets, stats)

    @property
    def nrows(self) -> int:
        return self.memory.nrows + self.magnetic.rows


class _ColumnTypes:
    """Column -> measure type, read live from a table's schema."""

    def __init__(self, info: TableInfo):
        self.info = info

    def __getitem__(self, name: str) -> str:
        return dict(self.info.schema.value_columns())[name]


class TableStore:
    def __init__(self, info: TableInfo, files, settings: MagneticSettings, cache=None):
        self.info = info
        self.files = files
        self.series = SeriesCatalog()
        self.memory = MemoryStore(_ColumnTypes(info))
        self.magnetic = MagneticStore(files, settings, cache)
        self.bucket_codes = GrowableArray(np.int32)
        self.lock = threading.RLock()
        self.magnetic_lock = threading.RLock()
        self.moving_to: int | None = None  # a move's new boundary while it runs
        self.durable_series = 0  # series ids below this are in the WAL or a checkpoint
        self.deleted = False
        self.checked_dimensions: dict = {}  # see records.validate_records

    @property
    def label(self) -> str:
        return f"{self.info.database}.{self.info.name}"

    def add_series(self, key: tuple) -> tuple[int, bool]:
        sid, is_new = self.series.get_or_add(key)
        if is_new:
            self.bucket_codes.append(self._bucket(key))
        return sid, is_new

    def _bucket(self, key: tuple) -> int:
        pk = self.info.partition_key
        value = key[0] if pk.type != "DIMENSION" else dict(key[1]).get(pk.name)
        return bucket_of(value, self.magnetic.settings.buckets)

    def route_boundary(self) -> int:
        """Rows older than this take the magnetic path (waiting for a running move)."""
        boundary = self.magnetic.view.boundary
        return boundary if self.moving_to is None else max(boundary, self.moving_to)

    def value_types(self) -> dict:
        return dict(self.info.schema.value_columns())

    def snapshot(self, now_ns: int) -> TableSnapshot:
        with self.lock:
            view = self.magnetic.view
            return TableSnapshot(
                self.info, self.info.schema.copy(), self.series.view(), self.memory.snapshot(),
                view, self.magnetic, self.bucket_codes.view()[: len(self.series)],
                max(view.expired_before, now_ns - self.info.magnetic_retention_ns),
            )
