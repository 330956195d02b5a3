"""The memory store: recent points of one table, series-major, in RAM.

Points arrive in `pending` batches (in arrival order) and are sealed into immutable
`Chunk`s sorted by (series id, time). Sealed chunks are merged two at a time when the
newer one has grown to half the older one's size, so a table holds O(log n) chunks and
every row is re-sorted O(log n) times. A `(series, time)` pair is stored at most once:
the writer removes a superseded point (a Version upsert) before adding its successor,
by giving the chunk that holds it a `deleted` mask.

Readers take a `MemorySnapshot` (tuples of immutable chunks and pending batches) and
scan it without locks; writers replace those tuples, never mutate what they hold.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from tsql.arrays import ranges_to_index, sorted_lookup

from .series import GrowableArray

INT64_MIN = np.iinfo(np.int64).min
INT64_MAX = np.iinfo(np.int64).max
SEAL_ROWS = 1 << 16


@dataclass(frozen=True)
class Batch:
    """Rows in arrival order: series id, time, version and value columns."""

    sid: np.ndarray  # int32
    time: np.ndarray  # int64 ns
    version: np.ndarray  # int64
    columns: dict  # name -> (values, nulls or None)

    def __len__(self) -> int:
        return len(self.time)

    def take(self, idx) -> "Batch":
        return Batch(self.sid[idx], self.time[idx], self.version[idx], take_columns(self.columns, idx))


def take_columns(columns: dict, idx) -> dict:
    out = {}
    for name, (values, nulls) in columns.items():
        nulls = nulls[idx] if nulls is not None else None
        out[name] = (values[idx], nulls if nulls is not None and nulls.any() else None)
    return out


def concat_columns(parts: list[tuple[int, dict]], types: dict) -> dict:
    """Concatenate column dicts of (length, columns) parts; absent columns are null."""
    from .records import empty_column  # local: records imports pandas-heavy helpers

    names = []
    for _, cols in parts:
        for name in cols:
            if name not in names:
                names.append(name)
    out = {}
    for name in names:
        values, nulls = [], []
        any_null = False
        for n, cols in parts:
            if name in cols:
                v, m = cols[name]
                values.append(v)
                nulls.append(m if m is not None else np.zeros(n, dtype=bool))
                any_null |= m is not None
            else:
                v, m = empty_column(types[name], n)
                values.append(v)
                nulls.append(m)
                any_null = True
        out[name] = (np.concatenate(values), np.concatenate(nulls) if any_null else None)
    return out


def compact_versions(version: np.ndarray) -> np.ndarray:
    """Versions as stored: almost always all 1 (the default), kept then as one value
    broadcast to every row (a read-only view of 8 bytes) instead of 8 bytes a row."""
    if len(version) and version.strides != (0,) and version[0] == 1 and np.all(version == 1):
        return np.broadcast_to(np.ones(1, dtype=np.int64), version.shape)
    return version


def stored_bytes(array: np.ndarray) -> int:
    """Bytes an array really holds (a broadcast view holds one element)."""
    return array.itemsize if array.ndim == 1 and array.strides == (0,) else array.nbytes


@dataclass(frozen=True)
class Chunk:
    """Rows sorted by (series id, time), each (series, time) once; immutable."""

    sids: np.ndarray  # distinct series ids, ascending (int32)
    offsets: np.ndarray  # rows of sids[i] are offsets[i]:offsets[i+1]
    time: np.ndarray
    version: np.ndarray
    columns: dict
    deleted: np.ndarray | None = None  # rows superseded by an upsert
    tmin: int = 0
    tmax: int = 0

    @property
    def nrows(self) -> int:
        return len(self.time)

    @property
    def live_rows(self) -> int:
        return self.nrows - (int(self.deleted.sum()) if self.deleted is not None else 0)

    def row_sids(self) -> np.ndarray:
        return np.repeat(self.sids, np.diff(self.offsets))

    def nbytes(self) -> int:
        total = self.time.nbytes + stored_bytes(self.version) + self.sids.nbytes + self.offsets.nbytes
        for values, nulls in self.columns.values():
            total += values.nbytes + (nulls.nbytes if nulls is not None else 0)
        return total

    @staticmethod
    def from_batch(batch: Batch) -> "Chunk":
        """Sort a batch by (series, time); its (series, time) pairs must be distinct."""
        if len(batch) == 0:
            return Chunk(np.empty(0, np.int32), np.zeros(1, np.int64), batch.time, batch.version, batch.columns)
        if np.all(batch.time[1:] >= batch.time[:-1]):
            order = np.argsort(batch.sid, kind="stable")  # time order survives a stable sort
        else:
            order = np.lexsort((batch.time, batch.sid))
        if np.all(order[1:] > order[:-1]):
            sorted_batch = batch
        else:
            sorted_batch = batch.take(order)
        sid = sorted_batch.sid
        starts = np.flatnonzero(np.concatenate(([True], sid[1:] != sid[:-1])))
        offsets = np.append(starts, len(sid)).astype(np.int64)
        return Chunk(
            sid[starts].astype(np.int32), offsets, sorted_batch.time, compact_versions(sorted_batch.version),
            sorted_batch.columns, None, int(sorted_batch.time.min()), int(sorted_batch.time.max()),
        )

    def to_batch(self, live_only: bool = True) -> Batch:
        batch = Batch(self.row_sids(), self.time, self.version, self.columns)
        if live_only and self.deleted is not None:
            batch = batch.take(np.flatnonzero(~self.deleted))
        return batch

    def take_rows(self, rows: np.ndarray) -> Batch:
        """Rows by position, without those deleted."""
        if self.deleted is not None:
            rows = rows[~self.deleted[rows]]
        return Batch(self.row_sids()[rows], self.time[rows], self.version[rows], take_columns(self.columns, rows))

    def with_deleted(self, rows: np.ndarray) -> "Chunk":
        deleted = self.deleted.copy() if self.deleted is not None else np.zeros(self.nrows, dtype=bool)
        deleted[rows] = True
        return replace(self, deleted=deleted)

    def segments(self, sids: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(series ids, row starts, row ends) of the requested series present here."""
        if sids is None:
            return self.sids, self.offsets[:-1], self.offsets[1:]
        pos, hit = sorted_lookup(self.sids, sids)
        found = pos[hit]
        return self.sids[found], self.offsets[found], self.offsets[found + 1]

    def find(self, sid: int, t: int) -> int | None:
        """The row holding (sid, t), if any (deleted rows count as absent)."""
        p = np.searchsorted(self.sids, sid)
        if p >= len(self.sids) or self.sids[p] != sid:
            return None
        a, b = self.offsets[p], self.offsets[p + 1]
        r = a + np.searchsorted(self.time[a:b], t)
        if r < b and self.time[r] == t and (self.deleted is None or not self.deleted[r]):
            return int(r)
        return None


