"""The catalog: databases, tables and their properties, persisted atomically.

The catalog is small and changes rarely (DDL, a table's first sight of a new column),
so it is one JSON document rewritten whole: write a temporary file, fsync, rename.
Data lives elsewhere (WAL, memory store, magnetic store); tables are known there by
their `table_id`, which is never reused, so data of a deleted table can never reappear
in a new table of the same name.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import asdict, dataclass, field

from tsql.errors import ConflictError, ResourceNotFoundError, ValidationError

from .files import atomic_write

_NAME = re.compile(r"^[a-zA-Z0-9_.-]{3,256}$")

MEMORY_RETENTION_HOURS = (1, 8766)
MAGNETIC_RETENTION_DAYS = (1, 73000)


@dataclass
class PartitionKey:
    """Timestream's CompositePartitionKey entry (exactly one per table)."""

    type: str = "MEASURE"  # DIMENSION | MEASURE
    name: str | None = None  # the dimension, for type DIMENSION
    enforcement: str | None = None  # REQUIRED | OPTIONAL, for type DIMENSION


@dataclass
class TableSchema:
    """What writes have taught a table: its dimensions and measures, in first-seen order.

    `measures` maps a measure name to its MeasureValueType (DOUBLE, ..., or MULTI);
    `attributes` maps each multi-measure attribute (a column of its own) to its type.
    """

    dimensions: list = field(default_factory=list)
    measures: dict = field(default_factory=dict)
    attributes: dict = field(default_factory=dict)

    def copy(self) -> "TableSchema":
        return TableSchema(list(self.dimensions), dict(self.measures), dict(self.attributes))

    def value_columns(self) -> list[tuple[str, str]]:
        """(column name, measure type) of every value column, in table order."""
        single = sorted({t for t in self.measures.values() if t != "MULTI"}, key=_TYPE_ORDER.index)
        cols = [(f"measure_value::{t.lower()}", t) for t in single]
        cols.extend(self.attributes.items())
        return cols


_TYPE_ORDER = ["BIGINT", "BOOLEAN", "DOUBLE", "VARCHAR", "TIMESTAMP"]


@dataclass
class TableInfo:
    database: str
    name: str
    table_id: int
    memory_retention_hours: int = 6
    magnetic_retention_days: int = 73000
    magnetic_store_writes: bool = False
    partition_key: PartitionKey = field(default_factory=PartitionKey)
    created: float = 0.0
    updated: float = 0.0
    schema: TableSchema = field(default_factory=TableSchema)
    status: str = "ACTIVE"

    @property
    def memory_retention_ns(self) -> int:
        return self.memory_retention_hours * 3600 * 10**9

    @property
    def magnetic_retention_ns(self) -> int:
        return self.magnetic_retention_days * 86400 * 10**9


@dataclass
class DatabaseInfo:
    name: str
    created: float = 0.0
    updated: float = 0.0
    kms_key_id: str | None = None
    tables: dict = field(default_factory=dict)  # name -> TableInfo


def validate_name(kind: str, name) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValidationError(
            f"Invalid {kind} name {name!r}: must be 3 to 256 characters of a-z, A-Z, 0-9, '_', '.' or '-'."
        )
    return name


