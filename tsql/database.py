"""`tsql.connect()` and `Database`: the embedded engine's public API.

It wires the layers: storage (catalog, WAL, memory store), the planner (which sees the
catalog and the function library through small adapters defined here) and the executor.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
import uuid

import numpy as np

from .clock import Clock, SystemClock
from .errors import ValidationError
from .executor import REGISTRY, ExecContext, execute
from .executor.column import Batch
from .executor.evaluate import evaluate_full
from .planner import PlanCache
from .planner.plan import Explain, Plan, TableColumn
from .result import ColumnInfo, QueryStatus, Result
from .storage.catalog import PartitionKey, TableInfo
from .storage.engine import CACHE_BYTES, Storage
from .storage.magnetic import MagneticSettings
from .storage.records import Rejected, check_column_name
from .types import MEASURE_TYPES, TIMESTAMP, VARCHAR, Type

REGION = "local"
ACCOUNT = "000000000000"


class Database:
    """A tsql database: persistent under `path`, or in memory when `path` is None.

    While it is open, a background thread moves data older than each table's memory
    retention to the magnetic store, deletes data past the magnetic retention, compacts
    magnetic files and checkpoints the WAL, every `maintenance_interval` seconds (None:
    never; `maintain()` does it on demand). `magnetic` sets how magnetic partitions are
    cut (storage.magnetic.MagneticSettings) for tables created from then on; up to
    `cache_bytes` of decoded magnetic row groups stay in RAM for later queries."""

    def __init__(self, path: str | None = None, clock: Clock | None = None,
                 maintenance_interval: float | None = 60.0, magnetic: MagneticSettings | None = None,
                 cache_bytes: int = CACHE_BYTES):
        self.path = os.path.abspath(path) if path is not None else None
        self.clock = clock or SystemClock()
        self.storage = Storage(self.path, now_ns=self.clock.now_ns, settings=magnetic,
                               maintenance_interval=maintenance_interval, cache_bytes=cache_bytes)
        self._catalog = _CatalogView(self.storage)
        self._functions = _Functions()
        self._plans = PlanCache()
        self._query_ids = itertools.count(1)
        self._closed = False
        self._lock = threading.Lock()

    # --- context manager ----------------------------------------------------------------------

    def __enter__(self) -> "Database":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.storage.close()

    def _check_open(self) -> None:
        if self._closed:
            raise ValidationError("The database is closed.")

    # --- databases ------------------------------------------------------------------------------

    def create_database(self, name: str, kms_key_id: str | None = None) -> dict:
        self._check_open()
        self.storage.create_database(name, kms_key_id)
        return self.describe_database(name)

    def describe_database(self, name: str) -> dict:
        db = self.storage.catalog.database(name)
        return {
            "Arn": f"arn:aws:timestream:{REGION}:{ACCOUNT}:database/{db.name}",
            "DatabaseName": db.name,
            "TableCount": len(db.tables),
            "KmsKeyId": db.kms_key_id or f"arn:aws:kms:{REGION}:{ACCOUNT}:key/tsql-local",
            "CreationTime": db.created,
            "LastUpdatedTime": db.updated,
        }

    def list_databases(self) -> list[str]:
        return sorted(self.storage.catalog.databases)

    def update_database(self, name: str, kms_key_id: str) -> dict:
        self._check_open()
        self.storage.catalog.update_database(name, kms_key_id)
        return self.describe_database(name)

    def delete_database(self, name: str) -> None:
        self._check_open()
        self.storage.delete_database(name)

    # --- tables ---------------------------------------------------------------------------------

    def create_table(
        self,
        database: str,
        table: str,
        memory_retention_hours: int = 6,
        magnetic_retention_days: int = 73000,
        magnetic_store_writes: bool = False,
        partition_key: tuple | None = None,
    ) -> dict:
        """Create a table. `partition_key` is ("dimension", name[, "REQUIRED"|"OPTIONAL"])
        or ("measure_name",), as Timestream's CompositePartitionKey."""
        self._check_open()
        self.storage.create_table(
            database, table,
            memory_retention_hours=memory_retention_hours,
            magnetic_retention_days=magnetic_retention_days,
            magnetic_store_writes=magnetic_store_writes,
            partition_key=_partition_key(partition_key),
        )
        return self.describe_table(database, table)

    def update_table(self, database: str, table: str, memory_retention_hours: int | None = None,
                     magnetic_retention_days: int | None = None, magnetic_store_writes: bool | None = None,
                     partition_enforcement: str | None = None) -> dict:
        """Change a table's retention, magnetic-store writes, or the EnforcementInRecord
        (REQUIRED | OPTIONAL) of its dimension partition key, at once; data moves to the
        magnetic store or expires on the next maintenance pass."""
        self._check_open()
        if partition_enforcement is not None:
            info = self.storage.catalog.table(database, table)
            if info.partition_key.type != "DIMENSION" or partition_enforcement not in ("REQUIRED", "OPTIONAL"):
                raise ValidationError("Only a dimension partition key has an enforcement: REQUIRED or OPTIONAL.")
        self.storage.update_table(
            database, table, memory_retention_hours=memory_retention_hours,
            magnetic_retention_days=magnetic_retention_days, magnetic_store_writes=magnetic_store_writes,
            partition_enforcement=partition_enforcement,
        )
        return self.describe_table(database, table)

    def describe_table(self, database: str, table: str) -> dict:
        info = self.storage.catalog.table(database, table)
        return _describe_table(info)

    def list_tables(self, database: str) -> list[str]:
        return sorted(self.storage.catalog.database(database).tables)

    def delete_table(self, database: str, table: str) -> None:
        self._check_open()
        self.storage.delete_table(database, table)

    # --- writes ---------------------------------------------------------------------------------

    def write_records(self, database: str, table: str, records: list, common_attributes: dict | None = None) -> dict:
        """Write Timestream record dicts; returns RecordsIngested {Total, MemoryStore,
        MagneticStore}. Records breaking a rule raise RejectedRecordsError after the
        others are written."""
        self._check_open()
        return self.storage.write_records(database, table, records, common_attributes)

    def write_frame(self, database: str, table: str, frame, measure_name: str | None = None) -> dict:
        """Write a pandas DataFrame: long form (time, measure_name, measure_value::<type>,
        dimensions) or wide form (time, dimensions, one column per measure: multi-measure
        records named by `measure_name`)."""
        self._check_open()
        return self.storage.write_frame(database, table, frame, measure_name)

    # --- maintenance ------------------------------------------------------------------------

    def maintain(self) -> dict:
        """Run maintenance now: move data past each table's memory retention to the
        magnetic store, delete data past the magnetic retention, compact magnetic files
        and checkpoint the WAL. Returns what it did: moved_rows, expired_partitions,
        compacted_files, checkpoint (bool), tiering_seconds, seconds."""
        self._check_open()
        return self.storage.maintain()

    def storage_status(self, database: str, table: str) -> dict:
        """Where a table's data is: rows and bytes per tier, magnetic partitions and files."""
        snap = self.storage.snapshot(database, table)
        view = snap.magnetic
        return {
            "MemoryStore": {"Rows": snap.memory.nrows, "Chunks": len(snap.memory.chunks) + len(snap.memory.pending)},
            "MagneticStore": {
                "Rows": view.rows, "Bytes": view.nbytes, "Partitions": len(view.partitions),
                "Files": sum(len(p.files) for p in view.partitions),
                "Boundary": view.boundary if view.boundary > np.iinfo(np.int64).min else None,
            },
        }

    # --- queries --------------------------------------------------------------------------------

    def query(self, sql: str) -> Result:
        self._check_open()
        started = time.perf_counter()
        now = self.clock.now_ns()
        plan = self._plans.plan(sql, self._catalog, self._functions, now, self.storage.catalog.generation)
        planned = time.perf_counter()
        if isinstance(plan, Explain):
            return self._explain(plan, now, started)
        ctx = ExecContext(self._snapshot, now)
        batch = execute(plan, ctx)
        return self._result(plan, batch, ctx, started, planned, sql)

    def _snapshot(self, table_ref):
        return self.storage.snapshot(table_ref.database, table_ref.table)

    def _result(self, plan: Plan, batch: Batch, ctx, started, planned, sql) -> Result:
        visible = [i for i, f in enumerate(plan.schema) if not f.hidden]
        columns = [ColumnInfo(plan.schema[i].name, plan.schema[i].type) for i in visible]
        data = [batch.columns[i] for i in visible]
        status = _status(ctx, started, planned, metered=_reads_tables(plan))
        return Result(columns, data, len(batch), status, self._query_id())

    def _query_id(self) -> str:
        return f"tsql-{uuid.uuid4().hex[:16]}-{next(self._query_ids)}"

    def _explain(self, plan: Explain, now: int, started: float) -> Result:
        from .executor.column import Vector

        text = str(plan.input)
        ctx = ExecContext(self._snapshot, now, analyze=plan.analyze)
        if plan.analyze:
            execute(plan.input, ctx)
            text = _annotate(plan.input, ctx)
        lines = text.split("\n")
        status = _status(ctx, started, started, metered=False)
        col = Vector(VARCHAR, np.array(lines, dtype=object))
        return Result([ColumnInfo("Query Plan", VARCHAR)], [col], len(lines), status, self._query_id())


