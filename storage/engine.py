"""The storage engine: catalog, WAL, checkpoints and the tables of one data directory.

Writes: validate (records.py), resolve series ids, apply Timestream's version rules
against the stored points of both tiers, append to the WAL (fsync'd), then store: rows
at or after the table's boundary go to the memory store, older ones (records past the
memory retention, with magnetic-store writes on) become new magnetic files. Reads:
`snapshot()` returns an immutable view of a table, both tiers, that queries scan
without locks. `maintain()` (also run by a background thread) moves, expires and
compacts (tiering.py) and checkpoints the WAL (checkpoint.py).

Recovery: the magnetic stores' manifests, then the last checkpoint, then the WAL after
it; rows older than a table's boundary are skipped there, since the magnetic store
holds them. With `path=None` everything, magnetic files included, lives in memory.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import threading
import time as _time

import numpy as np

from tsql.errors import InternalServerError, RejectedRecordsError, ResourceNotFoundError, ValidationError

from . import checkpoint as checkpoints
from . import faults
from . import wal as walcodec
from .cache import BlockCache, default_cache_bytes
from .catalog import Catalog, PartitionKey, TableInfo, TableSchema
from .files import DirectoryFiles, MemoryFiles
from .magnetic import MagneticSettings
from .memory import Batch
from .records import Rows, validate_frame, validate_records
from .scan import ScanRequest, ScanStats
from .table import TableSnapshot, TableStore
from .tiering import Maintainer, maintain_table, move

CHECKPOINT_BYTES = 64 << 20  # checkpoint once the WAL has grown this much (or the last checkpoint's size)
CACHE_BYTES = default_cache_bytes()  # decoded magnetic row groups kept in RAM
MANY_FILES = 16  # a partition with more files than this wakes the compactor


def system_now_ns() -> int:
    return _time.time_ns()


class Storage:
    def __init__(self, path: str | None = None, now_ns=system_now_ns, settings: MagneticSettings | None = None,
                 maintenance_interval: float | None = 60.0, checkpoint_bytes: int = CHECKPOINT_BYTES,
                 cache_bytes: int = CACHE_BYTES):
        self.path = path
        self.now_ns = now_ns
        self.settings = settings or MagneticSettings()
        self.cache = BlockCache(cache_bytes) if cache_bytes else None
        self.checkpoint_bytes = checkpoint_bytes
        self.lock = threading.RLock()  # guards the catalog and the tables dict
        self.maintenance_lock = threading.Lock()  # one maintenance pass at a time
        self.checkpoint_lock = threading.Lock()
        self._lock_file = None
        if path is not None:
            os.makedirs(path, exist_ok=True)
            self._lock_file = open(os.path.join(path, "LOCK"), "w")
            try:
                fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                self._lock_file.close()
                raise ValidationError(f"The data directory {path} is in use by another tsql process.") from None
        self.catalog = Catalog(path)
        self.tables: dict[int, TableStore] = {t.table_id: self._open_table(t) for t in self.catalog.tables()}
        self.wal = None
        self.wal_from = 1  # first WAL segment after the last checkpoint
        self.last_checkpoint_bytes = 0
        if path is not None:
            self._remove_deleted_tables()
            self._recover()
        self.maintainer = Maintainer(self._background_pass, maintenance_interval) if maintenance_interval else None

    def _open_table(self, info: TableInfo) -> TableStore:
        if self.path is None:
            files = MemoryFiles()
        else:
            files = DirectoryFiles(os.path.join(self.path, "tables", str(info.table_id)))
        return TableStore(info, files, self.settings, self.cache)

    # --- catalog ------------------------------------------------------------------------

    def create_database(self, name: str, kms_key_id: str | None = None):
        with self.lock:
            return self.catalog.create_database(name, kms_key_id)

    def delete_database(self, name: str) -> None:
        with self.lock:
            self.catalog.delete_database(name)

    def create_table(self, database: str, name: str, **props) -> TableInfo:
        with self.lock:
            info = self.catalog.create_table(database, name, **props)
            self.tables[info.table_id] = self._open_table(info)
            return info

    def update_table(self, database: str, name: str, **props) -> TableInfo:
        with self.lock:
            return self.catalog.update_table(database, name, **props)

    def delete_table(self, database: str, name: str) -> None:
        with self.lock:
            info = self.catalog.delete_table(database, name)
            table = self.tables.pop(info.table_id, None)
        if table is not None:
            with table.magnetic_lock, table.lock:
                table.deleted = True
            table.files.destroy()

    def table(self, database: str, name: str) -> TableStore:
        with self.lock:
            return self.tables[self.catalog.table(database, name).table_id]

    def snapshot(self, database: str, name: str) -> TableSnapshot:
        return self.table(database, name).snapshot(self.now_ns())

    # --- writes -------------------------------------------------------------------------

    def write_records(self, database: str, name: str, records, common_attributes=None) -> dict:
        table = self.table(database, name)
        return self._write(table, lambda: validate_records(table.info, records, common_attributes, self.now_ns(),
                                                                  table.checked_dimensions))

    def write_frame(self, database: str, name: str, frame, measure_name: str | None = None) -> dict:
        table = self.table(database, name)
        return self._write(table, lambda: validate_frame(table.info, frame, self.now_ns(), measure_name))

    def _write(self, table: TableStore, validate) -> dict:
        with table.lock:
            _check_exists(table)
            rows = validate()
            cutoff = self.now_ns() - table.info.memory_retention_ns
            boundary = table.route_boundary()
            if not len(rows) or int(rows.time.min()) >= max(boundary, cutoff):
                return self._store(table, rows)
            # records older than the memory retention that the memory store still owns
            in_band = bool(np.any((rows.time >= boundary) & (rows.time < cutoff)))
        # Records for the magnetic store: wait for a running move (the magnetic lock), if
        # need be move the boundary up to the memory retention, then route by it.
        with table.magnetic_lock:
            _check_exists(table)
            if in_band:
                move(table, cutoff, self.now_ns() - table.info.magnetic_retention_ns)
            with table.lock:
                return self._store(table, validate())

    def _store(self, table: TableStore, rows: Rows) -> dict:
        """Store validated rows (under the table lock, and its magnetic lock if any row is
        older than the boundary)."""
        rejected = list(rows.rejected)
        counts = {"Total": 0, "MemoryStore": 0, "MagneticStore": 0}
        if len(rows):
            sid_of_key = np.empty(len(rows.unique_keys), dtype=np.int32)
            for k, key in enumerate(rows.unique_keys):  # a loop over distinct series
                sid_of_key[k] = table.add_series(key)[0]
            table.memory.ensure_series(len(table.series))
            batch = Batch(sid_of_key[rows.key_codes], rows.time, rows.version, rows.values)
            old = batch.time < table.magnetic.view.boundary
            keep, version_rejects, superseded = self._check_versions(table, batch, old)
            accepted = np.ones(len(batch), dtype=bool)
            for row, reason, existing in version_rejects:
                rejected.append({"RecordIndex": int(rows.index[row]), "Reason": reason, "ExistingVersion": existing})
                accepted[row] = False
            magnetic = int((accepted & old).sum())
            counts = {"Total": int(accepted.sum()), "MemoryStore": int(accepted.sum()) - magnetic,
                      "MagneticStore": magnetic}
            if keep is not None:
                batch, old = batch.take(keep), old[keep]
            self._log_and_apply(table, rows.schema, batch, old, superseded)
        if rejected:
            rejected.sort(key=lambda r: r["RecordIndex"])
            raise RejectedRecordsError(rejected, counts)
        return counts

    def _log_and_apply(self, table: TableStore, schema: TableSchema, batch: Batch, old: np.ndarray,
                       superseded: list) -> None:
        schema_changed = schema != table.info.schema
        new_series = table.series.definitions[table.durable_series:]
        if not (len(batch) or schema_changed or new_series):
            return
        if self.wal is not None:
            header = {"table": table.info.table_id, "series": [
                [table.durable_series + i, measure, [list(d) for d in dims]]
                for i, (measure, dims) in enumerate(new_series)
            ]}
            if schema_changed:
                header["schema"] = _schema_doc(schema)
            self.wal.append(walcodec.encode_write(header, batch, dict(schema.value_columns())))
            if self.wal.size(self.wal_from) > self._checkpoint_threshold() and self.maintainer is not None:
                self.maintainer.wake()
        # Logged: from here on the write must land (a failure would let recovery apply a
        # write its caller saw fail), so the steps that can fail on I/O come last.
        table.durable_series = len(table.series)
        if schema_changed:
            table.info.schema = schema
        _apply(table, batch.take(np.flatnonzero(~old)) if old.any() else batch)
        if old.any():
            self._store_magnetic(table, batch.take(np.flatnonzero(old)), superseded)
        if schema_changed:
            with self.lock:
                self.catalog.save()

    def _store_magnetic(self, table: TableStore, batch: Batch, superseded: list) -> None:
        store = table.magnetic
        faults.reached("write:logged")
        buckets = table.bucket_codes.view()[: len(table.series)]
        changes = store.add_rows(store.view, batch, buckets, table.series.view(), list(table.info.schema.dimensions),
                                 table.value_types(), table.label, superseded, step="write")
        view = store.commit(changes, step="write")
        store.install(view)
        if self.maintainer is not None and any(len(p.files) > MANY_FILES for p in changes.values() if p):
            self.maintainer.wake()

    def _check_versions(self, table: TableStore, batch: Batch, old: np.ndarray):
        """Timestream's rules for points that exist already (in either tier, or earlier in
        this write). Returns (rows to store or None for all, [(row, reason, version)],
        [magnetic location of each stored point a kept row replaces])."""
        n = len(batch)
        dup = _repeated_points(batch.sid, batch.time)
        stored: dict[int, tuple] = {}  # row -> (version, values, magnetic location or None)
        magnetic_rows = np.flatnonzero(old)
        if len(magnetic_rows):
            types = table.value_types()
            found, details = table.magnetic.find(
                table.magnetic.view, batch.sid[magnetic_rows], batch.time[magnetic_rows],
                table.bucket_codes.view()[: len(table.series)], list(types), types,
            )
            for i in np.flatnonzero(found):
                stored[int(magnetic_rows[i])] = details[i]
        for row in np.flatnonzero(~old & ~table.memory.is_append(batch.sid, batch.time)):
            location = table.memory.find(int(batch.sid[row]), int(batch.time[row]))
            if location is not None:
                stored[int(row)] = (*table.memory.point(location), None)
        suspect = sorted(set(stored) | set(np.flatnonzero(dup).tolist()))
        if not suspect:
            return None, [], []
        keep = np.ones(n, dtype=bool)
        rejects = []
        replaces: dict[int, tuple] = {}  # kept row -> magnetic location of the point it replaces
        seen: dict[tuple, int] = {}  # (sid, time) -> row of this write that holds it
        for row in suspect:  # rows in request order: later records see earlier ones
            key = (int(batch.sid[row]), int(batch.time[row]))
            earlier = seen.get(key)
            location = None
            if earlier is not None:
                old_version, old_values = int(batch.version[earlier]), _row_values(batch.columns, earlier)
            elif row in stored:
                old_version, old_values, location = stored[row]
            else:
                seen[key] = row
                continue
            new_version = int(batch.version[row])
            same_value = _row_values(batch.columns, row) == old_values
            if new_version > old_version:  # replaces (a same value only raises the version)
                if earlier is not None:
                    keep[earlier] = False
                    if earlier in replaces:
                        replaces[row] = replaces.pop(earlier)
                elif location is not None:
                    replaces[row] = location
                seen[key] = row
                continue
            keep[row] = False
            if same_value:
                continue  # an idempotent retry: accepted, nothing changes
            if new_version == old_version:
                reason = (
                    "A record already exists with the same time, dimensions, measure name, and record "
                    "version. A higher record version must be specified in order to update the measure "
                    "value. Specifying record version is supported by the latest SDKs."
                )
            else:
                reason = (
                    f"The record version {new_version} is lower than the existing version {old_version}. "
                    "A higher version is required to update the measure value."
                )
            rejects.append((int(row), reason, old_version))
        superseded = [loc for row, loc in replaces.items() if keep[row]]
        return np.flatnonzero(keep), rejects, superseded

    # --- maintenance ------------------------------------------------------------------------

    def maintain(self, exact: bool = True) -> dict:
        """One maintenance pass over every table: retention, moves, compaction, then a
        WAL checkpoint (`exact`: whenever the WAL has grown; else past a threshold)."""
        with self.maintenance_lock:
            started = _time.perf_counter()
            summary = {"moved_rows": 0, "expired_partitions": 0, "compacted_files": 0}
            now = self.now_ns()
            with self.lock:
                tables = list(self.tables.values())
            for table in tables:
                for k, v in maintain_table(table, now, exact).items():
                    summary[k] += v
            summary["tiering_seconds"] = _time.perf_counter() - started
            summary["checkpoint"] = False
            if self.wal is not None:
                grown = self.wal.size(self.wal_from)
                if grown > (0 if exact else self._checkpoint_threshold()):
                    summary["checkpoint"] = self.checkpoint()
            summary["seconds"] = _time.perf_counter() - started
            return summary

    def _background_pass(self) -> None:
        self.maintain(exact=False)

    def _checkpoint_threshold(self) -> int:
        return max(self.checkpoint_bytes, self.last_checkpoint_bytes)

    def checkpoint(self) -> bool:
        """Save every table's series and memory store, then drop the WAL before them."""
        if self.wal is None:
            return False
        root = os.path.join(self.path, "checkpoint")
        with self.checkpoint_lock:
            with self.lock:
                tables = sorted(self.tables.values(), key=lambda t: t.info.table_id)
            with contextlib.ExitStack() as held:
                for t in tables:  # every table at once: the cut must match the WAL rotation
                    held.enter_context(t.lock)
                sequence = self.wal.rotate()
                states = [
                    checkpoints.TableState(t.info.table_id, list(t.series.definitions), t.memory.snapshot(),
                                           t.value_types())
                    for t in tables if not t.deleted
                ]
            faults.reached("checkpoint:rotated")
            checkpoints.write(root, sequence, states)
            self.wal_from = sequence
            self.wal.drop_before(sequence)
            checkpoints.remove_others(root)
            self.last_checkpoint_bytes = _directory_bytes(os.path.join(root, f"{sequence:08d}"))
        return True

    # --- recovery -------------------------------------------------------------------------

    def _recover(self) -> None:
        root = os.path.join(self.path, "checkpoint")
        wal_from, saved = checkpoints.load(root)
        for table_id, (series, batches) in saved.items():
            table = self.tables.get(table_id)
            if table is None:  # deleted after the checkpoint
                continue
            for key in series:
                table.add_series(key)
            table.memory.ensure_series(len(table.series))
            for batch in batches:
                table.memory.append(_newer_than_boundary(table, batch))
        self.wal = walcodec.WriteAheadLog(os.path.join(self.path, "wal"), first=wal_from)
        self.wal_from = wal_from
        for payload in self.wal.replay(wal_from):
            header, batch = walcodec.decode(payload)
            table = self.tables.get(header["table"])
            if table is None:  # the table was deleted after this write
                continue
            for logged_sid, measure, dims in header["series"]:
                sid, _ = table.add_series((measure, tuple(tuple(d) for d in dims)))
                if sid != logged_sid:
                    raise InternalServerError(
                        f"The write-ahead log defines series {logged_sid} of table {table.label} out of order."
                    )
            if "schema" in header:
                _merge_schema(table.info.schema, header["schema"])
            table.memory.ensure_series(len(table.series))
            _apply(table, _newer_than_boundary(table, batch))
        for table in self.tables.values():
            table.durable_series = len(table.series)
            table.memory.seal()
        with self.lock:
            self.catalog.save()
        self.wal.drop_before(wal_from)
        if os.path.isdir(root):
            checkpoints.remove_others(root)

    def _remove_deleted_tables(self) -> None:
        """Magnetic files of tables deleted just before a crash."""
        root = os.path.join(self.path, "tables")
        if not os.path.isdir(root):
            return
        live = {str(t) for t in self.tables}
        for entry in os.listdir(root):
            if entry not in live:
                shutil.rmtree(os.path.join(root, entry), ignore_errors=True)

    def close(self) -> None:
        if self.maintainer is not None:
            self.maintainer.stop()
            self.maintainer = None
        if self.wal is not None:
            self.wal.close()
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None


