"""One scan over a table snapshot, both tiers as one table: the series and times asked
for, nothing else, and an account of what was read and what was skipped.

The caller (the executor's Scan operator) has already turned dimension and measure-name
predicates into series ids on the series catalog, so storage needs no SQL: it receives
series ids, a half-open time range and the value columns to produce. The magnetic store
skips partitions by time window and partition-key bucket, and by the manifest's
segments (a series' rows within one row group, with their time range) files and row
groups holding no wanted series at a wanted time; the memory store skips chunks by time range and finds each series' rows by
binary search. Every point lives in exactly one tier (see magnetic.py: boundary), so
the two are simply concatenated, magnetic (older) first.

Bytes are counted logically (rows x the widths of time, series and the requested value
columns), the same for both tiers, so a query meters the same wherever its data is;
the bytes actually read from disk are counted separately.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from tsql.arrays import RangeGather, ranges_to_index, sorted_lookup

from .memory import Chunk, segment_search

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_WIDTH = {"DOUBLE": 8, "BIGINT": 8, "TIMESTAMP": 8, "BOOLEAN": 1, "VARCHAR": 16}


@dataclass(frozen=True)
class ScanRequest:
    series: np.ndarray | None = None  # distinct series ids, ascending; None: every series
    time_lo: int = INT64_MIN  # inclusive
    time_hi: int = INT64_MAX  # exclusive
    columns: tuple | None = None  # value columns wanted; None: all
    # "first" / "last": only each series' earliest / latest row in the range is wanted;
    # a scan may return more (other candidates), never fewer
    series_rows: str | None = None


@dataclass
class TierStats:
    """What one tier read and skipped. Memory-store partitions are its sorted chunks."""

    partitions_scanned: int = 0
    partitions_pruned: int = 0
    files_scanned: int = 0
    files_pruned: int = 0
    row_groups_scanned: int = 0
    row_groups_pruned: int = 0
    rows_scanned: int = 0
    bytes_scanned: int = 0
    bytes_pruned: int = 0
    disk_bytes_read: int = 0

    def prune(self, rows: int, row_size: int, partitions: int = 0, files: int = 0, row_groups: int = 0) -> None:
        self.partitions_pruned += partitions
        self.files_pruned += files
        self.row_groups_pruned += row_groups
        self.bytes_pruned += rows * row_size

    def read(self, rows: int, skipped_rows: int, row_size: int) -> None:
        self.rows_scanned += rows
        self.bytes_scanned += rows * row_size
        self.bytes_pruned += skipped_rows * row_size


def _both_tiers(name: str) -> property:
    return property(lambda self: getattr(self.memory, name) + getattr(self.magnetic, name),
                    doc=f"{name} of both tiers")


@dataclass
class ScanStats:
    """What a query's scans touched versus what pruning let them skip."""

    series_total: int = 0
    series_scanned: int = 0
    memory: TierStats = field(default_factory=TierStats)
    magnetic: TierStats = field(default_factory=TierStats)

    partitions_scanned = _both_tiers("partitions_scanned")
    partitions_pruned = _both_tiers("partitions_pruned")
    rows_scanned = _both_tiers("rows_scanned")
    bytes_scanned = _both_tiers("bytes_scanned")
    bytes_pruned = _both_tiers("bytes_pruned")

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


def row_bytes(types: dict, names) -> int:
    """Logical bytes of one row: time, series reference and the requested value columns."""
    return 16 + sum(_WIDTH[types[n]] for n in names if n in types)


def scan_table(snapshot, request: ScanRequest, buckets: set | None, stats: ScanStats):
    """Batches of both tiers of a TableSnapshot; `buckets` are the partition-key
    buckets of the requested series (None: all)."""
    view = snapshot.magnetic
    request = replace(request, time_lo=max(request.time_lo, snapshot.expired_before))
    types = snapshot.column_types()
    names = request.columns if request.columns is not None else tuple(types)
    request = replace(request, columns=tuple(names))
    row_size = row_bytes(types, names)
    if request.series_rows != "last":
        yield from scan_magnetic(snapshot.store, view, request, buckets, types, row_size, stats.magnetic)
        yield from scan_memory(snapshot.memory, request, row_size, stats.memory)
        return
    # Latest rows: a series with a row in the memory store has none later in the magnetic
    # store (its points are older than the boundary), so the memory store is read first
    # and those series are not looked for on disk.
    recent = list(scan_memory(snapshot.memory, request, row_size, stats.memory))
    in_memory = np.unique(np.concatenate([b.sid for b in recent])) if recent else np.empty(0, np.int32)
    yield from scan_magnetic(snapshot.store, view, request, buckets, types, row_size, stats.magnetic, in_memory)
    yield from recent