def connect(path: str | None = None, clock: Clock | None = None, **options) -> Database:
    """Open a database: persistent in directory `path` (created if needed), or in memory.
    Options: maintenance_interval, magnetic, cache_bytes (see Database)."""
    return Database(path, clock, **options)


# --- adapters the planner sees ------------------------------------------------------------------

class _CatalogView:
    """The catalog as the planner sees it (planner/catalog.py: CatalogView)."""

    def __init__(self, storage: Storage):
        self.storage = storage

    def has_database(self, database: str) -> bool:
        return self._db_name(database) is not None

    def _db_name(self, database: str):
        dbs = self.storage.catalog.databases
        if database in dbs:
            return database
        matches = [d for d in dbs if d.lower() == database.lower()]
        return matches[0] if len(matches) == 1 else None

    def resolve_table(self, database: str, table: str):
        db = self._db_name(database)
        if db is None:
            return None
        tables = self.storage.catalog.databases[db].tables
        if table in tables:
            return db, table
        matches = [t for t in tables if t.lower() == table.lower()]
        return (db, matches[0]) if len(matches) == 1 else None

    def table_columns(self, database: str, table: str) -> list[TableColumn]:
        return table_columns(self.storage.catalog.table(database, table))

    def list_databases(self) -> list[str]:
        return list(self.storage.catalog.databases)

    def list_tables(self, database: str) -> list[str]:
        return list(self.storage.catalog.databases[self._db_name(database)].tables)

    def list_measures(self, database: str, table: str):
        snap = self.storage.snapshot(database, table)
        series = snap.series
        schema = snap.schema
        out = []
        for code, name in enumerate(series.measure_names):
            in_measure = series.measure_codes == code
            dims = [d for d, (codes, _) in series.dimensions.items() if np.any(codes[in_measure] >= 0)]
            dims.sort(key=lambda d: schema.dimensions.index(d) if d in schema.dimensions else 0)
            mtype = schema.measures.get(name, "DOUBLE").lower()
            out.append((name, mtype, [(d, "varchar") for d in dims]))
        return sorted(out)