def _check_range(what: str, value, bounds: tuple[int, int]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not bounds[0] <= value <= bounds[1]:
        raise ValidationError(f"{what} must be an integer from {bounds[0]} to {bounds[1]}, not {value!r}.")
    return value


class Catalog:
    """Databases and tables, kept in memory and mirrored to `<path>/catalog.json`."""

    FILE = "catalog.json"

    def __init__(self, path: str | None):
        self.path = path
        self.databases: dict[str, DatabaseInfo] = {}
        self.next_table_id = 1
        self.generation = 0  # counts changes, so cached query plans know when they are stale
        if path is not None and os.path.exists(os.path.join(path, self.FILE)):
            self._load()

    # --- databases ---------------------------------------------------------------

    def create_database(self, name: str, kms_key_id: str | None = None) -> DatabaseInfo:
        validate_name("database", name)
        if name in self.databases:
            raise ConflictError(f"The database {name} already exists.")
        now = time.time()
        db = DatabaseInfo(name, now, now, kms_key_id)
        self.databases[name] = db
        self.save()
        return db

    def database(self, name: str) -> DatabaseInfo:
        db = self.databases.get(name)
        if db is None:
            raise ResourceNotFoundError(f"The database {name} does not exist.")
        return db

    def update_database(self, name: str, kms_key_id: str) -> DatabaseInfo:
        db = self.database(name)
        db.kms_key_id = kms_key_id
        db.updated = time.time()
        self.save()
        return db

    def delete_database(self, name: str) -> None:
        db = self.database(name)
        if db.tables:
            raise ValidationError(
                f"Cannot delete database {name}: it still has {len(db.tables)} table(s). Delete the tables first."
            )
        del self.databases[name]
        self.save()

    # --- tables --------------------------------------------------------------------

    def create_table(
        self,
        database: str,
        name: str,
        memory_retention_hours: int = 6,
        magnetic_retention_days: int = 73000,
        magnetic_store_writes: bool = False,
        partition_key: PartitionKey | None = None,
    ) -> TableInfo:
        db = self.database(database)
        validate_name("table", name)
        if name in db.tables:
            raise ConflictError(f"The table {name} already exists in database {database}.")
        _check_range("MemoryStoreRetentionPeriodInHours", memory_retention_hours, MEMORY_RETENTION_HOURS)
        _check_range("MagneticStoreRetentionPeriodInDays", magnetic_retention_days, MAGNETIC_RETENTION_DAYS)
        if not isinstance(magnetic_store_writes, bool):
            raise ValidationError("EnableMagneticStoreWrites must be a boolean.")
        now = time.time()
        table = TableInfo(
            database, name, self.next_table_id, memory_retention_hours, magnetic_retention_days,
            magnetic_store_writes, partition_key or PartitionKey(), now, now,
        )
        self.next_table_id += 1
        db.tables[name] = table
        self.save()
        return table

    def table(self, database: str, name: str) -> TableInfo:
        db = self.database(database)
        table = db.tables.get(name)
        if table is None:
            raise ResourceNotFoundError(f"The table {name} does not exist in database {database}.")
        return table

    def update_table(
        self,
        database: str,
        name: str,
        memory_retention_hours: int | None = None,
        magnetic_retention_days: int | None = None,
        magnetic_store_writes: bool | None = None,
        partition_enforcement: str | None = None,
    ) -> TableInfo:
        table = self.table(database, name)
        if memory_retention_hours is not None:
            table.memory_retention_hours = _check_range(
                "MemoryStoreRetentionPeriodInHours", memory_retention_hours, MEMORY_RETENTION_HOURS
            )
        if magnetic_retention_days is not None:
            table.magnetic_retention_days = _check_range(
                "MagneticStoreRetentionPeriodInDays", magnetic_retention_days, MAGNETIC_RETENTION_DAYS
            )
        if magnetic_store_writes is not None:
            table.magnetic_store_writes = bool(magnetic_store_writes)
        if partition_enforcement is not None:
            table.partition_key.enforcement = partition_enforcement
        table.updated = time.time()
        self.save()
        return table

    def delete_table(self, database: str, name: str) -> TableInfo:
        table = self.table(database, name)
        del self.databases[database].tables[name]
        self.save()
        return table

    def tables(self):
        for db in self.databases.values():
            yield from db.tables.values()

    def table_by_id(self, table_id: int) -> TableInfo | None:
        for t in self.tables():
            if t.table_id == table_id:
                return t
        return None

    # --- persistence -------------------------------------------------------------

    def save(self) -> None:
        self.generation += 1
        if self.path is None:
            return
        doc = {
            "version": 1,
            "next_table_id": self.next_table_id,
            "databases": [
                {
                    "name": db.name, "created": db.created, "updated": db.updated,
                    "kms_key_id": db.kms_key_id,
                    "tables": [asdict(t) for t in db.tables.values()],
                }
                for db in self.databases.values()
            ],
        }
        atomic_write(os.path.join(self.path, self.FILE), json.dumps(doc, indent=1).encode())

    def _load(self) -> None:
        with open(os.path.join(self.path, self.FILE), "rb") as f:
            doc = json.load(f)
        self.next_table_id = doc["next_table_id"]
        for d in doc["databases"]:
            db = DatabaseInfo(d["name"], d["created"], d["updated"], d.get("kms_key_id"))
            for t in d["tables"]:
                t = dict(t)
                t["partition_key"] = PartitionKey(**t["partition_key"])
                t["schema"] = TableSchema(**t["schema"])
                info = TableInfo(**t)
                db.tables[info.name] = info
            self.databases[db.name] = db