# --- magnetic store -----------------------------------------------------------------------

def scan_magnetic(store, view, request: ScanRequest, buckets, types, row_size: int, stats: TierStats,
                  later: np.ndarray | None = None):
    """`later`: series known to have a row later than any here (only with series_rows "last")."""
    lo, hi = request.time_lo, request.time_hi
    files = []
    for part in view.partitions:
        if part.tmax < lo or part.tmin >= hi or lo >= hi or (buckets is not None and part.bucket not in buckets):
            stats.prune(part.rows, row_size, partitions=1, files=len(part.files),
                        row_groups=sum(len(f.layout.row_groups) - 1 for f in part.files))
            continue
        stats.partitions_scanned += 1
        files.extend(part.files)
    bounds = _ExtremeBounds(files, request, later) if request.series_rows is not None else None
    for f in files:
        out = _scan_file(store, f, request, types, row_size, stats, bounds)
        if out is not None:
            yield out


class _ExtremeBounds:
    """For series_rows: per series, a time its extreme row in the range is known to reach,
    so segments (in any file) lying wholly beyond it need not be read. For "last": the
    greatest first time of a segment that starts in the range, in a file with no deleted
    rows (that row is live and in the range); `later` series get +inf (their latest row
    is in the memory store). Mirrored for "first"."""

    def __init__(self, files, request: ScanRequest, later: np.ndarray | None):
        self.last = request.series_rows == "last"
        self.lo, self.hi = request.time_lo, request.time_hi
        sids, times = [], []
        for f in files:
            if len(f.deleted):
                continue
            lay = f.layout
            t = lay.tmin if self.last else lay.tmax
            known = (t >= self.lo) & (t < self.hi)
            sids.append(lay.sids[known])
            times.append(t[known])
        if later is not None and len(later):
            sids.append(later)
            times.append(np.full(len(later), INT64_MAX, dtype=np.int64))
        sid = np.concatenate(sids) if sids else np.empty(0, np.int64)
        time = np.concatenate(times) if times else np.empty(0, np.int64)
        self.sids, inverse = np.unique(sid, return_inverse=True)
        # each series' latest (earliest) bound
        self.times = np.full(len(self.sids), INT64_MIN if self.last else INT64_MAX, dtype=np.int64)
        (np.maximum if self.last else np.minimum).at(self.times, inverse, time)

    def keep(self, lay) -> np.ndarray:
        """Which of a file's segments may hold their series' extreme row."""
        if len(self.sids) == 0:
            return np.ones(len(lay.sids), dtype=bool)
        pos, known = sorted_lookup(self.sids, lay.sids)
        if self.last:
            return ~known | (np.minimum(lay.tmax, self.hi - 1) >= self.times[pos])
        return ~known | (np.maximum(lay.tmin, self.lo) <= self.times[pos])


def _scan_file(store, f, request: ScanRequest, types, row_size: int, stats: TierStats,
               bounds: _ExtremeBounds | None) -> ScanBatch | None:
    lo, hi = request.time_lo, request.time_hi
    lay = f.layout  # segments: a series' rows within one row group, with their time range
    hit = (lay.tmax >= lo) & (lay.tmin < hi)
    if request.series is not None:
        hit &= sorted_lookup(request.series, lay.sids)[1]
    if bounds is not None:
        hit &= bounds.keep(lay)
    sel = np.flatnonzero(hit)
    n_groups = len(lay.row_groups) - 1
    if len(sel) == 0:
        stats.prune(f.live_rows, row_size, files=1, row_groups=n_groups)
        return None
    names = [c for c in request.columns if c in types]
    read = store.read_ranges(f, lay.starts[sel], lay.ends[sel], names, types, cached=True)
    stats.files_scanned += 1
    stats.row_groups_scanned += read.row_groups
    stats.row_groups_pruned += n_groups - read.row_groups
    stats.disk_bytes_read += read.disk_bytes
    starts, ends = read.starts, read.ends
    if lo > lay.tmin[sel].min():
        starts = segment_search(read.time, starts, ends, lo, "left")
    if hi <= lay.tmax[sel].max():
        ends = segment_search(read.time, starts, ends, hi, "left")
    if request.series_rows is not None and read.deleted is None:
        nonempty = ends > starts
        sel, starts, ends = sel[nonempty], starts[nonempty], ends[nonempty]
        starts, ends = _extreme_rows(request.series_rows, starts, ends)
    row_sid = np.repeat(lay.sids[sel], ends - starts)
    if read.deleted is not None:
        idx = ranges_to_index(starts, ends)
        live = ~read.deleted[idx]
        idx, row_sid = idx[live], row_sid[live]
        rows = len(idx)

        def take(v):
            return v[idx]
    else:  # whole ranges: slices, or no copy at all when they join up
        take = RangeGather(starts, ends)
        rows = take.total
    stats.read(rows, f.live_rows - rows, row_size)
    if rows == 0:
        return None
    columns = {n: (take(v), take(m) if m is not None else None) for n, (v, m) in read.columns.items()}
    return ScanBatch(row_sid, take(read.time), columns, True)