def table_columns(info: TableInfo) -> list[TableColumn]:
    """A table's SQL columns: dimensions, measure_name, time, then measure value columns."""
    cols = [TableColumn(d, VARCHAR, "dimension") for d in info.schema.dimensions]
    cols.append(TableColumn("measure_name", VARCHAR, "measure_name"))
    cols.append(TableColumn("time", TIMESTAMP, "time"))
    attributes = info.schema.attributes
    for name, mtype in info.schema.value_columns():
        kind = "multi" if name in attributes else "measure_value"
        cols.append(TableColumn(name, MEASURE_TYPES[mtype], kind, mtype))
    return cols


class _Functions:
    """The function library as the planner sees it (planner/catalog.py: FunctionCatalog)."""

    def kind(self, name: str):
        return REGISTRY.kind(name)

    def signatures(self, name: str) -> list:
        return REGISTRY.signatures(name)

    def deterministic(self, name: str) -> bool:
        return REGISTRY.get(name).deterministic

    def castable(self, source, target) -> bool:
        from .executor.functions.cast import castable

        return castable(source, target)

    def fold(self, expr):
        ctx = ExecContext(None, 0)
        col = evaluate_full(expr, Batch([], 1), ctx)
        return col.to_pylist()[0]


def _partition_key(spec) -> PartitionKey | None:
    if spec is None:
        return None
    if isinstance(spec, PartitionKey):
        return spec
    if isinstance(spec, str):
        spec = (spec,)
    kind = str(spec[0]).upper()
    if kind in ("MEASURE", "MEASURE_NAME"):
        return PartitionKey("MEASURE")
    if kind == "DIMENSION" and 2 <= len(spec) <= 3:
        enforcement = str(spec[2]).upper() if len(spec) > 2 else "REQUIRED"
        if enforcement not in ("REQUIRED", "OPTIONAL"):
            raise ValidationError("Partition key enforcement must be REQUIRED or OPTIONAL.")
        name = spec[1]
        if not isinstance(name, str) or not name or len(name.encode("utf-8")) > 60:
            raise ValidationError(f"The partition key dimension name {name!r} must be 1 to 60 bytes of text.")
        try:
            check_column_name(name, "dimension")
        except Rejected as e:
            raise ValidationError(str(e)) from None
        return PartitionKey("DIMENSION", name, enforcement)
    raise ValidationError(
        "partition_key must be ('dimension', name[, 'REQUIRED'|'OPTIONAL']) or ('measure_name',)."
    )