def _repeated_points(sid: np.ndarray, time: np.ndarray) -> np.ndarray:
    """Rows whose (series, time) another row of the write also has. Frames usually arrive
    sorted by (time, series) or (series, time), which shows in one pass without a sort."""
    dup = np.zeros(len(sid), dtype=bool)
    if len(sid) < 2:
        return dup
    later = time[1:] > time[:-1]
    if np.all(later | ((time[1:] == time[:-1]) & (sid[1:] > sid[:-1]))):
        return dup
    if np.all((sid[1:] > sid[:-1]) | ((sid[1:] == sid[:-1]) & later)):
        return dup
    order = np.lexsort((time, sid))
    same = (sid[order][1:] == sid[order][:-1]) & (time[order][1:] == time[order][:-1])
    dup[order[1:][same]] = True
    dup[order[:-1][same]] = True
    return dup


def _check_exists(table: TableStore) -> None:
    if table.deleted:
        raise ResourceNotFoundError(f"The table {table.info.name} does not exist in database {table.info.database}.")


def _newer_than_boundary(table: TableStore, batch: Batch) -> Batch:
    """Rows the memory store owns: the magnetic store holds those older than its boundary."""
    view = table.magnetic.view
    floor = max(view.boundary, view.expired_before)
    if len(batch) == 0 or int(batch.time.min()) >= floor:
        return batch
    return batch.take(np.flatnonzero(batch.time >= floor))