def _extreme_rows(which: str, starts: np.ndarray, ends: np.ndarray):
    """Narrow non-empty sorted segments to their first or last row."""
    if which == "last":
        return ends - 1, ends
    return starts, starts + 1


def _extreme_rows_unsorted(which: str, sid: np.ndarray, time: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """The rows of idx holding their series' latest ("last") or earliest time."""
    _, inverse = np.unique(sid, return_inverse=True)
    best = np.full(inverse.max() + 1, time.min() if which == "last" else time.max(), dtype=time.dtype)
    (np.maximum if which == "last" else np.minimum).at(best, inverse, time)
    return idx[time == best[inverse]]


# --- memory store -------------------------------------------------------------------------

def scan_chunk(chunk: Chunk, request: ScanRequest, row_size: int, stats: TierStats) -> ScanBatch | None:
    if chunk.nrows == 0 or chunk.tmax < request.time_lo or chunk.tmin >= request.time_hi:
        stats.prune(chunk.live_rows, row_size, partitions=1)
        return None
    sids, starts, ends = chunk.segments(request.series)
    if request.time_lo > chunk.tmin:
        starts = segment_search(chunk.time, starts, ends, request.time_lo, "left")
    if request.time_hi <= chunk.tmax:
        ends = segment_search(chunk.time, starts, ends, request.time_hi, "left")
    keep = ends > starts
    sids, starts, ends = sids[keep], starts[keep], ends[keep]
    if request.series_rows is not None and chunk.deleted is None:
        starts, ends = _extreme_rows(request.series_rows, starts, ends)
    stats.partitions_scanned += 1
    lengths = ends - starts
    total = int(lengths.sum())
    if total == 0:
        stats.read(0, chunk.live_rows, row_size)
        return None
    gather = None if total == chunk.nrows else RangeGather(starts, ends)  # None: the whole chunk
    row_sid = np.repeat(sids, lengths)
    time = chunk.time if gather is None else gather(chunk.time)
    columns = {}
    for name in request.columns:
        if name in chunk.columns:
            values, nulls = chunk.columns[name]
            if gather is not None:
                values = gather(values)
                nulls = gather(nulls) if nulls is not None else None
            columns[name] = (values, nulls)
    if chunk.deleted is not None:
        live = ~chunk.deleted if gather is None else ~gather(chunk.deleted)
        if not live.all():
            row_sid, time = row_sid[live], time[live]
            columns = {n: (v[live], m[live] if m is not None else None) for n, (v, m) in columns.items()}
    stats.read(len(time), chunk.live_rows - len(time), row_size)
    return ScanBatch(row_sid, time, columns, True) if len(time) else None


def scan_pending(batch, request: ScanRequest, row_size: int, stats: TierStats) -> ScanBatch | None:
    mask = (batch.time >= request.time_lo) & (batch.time < request.time_hi)
    if request.series is not None:
        mask &= np.isin(batch.sid, request.series)
    stats.partitions_scanned += 1
    idx = np.flatnonzero(mask)
    if request.series_rows is not None and len(idx):
        idx = _extreme_rows_unsorted(request.series_rows, batch.sid[idx], batch.time[idx], idx)
    stats.read(len(idx), len(batch) - len(idx), row_size)
    if len(idx) == 0:
        return None
    columns = {}
    for name in request.columns:
        if name in batch.columns:
            values, nulls = batch.columns[name]
            columns[name] = (values[idx], nulls[idx] if nulls is not None else None)
    return ScanBatch(batch.sid[idx].astype(np.int32), batch.time[idx], columns, False)


def scan_memory(snapshot, request: ScanRequest, row_size: int, stats: TierStats):
    """Batches of the memory store: one per chunk, then one per pending batch."""
    if request.time_lo >= request.time_hi:
        return
    for chunk in snapshot.chunks:
        out = scan_chunk(chunk, request, row_size, stats)
        if out is not None:
            yield out
    for batch in snapshot.pending:
        out = scan_pending(batch, request, row_size, stats)
        if out is not None:
            yield out
