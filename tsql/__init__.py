"""tsql: a self-hosted, Amazon Timestream-compatible time-series database.

    import tsql
    db = tsql.connect("data/")          # or tsql.connect() for in-memory
    db.create_database("sampleDB")
    db.create_table("sampleDB", "DevOps")
    db.write_records("sampleDB", "DevOps", records)
    db.query('SELECT * FROM "sampleDB"."DevOps" WHERE time > ago(1h)').to_pandas()
"""

from __future__ import annotations

from .errors import (
    AccessDeniedError, ConflictError, Error, InternalServerError, QueryExecutionError, RejectedRecordsError,
    ResourceNotFoundError, ServiceQuotaExceededError, ThrottlingError, ValidationError,
)

__version__ = "0.1.0"


def connect(path=None, clock=None, **options):
    """Open a database: persistent in directory `path` (created if needed), or in memory.
    Options (maintenance_interval, magnetic, cache_bytes) are Database's."""
    from .database import Database

    return Database(path, clock, **options)


def __getattr__(name):
    # the engine loads on first use, so `import tsql` and the error classes stay light
    if name in ("Database", "Result", "ColumnInfo", "QueryStatus"):
        from . import database, result

        return getattr(database, name, None) or getattr(result, name)
    raise AttributeError(f"module 'tsql' has no attribute {name!r}")


__all__ = [
    "connect", "Database", "Result", "Error", "ValidationError", "QueryExecutionError", "RejectedRecordsError",
    "ResourceNotFoundError", "ConflictError", "ThrottlingError", "ServiceQuotaExceededError",
    "AccessDeniedError", "InternalServerError",
]