def _apply(table: TableStore, batch: Batch) -> None:
    """Store accepted rows in the memory store, removing the points they supersede."""
    if len(batch) == 0:
        return
    older = np.flatnonzero(~table.memory.is_append(batch.sid, batch.time))
    for row in older:
        location = table.memory.find(int(batch.sid[row]), int(batch.time[row]))
        if location is not None:
            table.memory.delete(location)
    table.memory.append(batch)


def _row_values(columns: dict, row: int) -> dict:
    out = {}
    for name, (values, nulls) in columns.items():
        if nulls is None or not nulls[row]:
            out[name] = values[row]
    return out


def _schema_doc(schema: TableSchema) -> dict:
    return {"dimensions": schema.dimensions, "measures": schema.measures, "attributes": schema.attributes}


def _merge_schema(schema: TableSchema, doc: dict) -> None:
    for d in doc["dimensions"]:
        if d not in schema.dimensions:
            schema.dimensions.append(d)
    for k, v in doc["measures"].items():
        schema.measures.setdefault(k, v)
    for k, v in doc["attributes"].items():
        schema.attributes.setdefault(k, v)


def _directory_bytes(path: str) -> int:
    return sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path)) if os.path.isdir(path) else 0


__all__ = ["Storage", "TableSnapshot", "PartitionKey", "ScanRequest", "ScanStats", "MagneticSettings"]