def merge_chunks(a: Chunk, b: Chunk, types: dict) -> Chunk:
    return Chunk.from_batch(sort_batch(concat_batches([a.to_batch(), b.to_batch()], types)))


def segment_search(time: np.ndarray, starts: np.ndarray, ends: np.ndarray, t, side: str) -> np.ndarray:
    """Per segment [start, end) of sorted `time`, the insertion point of t (a scalar, or
    one value per segment): a vectorized bisection, all segments at once."""
    lo = starts.astype(np.int64).copy()
    hi = ends.astype(np.int64).copy()
    t = np.asarray(t)
    active = lo < hi
    while active.any():
        idx = np.flatnonzero(active)
        mid = (lo[idx] + hi[idx]) // 2
        tv = time[mid]
        target = t if t.ndim == 0 else t[idx]
        right = tv < target if side == "left" else tv <= target
        lo[idx] = np.where(right, mid + 1, lo[idx])
        hi[idx] = np.where(right, hi[idx], mid)
        active[idx] = lo[idx] < hi[idx]
    return lo


def time_slice(chunk: Chunk, lo: int, hi: int) -> Batch:
    """The live rows of a chunk with lo <= time < hi, still ordered by (series, time)."""
    if chunk.nrows == 0 or chunk.tmax < lo or chunk.tmin >= hi:
        return chunk.take_rows(np.empty(0, dtype=np.int64))
    if lo <= chunk.tmin and chunk.tmax < hi:
        return chunk.to_batch()
    starts, ends = chunk.offsets[:-1], chunk.offsets[1:]
    if lo > chunk.tmin:
        starts = segment_search(chunk.time, starts, ends, lo, "left")
    if hi <= chunk.tmax:
        ends = segment_search(chunk.time, starts, ends, hi, "left")
    return chunk.take_rows(ranges_to_index(starts, np.maximum(starts, ends)))


def concat_batches(batches: list, types: dict) -> Batch:
    batches = [b for b in batches if len(b)]
    if len(batches) == 1:
        return batches[0]
    if not batches:
        empty = np.empty(0, dtype=np.int64)
        return Batch(np.empty(0, dtype=np.int32), empty, empty, {})
    cols = concat_columns([(len(b), b.columns) for b in batches], types)
    return Batch(
        np.concatenate([b.sid for b in batches]), np.concatenate([b.time for b in batches]),
        np.concatenate([b.version for b in batches]), cols,
    )


