"""The data conformance cases run against: named data sets and inline tables.

Every database runs on a frozen clock at NOW (2024-01-01 00:00:00 UTC), so `now()`,
`ago()` and the generated times are the same on every run.

- `devops_small`: TSBS's devops cpu data (tsql.sample_data), 4 hosts x 10 cpu fields,
  a point every 10 s for the 15 minutes before NOW, in `"tsbs"."devops"`.
- `sampledb`: the Timestream console's sample database as `tsql demo` generates it
  (`"sampleDB"."DevOps"`, `DevOpsMulti`, `IoT`, `IoTMulti`).
- inline tables (`table db.name` blocks): CSV with a header naming `time`,
  `measure_name`, dimensions, `measure_value::<type>` (a single-measure record) or
  `<measure>::<type>` columns (the measures of a MULTI record). An empty cell is an
  absent dimension or measure. Rows become Timestream records written with
  `write_records`, so they pass the same validation as a client's.
"""

from __future__ import annotations

import pandas as pd

import tsql
from tsql.clock import FixedClock
from tsql.sample_data import devops_frame

NOW = 1_704_067_200 * 10**9  # 2024-01-01 00:00:00 UTC
VALUE_TYPES = {"double": "DOUBLE", "bigint": "BIGINT", "varchar": "VARCHAR", "boolean": "BOOLEAN",
               "timestamp": "TIMESTAMP"}


def devops_small(db: tsql.Database) -> None:
    db.create_database("tsbs")
    db.create_table("tsbs", "devops", memory_retention_hours=24)
    db.write_frame("tsbs", "devops", devops_frame(hosts=4, hours=0.25, end_ns=NOW))


def sampledb(db: tsql.Database) -> None:
    from tsql.demo import load_sample_data

    load_sample_data(db, NOW)


NAMED = {"devops_small": devops_small, "sampledb": sampledb}


def open_database(dataset: str | None, tables: tuple) -> tsql.Database:
    """A fresh in-memory database holding a named data set and/or inline tables."""
    db = tsql.connect(clock=FixedClock(NOW), maintenance_interval=None)
    if dataset is not None:
        if dataset not in NAMED:
            raise KeyError(f"unknown data set {dataset!r}; known: {sorted(NAMED)}")
        NAMED[dataset](db)
    for database, name, header, rows in tables:
        if database not in db.list_databases():
            db.create_database(database)
        db.create_table(database, name, memory_retention_hours=8766, magnetic_store_writes=True)
        records = [_record(header, row) for row in rows]
        for i in range(0, len(records), 100):  # WriteRecords takes 100 records a call
            db.write_records(database, name, records[i:i + 100])
    return db


def _record(header: list, row: tuple) -> dict:
    if len(row) != len(header):
        raise ValueError(f"row {row} has {len(row)} cells for {len(header)} columns")
    dims, single, multi, record = [], None, [], {}
    for column, cell in zip(header, row):
        if column == "time":
            record["Time"] = str(pd.Timestamp(cell).value)
            record["TimeUnit"] = "NANOSECONDS"
        elif column == "measure_name":
            record["MeasureName"] = cell
        elif "::" in column:
            measure, kind = column.split("::")
            if cell == "":
                continue
            value_type = VALUE_TYPES[kind]
            value = str(pd.Timestamp(cell).value // 10**6) if value_type == "TIMESTAMP" else cell
            if measure == "measure_value":
                single = (value, value_type)
            else:
                multi.append({"Name": measure, "Value": value, "Type": value_type})
        elif cell != "":
            dims.append({"Name": column, "Value": cell})
    record["Dimensions"] = dims
    if single is not None:
        record["MeasureValue"], record["MeasureValueType"] = single
    else:
        record["MeasureValueType"] = "MULTI"
        record["MeasureValues"] = multi
    return record