def _describe_table(info: TableInfo) -> dict:
    pk = info.partition_key
    key = {"Type": pk.type}
    if pk.type == "DIMENSION":
        key.update({"Name": pk.name, "EnforcementInRecord": pk.enforcement or "REQUIRED"})
    return {
        "Arn": f"arn:aws:timestream:{REGION}:{ACCOUNT}:database/{info.database}/table/{info.name}",
        "TableName": info.name,
        "DatabaseName": info.database,
        "TableStatus": info.status,
        "RetentionProperties": {
            "MemoryStoreRetentionPeriodInHours": info.memory_retention_hours,
            "MagneticStoreRetentionPeriodInDays": info.magnetic_retention_days,
        },
        "CreationTime": info.created,
        "LastUpdatedTime": info.updated,
        "MagneticStoreWriteProperties": {"EnableMagneticStoreWrites": info.magnetic_store_writes},
        "Schema": {"CompositePartitionKey": [key]},
    }


def _reads_tables(plan: Plan) -> bool:
    from .planner.plan import Scan

    def walk(p):
        yield p
        for c in p.children():
            yield from walk(c)

    return any(isinstance(p, Scan) for p in walk(plan))


def _status(ctx, started, planned, metered: bool) -> QueryStatus:
    s = ctx.stats
    return QueryStatus(
        bytes_scanned=s.bytes_scanned,
        bytes_metered=QueryStatus.metered(s.bytes_scanned) if metered else 0,
        bytes_pruned=s.bytes_pruned,
        partitions_scanned=s.partitions_scanned,
        partitions_pruned=s.partitions_pruned,
        series_scanned=s.series_scanned,
        series_pruned=s.series_pruned,
        rows_scanned=s.rows_scanned,
        files_scanned=s.magnetic.files_scanned,
        files_pruned=s.magnetic.files_pruned,
        row_groups_scanned=s.magnetic.row_groups_scanned,
        row_groups_pruned=s.magnetic.row_groups_pruned,
        disk_bytes_read=s.magnetic.disk_bytes_read,
        elapsed_seconds=time.perf_counter() - started,
        plan_seconds=planned - started,
    )


def _annotate(plan: Plan, ctx) -> str:
    lines = []

    def visit(p, depth):
        rows, seconds = ctx.node_stats.get(id(p), [0, 0.0])
        lines.append(f"{'  ' * depth}{p.describe()}  (rows={rows}, time={seconds * 1000:.2f} ms)")
        for c in p.children():
            visit(c, depth + 1)

    visit(plan, 0)
    lines.extend(scan_summary(ctx.stats))
    return "\n".join(lines)


def scan_summary(s) -> list[str]:
    """EXPLAIN ANALYZE's account of what the scans read and what pruning skipped."""
    mem, mag = s.memory, s.magnetic
    return [
        f"Scanned: {s.partitions_scanned} partitions, {s.series_scanned} series, {s.rows_scanned} rows, "
        f"{s.bytes_scanned} bytes; pruned: {s.partitions_pruned} partitions, {s.series_pruned} series, "
        f"{s.bytes_pruned} bytes; metered: {QueryStatus.metered(s.bytes_scanned)} bytes",
        f"  memory store: {mem.partitions_scanned} chunks scanned, {mem.partitions_pruned} pruned; "
        f"{mem.rows_scanned} rows, {mem.bytes_scanned} bytes",
        f"  magnetic store: {mag.partitions_scanned} partitions scanned, {mag.partitions_pruned} pruned; "
        f"{mag.files_scanned} files scanned, {mag.files_pruned} pruned; {mag.row_groups_scanned} row groups "
        f"scanned, {mag.row_groups_pruned} pruned; {mag.rows_scanned} rows, {mag.bytes_scanned} bytes "
        f"({mag.disk_bytes_read} read from disk)",
    ]


__all__ = ["Database", "connect", "Type"]
