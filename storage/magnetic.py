"""The magnetic store of one table: immutable Parquet files in time x partition-key partitions.

Names relative to the table's directory:

    manifest.json                  the root: version, boundary, expiry, the partitions
    <partition>/f<n>.parquet       data files (parquet.py), rows ordered by (series, time)
    <partition>/m<version>.arrow   the partition manifest: per file its layout (per series
                                   and row group its row range, first and last time;
                                   readable with pyarrow.feather), its row groups and the
                                   rows later upserts replaced

A partition holds the points of one time window (a UTC day by default) whose series
fall in one bucket of the partition key (a hash of its value: the measure name, or the
table's partition-key dimension). Files and partition manifests never change: a commit
writes new ones (fsync'd), then replaces manifest.json atomically, which is the only
commit point. Files a commit drops are deleted once no snapshot can read them; files
no manifest names (left by a crash) are deleted when the store opens.

`boundary` divides the table between the tiers: points older than it are here, the rest
in the memory store. It only grows, and a move changes it in the same commit that adds
the moved rows, so every point is in exactly one tier before, during and after a move.
Points older than `expired_before` have passed the magnetic retention: scans skip them
and whole partitions of them are deleted.
"""

from __future__ import annotations

import io
import json
import os
import time as _time
import weakref
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import pyarrow as pa

from tsql.arrays import ranges_to_index
from tsql.errors import InternalServerError

from . import faults
from .memory import INT64_MIN, Batch, concat_batches, segment_search, sort_batch
from .parquet import Layout, FileReader, encode

DAY_NS = 86400 * 10**9
ROOT = "manifest.json"


@dataclass(frozen=True)
class MagneticSettings:
    """How a table's magnetic partitions are cut; fixed when the table's store is created."""

    window_ns: int = DAY_NS
    buckets: int = 8
    row_group_rows: int = 16384  # small enough that one series-hour costs a group or two


@dataclass(frozen=True, eq=False)
class DataFile:
    name: str
    nbytes: int
    layout: Layout
    deleted: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))  # sorted rows

    @property
    def rows(self) -> int:
        return self.layout.rows

    @property
    def live_rows(self) -> int:
        return self.rows - len(self.deleted)

    @property
    def tmin(self) -> int:
        return int(self.layout.tmin.min()) if len(self.layout.tmin) else 0

    @property
    def tmax(self) -> int:
        return int(self.layout.tmax.max()) if len(self.layout.tmax) else 0

    def with_deleted(self, rows: np.ndarray) -> "DataFile":
        return replace(self, deleted=np.union1d(self.deleted, rows).astype(np.int64))


@dataclass(frozen=True, eq=False)
class Partition:
    name: str
    window: int
    bucket: int
    files: tuple = ()
    manifest: str = ""

    @property
    def rows(self) -> int:
        return sum(f.live_rows for f in self.files)

    @property
    def nbytes(self) -> int:
        return sum(f.nbytes for f in self.files)

    @property
    def tmin(self) -> int:
        return min(f.tmin for f in self.files)

    @property
    def tmax(self) -> int:
        return max(f.tmax for f in self.files)


@dataclass(frozen=True, eq=False)
class MagneticView:
    """What one snapshot sees of the magnetic store; never changes."""

    version: int
    boundary: int
    expired_before: int
    partitions: tuple  # Partitions ordered by (window, bucket)

    @property
    def rows(self) -> int:
        return sum(p.rows for p in self.partitions)

    @property
    def nbytes(self) -> int:
        return sum(p.nbytes for p in self.partitions)

    def partition(self, name: str) -> Partition | None:
        return self._by_name.get(name)

    @cached_property
    def _by_name(self) -> dict:
        return {p.name: p for p in self.partitions}


@dataclass
class RangeRead:
    """Whole row groups of one file read for some row ranges of it."""

    time: np.ndarray
    version: np.ndarray | None
    columns: dict
    starts: np.ndarray  # the ranges, as positions in the arrays above
    ends: np.ndarray
    deleted: np.ndarray | None  # bool per position, or None
    row_groups: int
    disk_bytes: int


def bucket_of(value: str | None, buckets: int) -> int:
    """The partition-key bucket of a key value (None: a record without the key dimension)."""
    return zlib.crc32((value or "").encode("utf-8")) % buckets


