"""One scan over a table snapshot: the series and time range asked for, nothing else.

The caller (the executor's Scan operator) has already turned dimension and measure-name
predicates into a set of series ids using the series catalog, so storage needs no SQL:
it receives series ids, a half-open time range and the value columns to produce, skips
chunks whose time range cannot match, finds each series' rows by binary search on its
sorted times, and yields batches. `ScanStats` counts what was read and what was skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tsql.arrays import ranges_to_index

from .memory import Chunk, segment_search

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


@dataclass(frozen=True)
class ScanRequest:
    series: np.ndarray | None = None  # distinct series ids, ascending; None: every series
    time_lo: int = INT64_MIN  # inclusive
    time_hi: int = INT64_MAX  # exclusive
    columns: tuple | None = None  # value columns wanted; None: all


@dataclass
class ScanStats:
    """What a scan touched versus what pruning let it skip."""

    partitions_scanned: int = 0
    partitions_pruned: int = 0
    series_total: int = 0
    series_scanned: int = 0
    rows_scanned: int = 0
    bytes_scanned: int = 0
    bytes_pruned: int = 0
    tiers: dict = field(default_factory=dict)

    def add(self, other: "ScanStats") -> None:
        for name in ("partitions_scanned", "partitions_pruned", "series_total", "series_scanned",
                     "rows_scanned", "bytes_scanned", "bytes_pruned"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def series_pruned(self) -> int:
        return self.series_total - self.series_scanned


@dataclass(frozen=True)
class ScanBatch:
    """Rows of a scan. `sorted` means ordered by (series id, time)."""

    sid: np.ndarray  # int32 series id per row
    time: np.ndarray  # int64 ns
    columns: dict  # value column -> (values, nulls or None); absent columns are all null
    sorted: bool

    def __len__(self) -> int:
        return len(self.time)


def _row_bytes(columns: dict, names) -> int:
    size = 16  # time + series reference
    for name in names:
        if name in columns:
            values = columns[name][0]
            size += values.itemsize if values.dtype != object else 16
    return size


def scan_chunk(chunk: Chunk, request: ScanRequest, stats: ScanStats) -> ScanBatch | None:
    names = request.columns if request.columns is not None else tuple(chunk.columns)
    row_size = _row_bytes(chunk.columns, names)
    if chunk.nrows == 0 or chunk.tmax < request.time_lo or chunk.tmin >= request.time_hi:
        stats.partitions_pruned += 1
        stats.bytes_pruned += chunk.nrows * row_size
        return None
    sids, starts, ends = chunk.segments(request.series)
    if request.time_lo > chunk.tmin:
        starts = segment_search(chunk.time, starts, ends, request.time_lo, "left")
    if request.time_hi <= chunk.tmax:
        ends = segment_search(chunk.time, starts, ends, request.time_hi, "left")
    keep = ends > starts
    sids, starts, ends = sids[keep], starts[keep], ends[keep]
    stats.partitions_scanned += 1
    lengths = ends - starts
    total = int(lengths.sum())
    stats.rows_scanned += total
    stats.bytes_scanned += total * row_size
    stats.bytes_pruned += (chunk.nrows - total) * row_size
    if total == 0:
        return None
    if total == chunk.nrows:
        idx = None  # the whole chunk: no gather
        row_sid = np.repeat(sids, lengths)
    else:
        idx = ranges_to_index(starts, ends)
        row_sid = np.repeat(sids, lengths)
    time = chunk.time if idx is None else chunk.time[idx]
    columns = {}
    for name in names:
        if name in chunk.columns:
            values, nulls = chunk.columns[name]
            if idx is not None:
                values = values[idx]
                nulls = nulls[idx] if nulls is not None else None
            columns[name] = (values, nulls)
    if chunk.deleted is not None:
        live = ~chunk.deleted if idx is None else ~chunk.deleted[idx]
        if not live.all():
            row_sid, time = row_sid[live], time[live]
            columns = {n: (v[live], m[live] if m is not None else None) for n, (v, m) in columns.items()}
    return ScanBatch(row_sid, time, columns, True)


def scan_pending(batch, request: ScanRequest, stats: ScanStats) -> ScanBatch | None:
    names = request.columns if request.columns is not None else tuple(batch.columns)
    mask = (batch.time >= request.time_lo) & (batch.time < request.time_hi)
    if request.series is not None:
        mask &= np.isin(batch.sid, request.series)
    stats.partitions_scanned += 1
    n = int(mask.sum())
    row_size = _row_bytes(batch.columns, names)
    stats.rows_scanned += n
    stats.bytes_scanned += n * row_size
    stats.bytes_pruned += (len(batch) - n) * row_size
    if n == 0:
        return None
    idx = np.flatnonzero(mask)
    columns = {}
    for name in names:
        if name in batch.columns:
            values, nulls = batch.columns[name]
            columns[name] = (values[idx], nulls[idx] if nulls is not None else None)
    return ScanBatch(batch.sid[idx].astype(np.int32), batch.time[idx], columns, False)


def scan_memory(snapshot, request: ScanRequest, stats: ScanStats):
    """Batches of the memory store: one per chunk, then one per pending batch."""
    for chunk in snapshot.chunks:
        out = scan_chunk(chunk, request, stats)
        if out is not None:
            yield out
    for batch in snapshot.pending:
        out = scan_pending(batch, request, stats)
        if out is not None:
            yield out
