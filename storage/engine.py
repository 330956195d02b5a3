"""The storage engine: catalog, series, memory store and WAL of one data directory.

Writes: validate (records.py), resolve series ids, apply Timestream's version rules
against stored points, append to the WAL (fsync'd), then to the memory store. Reads:
`snapshot()` returns an immutable view of a table that queries scan without locks.
With `path=None` everything lives in memory and nothing is written to disk.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time as _time
from dataclasses import dataclass

import numpy as np

from tsql.errors import RejectedRecordsError, ValidationError

from . import wal as walcodec
from .catalog import Catalog, PartitionKey, TableInfo, TableSchema
from .memory import Batch, MemorySnapshot, MemoryStore
from .records import Rows, validate_frame, validate_records
from .scan import ScanRequest, ScanStats, scan_memory
from .series import SeriesCatalog, SeriesView


def system_now_ns() -> int:
    return _time.time_ns()


@dataclass(frozen=True)
class TableSnapshot:
    """What a query sees of a table: fixed at the moment the query starts."""

    info: TableInfo
    schema: TableSchema
    series: SeriesView
    memory: MemorySnapshot

    def column_types(self) -> dict:
        return dict(self.schema.value_columns())

    def scan(self, request: ScanRequest, stats: ScanStats):
        stats.series_total += self.series.count
        stats.series_scanned += self.series.count if request.series is None else len(request.series)
        yield from scan_memory(self.memory, request, stats)

    @property
    def nrows(self) -> int:
        return self.memory.nrows


class TableStore:
    """Storage state of one table; its writer lock serialises writes to it."""

    def __init__(self, info: TableInfo):
        self.info = info
        self.series = SeriesCatalog()
        self.memory = MemoryStore(_ColumnTypes(info))
        self.lock = threading.RLock()

    def snapshot(self) -> TableSnapshot:
        with self.lock:
            return TableSnapshot(self.info, self.info.schema.copy(), self.series.view(), self.memory.snapshot())


class _ColumnTypes:
    """Column -> measure type, read live from a table's schema."""

    def __init__(self, info: TableInfo):
        self.info = info

    def __getitem__(self, name: str) -> str:
        return dict(self.info.schema.value_columns())[name]