def partition_name(window: int, bucket: int) -> str:
    return _time.strftime("%Y%m%dT%H%M%S", _time.gmtime(window // 10**9)) + f"_k{bucket:02d}"


class MagneticStore:
    """The magnetic partitions of one table. Writers hold the table's magnetic lock
    (one commit at a time); `install` happens under the table lock, with the memory
    store's matching change, so a snapshot sees both or neither."""

    def __init__(self, files, settings: MagneticSettings, cache=None):
        self.files = files
        self.cache = cache  # a BlockCache shared by the database's tables, or None
        self.readers: dict[str, FileReader] = {}
        self._live = weakref.WeakSet()  # views that snapshots may still read
        self._retired: list[tuple[int, list]] = []  # (version that dropped them, names)
        self._uncommitted: list[str] = []  # files written for the next commit
        if files.exists(ROOT):
            view, self.settings, self.next_file = self._load()
        else:
            self.settings = settings
            self.next_file = 1
            view = MagneticView(0, INT64_MIN, INT64_MIN, ())
        self.view = view
        self._live.add(view)
        self._remove_orphans()

    # --- reading --------------------------------------------------------------------------

    def reader(self, f: DataFile) -> FileReader:
        r = self.readers.get(f.name)
        if r is None:
            r = self.readers[f.name] = FileReader(self.files.source(f.name))
        return r

    def read_ranges(self, f: DataFile, starts: np.ndarray, ends: np.ndarray, columns, types,
                    version: bool = False, cached: bool = False) -> RangeRead:
        """Read the row groups of `f` that hold rows [starts[i], ends[i]) (nonempty ranges);
        `cached`: through the block cache (queries; not compaction, which reads once)."""
        bounds = f.layout.row_groups
        first = np.searchsorted(bounds, starts, "right") - 1
        last = np.searchsorted(bounds, ends - 1, "right") - 1
        need = np.zeros(len(bounds) - 1, dtype=bool)
        need[ranges_to_index(first, last + 1)] = True
        groups = np.flatnonzero(need)
        sizes = np.diff(bounds)[groups]
        base = np.zeros(len(bounds) - 1, dtype=np.int64)
        base[groups] = np.concatenate(([0], np.cumsum(sizes)[:-1]))

        def local(rows):
            g = np.searchsorted(bounds, rows, "right") - 1
            return rows - bounds[g] + base[g]

        cache = self.cache if cached else None
        try:
            reader = self.reader(f)
            time, versions, cols, from_disk = reader.read(self.files.source(f.name), groups, columns, types,
                                                          version, cache, f.name)
        except (OSError, pa.ArrowException) as e:
            raise InternalServerError(f"Could not read the magnetic store file {f.name}: {e}") from e
        deleted = None
        if len(f.deleted):
            g = np.searchsorted(bounds, f.deleted, "right") - 1
            inside = need[g]
            if inside.any():
                deleted = np.zeros(len(time), dtype=bool)
                deleted[local(f.deleted[inside])] = True
        disk = reader.disk_bytes(from_disk, ["time", *columns] + (["ts_version"] if version else []))
        return RangeRead(time, versions, cols, local(starts), local(ends - 1) + 1, deleted, len(groups), disk)

    def find(self, view: MagneticView, sid: np.ndarray, time: np.ndarray, buckets: np.ndarray,
             columns, types) -> tuple[np.ndarray, list]:
        """Which points (sid[i], time[i]) are stored here: a found mask and, per point
        found, (version, {column: value}, (partition name, file index, row))."""
        found = np.zeros(len(sid), dtype=bool)
        details: list = [None] * len(sid)
        keys = self._partition_keys(time, buckets[sid])
        for key in np.unique(keys):  # a loop over the partitions touched
            part = view.partition(self._partition_name(key))
            if part is None:
                continue
            rows = np.flatnonzero(keys == key)
            for fi, f in enumerate(part.files):
                rows = rows[~found[rows]]
                lay = f.layout
                # the segment of each point's series whose time range could hold it
                first = np.searchsorted(lay.sids, sid[rows], "left")
                last = np.searchsorted(lay.sids, sid[rows], "right")
                seg = segment_search(lay.tmin, first, last, time[rows], "right") - 1
                hit = (seg >= first) & (time[rows] <= lay.tmax[np.maximum(seg, 0)])
                cand, seg = rows[hit], seg[hit]
                if len(cand) == 0:
                    continue
                read = self.read_ranges(f, lay.starts[seg], lay.ends[seg], columns, types, version=True)
                p = segment_search(read.time, read.starts, read.ends, time[cand], "left")
                at = np.minimum(p, len(read.time) - 1)
                ok = (p < read.ends) & (read.time[at] == time[cand])
                if read.deleted is not None:
                    ok &= ~read.deleted[at]
                for i, local_row, file_row in zip(cand[ok], p[ok], (lay.starts[seg] + p - read.starts)[ok]):
                    values = {}
                    for name, (vals, nulls) in read.columns.items():
                        if nulls is None or not nulls[local_row]:
                            values[name] = vals[local_row]
                    found[i] = True
                    details[i] = (int(read.version[local_row]), values, (part.name, fi, int(file_row)))
        return found, details

    def read_file(self, f: DataFile, types) -> Batch:
        """All live rows of a file, ordered by (series, time)."""
        reader = self.reader(f)
        columns = [c for c in types if reader.has(c)]
        read = self.read_ranges(f, np.array([0]), np.array([f.rows]), columns, types, version=True)
        lay = f.layout
        batch = Batch(np.repeat(lay.sids, lay.ends - lay.starts), read.time, read.version, read.columns)
        if read.deleted is not None:
            batch = batch.take(np.flatnonzero(~read.deleted))
        return batch

    # --- writing --------------------------------------------------------------------------

    def partitions_of(self, batch: Batch, buckets: np.ndarray) -> dict:
        """Rows of a batch grouped by partition: name -> (window, bucket, rows sorted by series, time)."""
        keys = self._partition_keys(batch.time, buckets[batch.sid])
        out = {}
        for key in np.unique(keys):  # a loop over partitions, not rows
            window = int(key // self.settings.buckets) * self.settings.window_ns
            out[self._partition_name(key)] = (window, int(key % self.settings.buckets),
                                              sort_batch(batch.take(np.flatnonzero(keys == key))))
        return out

    def _partition_keys(self, time: np.ndarray, buckets: np.ndarray) -> np.ndarray:
        """One integer per partition: window number x buckets + bucket."""
        return time // self.settings.window_ns * self.settings.buckets + buckets

    def _partition_name(self, key) -> str:
        window = int(key // self.settings.buckets) * self.settings.window_ns
        return partition_name(window, int(key % self.settings.buckets))

    def write_file(self, partition: str, batch: Batch, series, dimensions, types, table_label: str,
                   name: str | None = None) -> DataFile:
        """Write one data file (durably) for a later commit; rows sorted by (series, time)."""
        if name is None:
            name = f"{partition}/f{self.next_file:08d}.parquet"
            self.next_file += 1
        data, layout = encode(batch, series, dimensions, types, self.settings.row_group_rows,
                              {"format": 1, "table": table_label, "partition": partition})
        self._uncommitted.append(name)
        nbytes = self.files.write(name, data)
        return DataFile(name, nbytes, layout)

    def abort(self) -> None:
        """Forget the files written for a commit that will not happen."""
        for name in self._uncommitted:
            self.files.remove(name)
        self._uncommitted.clear()

    def add_rows(self, view: MagneticView, batch: Batch, buckets: np.ndarray, series, dimensions, types,
                 table_label: str, superseded=(), step: str = "write") -> dict:
        """New files for `batch` (and deletion marks for `superseded` rows: (partition,
        file index, row)), as partition changes for `commit`."""
        changes: dict = {}
        marks: dict = {}
        for part_name, fi, row in superseded:
            marks.setdefault((part_name, fi), []).append(row)
        for (part_name, fi), rows in marks.items():
            part = changes.get(part_name) or view.partition(part_name)
            files = list(part.files)
            files[fi] = files[fi].with_deleted(np.array(rows, dtype=np.int64))
            changes[part_name] = replace(part, files=tuple(files))
        try:
            groups = self.partitions_of(batch, buckets)
            names = {p: f"{p}/f{self.next_file + i:08d}.parquet" for i, p in enumerate(groups)}
            self.next_file += len(groups)
            # files are independent: write them in parallel (Parquet encoding releases the GIL)
            with ThreadPoolExecutor(max_workers=min(len(groups), os.cpu_count() or 1) or 1) as pool:
                written = pool.map(lambda p: self.write_file(p, groups[p][2], series, dimensions, types,
                                                             table_label, names[p]), list(groups))
                for part_name, new in zip(list(groups), written):
                    window, bucket, _ = groups[part_name]
                    part = changes.get(part_name) or view.partition(part_name) or Partition(part_name, window, bucket)
                    changes[part_name] = replace(part, files=part.files + (new,))
            faults.reached(f"{step}:files-written")
        except BaseException:
            self.abort()
            raise
        return changes

    def commit(self, changes: dict, boundary: int | None = None, expired_before: int | None = None,
               step: str = "write") -> MagneticView:
        """Durably replace partitions (name -> Partition, or None to drop it) and move the
        boundary or expiry; returns the new view, which the caller then installs."""
        base = self.view
        version = base.version + 1
        parts = {p.name: p for p in base.partitions}
        retired = []
        try:
            for name, new in changes.items():
                old = parts.pop(name, None)
                keep = set()
                if new is not None and new.files:
                    manifest = f"{name}/m{version:08d}.arrow"
                    self._uncommitted.append(manifest)
                    self.files.write(manifest, _encode_partition(new))
                    parts[name] = replace(new, manifest=manifest)
                    keep = {f.name for f in new.files}
                if old is not None:
                    retired.extend(f.name for f in old.files if f.name not in keep)
                    retired.append(old.manifest)
            faults.reached(f"{step}:manifests-written")
        except BaseException:
            self.abort()
            raise
        view = MagneticView(
            version,
            base.boundary if boundary is None else max(base.boundary, boundary),
            base.expired_before if expired_before is None else max(base.expired_before, expired_before),
            tuple(sorted(parts.values(), key=lambda p: (p.window, p.bucket))),
        )
        root = {
            "format": 1, "version": version, "next_file": self.next_file,
            "boundary": view.boundary, "expired_before": view.expired_before,
            "settings": {"window_ns": self.settings.window_ns, "buckets": self.settings.buckets,
                         "row_group_rows": self.settings.row_group_rows},
            "partitions": [{"name": p.name, "window": p.window, "bucket": p.bucket, "manifest": p.manifest,
                            "rows": p.rows, "bytes": p.nbytes, "tmin": p.tmin, "tmax": p.tmax}
                           for p in view.partitions],
        }
        # From here on the new root may be in place: a failure leaves files for the next
        # open to sort out, never removes what a committed manifest may name.
        self._uncommitted.clear()
        self.files.replace(ROOT, json.dumps(root, indent=1).encode())
        faults.reached(f"{step}:committed")
        self._retired.append((version, [n for n in retired if n]))
        return view

    def install(self, view: MagneticView) -> None:
        self.view = view
        self._live.add(view)

    def collect(self) -> int:
        """Delete dropped files that no live snapshot can read any more; returns how many."""
        oldest = min(v.version for v in list(self._live))
        removed = 0
        while self._retired and self._retired[0][0] <= oldest:
            _, names = self._retired.pop(0)
            for name in names:
                self.readers.pop(name, None)
                if self.cache is not None:
                    self.cache.forget(name)
                self.files.remove(name)
                removed += 1
        return removed

    # --- opening ----------------------------------------------------------------------------

    def _load(self):
        try:
            root = json.loads(self.files.read(ROOT))
            settings = MagneticSettings(**root["settings"])
            parts = []
            for p in root["partitions"]:
                files = _decode_partition(self.files.read(p["manifest"]))
                parts.append(Partition(p["name"], p["window"], p["bucket"], files, p["manifest"]))
        except (OSError, ValueError, KeyError) as e:
            raise InternalServerError(f"The magnetic store manifest is unreadable: {e}") from e
        view = MagneticView(root["version"], root["boundary"], root["expired_before"], tuple(parts))
        return view, settings, root["next_file"]

    def _remove_orphans(self) -> None:
        """Files a crash left behind: written for a commit that never happened, or dropped
        by one whose clean-up did not run."""
        named = {ROOT}
        for p in self.view.partitions:
            named.add(p.manifest)
            named.update(f.name for f in p.files)
        for name in self.files.names():
            if name not in named:
                self.files.remove(name)


# --- partition manifests ------------------------------------------------------------------

_INDEX_COLUMNS = ("file", "sid", "row_start", "row_end", "tmin", "tmax")


def _encode_partition(part: Partition) -> bytes:
    meta = {"window": part.window, "bucket": part.bucket, "files": [
        {"name": f.name, "bytes": f.nbytes, "rows": f.rows, "row_groups": f.layout.row_groups.tolist(),
         "deleted": f.deleted.tolist()}
        for f in part.files
    ]}
    lay = [f.layout for f in part.files]
    arrays = [
        np.repeat(np.arange(len(lay), dtype=np.int32), [len(x.sids) for x in lay]),
        np.concatenate([x.sids for x in lay]).astype(np.int32),
        np.concatenate([x.starts for x in lay]), np.concatenate([x.ends for x in lay]),
        np.concatenate([x.tmin for x in lay]), np.concatenate([x.tmax for x in lay]),
    ]
    table = pa.table([pa.array(a) for a in arrays], names=list(_INDEX_COLUMNS))
    table = table.replace_schema_metadata({"partition": json.dumps(meta)})
    sink = io.BytesIO()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _decode_partition(data: bytes) -> tuple:
    table = pa.ipc.open_file(pa.py_buffer(data)).read_all()
    meta = json.loads(table.schema.metadata[b"partition"])
    cols = {c: table.column(c).to_numpy() for c in _INDEX_COLUMNS}
    files = []
    for i, f in enumerate(meta["files"]):
        rows = cols["file"] == i
        layout = Layout(np.array(f["row_groups"], dtype=np.int64), cols["sid"][rows].astype(np.int32),
                        cols["row_start"][rows], cols["row_end"][rows], cols["tmin"][rows], cols["tmax"][rows])
        files.append(DataFile(f["name"], f["bytes"], layout, np.array(f["deleted"], dtype=np.int64)))
    return tuple(files)


def merge_files(store: MagneticStore, files: list, types: dict) -> Batch:
    """The live rows of several files of a partition as one batch, ordered by (series, time)."""
    return sort_batch(concat_batches([store.read_file(f, types) for f in files], types))
