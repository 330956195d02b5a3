"""Pruning, visible: scans skip the partitions, files, row groups and series that cannot
match the pushed-down time range and dimension / measure_name predicates, and the
result's status, EXPLAIN ANALYZE and the Query API's QueryStatus say so exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsql.storage.magnetic import bucket_of

from ..conftest import NOW
from .helpers import DB, HOUR, MINUTE, SMALL, TABLE, open_db, points

HOSTS = ["a", "b", "d", "e"]  # one per partition-key bucket (SMALL has 4)
START, END = NOW - 36 * HOUR, NOW - 12 * HOUR  # 12 h on 2023-12-30, 12 h on 2023-12-31
ROWS = len(HOSTS) * 2 * 24 * 60  # two measures, a point a minute
ROW = 16 + 8  # logical bytes of a row: time, series and one double


@pytest.fixture(scope="module")
def db():
    """Everything in the magnetic store: per day and host a partition with one file of
    two series (cpu, mem) of 720 rows each, in row groups of 100."""
    assert len({bucket_of(h, SMALL.buckets) for h in HOSTS}) == len(HOSTS)
    database = open_db()
    database.create_database(DB)
    database.create_table(DB, TABLE, memory_retention_hours=48, partition_key=("dimension", "host"))
    database.write_frame(DB, TABLE, points(HOSTS, START, END, measures=("cpu", "mem")))
    database.update_table(DB, TABLE, memory_retention_hours=1)
    database.maintain()
    status = database.storage_status(DB, TABLE)["MagneticStore"]
    assert (status["Rows"], status["Partitions"], status["Files"]) == (ROWS, 8, 8)
    yield database
    database.close()


def status(db, where: str):
    res = db.query(f'SELECT max(measure_value::double) FROM "{DB}"."{TABLE}" WHERE {where}')
    s = res.status
    return {
        "partitions": (s.partitions_scanned, s.partitions_pruned), "files": (s.files_scanned, s.files_pruned),
        "row_groups": (s.row_groups_scanned, s.row_groups_pruned), "series": (s.series_scanned, s.series_pruned),
        "rows": s.rows_scanned, "bytes": (s.bytes_scanned, s.bytes_pruned),
    }


def test_one_series_one_hour(db):
    got = status(db, "host = 'a' AND measure_name = 'cpu' AND time >= '2023-12-31 01:00:00' "
                     "AND time < '2023-12-31 02:00:00'")
    assert got == {
        "partitions": (1, 7),  # one day, one host bucket
        "files": (1, 7),
        "row_groups": (2, 8 * 15 - 2),  # minutes 60..119 of a 720-row series: two groups of 100
        "series": (1, 7),
        "rows": 60,
        "bytes": (60 * ROW, (ROWS - 60) * ROW),
    }


def test_dimension_in_list_prunes_partition_key_buckets(db):
    got = status(db, "host IN ('a', 'e')")
    assert got["partitions"] == (4, 4)
    assert got["series"] == (4, 4)
    assert got["rows"] == ROWS // 2


def test_measure_name_prunes_series_and_row_groups_not_partitions(db):
    got = status(db, "measure_name = 'cpu'")
    assert got["partitions"] == (8, 0)  # the partition key is host here
    assert got["series"] == (4, 4)
    assert got["row_groups"] == (8 * 8, 8 * 7)  # a 720-row series covers 8 of 15 groups
    assert got["rows"] == ROWS // 2


def test_or_of_equalities_across_dimensions(db):
    got = status(db, "host = 'a' OR measure_name = 'mem'")
    assert got["series"] == (5, 3)
    assert got["rows"] == 5 * 1440


def test_time_range_from_ago_prunes_partitions_and_row_groups(db):
    got = status(db, "time >= ago(30h)")  # from 2023-12-30 18:00: half of the first day
    assert got["partitions"] == (8, 0)
    assert got["rows"] == len(HOSTS) * 2 * 18 * 60
    # per file, two series of 720 rows: rows 0-359 and 720-1079 are before 18:00, so groups
    # 0-2 and 8-9 are skipped (group 7 holds the end of the first series, 10 the time)
    assert got["row_groups"] == (4 * 15 + 4 * 10, 4 * 5)


def test_between_prunes_whole_days(db):
    got = status(db, "time BETWEEN '2023-12-30 00:00:00' AND '2023-12-30 23:59:59'")
    assert got["partitions"] == (4, 4)
    assert got["rows"] == ROWS // 2
    got = status(db, "time BETWEEN ago(3h) AND now()")  # after the data
    assert got["partitions"] == (0, 8)
    assert got["rows"] == 0


def test_explain_and_explain_analyze(db):
    where = "host = 'a' AND measure_name = 'cpu' AND time >= '2023-12-31 01:00:00' AND time < '2023-12-31 02:00:00'"
    plan = [r[0] for r in db.query(f'EXPLAIN SELECT max(measure_value::double) FROM "{DB}"."{TABLE}" WHERE {where}').rows]
    assert plan[-1].strip() == (
        'Scan "tsdb"."metrics" columns=[measure_value::double] time=[2023-12-31 01:00:00.000000000, '
        "2023-12-31 02:00:00.000000000) series=((host = 'a') AND (measure_name = 'cpu'))"
    )
    query = f'SELECT max(measure_value::double) FROM "{DB}"."{TABLE}" WHERE {where}'
    db.storage.cache.clear()
    assert 0 < db.query(query).status.disk_bytes_read < 10_000
    disk = 0  # the row groups are in the block cache now
    text = [r[0] for r in db.query(f"EXPLAIN ANALYZE {query}").rows]
    assert text[-3:] == [
        f"Scanned: 1 partitions, 1 series, 60 rows, {60 * ROW} bytes; pruned: 7 partitions, 7 series, "
        f"{(ROWS - 60) * ROW} bytes; metered: 10000000 bytes",
        "  memory store: 0 chunks scanned, 0 pruned; 0 rows, 0 bytes",
        "  magnetic store: 1 partitions scanned, 7 pruned; 1 files scanned, 7 pruned; 2 row groups scanned, "
        f"118 pruned; 60 rows, 1440 bytes ({disk} read from disk)",
    ]


def test_both_tiers_in_one_scan():
    db = open_db()
    try:
        db.create_database(DB)
        db.create_table(DB, TABLE, memory_retention_hours=2)
        db.write_frame(DB, TABLE, points(HOSTS, NOW - 90 * MINUTE, NOW))
        db.clock.advance(HOUR)
        db.maintain()  # the first 30 minutes move
        s = db.query(f'SELECT count(*) FROM "{DB}"."{TABLE}" WHERE host = \'a\'').status
        assert (s.rows_scanned, s.series_scanned) == (90, 1)
        assert s.partitions_scanned == 2  # a magnetic partition and the memory store's chunk
        s = db.query(f'SELECT count(*) FROM "{DB}"."{TABLE}" WHERE time >= ago(100m)').status
        assert s.rows_scanned == 4 * 40
        assert (s.files_scanned, s.partitions_pruned) == (0, 1)  # the magnetic part is older
    finally:
        db.close()


def test_query_status_meters_as_timestream():
    db = open_db()
    try:
        db.create_database(DB)
        db.create_table(DB, TABLE, memory_retention_hours=24)
        n, fields = 60_000, [f"f{i}" for i in range(20)]
        frame = pd.DataFrame({"time": pd.to_datetime(NOW - np.arange(n) * 10**9, unit="ns"), "host": "a"})
        for f in fields:
            frame[f] = 1.5
        db.write_frame(DB, TABLE, frame, measure_name="m")
        small = db.query(f'SELECT f0 FROM "{DB}"."{TABLE}" WHERE time >= ago(10s)').to_timestream()["QueryStatus"]
        assert small == {"ProgressPercentage": 100.0, "CumulativeBytesScanned": 11 * 24,
                         "CumulativeBytesMetered": 10_000_000}
        wide = db.query(f'SELECT {", ".join(fields)} FROM "{DB}"."{TABLE}"').to_timestream(max_rows=1)["QueryStatus"]
        assert wide == {"ProgressPercentage": 100.0, "CumulativeBytesScanned": n * (16 + 20 * 8),
                        "CumulativeBytesMetered": 11_000_000}
        assert db.query("SHOW TABLES FROM tsdb").to_timestream()["QueryStatus"]["CumulativeBytesMetered"] == 0
    finally:
        db.close()


def test_decoded_row_groups_are_cached(db):
    query = f'SELECT max(measure_value::double) FROM "{DB}"."{TABLE}" WHERE host = \'b\''
    db.storage.cache.clear()
    first = db.query(query)
    second = db.query(query)
    assert first.rows == second.rows
    assert first.status.disk_bytes_read > 0 and second.status.disk_bytes_read == 0
    assert first.status.bytes_scanned == second.status.bytes_scanned  # metering is logical
    small = open_db(cache_bytes=0)
    try:
        assert small.storage.cache is None
    finally:
        small.close()