class Storage:
    def __init__(self, path: str | None = None, now_ns=system_now_ns):
        self.path = path
        self.now_ns = now_ns
        self.lock = threading.RLock()  # guards the catalog and the tables dict
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
        self.tables: dict[int, TableStore] = {t.table_id: TableStore(t) for t in self.catalog.tables()}
        self.wal = walcodec.WriteAheadLog(os.path.join(path, "wal")) if path is not None else None
        if self.wal is not None:
            self._replay()

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
            self.tables[info.table_id] = TableStore(info)
            return info

    def update_table(self, database: str, name: str, **props) -> TableInfo:
        with self.lock:
            return self.catalog.update_table(database, name, **props)

    def delete_table(self, database: str, name: str) -> None:
        with self.lock:
            info = self.catalog.delete_table(database, name)
            self.tables.pop(info.table_id, None)

    def table(self, database: str, name: str) -> TableStore:
        with self.lock:
            return self.tables[self.catalog.table(database, name).table_id]

    def snapshot(self, database: str, name: str) -> TableSnapshot:
        return self.table(database, name).snapshot()

    # --- writes -------------------------------------------------------------------------

    def write_records(self, database: str, name: str, records, common_attributes=None) -> dict:
        table = self.table(database, name)
        with table.lock:
            rows = validate_records(table.info, records, common_attributes, self.now_ns())
            return self._write(table, rows)

    def write_frame(self, database: str, name: str, frame, measure_name: str | None = None) -> dict:
        table = self.table(database, name)
        with table.lock:
            rows = validate_frame(table.info, frame, self.now_ns(), measure_name)
            return self._write(table, rows)

    def _write(self, table: TableStore, rows: Rows) -> dict:
        rejected = list(rows.rejected)
        new_series = []
        stored = 0
        if len(rows):
            sid_of_key = np.empty(len(rows.unique_keys), dtype=np.int32)
            for k, key in enumerate(rows.unique_keys):
                sid, is_new = table.series.get_or_add(key)
                sid_of_key[k] = sid
                if is_new:
                    new_series.append([sid, key[0], [list(d) for d in key[1]]])
            table.memory.ensure_series(len(table.series))
            batch = Batch(sid_of_key[rows.key_codes], rows.time, rows.version, rows.values)
            keep, version_rejects = self._check_versions(table, batch)
            for row, reason, existing in version_rejects:
                rejected.append({"RecordIndex": int(rows.index[row]), "Reason": reason, "ExistingVersion": existing})
            if keep is not None:
                batch = batch.take(keep)
            schema_changed = rows.schema != table.info.schema
            if len(batch) or schema_changed:
                if self.wal is not None:
                    header = {"table": table.info.table_id, "series": new_series}
                    if schema_changed:
                        header["schema"] = _schema_doc(rows.schema)
                    types = dict(rows.schema.value_columns())
                    self.wal.append(walcodec.encode_write(header, batch, types))
                if schema_changed:
                    table.info.schema = rows.schema
                    with self.lock:
                        self.catalog.save()
                _apply(table, batch)
            stored = len(batch)
        counts = {"Total": len(rows), "MemoryStore": len(rows), "MagneticStore": 0}
        if rejected:
            rejected.sort(key=lambda r: r["RecordIndex"])
            raise RejectedRecordsError(rejected, counts)
        del stored
        return counts

    def _check_versions(self, table: TableStore, batch: Batch):
        """Timestream's rules for points that exist already (in the store or earlier in
        this write). Returns (rows to store or None for all, [(row, reason, version)])."""
        n = len(batch)
        later = table.memory.is_append(batch.sid, batch.time)
        order = np.lexsort((batch.time, batch.sid))
        dup = np.zeros(n, dtype=bool)
        same = (batch.sid[order][1:] == batch.sid[order][:-1]) & (batch.time[order][1:] == batch.time[order][:-1])
        dup[order[1:][same]] = True
        dup[order[:-1][same]] = True
        suspect = np.flatnonzero(~later | dup)
        if len(suspect) == 0:
            return None, []
        keep = np.ones(n, dtype=bool)
        rejects = []
        seen: dict[tuple, int] = {}  # (sid, time) -> row of this write that holds it
        for row in suspect:  # rows in request order: later records see earlier ones
            key = (int(batch.sid[row]), int(batch.time[row]))
            earlier = seen.get(key)
            if earlier is not None:
                old_version = int(batch.version[earlier])
                old_values = _row_values(batch.columns, earlier)
            else:
                location = None if later[row] else table.memory.find(*key)
                if location is None:
                    seen[key] = row
                    continue
                old_version, old_values = table.memory.point(location)
            new_version = int(batch.version[row])
            if _row_values(batch.columns, row) == old_values:
                if new_version > old_version:  # same value: raise the stored version
                    if earlier is not None:
                        keep[earlier] = False
                    seen[key] = row
                else:
                    keep[row] = False  # idempotent retry: accepted, nothing changes
                continue
            if new_version > old_version:
                if earlier is not None:
                    keep[earlier] = False
                seen[key] = row
                continue
            keep[row] = False
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
        return np.flatnonzero(keep), rejects

    # --- recovery -------------------------------------------------------------------------

    def _replay(self) -> None:
        sid_maps: dict[int, dict[int, int]] = {}
        for payload in self.wal.replay():
            header, batch = walcodec.decode(payload)
            table = self.tables.get(header["table"])
            if table is None:  # the table was deleted after this write
                continue
            sid_map = sid_maps.setdefault(table.info.table_id, {})
            for logged_sid, measure, dims in header["series"]:
                key = (measure, tuple(tuple(d) for d in dims))
                sid_map[logged_sid] = table.series.get_or_add(key)[0]
            if "schema" in header:
                _merge_schema(table.info.schema, header["schema"])
            table.memory.ensure_series(len(table.series))
            if len(batch):
                sids = batch.sid
                if sid_map:
                    lookup = np.arange(max(max(sid_map), int(sids.max())) + 1, dtype=np.int32)
                    for logged, actual in sid_map.items():
                        lookup[logged] = actual
                    sids = lookup[sids]
                _apply(table, Batch(sids, batch.time, batch.version, batch.columns))
        with self.lock:
            self.catalog.save()

    def close(self) -> None:
        if self.wal is not None:
            self.wal.close()
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None


def _apply(table: TableStore, batch: Batch) -> None:
    """Store accepted rows, removing the points they supersede."""
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


__all__ = ["Storage", "TableSnapshot", "PartitionKey", "ScanRequest", "ScanStats"]