def rows_between(chunks, lo: int, hi: int, types: dict) -> Batch:
    """Live rows of sealed chunks with lo <= time < hi, ordered by (series, time)."""
    return sort_batch(concat_batches([time_slice(c, lo, hi) for c in chunks], types))


def sort_batch(batch: Batch) -> Batch:
    """Rows ordered by (series, time)."""
    sid, time = batch.sid, batch.time
    if np.all((sid[1:] > sid[:-1]) | ((sid[1:] == sid[:-1]) & (time[1:] >= time[:-1]))):
        return batch  # already in order: a linear check instead of a sort
    return batch.take(np.lexsort((time, sid)))


@dataclass(frozen=True)
class MemorySnapshot:
    chunks: tuple
    pending: tuple

    @property
    def nrows(self) -> int:
        return sum(c.live_rows for c in self.chunks) + sum(len(p) for p in self.pending)


class MemoryStore:
    """Points of one table. Writers hold the table's lock; readers use `snapshot()`."""

    def __init__(self, column_types: dict):
        self.column_types = column_types  # column -> measure type, shared with the table schema
        self.chunks: tuple = ()
        self.pending: tuple = ()
        self.pending_rows = 0
        self.last_time = GrowableArray(np.int64, INT64_MIN)  # per series: latest time stored

    def snapshot(self) -> MemorySnapshot:
        return MemorySnapshot(self.chunks, self.pending)

    @property
    def nrows(self) -> int:
        return self.snapshot().nrows

    def nbytes(self) -> int:
        total = sum(c.nbytes() for c in self.chunks)
        for p in self.pending:
            total += p.time.nbytes * 3
            total += sum(v.nbytes + (m.nbytes if m is not None else 0) for v, m in p.columns.values())
        return total

    def ensure_series(self, count: int) -> None:
        self.last_time.resize(count)

    def is_append(self, sid: np.ndarray, time: np.ndarray) -> np.ndarray:
        """Rows that are later than anything stored for their series (no lookup needed)."""
        return time > self.last_time.view()[sid]

    def append(self, batch: Batch) -> None:
        if len(batch) == 0:
            return
        np.maximum.at(self.last_time.view(), batch.sid, batch.time)
        self.pending = self.pending + (batch,)
        self.pending_rows += len(batch)
        if self.pending_rows >= SEAL_ROWS:
            self.seal()

    def seal(self) -> None:
        """Sort the pending rows into a chunk and merge chunks of similar size."""
        if not self.pending:
            return
        batch = concat_batches(list(self.pending), self.column_types)
        chunks = list(self.chunks) + [Chunk.from_batch(batch)]
        while len(chunks) >= 2 and chunks[-1].live_rows * 2 >= chunks[-2].live_rows:
            b = chunks.pop()
            a = chunks.pop()
            chunks.append(merge_chunks(a, b, self.column_types))
        self.chunks = tuple(chunks)
        self.pending = ()
        self.pending_rows = 0

    def find(self, sid: int, t: int):
        """(chunk index, row) of the stored point (sid, t), or None. Seals first."""
        self.seal()
        for ci, chunk in enumerate(self.chunks):
            if chunk.tmin <= t <= chunk.tmax:
                row = chunk.find(sid, t)
                if row is not None:
                    return ci, row
        return None

    def point(self, location) -> tuple[int, dict]:
        """(version, {column: value or None}) of a stored point."""
        ci, row = location
        chunk = self.chunks[ci]
        values = {}
        for name, (vals, nulls) in chunk.columns.items():
            if nulls is None or not nulls[row]:
                values[name] = vals[row]
        return int(chunk.version[row]), values

    def delete(self, location) -> None:
        ci, row = location
        chunks = list(self.chunks)
        chunks[ci] = chunks[ci].with_deleted(np.array([row]))
        self.chunks = tuple(chunks)

    def drop_before(self, cutoff: int) -> int:
        """Remove every row older than `cutoff` (moved or expired); returns how many."""
        self.seal()
        chunks = []
        dropped = 0
        for chunk in self.chunks:
            if chunk.tmin >= cutoff:
                chunks.append(chunk)
                continue
            if chunk.nrows:
                rest = time_slice(chunk, cutoff, INT64_MAX)
                dropped += chunk.live_rows - len(rest)
                if len(rest):
                    chunks.append(Chunk.from_batch(rest))
        self.chunks = tuple(chunks)
        return dropped
